"""Light-curve collections from files: damaged files and missing optional dependencies."""

import builtins

import numpy as np
import pytest

from sklearn_astromer.__main__ import main
from sklearn_astromer.cli._inputs import LightCurveCollection

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")


def _table(n_objects=4, n_obs=6):
    rows = [(f"s{index}", float(time), 15.0 + np.sin(time), 0.05)
            for index in range(n_objects) for time in range(n_obs)]
    return pd.DataFrame(rows, columns=["object_id", "time", "mag", "err"])


def _one_error_line(capsys, argv):
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    return err


@pytest.mark.parametrize("damage", ["truncated", "flipped footer", "not parquet"])
@pytest.mark.parametrize("command", ["embed", "pretrain"])
def test_damaged_parquet_is_one_error_line_naming_the_file(tiny_model, tmp_path, capsys,
                                                          damage, command):
    path = tmp_path / "table.parquet"
    _table().to_parquet(path)
    data = path.read_bytes()
    path.write_bytes({"truncated": data[:len(data) // 2],
                      "flipped footer": data[:-12] + b"\xff" * 8 + data[-4:],
                      "not parquet": b"object_id,time,mag\n"}[damage])
    out = ["-o", str(tmp_path / "out.csv"), "--model", str(tiny_model)] if command == "embed" \
        else ["--out", str(tmp_path / "model"), "--epochs", "1"]
    err = _one_error_line(capsys, [command, str(path), *out])
    assert f"{path}: not a readable Parquet file" in err
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "model").exists()


def _block_imports(monkeypatch, *names):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.split(".")[0] in names:
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)


@pytest.mark.parametrize("suffix, extra", [(".csv", "pandas"), (".csv.gz", "pandas"),
                                           (".parquet", "parquet")])
def test_core_install_names_the_extra_for_tables(tiny_model, tmp_path, capsys, monkeypatch,
                                                 suffix, extra):
    path = tmp_path / f"table{suffix}"
    path.write_bytes(b"")
    _block_imports(monkeypatch, "pandas", "pyarrow")
    for argv in (["embed", str(path), "--model", str(tiny_model), "-o", str(tmp_path / "o.csv")],
                 ["pretrain", str(path), "--out", str(tmp_path / "model")]):
        err = _one_error_line(capsys, argv)
        assert f'pip install "sklearn-astromer[{extra}]"' in err and "No module named" not in err
    assert not (tmp_path / "model").exists()


def test_core_install_embeds_text_files_to_csv_and_names_the_extra_for_parquet(
        tiny_model, tmp_path, capsys, monkeypatch):
    (tmp_path / "curves").mkdir()
    for name in ("b", "a"):
        np.savetxt(tmp_path / "curves" / f"{name}.dat", _table(1).to_numpy()[:, 1:].astype(float))
    _block_imports(monkeypatch, "pandas", "pyarrow")
    assert main(["embed", str(tmp_path / "curves"), "--model", str(tiny_model),
                 "-o", str(tmp_path / "out.csv"), "-q"]) == 0
    err = _one_error_line(capsys, ["embed", str(tmp_path / "curves"), "--model", str(tiny_model),
                                   "-o", str(tmp_path / "out.parquet")])
    assert 'writing Parquet needs pyarrow: pip install "sklearn-astromer[parquet]"' in err
    monkeypatch.undo()
    written = pd.read_csv(tmp_path / "out.csv")
    assert written["object_id"].tolist() == ["a", "b"] and np.isfinite(
        written.iloc[:, 1:].to_numpy()).all()


def test_read_all_of_parquet_names_the_row_of_a_bad_id(tmp_path):
    table = _table()
    table.loc[7, "object_id"] = None
    table.to_parquet(tmp_path / "t.parquet")
    with pytest.raises(ValueError, match=r"t.parquet, row 7: the object id"):
        LightCurveCollection(tmp_path / "t.parquet", batch_rows=5).read_all()


def test_empty_parquet_table_has_no_light_curves(tmp_path):
    _table().iloc[:0].to_parquet(tmp_path / "t.parquet")
    ids, curves = LightCurveCollection(tmp_path / "t.parquet").read_all()
    assert len(ids) == 0 and curves == []
