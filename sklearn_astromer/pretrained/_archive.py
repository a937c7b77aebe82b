"""Unpack model zips safely, and check an unpacked folder against its zip.

An archive is untrusted input: entries that would write outside the target
(absolute paths, ``..``, symbolic links) are refused, as are archives that
would unpack to more than :data:`MAX_UNPACKED_BYTES`, and any error of the zip
reader becomes a ``ValueError`` naming the archive. A folder unpacked earlier
is untrusted too (it may have been edited): :func:`matches_archive` compares
it with the zip, file by file.
"""

import os
import shutil
import stat
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from ._checks import errors_naming

CONFIG_FILE = "conf.json"
# A published ASTROMER zip unpacks to 3 MB in 10 entries; these bounds only
# stop archives that would fill the disk.
MAX_MEMBERS = 10_000
MAX_UNPACKED_BYTES = 1 << 30
CHUNK_SIZE = 1 << 20
# What the zip reader raises on malformed archives: bad headers and
# truncation (BadZipFile, EOFError, OSError), unsupported or encrypted
# members (NotImplementedError, RuntimeError), corrupt compressed data.
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError,
              EOFError, OSError, ValueError, zlib.error)


def _check_entry(info):
    """Reject a zip entry that could write outside the extraction folder."""
    name = info.filename
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise ValueError(f"Refusing to extract {name!r}: absolute path in the archive.")
    if ".." in parts:
        raise ValueError(f"Refusing to extract {name!r}: '..' in the archive path.")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise ValueError(f"Refusing to extract {name!r}: symbolic link in the archive.")


def _checked_entries(zipped, archive):
    entries = zipped.infolist()
    for info in entries:
        _check_entry(info)
    unpacked = sum(info.file_size for info in entries)
    if len(entries) > MAX_MEMBERS or unpacked > MAX_UNPACKED_BYTES:
        raise ValueError(f"Refusing to extract {archive}: {len(entries)} entries, "
                         f"{unpacked:,} bytes unpacked (limits {MAX_MEMBERS}, "
                         f"{MAX_UNPACKED_BYTES:,}).")
    return entries


def is_model_dir(folder):
    """True if ``folder`` holds a ``conf.json``."""
    return (Path(folder) / CONFIG_FILE).is_file()


def _model_root(folder):
    """The folder holding ``conf.json``: ``folder`` itself or its single subfolder."""
    if is_model_dir(folder):
        return folder
    children = [child for child in folder.iterdir() if child.is_dir()]
    if len(children) == 1 and is_model_dir(children[0]):
        return children[0]
    return None


def safe_extract(archive, target):
    """Unpack the model in zip ``archive`` to folder ``target`` and return ``target``.

    Every entry is checked first (no absolute paths, ``..`` components or
    symbolic links; bounded size); the archive is unpacked into a temporary
    folder beside ``target`` and the folder holding ``conf.json`` is then
    renamed to ``target``, so an interrupted extraction never leaves a
    partial model.

    Raises
    ------
    ValueError
        Naming the archive or the entry: an unsafe entry, an archive that is
        not a readable zip, or one without a model folder.
    """
    target = Path(target)
    with errors_naming(archive, ZIP_ERRORS, "could not be unpacked"):
        with zipfile.ZipFile(archive) as zipped:
            entries = _checked_entries(zipped, archive)
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(dir=target.parent,
                                            prefix=f".{target.name}.extract-"))
            try:
                zipped.extractall(staging, members=entries)
                root = _model_root(staging)
                if root is None:
                    raise ValueError(f"{archive} holds no ASTROMER model folder "
                                     f"(no {CONFIG_FILE}).")
                _move_into_place(root, target)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    return target


def _move_into_place(root, target):
    try:
        os.replace(root, target)
    except OSError:
        # Another process finished the same extraction first: use its copy.
        if not is_model_dir(target):
            raise


def _archived_files(zipped):
    """``{path relative to the model folder: (size, CRC-32)}`` of the files a zip unpacks."""
    files = {info.filename: info for info in zipped.infolist() if not info.is_dir()}
    configs = [PurePosixPath(name) for name in files if PurePosixPath(name).name == CONFIG_FILE]
    roots = sorted((path.parent for path in configs if len(path.parts) <= 2),
                   key=lambda path: len(path.parts))
    if not roots:
        return None
    root = roots[0]
    return {str(PurePosixPath(name).relative_to(root)): (info.file_size, info.CRC)
            for name, info in files.items() if PurePosixPath(name).is_relative_to(root)}


def _crc32(path):
    crc = 0
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(CHUNK_SIZE), b""):
            crc = zlib.crc32(chunk, crc)
    return crc


def matches_archive(archive, folder):
    """True if ``folder`` holds exactly the files ``archive`` unpacks to, byte for byte.

    Compares the set of files, their sizes and their CRC-32 with the zip's
    own records (the zip itself having been verified by its SHA-256), so an
    edited, added, removed or truncated file is noticed.
    """
    folder = Path(folder)
    with errors_naming(archive, ZIP_ERRORS, "could not be read"):
        with zipfile.ZipFile(archive) as zipped:
            expected = _archived_files(zipped)
    if expected is None:
        return False
    present = {str(path.relative_to(folder).as_posix()) for path in folder.rglob("*")
               if path.is_file()}
    if present != expected.keys():
        return False
    return all((folder / name).stat().st_size == size and _crc32(folder / name) == crc
               for name, (size, crc) in expected.items())
