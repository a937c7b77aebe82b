"""Simulated light curves: shapes, reproducibility, class and survey realism."""

import numpy as np
import pytest

from sklearn_astromer.datasets import load_macho_sample, make_light_curves
from sklearn_astromer.datasets._cadence import SURVEYS

ALL_CLASSES = ["RRab", "RRc", "Cep", "DSCT", "Mira", "SRV", "EA", "EW", "ROT", "CONST"]
SURVEY_NAMES = ["ogle", "macho", "asassn", "atlas", "ztf"]

# Epoch counts a user of each survey would recognise: (median low, median high, max).
EPOCHS = {
    "ogle": (300, 900, 1200), "macho": (350, 1000, 1300), "asassn": (150, 500, 700),
    "atlas": (100, 350, 500), "ztf": (120, 450, 600),
}
# Plausible primary periods (days) per class.
PERIODS = {
    "RRab": (0.3, 1.0), "RRc": (0.2, 0.5), "Cep": (0.2, 200.0), "DSCT": (0.02, 0.35),
    "Mira": (80.0, 1200.0), "SRV": (10.0, 3000.0), "EA": (0.3, 100.0), "EW": (0.2, 1.2),
    "ROT": (0.5, 40.0),
}


@pytest.fixture(scope="module")
def ogle_sample():
    return make_light_curves(20, survey="ogle", random_state=0, return_params=True)


@pytest.mark.parametrize("survey", SURVEY_NAMES)
def test_light_curves_are_sorted_finite_float64(survey):
    X, y = make_light_curves(3, survey=survey, random_state=0)
    assert len(X) == len(y) == 3 * len(ALL_CLASSES)
    assert sorted(np.unique(y)) == sorted(ALL_CLASSES)
    assert y.dtype.kind == "U"
    for curve in X:
        assert curve.dtype == np.float64 and curve.ndim == 2 and curve.shape[1] == 3
        assert np.isfinite(curve).all()
        assert np.all(np.diff(curve[:, 0]) >= 0)
        assert np.all(curve[:, 2] > 0)


def test_same_seed_same_output_other_seed_differs():
    X1, y1 = make_light_curves(4, survey="ztf", random_state=3)
    X2, y2 = make_light_curves(4, survey="ztf", random_state=3)
    X3, _ = make_light_curves(4, survey="ztf", random_state=4)
    np.testing.assert_array_equal(y1, y2)
    for a, b in zip(X1, X2):
        np.testing.assert_array_equal(a, b)
    assert any(a.shape != b.shape or not np.array_equal(a, b) for a, b in zip(X1, X3))


def test_random_state_instance_is_accepted():
    rng = np.random.RandomState(0)
    X1, _ = make_light_curves(2, classes=["RRab"], random_state=rng)
    X2, _ = make_light_curves(2, classes=["RRab"], random_state=rng)
    assert not np.array_equal(X1[0], X2[0])  # the instance advanced


@pytest.mark.parametrize("survey", SURVEY_NAMES)
def test_epoch_counts_time_span_and_magnitudes_fit_the_survey(survey):
    X, y, params = make_light_curves(10, survey=survey, random_state=1, return_params=True)
    spec = SURVEYS[survey]
    counts = np.array([len(curve) for curve in X])
    low, high, most = EPOCHS[survey]
    assert low <= np.median(counts) <= high
    assert counts.max() <= most
    spans = np.array([np.ptp(curve[:, 0]) for curve in X])
    assert spans.max() <= spec.baseline + 1
    assert np.median(spans) > 0.7 * spec.baseline
    starts = np.array([curve[0, 0] for curve in X])
    assert np.all((starts >= spec.start) & (starts < spec.start + spec.baseline))
    bright, faint = spec.magnitude_range
    assert np.all((params["mean_magnitude"] >= bright) & (params["mean_magnitude"] <= faint))
    medians = np.array([np.median(curve[:, 1]) for curve in X])
    assert np.all((medians > bright - 3) & (medians < faint + 3))


def test_observing_seasons_leave_yearly_gaps(ogle_sample):
    X, _, _ = ogle_sample
    long_gaps = [np.sum(np.diff(curve[:, 0]) > 60) for curve in X]
    # an 8-year survey with ~8-month seasons: about one gap per year
    assert np.median(long_gaps) >= 5


def test_periods_and_amplitudes_follow_the_classes(ogle_sample):
    _, y, params = ogle_sample
    for name, (low, high) in PERIODS.items():
        periods = params["period"][y == name]
        assert np.all((periods > low) & (periods < high)), name
    assert np.all(np.isnan(params["period"][y == "CONST"]))
    amplitude = {name: np.median(params["amplitude"][y == name]) for name in ALL_CLASSES}
    assert amplitude["Mira"] > 0.8  # the OGLE I-band definition of a Mira
    assert amplitude["SRV"] < amplitude["Mira"]
    assert 0.3 < amplitude["RRab"] < 1.0
    assert amplitude["RRc"] < amplitude["RRab"]
    assert amplitude["CONST"] == 0


def test_amplitudes_are_larger_in_bluer_bands():
    kwargs = dict(classes=["RRab", "Mira"], random_state=0, return_params=True)
    _, y_i, ogle = make_light_curves(30, survey="ogle", **kwargs)
    _, y_v, asassn = make_light_curves(30, survey="asassn", **kwargs)
    for name in ("RRab", "Mira"):
        v_band = np.median(asassn["amplitude"][y_v == name])
        assert v_band > np.median(ogle["amplitude"][y_i == name])


@pytest.mark.parametrize("name", ["RRab", "Cep", "EW", "DSCT"])
def test_folding_at_the_true_period_reveals_the_variation(name):
    X, _, params = make_light_curves(8, classes=[name], survey="ogle", random_state=2,
                                     return_params=True, outlier_fraction=0.0)
    checked = 0
    for curve, period, amplitude in zip(X, params["period"], params["amplitude"]):
        if amplitude < 5 * np.median(curve[:, 2]):
            continue  # too faint to tell
        checked += 1
        phase = np.mod(curve[:, 0], period) / period
        bins = np.minimum((phase * 20).astype(int), 19)
        binned = np.array([np.median(curve[bins == k, 1]) for k in range(20)
                           if np.any(bins == k)])
        # the phased curve holds the variation: its binned range ~ the amplitude
        assert np.ptp(binned) > 0.5 * amplitude
    assert checked >= 2


def test_errors_grow_with_magnitude():
    X, _, params = make_light_curves(60, classes=["CONST"], survey="ztf", random_state=0,
                                     return_params=True)
    errors = np.array([np.median(curve[:, 2]) for curve in X])
    order = np.argsort(params["mean_magnitude"])
    assert np.median(errors[order[-15:]]) > 3 * np.median(errors[order[:15]])
    # constant stars scatter by about their errors
    scatter = np.array([np.std(curve[:, 1]) / np.median(curve[:, 2]) for curve in X])
    assert 0.8 < np.median(scatter) < 2.0


def test_outlier_fraction_controls_outliers():
    def n_outliers(fraction):
        X, _ = make_light_curves(10, classes=["CONST"], n_obs=300, random_state=0,
                                 outlier_fraction=fraction)
        return sum(np.sum(np.abs(c[:, 1] - np.median(c[:, 1])) > 6 * c[:, 2]) for c in X)

    assert n_outliers(0.0) <= 2
    assert n_outliers(0.1) > 100


def test_n_obs_int_and_range():
    X, _ = make_light_curves(2, classes=["RRab", "EW", "CONST"], n_obs=120, random_state=0)
    assert {len(curve) for curve in X} == {120}
    X, _ = make_light_curves(10, classes=["RRc"], n_obs=(50, 80), random_state=0)
    assert all(50 <= len(curve) <= 80 for curve in X)
    with pytest.raises(ValueError, match="n_obs"):
        make_light_curves(1, n_obs=0)
    with pytest.raises(ValueError, match="n_obs"):
        make_light_curves(1, n_obs=(80, 50))


def test_classes_dict_counts_case_and_unknown_names():
    X, y = make_light_curves({"rrab": 3, "Mira": 1}, random_state=0)
    assert sorted(y.tolist()) == ["Mira", "RRab", "RRab", "RRab"]
    X, y = make_light_curves(2, classes="cep", random_state=0)
    assert y.tolist() == ["Cep", "Cep"]
    with pytest.raises(ValueError, match="Unknown class"):
        make_light_curves(1, classes=["Blazar"])
    with pytest.raises(ValueError, match="Unknown survey"):
        make_light_curves(1, survey="kepler")
    with pytest.raises(ValueError, match="Nothing to simulate"):
        make_light_curves(0)


def test_shuffle_false_groups_by_class():
    _, y = make_light_curves(3, classes=["EA", "RRab"], shuffle=False, random_state=0)
    assert y.tolist() == ["EA"] * 3 + ["RRab"] * 3


def test_times_from_user_cadences():
    rng = np.random.default_rng(0)
    cadence = np.sort(rng.uniform(50000, 51000, 400))
    other = np.column_stack([np.sort(rng.uniform(52000, 52100, 90)), np.ones(90), np.ones(90)])
    X, _ = make_light_curves(5, classes=["RRab"], times_from=[cadence, other], random_state=0)
    for curve in X:
        assert np.isin(curve[:, 0], np.concatenate([cadence, other[:, 0]])).all()
    X, _ = make_light_curves(5, classes=["RRab"], times_from=[cadence], n_obs=100,
                             random_state=0)
    assert all(len(curve) == 100 for curve in X)
    with pytest.raises(ValueError, match="times_from"):
        make_light_curves(1, times_from="kepler")


def test_times_from_macho_uses_the_real_cadences():
    curves, _ = load_macho_sample()
    real_times = np.concatenate([np.asarray(c)[:, 0] for c in curves])
    X, _ = make_light_curves(3, classes=["RRab", "SRV"], survey="macho", times_from="macho",
                             random_state=0)
    for curve in X:
        assert np.isin(curve[:, 0], real_times).all()


@pytest.mark.slow
@pytest.mark.parametrize("survey", SURVEY_NAMES)
def test_feature_baseline_is_informative_but_not_perfect(survey):
    """A random forest on hand-crafted features beats chance by far, short of perfect."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import f1_score
    from sklearn.model_selection import train_test_split

    from sklearn_astromer.features import LightCurveFeatures

    X, y = make_light_curves(50, survey=survey, random_state=0)
    features = LightCurveFeatures(max_n_frequencies=20_000).fit_transform(X)
    train, test, y_train, y_test = train_test_split(
        features, y, test_size=0.3, stratify=y, random_state=0
    )
    forest = RandomForestClassifier(n_estimators=200, random_state=0).fit(train, y_train)
    score = f1_score(y_test, forest.predict(test), average="macro")
    assert 0.4 < score < 0.98  # chance is 0.1


@pytest.mark.parametrize("survey, bands", [("ztf", ("g", "r")), ("ztf", ("g", "r", "i")),
                                           ("rubin", tuple("ugrizy"))])
def test_multiband_surveys_share_the_period_and_differ_in_colour(survey, bands):
    X, y, params = make_light_curves(4, classes=["RRab", "Mira"], survey=survey, bands=bands,
                                     random_state=0, return_params=True)
    assert all(curve.shape[1] == 4 for curve in X)
    codes = np.concatenate([curve[:, 3] for curve in X])
    assert set(np.unique(codes)) <= set(range(len(bands))) and (np.diff(X[0][:, 0]) >= 0).all()
    from sklearn_astromer._bands import colour_summaries, multiband_periods
    from sklearn_astromer._validation import check_light_curves

    light_curves = check_light_curves(X, allow_bands=True)
    frequencies, _ = multiband_periods(light_curves)
    rrab = (y == "RRab")
    # The RR Lyrae's shared period is found over all bands.
    np.testing.assert_allclose(1 / frequencies[rrab], params["period"][rrab], rtol=0.01)
    if bands[:2] == ("g", "r"):
        g_minus_r = colour_summaries(light_curves, np.arange(len(bands)))[:, 0]
        assert np.nanmedian(g_minus_r[y == "Mira"]) > np.nanmedian(g_minus_r[rrab]) + 0.5


def test_multiband_needs_known_bands():
    with pytest.raises(ValueError, match="bands must be distinct bands of 'ztf'"):
        make_light_curves(1, classes=["RRab"], survey="ztf", bands=("g", "u"))
    with pytest.raises(ValueError, match="has no multi-band model"):
        make_light_curves(1, classes=["RRab"], survey="ogle", bands=("I",))
