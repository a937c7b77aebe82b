"""Where a model named by the user lives, and reading it as ``(config, state_dict)``."""

from pathlib import Path

from ._format import CONFIG_NAME, WEIGHTS_NAME, is_saved_model_dir, load_model
from ._shipped import shipped_model_dir


def saved_model_dir(source):
    """The folder in the library's own format that ``source`` names, or None.

    A directory written by ``save_pretrained``; else, for ``"macho"`` and
    ``"atlas"``, the copy shipped in the package (None when an install lacks
    it: the published zip is then downloaded).

    Parameters
    ----------
    source : str or path-like
        A directory, or the name of a shipped model.

    Returns
    -------
    pathlib.Path or None
        The folder holding ``config.json`` and ``model.safetensors``.
    """
    if is_saved_model_dir(source):
        return Path(source)
    shipped = shipped_model_dir(source)
    if shipped is not None and is_saved_model_dir(shipped):
        return shipped
    return None


def model_files(source):
    """``(config file, weights file)`` of ``source``, to name in messages.

    Parameters
    ----------
    source : str or path-like
        What ``pretrained=`` was given.

    Returns
    -------
    tuple
        The two files of a model in the library's format; for a published
        zip or folder, ``source`` itself twice.
    """
    directory = saved_model_dir(source)
    if directory is None:
        return source, source
    return directory / CONFIG_NAME, directory / WEIGHTS_NAME


def load_pretrained(source, cache_dir=None):
    """Resolve ``source`` to ``(config, state_dict)``.

    Parameters
    ----------
    source : str or path-like
        A directory written by ``save_pretrained``; ``"macho"`` or ``"atlas"``
        (the published ASTROMER weights, read from the copies shipped in the
        package: offline, without h5py; downloaded as a published zip only
        where an install lacks them); the path of a published zip; or its
        unpacked folder (TensorFlow checkpoint or Keras HDF5 file, with
        ``conf.json``).
    cache_dir : path-like, optional
        Where downloads and extracted archives are kept (default
        ``$SKLEARN_ASTROMER_HOME`` or ``~/.cache/sklearn-astromer``).

    Returns
    -------
    config : dict
        Architecture and preprocessing settings (``d_model``, ``n_layers``,
        ``n_heads``, ``d_ff``, ``dropout``, ``max_obs``, ``variant``,
        ``pe_base``, ...). The architecture keys present are checked against
        :data:`._checks.ARCHITECTURE_CONSTRAINTS`; other keys are returned as
        they are, for the estimator to interpret.
    state_dict : dict of str to Tensor
        Weights of :class:`sklearn_astromer.nn.AstromerModel`: floating-point
        tensors are float32 and finite. Whether they fit the architecture is
        for the caller to check (see :func:`._checks.check_state_dict`).

    Raises
    ------
    ValueError
        Naming the file, for any malformed config, weights file or archive.
    WeightsUnavailableError
        If a download was needed and failed.
    """
    directory = saved_model_dir(source)
    if directory is not None:
        return load_model(directory)
    from ._published import load_published

    return load_published(source, cache_dir=cache_dir)
