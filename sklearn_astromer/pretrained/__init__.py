"""Pretrained ASTROMER models: the library's own format and the published weights."""

from ._download import WeightsUnavailableError, fetch_published_weights
from ._format import is_saved_model_dir, load_model, save_model
from ._shipped import shipped_model_dir

__all__ = [
    "WeightsUnavailableError",
    "fetch_published_weights",
    "is_saved_model_dir",
    "load_model",
    "load_pretrained",
    "save_model",
    "shipped_model_dir",
]


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
        ``pe_base``, ...).
    state_dict : dict of str to Tensor
        Weights of :class:`sklearn_astromer.nn.AstromerModel`.
    """
    if is_saved_model_dir(source):
        return load_model(source)
    shipped = shipped_model_dir(source)
    if shipped is not None and is_saved_model_dir(shipped):
        return load_model(shipped)
    from ._published import load_published

    return load_published(source, cache_dir=cache_dir)
