"""Reading Keras HDF5 weight files without TensorFlow; malformed files name themselves."""

import numpy as np
import pytest

from sklearn_astromer.pretrained._keras_h5 import read_keras_h5

h5py = pytest.importorskip("h5py")


def _write_keras_h5(path, layers, listed=None):
    """A file laid out as Keras 2 ``save_weights`` writes it: ``{layer: {weight: array}}``."""
    with h5py.File(path, "w") as h5:
        h5.attrs["layer_names"] = [name.encode() for name in (listed or layers)]
        for layer, weights in layers.items():
            group = h5.create_group(layer)
            group.attrs["weight_names"] = [f"{name}:0".encode() for name in weights]
            for name, array in weights.items():
                group.create_dataset(f"{name}:0", data=array)


LAYERS = {"dense": {"dense/kernel": np.ones((1, 4), np.float32),
                    "dense/bias": np.zeros(4, np.float32)}}


def test_weights_are_read_by_layer_and_name(tmp_path):
    _write_keras_h5(tmp_path / "weights.h5", LAYERS)
    weights = read_keras_h5(tmp_path / "weights.h5")
    assert sorted(weights) == ["dense/dense/bias", "dense/dense/kernel"]
    np.testing.assert_array_equal(weights["dense/dense/kernel"], np.ones((1, 4)))


def test_listed_layer_that_is_missing_is_named(tmp_path):
    _write_keras_h5(tmp_path / "weights.h5", LAYERS, listed=["dense", "dense_1"])
    with pytest.raises(ValueError, match=r"weights\.h5: layer 'dense_1' is listed but missing"):
        read_keras_h5(tmp_path / "weights.h5")


@pytest.mark.parametrize("damage", ["truncate", "zero-header", "text"])
def test_corrupt_file_is_named(tmp_path, damage):
    path = tmp_path / "weights.h5"
    _write_keras_h5(path, LAYERS)
    data = path.read_bytes()
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "zero-header":
        data = bytes(64) + data[64:]
    else:
        data = b"this is not HDF5\n" * 10
    path.write_bytes(data)
    with pytest.raises(ValueError, match=r"weights\.h5"):
        read_keras_h5(path)


def test_huge_dataset_is_not_read(tmp_path, monkeypatch):
    from sklearn_astromer.pretrained import _keras_h5

    monkeypatch.setattr(_keras_h5, "MAX_TENSOR_ELEMENTS", 3)
    _write_keras_h5(tmp_path / "weights.h5", LAYERS)
    with pytest.raises(ValueError, match=r"dense/dense/kernel:0 has 4 values"):
        read_keras_h5(tmp_path / "weights.h5")
