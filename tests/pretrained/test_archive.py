"""Unpacking model zips safely, and checking unpacked folders against their zip."""

import stat
import zipfile

import pytest

from sklearn_astromer.pretrained._archive import matches_archive, safe_extract
from sklearn_astromer.pretrained._download import fetch_published_weights

from ._files import zip_bytes


def _symlink_entry(name):
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.parametrize(
    "entry",
    ["../evil", "model/../../evil", "/tmp/evil", _symlink_entry("model/link")],
    ids=["dotdot", "nested-dotdot", "absolute", "symlink"],
)
def test_unsafe_archives_are_refused(tmp_path, entry):
    archive = tmp_path / "crafted.zip"
    archive.write_bytes(
        zip_bytes([("model/conf.json", "{}"), (entry, "/etc/passwd")])
    )
    name = entry.filename if isinstance(entry, zipfile.ZipInfo) else entry
    with pytest.raises(ValueError, match=name.replace(".", r"\.")):
        fetch_published_weights(archive, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "evil").exists()
    assert not list((tmp_path / "cache").rglob("conf.json"))


def test_archive_without_a_model_is_refused(tmp_path):
    archive = tmp_path / "empty.zip"
    archive.write_bytes(zip_bytes([("readme.txt", "hello")]))
    with pytest.raises(ValueError, match="conf.json"):
        safe_extract(archive, tmp_path / "target")
    assert not (tmp_path / "target").exists()
    assert list(tmp_path.iterdir()) == [archive]


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 truncated", b"not a zip at all" * 10],
                         ids=["empty", "truncated", "text"])
def test_a_file_that_is_not_a_zip_is_named(tmp_path, content):
    archive = tmp_path / "weights.zip"
    archive.write_bytes(content)
    with pytest.raises(ValueError, match=r"weights\.zip could not be unpacked"):
        safe_extract(archive, tmp_path / "target")
    assert not (tmp_path / "target").exists()


def test_corrupt_member_data_is_named(tmp_path):
    data = zip_bytes([("model/conf.json", "{}"), ("model/weights.h5", b"x" * 1000)])
    archive = tmp_path / "weights.zip"
    archive.write_bytes(data.replace(b"x" * 100, b"y" * 100, 1))  # CRC-32 no longer matches
    with pytest.raises(ValueError, match=r"weights\.zip could not be unpacked.*CRC"):
        safe_extract(archive, tmp_path / "target")


def test_archive_too_large_when_unpacked_is_refused(tmp_path, monkeypatch):
    from sklearn_astromer.pretrained import _archive

    monkeypatch.setattr(_archive, "MAX_UNPACKED_BYTES", 100)
    archive = tmp_path / "bomb.zip"
    archive.write_bytes(zip_bytes([("model/conf.json", "{}"), ("model/zeros", b"\0" * 101)]))
    with pytest.raises(ValueError, match=r"Refusing to extract .*bomb\.zip: 2 entries, 103"):
        safe_extract(archive, tmp_path / "target")


def _unpacked(tmp_path):
    archive = tmp_path / "mine.zip"
    archive.write_bytes(zip_bytes([("mine/conf.json", '{"max_obs": 200}'),
                                   ("mine/weights.h5", "x"), ("mine/logs/", "")]))
    return archive, safe_extract(archive, tmp_path / "target")


def test_unpacked_folder_matches_its_zip(tmp_path):
    archive, folder = _unpacked(tmp_path)
    assert matches_archive(archive, folder)


@pytest.mark.parametrize("change", ["edit", "truncate", "add", "remove"])
def test_any_change_to_the_unpacked_folder_is_noticed(tmp_path, change):
    archive, folder = _unpacked(tmp_path)
    if change == "edit":  # same size, other bytes
        (folder / "conf.json").write_text('{"max_obs": 007}')
    elif change == "truncate":
        (folder / "weights.h5").write_text("")
    elif change == "add":
        (folder / "weights.index").write_text("")
    else:
        (folder / "weights.h5").unlink()
    assert not matches_archive(archive, folder)


def test_edited_cache_is_unpacked_afresh_with_a_warning(tmp_path):
    archive, _ = _unpacked(tmp_path)
    folder = fetch_published_weights(archive, cache_dir=tmp_path / "cache")
    (folder / "conf.json").write_text('{"max_obs": 7}')
    with pytest.warns(UserWarning, match="differs from the zip it was unpacked from"):
        again = fetch_published_weights(archive, cache_dir=tmp_path / "cache")
    assert again == folder and (folder / "conf.json").read_text() == '{"max_obs": 200}'
