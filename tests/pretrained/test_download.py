"""Downloading, verifying, caching and unpacking the published weights.

Every server here listens on 127.0.0.1 only; no test touches the network.
"""

import functools
import hashlib
import http.server
import shutil
import socket
import threading

import pytest

from sklearn_astromer.pretrained._download import (
    HOME_ENV,
    PUBLISHED_WEIGHTS,
    WEIGHTS_URL_ENV,
    WeightsUnavailableError,
    fetch_published_weights,
)
from sklearn_astromer.pretrained import _shipped, load_pretrained
from sklearn_astromer.pretrained._published import load_published

from ._files import zip_bytes

MACHO = PUBLISHED_WEIGHTS["macho"]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


class _LoopbackServer:
    """Serve ``directory`` on 127.0.0.1 from a background thread."""

    def __init__(self, directory):
        handler = functools.partial(_QuietHandler, directory=str(directory))
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture
def serve(monkeypatch):
    """Start a loopback server for a directory and point the weights URL at it."""
    servers = []

    def start(directory):
        server = _LoopbackServer(directory)
        servers.append(server)
        monkeypatch.setenv(WEIGHTS_URL_ENV, server.url)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def closed_port_url():
    """A loopback URL on which nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.mark.shared_data
def test_fresh_download_then_cache_hit_offline(shared_data, serve, tmp_path):
    server = serve(shared_data / "astromer_weights")
    folder = fetch_published_weights("macho", cache_dir=tmp_path)
    assert (folder / "conf.json").is_file() and (folder / "weights.index").is_file()
    archive = tmp_path / "weights" / "macho.zip"
    assert hashlib.sha256(archive.read_bytes()).hexdigest() == MACHO.sha256
    assert not list((tmp_path / "weights").glob(".*"))  # no temporary leftovers

    server.stop()
    assert fetch_published_weights("macho", cache_dir=tmp_path) == folder
    shutil.rmtree(folder)  # the verified cached zip is unpacked again
    assert (fetch_published_weights("MACHO", cache_dir=tmp_path) / "weights.index").is_file()


@pytest.mark.shared_data
def test_atlas_download_and_home_variable(shared_data, serve, tmp_path, monkeypatch):
    serve(shared_data / "astromer_weights")
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "home"))
    folder = fetch_published_weights("atlas")
    assert folder == tmp_path / "home" / "weights" / "atlas"
    assert (folder / "weights.h5").is_file()
    config, state_dict = load_published("atlas")
    assert config["source"] == "atlas" and len(state_dict) == 30


@pytest.mark.shared_data
def test_install_without_the_shipped_copies_downloads(shared_data, serve, tmp_path, monkeypatch):
    monkeypatch.setattr(_shipped, "SHIPPED_DIR", tmp_path / "stripped")
    serve(shared_data / "astromer_weights")
    config, state_dict = load_pretrained("macho", cache_dir=tmp_path / "cache")
    assert config["source"] == "macho" and len(state_dict) == 30
    assert (tmp_path / "cache" / "weights" / MACHO.filename).is_file()


def test_wrong_bytes_are_rejected_and_not_kept(serve, tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    (served / MACHO.filename).write_bytes(b"not the published zip")
    serve(served)
    cache = tmp_path / "cache"
    actual = hashlib.sha256(b"not the published zip").hexdigest()
    with pytest.raises(ValueError, match=f"{actual}.*{MACHO.sha256}"):
        fetch_published_weights("macho", cache_dir=cache)
    assert list((cache / "weights").iterdir()) == []


def test_corrupt_cached_zip_is_deleted(tmp_path, closed_port_url, monkeypatch):
    monkeypatch.setenv(WEIGHTS_URL_ENV, closed_port_url)
    cached = tmp_path / "weights" / MACHO.filename
    cached.parent.mkdir()
    cached.write_bytes(b"truncated")
    with pytest.raises(ValueError, match=MACHO.sha256):
        fetch_published_weights("macho", cache_dir=tmp_path)
    assert not cached.exists()


def test_offline_error_says_which_file_goes_where(tmp_path, closed_port_url, monkeypatch):
    monkeypatch.setenv(WEIGHTS_URL_ENV, closed_port_url)
    with pytest.raises(WeightsUnavailableError) as error:
        fetch_published_weights("macho", cache_dir=tmp_path)
    message = str(error.value)
    assert MACHO.filename in message and MACHO.sha256 in message
    assert str(tmp_path / "weights" / MACHO.filename) in message
    assert "A local path works too" in message and "unpacked folder" in message
    assert isinstance(error.value, OSError)
    assert not list((tmp_path / "weights").iterdir())


def _cache_with_unpacked_macho(shared_data, cache):
    """A cache holding the published macho.zip and its unpacked folder, as after a download."""
    (cache / "weights").mkdir(parents=True)
    shutil.copyfile(shared_data / "astromer_weights" / MACHO.filename,
                    cache / "weights" / MACHO.filename)
    return fetch_published_weights("macho", cache_dir=cache)


@pytest.mark.shared_data
def test_edited_cached_config_is_not_trusted(shared_data, tmp_path, closed_port_url,
                                             monkeypatch):
    monkeypatch.setenv(WEIGHTS_URL_ENV, closed_port_url)
    folder = _cache_with_unpacked_macho(shared_data, tmp_path)
    conf = folder / "conf.json"
    conf.write_text(conf.read_text().replace('"max_obs": 200', '"max_obs": 7'))
    with pytest.warns(UserWarning, match="edited or damaged"):
        config, _ = load_published("macho", cache_dir=tmp_path)
    assert config["max_obs"] == 200


@pytest.mark.shared_data
def test_folder_kept_without_its_zip_offline(shared_data, tmp_path, closed_port_url,
                                             monkeypatch):
    monkeypatch.setenv(WEIGHTS_URL_ENV, closed_port_url)
    folder = _cache_with_unpacked_macho(shared_data, tmp_path)
    (tmp_path / "weights" / MACHO.filename).unlink()
    with pytest.raises(WeightsUnavailableError) as error:
        fetch_published_weights("macho", cache_dir=tmp_path)
    message = str(error.value)
    assert f"The folder {folder} unpacked from it earlier is still there" in message
    assert "put the zip back, delete the folder, or load the folder as it is" in message
    config, state_dict = load_published(folder)  # what the message offers
    assert config["max_obs"] == 200 and len(state_dict) == 30


def test_unknown_name(tmp_path):
    with pytest.raises(ValueError, match="macho"):
        fetch_published_weights("ztf", cache_dir=tmp_path)


def test_local_zip_is_unpacked_by_content(tmp_path):
    archive = tmp_path / "mine.zip"
    archive.write_bytes(zip_bytes([("mine/conf.json", "{}"), ("mine/weights.h5", "x")]))
    folder = fetch_published_weights(archive, cache_dir=tmp_path / "cache")
    assert (folder / "weights.h5").read_text() == "x"
    assert fetch_published_weights(archive, cache_dir=tmp_path / "cache") == folder
