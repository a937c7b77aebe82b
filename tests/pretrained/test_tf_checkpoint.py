"""Reading TensorFlow V2 checkpoints without TensorFlow."""

import struct

import numpy as np
import pytest

from sklearn_astromer.pretrained._tf_checkpoint import (
    OBJECT_GRAPH_KEY,
    TABLE_MAGIC,
    crc32c,
    read_bundle_entries,
    read_table,
    read_tf_checkpoint,
)

VARIABLE = "/.ATTRIBUTES/VARIABLE_VALUE"


# ---------------------------------------------------------------- a minimal bundle writer


def _varint(value):
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number, wire_type, payload):
    tag = _varint(number << 3 | wire_type)
    if wire_type == 0:
        return tag + _varint(payload)
    if wire_type == 2:
        return tag + _varint(len(payload)) + payload
    return tag + struct.pack("<I", payload)  # wire type 5


def _mask(crc):
    return ((crc >> 15 | crc << 17) + 0xA282EAD8) & 0xFFFFFFFF


def _entry(dtype, shape, offset, raw):
    dims = b"".join(_field(2, 2, _field(1, 0, size)) for size in shape)
    return (
        _field(1, 0, dtype)
        + _field(2, 2, dims)
        + _field(4, 0, offset)
        + _field(5, 0, len(raw))
        + _field(6, 5, _mask(crc32c(raw)))
    )


def _block(items, restart_interval=2):
    """A table block with prefix-compressed keys and a restart point every 2 entries."""
    out, restarts, previous = bytearray(), [], b""
    for index, (key, value) in enumerate(items):
        shared = 0
        if index % restart_interval:
            while shared < min(len(key), len(previous)) and key[shared] == previous[shared]:
                shared += 1
        else:
            restarts.append(len(out))
        out += _varint(shared) + _varint(len(key) - shared) + _varint(len(value))
        out += key[shared:] + value
        previous = key
    for restart in restarts:
        out += struct.pack("<I", restart)
    return bytes(out + struct.pack("<I", len(restarts)))


def _write_table(path, items, compression=0):
    data = _block(sorted(items))
    table = bytearray()

    def append_block(block):
        offset = len(table)
        trailer = bytes([compression])
        table.extend(block + trailer + struct.pack("<I", _mask(crc32c(block + trailer))))
        return _varint(offset) + _varint(len(block))

    data_handle = append_block(data)
    metaindex_handle = append_block(_block([]))
    index_handle = append_block(_block([(sorted(items)[-1][0], data_handle)]))
    footer = (metaindex_handle + index_handle).ljust(40, b"\0") + struct.pack("<Q", TABLE_MAGIC)
    path.write_bytes(bytes(table + footer))


def _write_bundle(prefix, tensors, compression=0):
    """Write ``{name: float32 array}`` as a checkpoint (+ an object graph string)."""
    shard, items = bytearray(), []
    for name, array in tensors.items():
        raw = np.ascontiguousarray(array, dtype="<f4").tobytes()
        items.append(((name + VARIABLE).encode(), _entry(1, array.shape, len(shard), raw)))
        shard += raw
    graph = b"\x0a\x00"
    items.append((OBJECT_GRAPH_KEY.encode(), _entry(7, (), len(shard), graph)))
    shard += graph
    items.append((b"", _field(1, 0, 1) + _field(3, 2, _field(1, 0, 1))))
    _write_table(prefix.with_name(prefix.name + ".index"), items, compression)
    prefix.with_name(prefix.name + ".data-00000-of-00001").write_bytes(bytes(shard))


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
    _write_bundle(tmp_path / "weights", tensors)
    read = read_tf_checkpoint(tmp_path / "weights")
    assert read.keys() == tensors.keys()
    for name, array in tensors.items():
        assert read[name].dtype == np.float32
        np.testing.assert_array_equal(read[name], array)


def test_index_path_is_accepted_as_prefix(tmp_path, tensors):
    _write_bundle(tmp_path / "weights", tensors)
    read = read_tf_checkpoint(tmp_path / "weights.index")
    np.testing.assert_array_equal(read["scalar"], tensors["scalar"])


def test_entries_keep_the_object_graph_accessible(tmp_path, tensors):
    _write_bundle(tmp_path / "weights", tensors)
    header, entries = read_bundle_entries(tmp_path / "weights")
    assert header["num_shards"] == 1
    assert entries[OBJECT_GRAPH_KEY].dtype == 7
    assert entries["model/dense/kernel" + VARIABLE].shape == (3, 4)


def test_string_tensors_are_refused_when_selected(tmp_path, tensors):
    _write_bundle(tmp_path / "weights", tensors)
    with pytest.raises(ValueError, match=OBJECT_GRAPH_KEY):
        read_tf_checkpoint(tmp_path / "weights", include=lambda name: True)


def test_snappy_compressed_block_is_a_clear_error(tmp_path, tensors):
    _write_bundle(tmp_path / "weights", tensors, compression=1)
    with pytest.raises(ValueError, match="snappy"):
        read_tf_checkpoint(tmp_path / "weights")


def test_corrupt_data_shard_fails_its_checksum(tmp_path, tensors):
    _write_bundle(tmp_path / "weights", tensors)
    shard = tmp_path / "weights.data-00000-of-00001"
    raw = bytearray(shard.read_bytes())
    raw[0] ^= 0xFF
    shard.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="model/dense/kernel.*checksum"):
        read_tf_checkpoint(tmp_path / "weights")


def test_corrupt_index_is_detected(tmp_path, tensors):
    _write_bundle(tmp_path / "weights", tensors)
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
