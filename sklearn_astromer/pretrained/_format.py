"""The library's own model format: ``config.json`` + ``model.safetensors``.

Loading never unpickles code: the config is JSON and the tensors are read by
:mod:`safetensors`. Both files are checked as they are read (see
:mod:`._checks`): a malformed file is a ``ValueError`` naming it.
"""

import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from ._checks import check_architecture, check_tensors, errors_naming, read_json_object

#: File name of a saved model's architecture and settings (JSON).
CONFIG_NAME = "config.json"
#: File name of a saved model's tensors (safetensors: loaded without unpickling code).
WEIGHTS_NAME = "model.safetensors"
FORMAT_VERSION = 1


def is_saved_model_dir(path):
    """Return True if ``path`` is a directory written by :func:`save_model`.

    Parameters
    ----------
    path : str or path-like
        The directory.

    Returns
    -------
    bool
        Whether it holds both ``config.json`` and ``model.safetensors``.
    """
    path = Path(path)
    return (path / CONFIG_NAME).is_file() and (path / WEIGHTS_NAME).is_file()


def save_model(directory, config, state_dict):
    """Write ``config`` (JSON-serialisable dict) and ``state_dict`` to ``directory``.

    Tensors are moved to the CPU and made contiguous, so a model trained on a
    GPU loads on a CPU-only machine. Files are written under temporary names
    and renamed, so an interrupted save never leaves a half-written model; a
    failed save removes its temporary files. Both files are created the same
    way, so they get the same permissions (those the umask gives new files).

    Parameters
    ----------
    directory : str or path-like
        Where to write ``config.json`` and ``model.safetensors`` (created if
        needed; files of an earlier save are replaced).
    config : dict
        JSON-serialisable settings; ``format_version`` is added.
    state_dict : dict of str to Tensor
        The weights.

    Raises
    ------
    ValueError
        Naming the tensors, when weights are NaN or infinite: the library
        never writes a model it could not use (nothing is written then).
    """
    directory = Path(directory)
    tensors = {name: tensor.detach().cpu().contiguous() for name, tensor in state_dict.items()}
    non_finite = [name for name, tensor in tensors.items()
                  if tensor.is_floating_point() and not torch.isfinite(tensor).all()]
    if non_finite:
        raise ValueError(f"The weights {non_finite[:5]}{' and more' if len(non_finite) > 5 else ''}"
                         f" are not finite (NaN or infinite); nothing was saved to {directory}.")
    directory.mkdir(parents=True, exist_ok=True)
    config = {**config, "format_version": FORMAT_VERSION}
    weights_tmp = directory / (WEIGHTS_NAME + ".tmp")
    config_tmp = directory / (CONFIG_NAME + ".tmp")
    try:
        config_text = json.dumps(config, indent=2, sort_keys=True)
        weights_tmp.write_bytes(save(tensors))
        config_tmp.write_text(config_text)
        os.replace(weights_tmp, directory / WEIGHTS_NAME)
        os.replace(config_tmp, directory / CONFIG_NAME)
    finally:
        weights_tmp.unlink(missing_ok=True)
        config_tmp.unlink(missing_ok=True)


def load_model(directory):
    """Read ``(config, state_dict)`` from a directory written by :func:`save_model`.

    Parameters
    ----------
    directory : str or path-like
        The directory.

    Returns
    -------
    config : dict
        The saved settings; the architecture keys it holds are checked (see
        :func:`._checks.check_architecture`), other keys are returned as they are.
    state_dict : dict of str to Tensor
        float32, finite.

    Raises
    ------
    FileNotFoundError
        If ``directory`` lacks ``config.json`` or ``model.safetensors``.
    ValueError
        Naming the file: a config that is not a JSON object, of another
        format version or with an architecture value out of range; weights
        that safetensors cannot read, that are not floating point or not finite.
    """
    directory = Path(directory)
    if not is_saved_model_dir(directory):
        raise FileNotFoundError(
            f"{directory} is not a saved sklearn-astromer model: it needs "
            f"{CONFIG_NAME} and {WEIGHTS_NAME}."
        )
    config_path, weights_path = directory / CONFIG_NAME, directory / WEIGHTS_NAME
    config = read_json_object(config_path)
    version = config.pop("format_version", None)
    if version != FORMAT_VERSION:
        raise ValueError(
            f"{config_path} has format_version={version!r}; this version of "
            f"sklearn-astromer reads format_version={FORMAT_VERSION}."
        )
    check_architecture(config, config_path)
    with errors_naming(weights_path, SafetensorError, "is not a readable safetensors file"):
        state_dict = load_file(str(weights_path), device="cpu")
    return config, check_tensors(state_dict, weights_path)
