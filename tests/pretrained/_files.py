"""Writers of model files for the tests: TensorFlow tensor bundles and zips.

Minimal re-implementations of the formats from their specifications (LevelDB
table format, TensorFlow ``tensor_bundle.proto``), so the readers are tested
against files written independently of them.
"""

import io
import struct
import zipfile

import numpy as np

from sklearn_astromer.pretrained._tf_checkpoint import OBJECT_GRAPH_KEY, TABLE_MAGIC, crc32c

VARIABLE = "/.ATTRIBUTES/VARIABLE_VALUE"


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


def bundle_entry(dtype, shape, offset, raw):
    """A serialised ``BundleEntryProto`` for ``raw`` at ``offset`` of shard 0."""
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


def write_table(path, items, compression=0):
    """A table of ``(key, value)`` byte pairs: one data block, valid checksums."""
    write_table_of_block(path, _block(sorted(items)), sorted(items)[-1][0], compression)


def write_table_of_block(path, data, last_key=b"\xff", compression=0):
    """A table whose one data block holds the bytes ``data``, with valid checksums."""
    table = bytearray()

    def append_block(block):
        offset = len(table)
        trailer = bytes([compression])
        table.extend(block + trailer + struct.pack("<I", _mask(crc32c(block + trailer))))
        return _varint(offset) + _varint(len(block))

    data_handle = append_block(data)
    metaindex_handle = append_block(_block([]))
    index_handle = append_block(_block([(last_key, data_handle)]))
    footer = (metaindex_handle + index_handle).ljust(40, b"\0") + struct.pack("<Q", TABLE_MAGIC)
    path.write_bytes(bytes(table + footer))


def write_bundle(prefix, tensors, compression=0):
    """Write ``{name: float32 array}`` as a checkpoint (+ an object graph string)."""
    shard, items = bytearray(), []
    for name, array in tensors.items():
        raw = np.ascontiguousarray(array, dtype="<f4").tobytes()
        items.append(((name + VARIABLE).encode(), bundle_entry(1, array.shape, len(shard), raw)))
        shard += raw
    graph = b"\x0a\x00"
    items.append((OBJECT_GRAPH_KEY.encode(), bundle_entry(7, (), len(shard), graph)))
    shard += graph
    items.append((b"", _field(1, 0, 1) + _field(3, 2, _field(1, 0, 1))))
    write_table(prefix.with_name(prefix.name + ".index"), items, compression)
    prefix.with_name(prefix.name + ".data-00000-of-00001").write_bytes(bytes(shard))


def zip_bytes(entries):
    """A zip whose entries are ``(ZipInfo or name, data)``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info, data in entries:
            archive.writestr(info, data)
    return buffer.getvalue()
