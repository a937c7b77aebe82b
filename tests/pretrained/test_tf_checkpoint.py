"""Reading TensorFlow V2 checkpoints without TensorFlow."""

import numpy as np
import pytest

from sklearn_astromer.pretrained._tf_checkpoint import (
    OBJECT_GRAPH_KEY,
    read_bundle_entries,
    read_table,
    read_tf_checkpoint,
)

from ._files import VARIABLE, bundle_entry, write_bundle, write_table, write_table_of_block


@pytest.fixture
def tensors():
    rng = np.random.default_rng(0)
    return {
        "model/dense/kernel": rng.normal(size=(3, 4)).astype(np.float32),
        "model/dense/bias": rng.normal(size=4).astype(np.float32),
        "model/dense_1/kernel": rng.normal(size=(4, 1)).astype(np.float32),
        "model/norm/gamma": np.ones(4, np.float32),
        "scalar": np.float32(2.5).reshape(()),
    }


# ---------------------------------------------------------------- tests


def test_round_trip_of_a_written_bundle(tmp_path, tensors):
    write_bundle(tmp_path / "weights", tensors)
    read = read_tf_checkpoint(tmp_path / "weights")
    assert read.keys() == tensors.keys()
    for name, array in tensors.items():
        assert read[name].dtype == np.float32
        np.testing.assert_array_equal(read[name], array)


def test_index_path_is_accepted_as_prefix(tmp_path, tensors):
    write_bundle(tmp_path / "weights", tensors)
    read = read_tf_checkpoint(tmp_path / "weights.index")
    np.testing.assert_array_equal(read["scalar"], tensors["scalar"])


def test_entries_keep_the_object_graph_accessible(tmp_path, tensors):
    write_bundle(tmp_path / "weights", tensors)
    header, entries = read_bundle_entries(tmp_path / "weights")
    assert header["num_shards"] == 1
    assert entries[OBJECT_GRAPH_KEY].dtype == 7
    assert entries["model/dense/kernel" + VARIABLE].shape == (3, 4)


def test_string_tensors_are_refused_when_selected(tmp_path, tensors):
    write_bundle(tmp_path / "weights", tensors)
    with pytest.raises(ValueError, match=OBJECT_GRAPH_KEY):
        read_tf_checkpoint(tmp_path / "weights", include=lambda name: True)


def test_snappy_compressed_block_is_a_clear_error(tmp_path, tensors):
    write_bundle(tmp_path / "weights", tensors, compression=1)
    with pytest.raises(ValueError, match="snappy"):
        read_tf_checkpoint(tmp_path / "weights")


def test_corrupt_data_shard_fails_its_checksum(tmp_path, tensors):
    write_bundle(tmp_path / "weights", tensors)
    shard = tmp_path / "weights.data-00000-of-00001"
    raw = bytearray(shard.read_bytes())
    raw[0] ^= 0xFF
    shard.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="model/dense/kernel.*checksum"):
        read_tf_checkpoint(tmp_path / "weights")


def test_corrupt_index_is_detected(tmp_path, tensors):
    write_bundle(tmp_path / "weights", tensors)
    index = tmp_path / "weights.index"
    raw = bytearray(index.read_bytes())
    raw[5] ^= 0xFF
    index.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="checksum"):
        read_table(index)


def test_not_a_table(tmp_path):
    path = tmp_path / "weights.index"
    path.write_bytes(b"\0" * 64)
    with pytest.raises(ValueError, match="magic"):
        read_table(path)


@pytest.mark.parametrize("block", [b"", b"\x01\x02", b"\x00\x05\x09abc" + b"\x00" * 4,
                                   b"\x00\x01\x00k" + b"\xff\xff\xff\x7f"],
                         ids=["empty", "too-short", "entry-past-end", "restarts-past-end"])
def test_short_block_with_valid_checksums_names_the_file(tmp_path, block):
    write_table_of_block(tmp_path / "weights.index", block)
    with pytest.raises(ValueError, match=r"weights\.index"):
        read_tf_checkpoint(tmp_path / "weights")


@pytest.mark.parametrize("cut", [1, 2, 4])  # inside the last field, a fixed32
def test_truncated_entry_with_valid_checksums_names_the_file(tmp_path, cut):
    entry = bundle_entry(1, (2, 3), 0, bytes(24))
    header = b"\x08\x01"  # num_shards = 1
    write_table(tmp_path / "weights.index", [(b"", header), (b"w" + VARIABLE.encode(),
                                                              entry[:-cut])])
    with pytest.raises(ValueError, match=r"weights\.index.*[Tt]runcated"):
        read_tf_checkpoint(tmp_path / "weights")


def test_missing_data_shard_names_it(tmp_path, tensors):
    write_bundle(tmp_path / "weights", tensors)
    (tmp_path / "weights.data-00000-of-00001").unlink()
    with pytest.raises(ValueError, match=r"weights\.data-00000-of-00001, which is missing"):
        read_tf_checkpoint(tmp_path / "weights")


def test_missing_checkpoint_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="weights.index"):
        read_tf_checkpoint(tmp_path / "weights")


@pytest.mark.shared_data
def test_published_macho_checkpoint(shared_data, tmp_path):
    import zipfile

    with zipfile.ZipFile(shared_data / "astromer_weights" / "macho.zip") as archive:
        for name in ("weights.index", "weights.data-00000-of-00001"):
            (tmp_path / name).write_bytes(archive.read(f"macho/{name}"))
    header, entries = read_bundle_entries(tmp_path / "weights")
    assert header == {"num_shards": 1, "endianness": 0}
    assert OBJECT_GRAPH_KEY in entries
    variables = read_tf_checkpoint(tmp_path / "weights")
    assert len(variables) == 38
    assert sum(array.size for array in variables.values()) == 661_505
    assert variables["layer_with_weights-0/inp_transform/kernel"].shape == (1, 256)
    feed_forward = "layer_with_weights-0/enc_layers/1/ffn/layer_with_weights-0/kernel"
    assert variables[feed_forward].shape == (256, 128)
    assert all(array.dtype == np.float32 for array in variables.values())
