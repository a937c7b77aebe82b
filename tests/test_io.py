"""Long tables and Parquet files <-> light curves."""

import numpy as np
import pytest

pd = pytest.importorskip("pandas")

from sklearn_astromer.io import (  # noqa: E402
    iter_parquet_light_curves,
    light_curves_from_table,
    light_curves_to_table,
    read_parquet_light_curves,
)


@pytest.fixture
def light_curves():
    rng = np.random.default_rng(0)
    curves = []
    for length in [5, 1, 12, 3, 30, 7, 2, 9]:
        times = np.sort(rng.uniform(0, 100, length))
        curves.append(np.column_stack([times, rng.normal(15, 1, length), rng.uniform(0.01, 0.1, length)]))
    return curves


@pytest.fixture
def ids():
    return np.array(["obj-%02d" % i for i in range(8)], dtype=object)


def _assert_same_curves(left, right):
    assert len(left) == len(right)
    for a, b in zip(left, right):
        np.testing.assert_array_equal(a, b)


def test_table_round_trip(light_curves, ids):
    table = light_curves_to_table(light_curves, ids)
    assert list(table.columns) == ["object_id", "time", "mag", "err"]
    assert len(table) == sum(len(curve) for curve in light_curves)
    curves_back, ids_back = light_curves_from_table(table)
    _assert_same_curves(curves_back, light_curves)
    assert ids_back.tolist() == ids.tolist()
    pd.testing.assert_frame_equal(light_curves_to_table(curves_back, ids_back), table)


def test_shuffled_table_gives_objects_in_first_appearance_order_sorted_by_time(light_curves, ids):
    table = light_curves_to_table(light_curves, ids).sample(frac=1.0, random_state=0)
    curves_back, ids_back = light_curves_from_table(table)
    first_seen = list(dict.fromkeys(table["object_id"]))
    assert ids_back.tolist() == first_seen
    expected = dict(zip(ids, light_curves))
    _assert_same_curves(curves_back, [expected[object_id] for object_id in ids_back])


def test_equal_times_keep_table_order():
    table = pd.DataFrame({"object_id": [1, 1, 1], "time": [2.0, 1.0, 2.0], "mag": [3.0, 1.0, 2.0],
                          "err": [0.1, 0.1, 0.1]})
    (curve,), ids = light_curves_from_table(table)
    assert curve[:, 1].tolist() == [1.0, 3.0, 2.0] and ids.tolist() == [1]


def test_custom_names_no_error_column_and_metadata():
    table = pd.DataFrame({"oid": [7, 7, 3], "mjd": [5.0, 4.0, 1.0], "m": [1.0, 2.0, 3.0],
                          "label": ["RR", "RR", "Cep"]})
    curves, ids, metadata = light_curves_from_table(
        table, id_col="oid", time_col="mjd", mag_col="m", err_col=None, columns=["label"])
    assert ids.tolist() == [7, 3]
    np.testing.assert_array_equal(curves[0], [[4.0, 2.0, 0.0], [5.0, 1.0, 0.0]])
    assert metadata["label"].tolist() == ["RR", "Cep"] and metadata.index.tolist() == [7, 3]
    no_err = light_curves_to_table(curves, ids, id_col="oid", err_col=None)
    assert list(no_err.columns) == ["oid", "time", "mag"]


def test_dict_and_two_column_inputs():
    curves, ids = light_curves_from_table(
        {"object_id": ["a", "a"], "time": [1, 0], "mag": [10, 11]}, err_col=None)
    np.testing.assert_array_equal(curves[0], [[0, 11, 0], [1, 10, 0]])
    assert curves[0].dtype == np.float64
    table = light_curves_to_table([np.array([[0.0, 1.0], [1.0, 2.0]])])
    assert table["err"].tolist() == [0.0, 0.0] and table["object_id"].tolist() == [0, 0]


def test_missing_columns_are_named():
    table = pd.DataFrame({"object_id": [1], "mjd": [0.0], "mag": [1.0]})
    with pytest.raises(ValueError, match=r"\['time', 'err'\]"):
        light_curves_from_table(table)
    with pytest.raises(ValueError, match=r"\['label'\]"):
        light_curves_from_table(table, time_col="mjd", err_col=None, columns=["label"])


@pytest.mark.parametrize("column, values, message", [
    ("mag", ["a", "b"], "'mag'.*numeric"),
    ("time", pd.to_datetime(["2020-01-01", "2020-01-02"]), "days"),
    ("err", [True, False], "'err'.*numeric"),
])
def test_non_numeric_columns_are_refused(column, values, message):
    table = pd.DataFrame({"object_id": [1, 1], "time": [0.0, 1.0], "mag": [1.0, 2.0],
                          "err": [0.1, 0.1]})
    table[column] = values
    with pytest.raises(ValueError, match=message):
        light_curves_from_table(table)


def test_missing_ids_are_refused():
    table = pd.DataFrame({"object_id": ["a", None], "time": [0.0, 1.0], "mag": [1.0, 2.0]})
    with pytest.raises(ValueError, match="missing in 1 row"):
        light_curves_from_table(table, err_col=None)


def test_nullable_numbers_become_nan():
    table = pd.DataFrame({"object_id": [1, 1], "time": [0.0, 1.0],
                          "mag": pd.array([1.0, None], dtype="Float64")})
    (curve,), _ = light_curves_from_table(table, err_col=None)
    assert np.isnan(curve[1, 1])


def test_wrong_number_of_ids():
    with pytest.raises(ValueError, match="2 light curves"):
        light_curves_to_table([np.zeros((1, 3)), np.zeros((2, 3))], ids=["a"])


# --------------------------------------------------------------------------- Parquet
@pytest.fixture
def parquet_file(tmp_path, light_curves, ids):
    pytest.importorskip("pyarrow")
    path = tmp_path / "curves.parquet"
    # Row groups of 4 rows: most light curves straddle row groups.
    light_curves_to_table(light_curves, ids).to_parquet(path, row_group_size=4)
    return path


def test_parquet_round_trip(parquet_file, light_curves, ids):
    import pyarrow.parquet as pq

    assert pq.ParquetFile(parquet_file).num_row_groups > 10
    curves_back, ids_back = read_parquet_light_curves(parquet_file)
    _assert_same_curves(curves_back, light_curves)
    assert ids_back.tolist() == ids.tolist()


def test_parquet_directory(tmp_path, light_curves, ids):
    pytest.importorskip("pyarrow")
    light_curves_to_table(light_curves[:3], ids[:3]).to_parquet(tmp_path / "part-0.parquet")
    (tmp_path / "sub").mkdir()
    light_curves_to_table(light_curves[3:], ids[3:]).to_parquet(tmp_path / "sub" / "part-1.parquet")
    (tmp_path / "notes.txt").write_text("not parquet")
    curves_back, ids_back = read_parquet_light_curves(tmp_path)
    _assert_same_curves(curves_back, light_curves)
    streamed = list(iter_parquet_light_curves(tmp_path, batch_rows=3))
    _assert_same_curves([c for chunk, _ in streamed for c in chunk], light_curves)


@pytest.mark.parametrize("batch_rows", [1, 2, 5, 13, 1000])
def test_streaming_equals_one_shot_read(parquet_file, batch_rows):
    one_shot, one_shot_ids = read_parquet_light_curves(parquet_file)
    chunks = list(iter_parquet_light_curves(parquet_file, batch_rows=batch_rows))
    streamed = [curve for curves, _ in chunks for curve in curves]
    streamed_ids = [object_id for _, chunk_ids in chunks for object_id in chunk_ids]
    _assert_same_curves(streamed, one_shot)
    assert streamed_ids == one_shot_ids.tolist()
    assert all(len(curves) == len(chunk_ids) > 0 for curves, chunk_ids in chunks)
    if batch_rows == 1000:
        assert len(chunks) == 1


def test_streaming_carries_an_object_longer_than_a_batch(tmp_path):
    pytest.importorskip("pyarrow")
    long_curve = np.column_stack([np.arange(50.0), np.ones(50), np.ones(50)])
    short = np.ones((2, 3))
    path = tmp_path / "long.parquet"
    light_curves_to_table([short, long_curve, short], ["a", "b", "c"]).to_parquet(path)
    chunks = list(iter_parquet_light_curves(path, batch_rows=4))
    lengths = [len(curve) for curves, _ in chunks for curve in curves]
    assert lengths == [2, 50, 2]


def test_streaming_metadata_and_custom_columns(tmp_path):
    pytest.importorskip("pyarrow")
    table = pd.DataFrame({"oid": [1, 1, 2, 2, 2], "t": [1.0, 0.0, 0.0, 1.0, 2.0],
                          "m": np.arange(5.0), "label": ["x", "x", "y", "y", "y"],
                          "unused": np.zeros(5)})
    path = tmp_path / "meta.parquet"
    table.to_parquet(path)
    chunks = list(iter_parquet_light_curves(path, batch_rows=2, id_col="oid", time_col="t",
                                            mag_col="m", err_col=None, columns=["label"]))
    assert [metadata["label"].tolist() for _, _, metadata in chunks] == [["x"], ["y"]]
    np.testing.assert_array_equal(chunks[0][0][0], [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])


def test_streaming_refuses_scattered_objects(tmp_path):
    pytest.importorskip("pyarrow")
    table = pd.DataFrame({"object_id": ["a", "b", "a", "c"], "time": [0.0, 0.0, 1.0, 0.0],
                          "mag": [1.0, 2.0, 3.0, 4.0]})
    path = tmp_path / "scattered.parquet"
    table.to_parquet(path)
    with pytest.raises(ValueError, match="not contiguous"):
        list(iter_parquet_light_curves(path, batch_rows=10, err_col=None))


def test_parquet_errors(tmp_path, parquet_file):
    with pytest.raises(ValueError, match=r"\['magnitude'\]"):
        read_parquet_light_curves(parquet_file, mag_col="magnitude")
    with pytest.raises(ValueError, match=r"\['magnitude'\]"):
        next(iter_parquet_light_curves(parquet_file, mag_col="magnitude"))
    with pytest.raises(ValueError, match="batch_rows"):
        next(iter_parquet_light_curves(parquet_file, batch_rows=0))
    with pytest.raises(FileNotFoundError):
        read_parquet_light_curves(tmp_path / "absent.parquet")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="No .parquet"):
        read_parquet_light_curves(tmp_path / "empty")


def test_missing_pyarrow_names_the_extra(monkeypatch, tmp_path):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("pyarrow"):
            raise ImportError("No module named 'pyarrow'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match=r"sklearn-astromer\[parquet\]"):
        read_parquet_light_curves(tmp_path)


def test_empty_table_gives_no_light_curves():
    pd = pytest.importorskip("pandas")
    from sklearn_astromer.io import light_curves_from_table

    table = pd.DataFrame({"object_id": [], "time": [], "mag": [], "err": []})
    light_curves, ids = light_curves_from_table(table)
    assert light_curves == [] and len(ids) == 0


@pytest.mark.parametrize("damage", ["not parquet", "truncated", "bad footer"])
def test_unreadable_parquet_file_is_a_value_error_naming_it(parquet_file, damage):
    data = parquet_file.read_bytes()
    broken = {"not parquet": b"object_id,time,mag\n", "truncated": data[:len(data) // 2],
              "bad footer": data[:-12] + b"\xff" * 8 + data[-4:]}[damage]
    parquet_file.write_bytes(broken)
    for read in (read_parquet_light_curves, lambda path: next(iter_parquet_light_curves(path))):
        with pytest.raises(ValueError, match=f"{parquet_file}: not a readable Parquet file"):
            read(parquet_file)


def test_a_kept_column_that_varies_within_an_object_is_refused_naming_it():
    import pandas as pd

    from sklearn_astromer.io import light_curves_from_table

    table = pd.DataFrame({"object_id": ["a", "a", "b", "b"], "time": [0.0, 1, 0, 1],
                          "mag": [1.0, 2, 3, 4], "class": ["x", "x", "y", None],
                          "band": ["g", "r", "g", "g"]})
    _, _, per_object = light_curves_from_table(table, err_col=None, columns=["class"])
    assert per_object["class"].tolist() == ["x", "y"]  # a missing value counts as the same
    with pytest.raises(ValueError, match=r"Column 'band' varies within object 'a' \('g', then "
                                         r"'r'\)"):
        light_curves_from_table(table, err_col=None, columns=["class", "band"])


def test_band_column_gives_band_codes():
    pd = pytest.importorskip("pandas")
    table = pd.DataFrame({"object_id": ["a", "a", "b", "b", "a"],
                          "time": [1.0, 2.0, 1.0, 3.0, 0.5],
                          "mag": [15.0, 15.3, 16.0, 16.2, 15.1], "err": 0.01,
                          "band": ["g", "r", "r", "g", "r"]})
    curves, ids = light_curves_from_table(table, band_col="band", bands=["g", "r"])
    assert ids.tolist() == ["a", "b"]
    np.testing.assert_array_equal(curves[0][:, 3], [1, 0, 1])  # sorted by time: r, g, r
    np.testing.assert_array_equal(curves[1][:, 3], [1, 0])
    numeric = table.assign(band=table["band"].map({"g": 1, "r": 2}))
    curves, _ = light_curves_from_table(numeric, band_col="band")
    np.testing.assert_array_equal(curves[1][:, 3], [2, 1])  # ZTF-style filter ids kept
    with pytest.raises(ValueError, match="holds names .* give bands"):
        light_curves_from_table(table, band_col="band")
    with pytest.raises(ValueError, match="holds 'r' at row 1, which is not among"):
        light_curves_from_table(table, band_col="band", bands=["g"])
    with pytest.raises(ValueError, match=r"no column\(s\) \['filter'\]"):
        light_curves_from_table(table, band_col="filter", bands=["g", "r"])


def test_parquet_readers_take_the_band_column(tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    table = pd.DataFrame({"object_id": ["a", "a", "b", "b", "a"],
                          "time": [1.0, 2.0, 1.0, 3.0, 0.5],
                          "mag": [15.0, 15.3, 16.0, 16.2, 15.1], "err": 0.01,
                          "band": ["g", "r", "r", "g", "r"]})
    table.sort_values("object_id").to_parquet(tmp_path / "bands.parquet")
    expected, ids = light_curves_from_table(table, band_col="band", bands=["g", "r"])
    curves, read_ids = read_parquet_light_curves(tmp_path / "bands.parquet", band_col="band",
                                                 bands=["g", "r"])
    streamed = [curve for chunk, _ in iter_parquet_light_curves(
        tmp_path / "bands.parquet", batch_rows=2, band_col="band", bands=["g", "r"])
        for curve in chunk]
    for got in (curves, streamed):
        for curve, reference in zip(got, expected):
            np.testing.assert_array_equal(curve, reference)
