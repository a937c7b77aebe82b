"""Read the weights of a Keras HDF5 file (``Model.save_weights("weights.h5")``) without TensorFlow.

Keras 2 writes one HDF5 group per layer; the group's ``weight_names``
attribute lists its variables in creation order, each stored as a dataset at
``<layer>/<weight name>``. Only :mod:`h5py` is needed, and it is imported when
a file is read, so the rest of the package works without it.
"""

from pathlib import Path

import numpy as np

from ._checks import MAX_D_FF, MAX_D_MODEL, errors_naming

H5_INSTALL_HINT = "pip install sklearn-astromer[h5]"
# A corrupt (or compressed) dataset could claim gigabytes: none is read that is
# larger than the largest weight of an architecture the checks accept.
MAX_TENSOR_ELEMENTS = MAX_D_FF * MAX_D_MODEL
# What h5py raises on corrupt or unexpected files: HDF5 library errors surface
# as OSError, RuntimeError, KeyError or ValueError, a wrong layout as
# KeyError, TypeError or AttributeError.
H5_READ_ERRORS = (OSError, RuntimeError, KeyError, ValueError, TypeError, AttributeError,
                  IndexError)


def _import_h5py():
    try:
        import h5py
    except ImportError as error:
        raise ImportError(
            "Reading Keras HDF5 weights (the published ATLAS model) needs h5py: "
            f"{H5_INSTALL_HINT}"
        ) from error
    return h5py


def _decode(name):
    return name.decode("utf-8") if isinstance(name, bytes) else str(name)


def read_keras_h5(path):
    """Read every weight of a Keras HDF5 weights file as numpy arrays.

    Parameters
    ----------
    path : path-like
        A file written by Keras 2 ``save_weights`` (or a whole-model ``.h5``,
        whose weights sit under ``model_weights``).

    Returns
    -------
    dict of str to ndarray
        Keyed by ``<layer>/<weight name>`` without the ``:0`` suffix, e.g.
        ``"encoder/encoder/encoder_layer/multi_head_attention/WQ/kernel"``.

    Raises
    ------
    ImportError
        If h5py is not installed.
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        Naming the file, if it is not HDF5, is corrupt, or does not have the
        layout Keras writes.
    """
    h5py = _import_h5py()
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Keras weights file {path} not found.")
    with errors_naming(path, H5_READ_ERRORS, "is not a readable Keras HDF5 weights file"):
        return _read_weights(h5py, path)


def _read_weights(h5py, path):
    weights = {}
    with h5py.File(path, "r") as h5:
        root = h5["model_weights"] if "model_weights" in h5 else h5
        if "layer_names" not in root.attrs:
            raise ValueError(f"{path} is not a Keras HDF5 weights file (no layer_names).")
        for layer_name in map(_decode, root.attrs["layer_names"]):
            if layer_name not in root:
                raise ValueError(f"{path}: layer {layer_name!r} is listed but missing.")
            layer = root[layer_name]
            for weight_name in map(_decode, layer.attrs.get("weight_names", [])):
                if weight_name not in layer:
                    raise ValueError(f"{path}: weight {layer_name}/{weight_name} is missing.")
                dataset = layer[weight_name]
                if dataset.size > MAX_TENSOR_ELEMENTS:
                    raise ValueError(f"{path}: weight {layer_name}/{weight_name} has "
                                     f"{dataset.size:,} values, more than any ASTROMER layer.")
                key = f"{layer_name}/{weight_name}".removesuffix(":0")
                weights[key] = np.asarray(dataset[()])
    return weights
