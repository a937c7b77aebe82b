"""Download, verify, cache and safely unpack the published ASTROMER weights.

The zips come from the ASTROMER project's weights repository at a pinned
commit and are checked against their SHA-256 before anything reads them; the
folder they unpack to is checked against the verified zip on every use.
The package ships converted copies of both models (see :mod:`._shipped`), so
``"macho"`` and ``"atlas"`` need none of this; it serves users who want the
original files.
"""

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path

from ._archive import is_model_dir, matches_archive, safe_extract

HOME_ENV = "SKLEARN_ASTROMER_HOME"
WEIGHTS_URL_ENV = "SKLEARN_ASTROMER_WEIGHTS_URL"
DEFAULT_HOME = Path("~/.cache/sklearn-astromer")
WEIGHTS_SUBDIR = "weights"
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


#: The published ASTROMER models by name: file in the weights repository, SHA-256 and
#: description of each (:func:`fetch_published_weights` downloads and checks them).
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

    The message names the file, its SHA-256, where to put it by hand, and
    that a local zip or folder can be loaded instead.
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


def _download(weights, destination, kept_folder=None):
    """Download ``weights`` to ``destination`` through a verified temporary file.

    ``kept_folder``: an unpacked folder of the same zip, left in the cache
    without it; the offline error then says how to use or replace it.
    """
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
        kept = "" if kept_folder is None else (
            f" The folder {kept_folder} unpacked from it earlier is still there, but cannot "
            "be checked without the zip: put the zip back, delete the folder, or load the "
            "folder as it is by passing its path.")
        raise WeightsUnavailableError(
            f"Could not download the {weights.name!r} ASTROMER weights from {url} ({error}). "
            f"Without network access, put the file {weights.filename} "
            f"(SHA-256 {weights.sha256}) at {destination} by hand; it is published in "
            f"{WEIGHTS_REPOSITORY} (commit {WEIGHTS_COMMIT}). A local path works too: "
            f"pretrained='path/to/{weights.filename}' (or its unpacked folder) loads it "
            f"without a download.{kept}"
        ) from error
    if digest.hexdigest() != weights.sha256:
        os.unlink(part.name)
        raise _checksum_error(url, weights.sha256, digest.hexdigest())
    os.replace(part.name, destination)


def _fetch_published(weights, cache_dir):
    directory = get_cache_dir(cache_dir)
    directory.mkdir(parents=True, exist_ok=True)
    archive, target = directory / weights.filename, directory / weights.name
    if archive.is_file():
        actual = sha256_of(archive)
        if actual != weights.sha256:
            archive.unlink()
            raise _checksum_error(archive, weights.sha256, actual)
    else:
        _download(weights, archive, kept_folder=target if target.exists() else None)
    return _unpacked(archive, target)


def _fetch_local_zip(archive, cache_dir):
    # Keyed by content, so a changed zip under the same name is unpacked afresh.
    target = get_cache_dir(cache_dir) / "local" / f"{archive.stem}-{sha256_of(archive)[:16]}"
    return _unpacked(archive, target)


def _unpacked(archive, target):
    """``target`` holding exactly what ``archive`` unpacks to, unpacked afresh if it differs."""
    if target.exists():
        if is_model_dir(target) and matches_archive(archive, target):
            return target
        warnings.warn(f"{target} differs from the zip it was unpacked from ({archive}): "
                      "edited or damaged; unpacking it afresh.", UserWarning, stacklevel=3)
        shutil.rmtree(target)
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
        (``weights.index`` + ``weights.data-*``, or ``weights.h5``). A folder
        unpacked earlier is checked against its zip (file names, sizes and
        CRC-32) and unpacked afresh, with a warning, when it differs.

    Raises
    ------
    WeightsUnavailableError
        If the download fails (offline); the message names the file, its
        SHA-256, where to put it by hand, and that a local zip or folder
        loads without a download.
    ValueError
        If a downloaded or cached zip fails its checksum (the file is
        deleted), is not a readable zip, or an archive entry would escape the
        extraction folder.
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
