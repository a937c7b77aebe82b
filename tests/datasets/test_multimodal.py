"""Simulated multimodal catalogue: structure, physics, missing modalities."""

import numpy as np
import pytest

pd = pytest.importorskip("pandas")

from sklearn_astromer.datasets import (  # noqa: E402
    METADATA_COLUMNS,
    SPECTRUM_WAVELENGTHS,
    make_multimodal,
)

ALL_CLASSES = ["RRab", "RRc", "Cep", "DSCT", "Mira", "SRV", "EA", "EW", "ROT", "CONST"]


@pytest.fixture(scope="module")
def catalogue():
    return make_multimodal(30, random_state=0)


def _spectra(frame):
    return np.stack(frame["spectrum"].to_numpy())


def _band(spectra, low, high):
    inside = (SPECTRUM_WAVELENGTHS >= low) & (SPECTRUM_WAVELENGTHS <= high)
    return spectra[:, inside].mean(axis=1)


def test_wavelength_grid_is_the_astrom3_grid():
    assert SPECTRUM_WAVELENGTHS.shape == (2575,)
    assert SPECTRUM_WAVELENGTHS[0] == 3850.0 and SPECTRUM_WAVELENGTHS[-1] == 8998.0
    np.testing.assert_array_equal(np.diff(SPECTRUM_WAVELENGTHS), 2.0)
    with pytest.raises(ValueError):
        SPECTRUM_WAVELENGTHS[0] = 0.0


def test_one_row_per_star_with_three_modalities(catalogue):
    frame, y = catalogue
    assert list(frame.columns) == ["light_curve", "spectrum", *METADATA_COLUMNS]
    assert len(frame) == len(y) == 30 * len(ALL_CLASSES)
    assert sorted(np.unique(y)) == sorted(ALL_CLASSES)
    for curve, spectrum in zip(frame["light_curve"], frame["spectrum"]):
        assert curve.dtype == np.float64 and curve.shape[1] == 3
        assert np.all(np.diff(curve[:, 0]) >= 0) and np.isfinite(curve).all()
        assert spectrum.dtype == np.float32 and spectrum.shape == SPECTRUM_WAVELENGTHS.shape
        assert np.isfinite(spectrum).all()
    metadata = frame[list(METADATA_COLUMNS)]
    assert all(dtype.kind == "f" for dtype in metadata.dtypes)
    assert np.isfinite(metadata.to_numpy()).all()


def test_same_seed_same_catalogue():
    a, ya = make_multimodal(3, random_state=7)
    b, yb = make_multimodal(3, random_state=7)
    np.testing.assert_array_equal(ya, yb)
    pd.testing.assert_frame_equal(a[list(METADATA_COLUMNS)], b[list(METADATA_COLUMNS)])
    for column in ("light_curve", "spectrum"):
        for cell_a, cell_b in zip(a[column], b[column]):
            np.testing.assert_array_equal(cell_a, cell_b)
    c, _ = make_multimodal(3, random_state=8)
    assert not np.allclose(a["parallax"], c["parallax"])


def test_metadata_in_physical_ranges(catalogue):
    frame, _ = catalogue
    for column in METADATA_COLUMNS:
        if column.endswith("_mag") or column == "mean_mag":
            assert frame[column].between(-2, 23).all(), column
        if column.endswith("_error") and column != "parallax_over_error":
            assert (frame[column] > 0).all() and (frame[column] <= 1).all(), column
    assert frame["bp_rp"].between(-1, 8).all()
    assert (frame["ruwe"] > 0.8).all()
    assert frame["l"].between(0, 360).all() and frame["b"].between(-90, 90).all()
    assert np.allclose(frame["pm"], np.hypot(frame["pmra"], frame["pmdec"]))
    assert np.allclose(frame["parallax_over_error"], frame["parallax"] / frame["parallax_error"])
    # Gaia measures what the light curve survey (ASAS-SN V, 10-17 mag) sees
    assert frame["phot_g_mean_mag"].between(5, 18).all()


def test_light_curve_mean_matches_metadata(catalogue):
    frame, _ = catalogue
    means = np.array([np.mean(curve[:, 1]) for curve in frame["light_curve"]])
    assert np.median(np.abs(means - frame["mean_mag"])) < 0.05


def test_luminosities_follow_the_classes(catalogue):
    frame, y = catalogue
    # absolute K magnitude (little extinction) from good parallaxes
    good = frame["parallax_over_error"] > 5
    absolute_k = frame["k_mag"] + 5 * np.log10(frame["parallax"].clip(1e-3) / 100)
    median = {name: np.median(absolute_k[good & (y == name)]) for name in ("Cep", "RRab", "ROT")}
    assert median["Cep"] < median["RRab"] - 1.5
    assert median["RRab"] < median["ROT"] - 3
    # long-period variables are red and cool giants with dust in the mid-infrared
    lpv = np.isin(y, ["Mira", "SRV"])
    assert frame["bp_rp"][lpv].median() > frame["bp_rp"][~lpv].median() + 1.5
    assert frame["w1_w2"][y == "Mira"].median() > frame["w1_w2"][~lpv].median() + 0.2
    # halo RR Lyrae move fast across the sky; young Cepheids sit in the disk
    assert frame["pm"][y == "RRab"].median() > frame["pm"][y == "Cep"].median()
    assert frame["b"][y == "Cep"].abs().median() < frame["b"][y == "RRab"].abs().median()


def test_spectra_carry_class_features(catalogue):
    frame, y = catalogue
    spectra = _spectra(frame)
    red_over_blue = _band(spectra, 8000, 8500) / _band(spectra, 4500, 5000)
    assert np.median(red_over_blue[y == "Mira"]) > 3 * np.median(red_over_blue[y == "RRc"])
    # active rotators: Ca II K emission above its neighbourhood; non-variables do not show it
    calcium = _band(spectra, 3930, 3938) / _band(spectra, 3945, 3960)
    assert np.median(calcium[y == "ROT"]) > 1.2 * np.median(calcium[y == "CONST"])
    # Hot stars have deep Balmer lines (H beta against its neighbours)
    h_beta = _band(spectra, 4856, 4868) / _band(spectra, 4880, 4900)
    assert np.median(h_beta[y == "DSCT"]) < np.median(h_beta[y == "SRV"])


def test_spectra_are_reddened_along_with_the_colours(catalogue):
    frame, y = catalogue
    rrab = y == "RRab"  # a narrow temperature range: colour spread is reddening
    spectra = _spectra(frame)[rrab]
    slope = np.log(_band(spectra, 8000, 8500) / _band(spectra, 4500, 5000))
    assert np.corrcoef(slope, frame["bp_rp"][rrab])[0, 1] > 0.7


@pytest.mark.parametrize("fraction", [0.1, 0.3, 0.5, 2 / 3])
def test_missing_fraction_never_removes_a_whole_star(fraction):
    frame, _ = make_multimodal(6, missing_fraction=fraction, random_state=0)
    n = len(frame)
    no_curve = frame["light_curve"].isna().to_numpy()
    no_spectrum = frame["spectrum"].isna().to_numpy()
    metadata = frame[list(METADATA_COLUMNS)].isna().to_numpy()
    no_metadata = metadata.all(axis=1)
    assert np.array_equal(metadata.any(axis=1), no_metadata)  # the whole block or nothing
    assert no_curve.sum() == no_spectrum.sum() == round(fraction * n)
    assert no_metadata.sum() <= round(fraction * n)
    if fraction <= 1 / 3:
        assert no_metadata.sum() == round(fraction * n)
    assert not np.any(no_curve & no_spectrum & no_metadata)


def test_no_missing_by_default_and_bad_fraction_raises(catalogue):
    frame, _ = catalogue
    assert not frame.isna().to_numpy().any()
    for fraction in (-0.1, 0.7):
        with pytest.raises(ValueError, match="missing_fraction"):
            make_multimodal(1, missing_fraction=fraction)


@pytest.mark.parametrize("survey", ["ogle", "macho", "ztf"])
def test_other_surveys(survey):
    frame, y = make_multimodal(2, classes=["Cep", "EW"], survey=survey, n_obs=50,
                               random_state=0)
    assert all(len(curve) == 50 for curve in frame["light_curve"])
    assert np.isfinite(frame[list(METADATA_COLUMNS)].to_numpy()).all()


@pytest.mark.slow
def test_three_modalities_beat_any_one():
    """A random forest on all three modalities beats each modality alone."""
    from sklearn.decomposition import PCA
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import f1_score
    from sklearn.model_selection import train_test_split

    from sklearn_astromer.features import LightCurveFeatures

    frame, y = make_multimodal(40, random_state=1)
    curves = LightCurveFeatures(max_n_frequencies=20_000).fit_transform(list(frame["light_curve"]))
    spectra = _spectra(frame).astype(np.float64)
    metadata = frame[list(METADATA_COLUMNS)].to_numpy()
    train, test = train_test_split(np.arange(len(y)), test_size=0.3, stratify=y, random_state=0)
    spectra = PCA(20, random_state=0).fit(spectra[train]).transform(spectra)

    def score(features):
        forest = RandomForestClassifier(n_estimators=300, random_state=0)
        forest.fit(features[train], y[train])
        return f1_score(y[test], forest.predict(features[test]), average="macro")

    single = [score(curves), score(spectra), score(metadata)]
    combined = score(np.hstack([curves, spectra, metadata]))
    assert min(single) > 0.4
    assert combined > max(single) + 0.03
