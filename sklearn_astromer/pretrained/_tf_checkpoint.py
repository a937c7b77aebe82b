"""Read TensorFlow V2 checkpoints (``weights.index`` + ``weights.data-*``) without TensorFlow.

A checkpoint written by ``tf.train.Checkpoint`` / ``Model.save_weights`` is a
*tensor bundle*: the ``.index`` file is a sorted-string table (the LevelDB
table format) mapping each variable name to a ``BundleEntryProto`` that says
where its raw bytes sit in a ``.data-NNNNN-of-MMMMM`` shard; the empty key holds
the ``BundleHeaderProto``. This module decodes both formats by hand (a table
reader and a minimal protobuf decoder) and returns the tensors as numpy arrays.

References
----------
LevelDB table format, ``doc/table_format.md`` in google/leveldb.
TensorFlow ``tensorflow/core/protobuf/tensor_bundle.proto`` and
``tensorflow/core/util/tensor_bundle/tensor_bundle.cc``.
"""

import math
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._checks import errors_naming

TABLE_MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48
BLOCK_TRAILER_SIZE = 5  # compression type (1 byte) + masked crc32c (4 bytes)
NO_COMPRESSION, SNAPPY_COMPRESSION = 0, 1

# TensorFlow DataType enum values (types.proto) of the tensors this reader decodes.
NUMPY_DTYPES = {
    1: np.dtype("<f4"),  # DT_FLOAT
    2: np.dtype("<f8"),  # DT_DOUBLE
    3: np.dtype("<i4"),  # DT_INT32
    9: np.dtype("<i8"),  # DT_INT64
    19: np.dtype("<f2"),  # DT_HALF
}
DT_STRING = 7

# Protobuf wire types 1 (fixed64) and 5 (fixed32): their widths in bytes.
FIXED_WIDTHS = {1: 8, 5: 4}

HEADER_KEY = ""
OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"
VARIABLE_SUFFIX = "/.ATTRIBUTES/VARIABLE_VALUE"
OPTIMIZER_SLOT_MARKER = "/.OPTIMIZER_SLOT/"


@dataclass(frozen=True)
class BundleEntry:
    """Where one tensor of a tensor bundle lives (a decoded ``BundleEntryProto``).

    Attributes
    ----------
    dtype : int
        TensorFlow ``DataType`` enum value (1 = float32, 7 = string, ...).
    shape : tuple of int
    shard_id : int
        Index of the ``.data`` shard holding the bytes.
    offset, size : int
        Byte range of the tensor in its shard.
    crc32c : int
        Masked CRC-32C of the tensor's bytes (see :func:`_unmask_crc`).
    """

    dtype: int
    shape: tuple
    shard_id: int
    offset: int
    size: int
    crc32c: int


# ---------------------------------------------------------------- CRC-32C (Castagnoli)


def _crc32c_table():
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC32C_TABLE = _crc32c_table()


def crc32c(data):
    """CRC-32C of ``data`` (bytes).

    Pure Python: about 0.2 s for the 2.6 MB of the published ASTROMER weights.
    """
    crc = 0xFFFFFFFF
    table = _CRC32C_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _unmask_crc(masked):
    # LevelDB stores checksums rotated and offset so that a CRC of data that
    # itself embeds CRCs stays well-distributed.
    rotated = (masked - 0xA282EAD8) & 0xFFFFFFFF
    return ((rotated >> 17) | (rotated << 15)) & 0xFFFFFFFF


# ---------------------------------------------------------------- protobuf wire format


def _read_varint(buffer, position):
    """Decode a base-128 varint at ``position``; return ``(value, next_position)``."""
    value = shift = 0
    while True:
        if position >= len(buffer):
            raise ValueError("Truncated varint in checkpoint index.")
        byte = buffer[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7
        if shift > 63:
            raise ValueError("Varint longer than 64 bits in checkpoint index.")


def _protobuf_fields(message):
    """Yield ``(field_number, wire_type, value)`` for every field of a serialised message.

    Varints are returned as ints, length-delimited fields as bytes, fixed-width
    fields as little-endian unsigned ints.
    """
    position = 0
    while position < len(message):
        tag, position = _read_varint(message, position)
        field, wire_type = tag >> 3, tag & 7
        if wire_type == 0:
            value, position = _read_varint(message, position)
            yield field, wire_type, value
            continue
        if wire_type == 2:
            size, position = _read_varint(message, position)
        elif wire_type in FIXED_WIDTHS:
            size = FIXED_WIDTHS[wire_type]
        else:
            raise ValueError(f"Unsupported protobuf wire type {wire_type} in checkpoint index.")
        if position + size > len(message):
            raise ValueError("Truncated protobuf message in checkpoint index.")
        value = bytes(message[position : position + size])
        position += size
        yield field, wire_type, value if wire_type == 2 else int.from_bytes(value, "little")


def _decode_shape(message):
    """Decode a ``TensorShapeProto``: repeated ``Dim dim = 2`` with ``int64 size = 1``."""
    dims = []
    for field, _, value in _protobuf_fields(message):
        if field == 2:
            size = next((v for f, _, v in _protobuf_fields(value) if f == 1), 0)
            dims.append(size)
        elif field == 3 and value:
            raise ValueError("Checkpoint tensor of unknown rank.")
    return tuple(dims)


def _decode_entry(message):
    """Decode a ``BundleEntryProto`` into a :class:`BundleEntry`."""
    fields = {"dtype": 0, "shape": (), "shard_id": 0, "offset": 0, "size": 0, "crc32c": 0}
    for field, _, value in _protobuf_fields(message):
        if field == 1:
            fields["dtype"] = value
        elif field == 2:
            fields["shape"] = _decode_shape(value)
        elif field == 3:
            fields["shard_id"] = value
        elif field == 4:
            fields["offset"] = value
        elif field == 5:
            fields["size"] = value
        elif field == 6:
            fields["crc32c"] = value
        elif field == 7:
            raise ValueError("Partitioned (sliced) checkpoint variables are not supported.")
    return BundleEntry(**fields)


def _decode_header(message):
    """Decode a ``BundleHeaderProto`` into ``{"num_shards": int, "endianness": int}``."""
    header = {"num_shards": 1, "endianness": 0}
    for field, _, value in _protobuf_fields(message):
        if field == 1:
            header["num_shards"] = value
        elif field == 2:
            header["endianness"] = value
    return header


# ---------------------------------------------------------------- sorted-string table


def _read_block_handle(buffer, position):
    offset, position = _read_varint(buffer, position)
    size, position = _read_varint(buffer, position)
    return (offset, size), position


def _read_block(table, handle, path):
    """Return the contents of the block at ``handle`` after checking its trailer."""
    offset, size = handle
    end = offset + size
    if end + BLOCK_TRAILER_SIZE > len(table):
        raise ValueError(f"{path}: block at byte {offset} runs past the end of the file.")
    contents = table[offset:end]
    compression = table[end]
    (masked_crc,) = struct.unpack_from("<I", table, end + 1)
    if _unmask_crc(masked_crc) != crc32c(table[offset : end + 1]):
        raise ValueError(f"{path}: checksum mismatch in the block at byte {offset}.")
    if compression == SNAPPY_COMPRESSION:
        raise ValueError(
            f"{path}: the block at byte {offset} is snappy-compressed, which this reader "
            "does not support (TensorFlow writes checkpoint indexes uncompressed)."
        )
    if compression != NO_COMPRESSION:
        raise ValueError(f"{path}: unknown block compression type {compression}.")
    return contents


def _block_entries(block):
    """Yield ``(key, value)`` from a table block, undoing the keys' prefix compression."""
    if len(block) < 4:
        raise ValueError("Table block too short.")
    (n_restarts,) = struct.unpack_from("<I", block, len(block) - 4)
    data_end = len(block) - 4 - 4 * n_restarts
    if data_end < 0:
        raise ValueError("Table block has a corrupt restart array.")
    position, key = 0, b""
    while position < data_end:
        shared, position = _read_varint(block, position)
        unshared, position = _read_varint(block, position)
        value_length, position = _read_varint(block, position)
        if shared > len(key):
            raise ValueError("Table block has a corrupt key prefix.")
        if position + unshared + value_length > data_end:
            raise ValueError("Table block has an entry running past its end.")
        key = key[:shared] + bytes(block[position : position + unshared])
        position += unshared
        value = bytes(block[position : position + value_length])
        position += value_length
        yield key, value


def read_table(path):
    """Read every ``(key, value)`` pair of a LevelDB-format sorted-string table.

    Parameters
    ----------
    path : path-like
        The table file (a checkpoint's ``.index``).

    Returns
    -------
    dict of bytes to bytes
    """
    path = Path(path)
    table = path.read_bytes()
    if len(table) < FOOTER_SIZE:
        raise ValueError(f"{path} is too short to be a TensorFlow checkpoint index.")
    footer = table[-FOOTER_SIZE:]
    (magic,) = struct.unpack_from("<Q", footer, FOOTER_SIZE - 8)
    if magic != TABLE_MAGIC:
        raise ValueError(f"{path} is not a TensorFlow checkpoint index (bad table magic).")
    _, position = _read_block_handle(footer, 0)  # metaindex: unused by TensorFlow
    index_handle, _ = _read_block_handle(footer, position)
    entries = {}
    for _, handle_bytes in _block_entries(_read_block(table, index_handle, path)):
        data_handle, _ = _read_block_handle(handle_bytes, 0)
        entries.update(_block_entries(_read_block(table, data_handle, path)))
    return entries


# ---------------------------------------------------------------- tensor bundle


def _errors_name(path):
    return errors_naming(path, (ValueError, struct.error, IndexError, OverflowError),
                         "is not a readable TensorFlow checkpoint")


def _index_path(prefix):
    prefix = Path(prefix)
    if prefix.suffix == ".index":
        prefix = prefix.with_suffix("")
    return prefix, prefix.with_name(prefix.name + ".index")


def read_bundle_entries(prefix):
    """Read the index of a checkpoint.

    Parameters
    ----------
    prefix : path-like
        Checkpoint prefix (``.../weights`` for ``weights.index`` +
        ``weights.data-00000-of-00001``), or the ``.index`` file itself.

    Returns
    -------
    header : dict
        ``num_shards`` and ``endianness`` (0 = little endian).
    entries : dict of str to BundleEntry
        Every tensor of the checkpoint, including the object graph and any
        optimizer slots.
    """
    _, index = _index_path(prefix)
    if not index.is_file():
        raise FileNotFoundError(f"TensorFlow checkpoint index {index} not found.")
    with _errors_name(index):
        table = read_table(index)
        if HEADER_KEY.encode() not in table:
            raise ValueError(f"{index} has no bundle header.")
        header = _decode_header(table.pop(HEADER_KEY.encode()))
        if header["endianness"] != 0:
            raise ValueError(f"{index} was written big-endian; only little-endian is supported.")
        entries = {key.decode("utf-8"): _decode_entry(value) for key, value in table.items()}
    return header, entries


def is_model_variable(name):
    """True for a checkpoint key holding a model variable (not a slot or the object graph)."""
    return name.endswith(VARIABLE_SUFFIX) and OPTIMIZER_SLOT_MARKER not in name


def variable_path(name):
    """Strip the ``/.ATTRIBUTES/VARIABLE_VALUE`` suffix from a checkpoint key."""
    return name[: -len(VARIABLE_SUFFIX)] if name.endswith(VARIABLE_SUFFIX) else name


def read_tf_checkpoint(prefix, include=is_model_variable):
    """Read the tensors of a TensorFlow V2 checkpoint as numpy arrays.

    Parameters
    ----------
    prefix : path-like
        Checkpoint prefix (``.../weights``) or its ``.index`` file.
    include : callable, default=is_model_variable
        Predicate on checkpoint keys; the default keeps model variables and
        leaves out optimizer slots and the object graph. Pass
        ``lambda name: True`` to read every numeric tensor.

    Returns
    -------
    dict of str to ndarray
        Keyed by the checkpoint's names with the ``/.ATTRIBUTES/VARIABLE_VALUE``
        suffix removed, e.g. ``"layer_with_weights-0/inp_transform/kernel"``.

    Raises
    ------
    FileNotFoundError
        If the index is missing.
    ValueError
        Naming the file: a malformed index, a missing data shard, a selected
        tensor of a dtype other than the numeric ones this reader knows, or
        bytes inconsistent with its shape or checksum.
    """
    prefix, index = _index_path(prefix)
    header, entries = read_bundle_entries(prefix)
    shards = {}
    tensors = {}
    for name, entry in entries.items():
        if not include(name):
            continue
        if entry.dtype not in NUMPY_DTYPES:
            raise ValueError(
                f"{index}: checkpoint tensor {name!r} has TensorFlow dtype {entry.dtype}; "
                f"this reader decodes only {sorted(NUMPY_DTYPES)}."
            )
        shard = prefix.with_name(
            f"{prefix.name}.data-{entry.shard_id:05d}-of-{header['num_shards']:05d}"
        )
        if entry.shard_id not in shards:
            if not shard.is_file():
                raise ValueError(f"{index} names the data shard {shard.name}, which is "
                                 "missing: the checkpoint is incomplete.")
            shards[entry.shard_id] = shard.read_bytes()
        with _errors_name(shard):
            tensors[variable_path(name)] = _decode_tensor(name, entry, shards[entry.shard_id])
    return tensors


def _decode_tensor(name, entry, shard):
    dtype = NUMPY_DTYPES[entry.dtype]
    expected = math.prod(entry.shape) * dtype.itemsize
    if entry.size != expected or entry.offset + entry.size > len(shard):
        raise ValueError(
            f"Checkpoint tensor {name!r}: {entry.size} bytes at offset {entry.offset} do "
            f"not hold a {dtype} tensor of shape {entry.shape}."
        )
    raw = shard[entry.offset : entry.offset + entry.size]
    if crc32c(raw) != _unmask_crc(entry.crc32c):
        raise ValueError(f"Checkpoint tensor {name!r}: checksum mismatch (corrupt data shard).")
    return np.frombuffer(raw, dtype=dtype).reshape(entry.shape).astype(dtype.newbyteorder("="))
