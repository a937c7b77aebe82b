import pandas as pd
import pytest

from sklearn_astromer.__main__ import main
from sklearn_astromer.io import light_curves_from_table


@pytest.mark.parametrize("name", ["survey.csv", "survey.parquet"])
def test_simulate_writes_a_long_table_the_other_commands_read(tmp_path, name, capsys):
    if name.endswith(".parquet"):
        pytest.importorskip("pyarrow")
    path = tmp_path / name
    assert main(["simulate", str(path), "--survey", "ztf", "--per-class", "2"]) == 0
    table = pd.read_parquet(path) if name.endswith(".parquet") else pd.read_csv(path)
    assert list(table.columns) == ["object_id", "time", "mag", "err", "class"]
    curves, ids = light_curves_from_table(table, id_col="object_id", time_col="time",
                                          mag_col="mag", err_col="err")
    assert len(curves) == 20 and table.groupby("object_id")["class"].nunique().max() == 1
    assert "wrote 20 ztf light curves" in capsys.readouterr().err


def test_simulate_refuses_unknown_formats(tmp_path, capsys):
    assert main(["simulate", str(tmp_path / "survey.xlsx")]) == 1
    assert "unknown format" in capsys.readouterr().err
