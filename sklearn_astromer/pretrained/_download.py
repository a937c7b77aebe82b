"""Download, verify, cache and safely unpack the published ASTROMER weights.

The zips come from the ASTROMER project's weights repository at a pinned
commit and are checked against their SHA-256 before anything reads them.
"""

import hashlib
import os
import shutil
import stat
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

HOME_ENV = "SKLEARN_ASTROMER_HOME"
WEIGHTS_URL_ENV = "SKLEARN_ASTROMER_WEIGHTS_URL"
DEFAULT_HOME = Path("~/.cache/sklearn-astromer")
WEIGHTS_SUBDIR = "weights"
CONFIG_FILE = "conf.json"
DOWNLOAD_TIMEOUT_S = 60
CHUNK_SIZE = 1 << 20

# The last commit holding both zips under these names (2022-08-30, "macho_conf");
# later commits delete atlas.zip and rename macho.zip to macho_a0.zip.
WEIGHTS_REPOSITORY = "https://github.com/astromer-science/weights"
WEIGHTS_COMMIT = "3bf2237a1a225c0addf00bed2769f338a008d56f"
DEFAULT_WEIGHTS_URL = (
    f"https://raw.githubusercontent.com/astromer-science/weights/{WEIGHTS_COMMIT}"
)


@dataclass(frozen=True)
class PublishedWeights:
    """One published ASTROMER model: its file in the weights repository and checksum."""

    name: str
    filename: str
    sha256: str
    description: str


PUBLISHED_WEIGHTS = {
    "macho": PublishedWeights(
        "macho",
        "macho.zip",
        "76a204a37a0d47bfd722477f55231624c0c56cf9eea3369b5f22ff445d95158b",
        "ASTROMER v0 pre-trained on MACHO R band (the A&A 2023 paper's model; "
        "TensorFlow checkpoint)",
    ),
    "atlas": PublishedWeights(
        "atlas",
        "atlas.zip",
        "ea4c4dae7407554dd6f2dd3c4b5eb0faac83b07b2022786a0c307002c4c643d6",
        "ASTROMER v0 pre-trained on ATLAS (Keras HDF5)",
    ),
}


class WeightsUnavailableError(OSError):
    """The published weights could not be downloaded.

    The message names the file, its SHA-256 and where to put it by hand.
    """


def get_cache_dir(cache_dir=None):
    """Directory holding downloaded weights.

    ``cache_dir`` if given, else ``$SKLEARN_ASTROMER_HOME``, else
    ``~/.cache/sklearn-astromer``; weights go to its ``weights/`` subfolder.
    """
    home = cache_dir if cache_dir is not None else os.environ.get(HOME_ENV) or DEFAULT_HOME
    return Path(home).expanduser() / WEIGHTS_SUBDIR


def sha256_of(path):
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(CHUNK_SIZE), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _weights_url(weights):
    base = os.environ.get(WEIGHTS_URL_ENV) or DEFAULT_WEIGHTS_URL
    return f"{base.rstrip('/')}/{weights.filename}"


def _checksum_error(path, expected, actual):
    return ValueError(
        f"{path} has SHA-256 {actual}, expected {expected}; the file was deleted "
        "(corrupt or not the published file). Call again to download it afresh."
    )


def _download(weights, destination):
    """Download ``weights`` to ``destination`` through a verified temporary file."""
    url = _weights_url(weights)
    part = tempfile.NamedTemporaryFile(
        dir=destination.parent, prefix=f".{weights.filename}.", suffix=".part", delete=False
    )
    digest = hashlib.sha256()
    try:
        with part, urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
            for chunk in iter(lambda: response.read(CHUNK_SIZE), b""):
                digest.update(chunk)
                part.write(chunk)
    except (urllib.error.URLError, OSError) as error:
        os.unlink(part.name)
        raise WeightsUnavailableError(
            f"Could not download the {weights.name!r} ASTROMER weights from {url} ({error}). "
            f"Without network access, put the file {weights.filename} "
            f"(SHA-256 {weights.sha256}) at {destination} by hand; it is published in "
            f"{WEIGHTS_REPOSITORY} (commit {WEIGHTS_COMMIT})."
        ) from error
    if digest.hexdigest() != weights.sha256:
        os.unlink(part.name)
        raise _checksum_error(url, weights.sha256, digest.hexdigest())
    os.replace(part.name, destination)


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


def _is_model_dir(folder):
    return (folder / CONFIG_FILE).is_file()


def _model_root(folder):
    """The folder holding ``conf.json``: ``folder`` itself or its single subfolder."""
    if _is_model_dir(folder):
        return folder
    children = [child for child in folder.iterdir() if child.is_dir()]
    if len(children) == 1 and _is_model_dir(children[0]):
        return children[0]
    return None


def safe_extract(archive, target):
    """Unpack the model in zip ``archive`` to folder ``target`` and return ``target``.

    Every entry is checked first (no absolute paths, ``..`` components or
    symbolic links); the archive is unpacked into a temporary folder beside
    ``target`` and the folder holding ``conf.json`` is then renamed to
    ``target``, so an interrupted extraction never leaves a partial model.
    """
    target = Path(target)
    with zipfile.ZipFile(archive) as zipped:
        entries = zipped.infolist()
        for info in entries:
            _check_entry(info)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.extract-"))
        try:
            zipped.extractall(staging, members=entries)
            root = _model_root(staging)
            if root is None:
                raise ValueError(f"{archive} holds no ASTROMER model folder (no {CONFIG_FILE}).")
            try:
                os.replace(root, target)
            except OSError:
                # Another process finished the same extraction first: use its copy.
                if not _is_model_dir(target):
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target


def _fetch_published(weights, cache_dir):
    directory = get_cache_dir(cache_dir)
    directory.mkdir(parents=True, exist_ok=True)
    archive = directory / weights.filename
    if archive.is_file():
        actual = sha256_of(archive)
        if actual != weights.sha256:
            archive.unlink()
            raise _checksum_error(archive, weights.sha256, actual)
    else:
        _download(weights, archive)
    target = directory / weights.name
    if _is_model_dir(target):
        return target
    return safe_extract(archive, target)


def _fetch_local_zip(archive, cache_dir):
    # Keyed by content, so a changed zip under the same name is unpacked afresh.
    target = get_cache_dir(cache_dir) / "local" / f"{archive.stem}-{sha256_of(archive)[:16]}"
    if _is_model_dir(target):
        return target
    return safe_extract(archive, target)


def fetch_published_weights(name, cache_dir=None):
    """Return the folder of published ASTROMER weights, downloading them once.

    Parameters
    ----------
    name : {"macho", "atlas"} or path-like
        A published model, fetched from the ASTROMER weights repository at a
        pinned commit and checked against its SHA-256; or the path of a zip
        in the same layout (not checksummed, but still unpacked safely).
    cache_dir : path-like, optional
        Where zips and unpacked folders are kept (in its ``weights/``
        subfolder). Defaults to ``$SKLEARN_ASTROMER_HOME`` or
        ``~/.cache/sklearn-astromer``. ``$SKLEARN_ASTROMER_WEIGHTS_URL``
        replaces the download base URL (a mirror).

    Returns
    -------
    Path
        The unpacked folder, holding ``conf.json`` and the weights
        (``weights.index`` + ``weights.data-*``, or ``weights.h5``).

    Raises
    ------
    WeightsUnavailableError
        If the download fails (offline); the message names the file, its
        SHA-256 and where to put it by hand.
    ValueError
        If a downloaded or cached zip fails its checksum (the file is
        deleted), or an archive entry would escape the extraction folder.
    """
    if isinstance(name, str) and name.lower() in PUBLISHED_WEIGHTS:
        return _fetch_published(PUBLISHED_WEIGHTS[name.lower()], cache_dir)
    archive = Path(name)
    if archive.suffix == ".zip" and archive.is_file():
        return _fetch_local_zip(archive, cache_dir)
    raise ValueError(
        f"Unknown published weights {name!r}: expected one of {sorted(PUBLISHED_WEIGHTS)} "
        "or the path of a zip file."
    )
