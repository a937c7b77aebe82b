"""LightCurveFeatures: the hand-crafted baseline."""

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_astromer.features import FEATURE_NAMES, LightCurveFeatures


def _sinusoid(period, *, n=300, span=500.0, amplitude=0.4, noise=0.02, seed=0):
    rng = np.random.default_rng(seed)
    times = 50_000.0 + np.sort(rng.uniform(0, span, n))
    magnitudes = 15 + amplitude * np.sin(2 * np.pi * times / period) + rng.normal(0, noise, n)
    return np.column_stack([times, magnitudes, np.full(n, noise)])


def _column(features, name):
    return features[:, FEATURE_NAMES.index(name)]


@pytest.mark.parametrize("period", [0.31, 2.5, 47.0, 300.0])
def test_recovers_the_period_of_a_sinusoid_within_one_percent(period):
    features = LightCurveFeatures().fit_transform([_sinusoid(period)])
    found = 10 ** _column(features, "log10_period")[0]
    assert found == pytest.approx(period, rel=0.01)
    assert _column(features, "period_power")[0] > 0.9


def test_fourier_shape_matches_the_generating_harmonics():
    # m = A1 cos(wt + phi1) + A2 cos(2wt + phi2) + A3 cos(3wt + phi3), OGLE convention.
    rng = np.random.default_rng(1)
    times = np.sort(rng.uniform(0, 400, 400))
    omega = 2 * np.pi / 0.6
    phi = [0.7, 2.0, 4.0]
    magnitudes = 16 + sum(amplitude * np.cos(k * omega * times + phase)
                          for k, amplitude, phase in zip([1, 2, 3], [0.5, 0.2, 0.1], phi))
    features = LightCurveFeatures().fit_transform([np.column_stack([times, magnitudes])])
    assert _column(features, "fourier_amplitude")[0] == pytest.approx(0.5, rel=1e-3)
    assert _column(features, "r21")[0] == pytest.approx(0.4, rel=1e-3)
    assert _column(features, "r31")[0] == pytest.approx(0.2, rel=1e-3)
    two_pi = 2 * np.pi
    assert _column(features, "phi21")[0] == pytest.approx((phi[1] - 2 * phi[0]) % two_pi, abs=1e-2)
    assert _column(features, "phi31")[0] == pytest.approx((phi[2] - 3 * phi[0]) % two_pi, abs=1e-2)


def test_statistics_of_white_noise():
    rng = np.random.default_rng(2)
    n = 20_000
    curve = np.column_stack([np.arange(n, dtype=float), rng.normal(12, 0.1, n), np.full(n, 0.1)])
    features = LightCurveFeatures(max_period=10.0).fit_transform([curve])[0]
    value = dict(zip(FEATURE_NAMES, features))
    assert value["mean"] == pytest.approx(12, abs=0.01)
    assert value["std"] == pytest.approx(0.1, rel=0.03)
    assert value["amplitude"] == pytest.approx(1.645 * 0.1, rel=0.05)
    assert value["median_absolute_deviation"] == pytest.approx(0.6745 * 0.1, rel=0.05)
    assert value["beyond_1_std"] == pytest.approx(0.317, abs=0.02)
    assert value["stetson_k"] == pytest.approx(np.sqrt(2 / np.pi), abs=0.01)
    assert value["eta"] == pytest.approx(2.0, abs=0.05)
    assert abs(value["skewness"]) < 0.1 and abs(value["kurtosis"]) < 0.2
    assert value["n_observations"] == n and value["time_span"] == n - 1
    assert abs(value["linear_trend"]) < 1e-5


def test_linear_trend_and_max_slope():
    times = np.array([0.0, 1.0, 2.0, 4.0, 8.0])
    curve = np.column_stack([times, 10 + 0.5 * times])
    value = dict(zip(FEATURE_NAMES, LightCurveFeatures().fit_transform([curve])[0]))
    assert value["linear_trend"] == pytest.approx(0.5)
    assert value["max_slope"] == pytest.approx(0.5)


TRICKY = {
    "empty": np.empty((0, 3)),
    "one point": np.array([[1.0, 15.0, 0.1]]),
    "two points": np.array([[1.0, 15.0, 0.1], [2.0, 15.5, 0.1]]),
    "constant": np.column_stack([np.arange(50.0), np.full(50, 15.0), np.full(50, 0.1)]),
    "all at one time": np.column_stack([np.zeros(20), np.arange(20.0), np.ones(20)]),
    "nan and inf": np.array([[0, 1, 0.1], [np.nan, 2, 0.1], [2, np.inf, 0.1], [3, 1.5, np.nan],
                             [4, 2.5, -1.0], [5, 0.5, 0.0], [6, 1.0, 0.2]]),
    "all nan": np.full((5, 3), np.nan),
    "unsorted with duplicate times": np.array([[5, 1, 0.1], [1, 2, 0.1], [1, 3, 0.1], [3, 1, 0.1],
                                               [2, 1, 0.1], [4, 2, 0.1], [0, 0, 0.1], [6, 3, 0.1]]),
    "two columns": np.column_stack([np.linspace(0, 10, 30), np.sin(np.linspace(0, 10, 30))]),
    "tiny errors": np.column_stack([np.arange(30.0), np.sin(np.arange(30.0)), np.full(30, 1e-200)]),
    "huge times": np.column_stack([1e9 + np.arange(30.0), np.sin(np.arange(30.0)), np.ones(30)]),
    "huge span": np.column_stack([np.array([0.0, 1e7, 2e7, 3e7]), [1.0, 2, 1, 2], np.ones(4)]),
    "zero median": np.column_stack([np.arange(9.0), np.array([-1, 0, 1, 0, -1, 0, 1, 0, 0.0])]),
}


@pytest.mark.parametrize("name", TRICKY)
def test_tricky_light_curves_give_finite_features(name):
    with np.errstate(all="raise"):  # no silent overflow or division by zero either
        features = LightCurveFeatures().fit_transform([TRICKY[name]])
    assert features.shape == (1, len(FEATURE_NAMES))
    assert features.dtype == np.float64
    assert np.all(np.isfinite(features))


def test_undefined_features_are_zero_and_n_observations_tells():
    features = LightCurveFeatures().fit_transform([TRICKY["empty"], TRICKY["all nan"],
                                                   TRICKY["one point"], TRICKY["nan and inf"]])
    assert np.all(features[:2] == 0)
    value = dict(zip(FEATURE_NAMES, features[2]))
    assert value["n_observations"] == 1 and value["mean"] == 15
    assert value["log10_period"] == 0 and value["std"] == 0
    assert _column(features, "n_observations")[3] == 5  # NaN/inf time or magnitude dropped


def test_rows_follow_the_input_order_and_containers_agree():
    curves = [_sinusoid(p, n=80, seed=i) for i, p in enumerate([0.4, 3.0, 20.0])]
    estimator = LightCurveFeatures()
    forward = estimator.fit_transform(curves)
    backward = estimator.transform(curves[::-1])
    np.testing.assert_array_equal(forward, backward[::-1])
    as_objects = np.empty(3, dtype=object)
    as_objects[:] = curves
    np.testing.assert_array_equal(forward, estimator.transform(as_objects))
    pd = pytest.importorskip("pandas")
    np.testing.assert_array_equal(forward, estimator.transform(pd.Series(curves)))


def test_dense_input_uses_a_unit_time_grid():
    magnitudes = np.sin(2 * np.pi * np.arange(200) / 7.0)[None, :].repeat(2, axis=0)
    magnitudes[1, ::3] = np.nan
    # Regular unit sampling: frequencies f and 1 - f are aliases, search below Nyquist.
    features = LightCurveFeatures(min_period=2.0).fit_transform(magnitudes)
    assert 10 ** _column(features, "log10_period") == pytest.approx([7.0, 7.0], rel=0.01)
    assert list(_column(features, "n_observations")) == [200, 133]


def test_parallel_gives_the_same_features():
    curves = [_sinusoid(p, n=60, seed=i) for i, p in enumerate(np.linspace(0.2, 30, 9))]
    serial = LightCurveFeatures().fit_transform(curves)
    np.testing.assert_array_equal(serial, LightCurveFeatures(n_jobs=2).fit_transform(curves))


def test_feature_names_and_pandas_output():
    estimator = LightCurveFeatures()
    names = estimator.get_feature_names_out()
    assert list(names) == list(FEATURE_NAMES) and len(set(names)) == len(names)
    pytest.importorskip("pandas")
    frame = estimator.set_output(transform="pandas").fit_transform([_sinusoid(1.0, n=50)])
    assert list(frame.columns) == list(FEATURE_NAMES)


@pytest.mark.parametrize(
    "params, message",
    [(dict(min_period=10.0, max_period=5.0), "min_period"), (dict(oversampling=0), "oversampling"),
     (dict(max_n_frequencies=0), "max_n_frequencies")],
)
def test_invalid_parameters_are_refused(params, message):
    with pytest.raises(ValueError, match=message):
        LightCurveFeatures(**params).fit([_sinusoid(1.0, n=20)])


def test_wrong_shapes_name_the_sample():
    with pytest.raises(ValueError, match="Light curve 1"):
        LightCurveFeatures().fit_transform([np.ones((5, 3)), np.ones((5, 5))])
    with pytest.raises(ValueError, match=r"Light curve\(s\) \[0\] have no band column"):
        LightCurveFeatures().fit_transform([np.ones((5, 3)), np.ones((5, 4))])


_VARIABLE_LENGTH = (
    "light curves have variable length: n_features_in_ is undefined and a dense array "
    "is read row by row as light curves"
)
EXPECTED_FAILURES = {
    "check_n_features_in": _VARIABLE_LENGTH,
    "check_n_features_in_after_fitting": _VARIABLE_LENGTH,
    "check_transformer_data_not_an_array": _VARIABLE_LENGTH + " (a non-array sequence of rows)",
}


@parametrize_with_checks([LightCurveFeatures()], expected_failed_checks=lambda e: EXPECTED_FAILURES)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_period_of_the_real_eros_cepheid_matches_upsilon():
    from sklearn_astromer.datasets import load_eros_sample

    light_curves, _ = load_eros_sample()
    features = LightCurveFeatures().fit_transform(light_curves)
    # upsilon (Kim & Bailer-Jones 2016) finds 4.19044 days for this first-overtone Cepheid.
    assert 10 ** _column(features, "log10_period")[0] == pytest.approx(4.19044, rel=1e-3)


def test_multiband_shared_period_follows_the_search_settings():
    """The period the bands share is searched in the features' own period range."""
    from sklearn_astromer.datasets import make_light_curves

    X, _ = make_light_curves(3, classes=["RRab"], survey="ztf", bands=("g", "r"),
                             n_obs=(80, 120), random_state=2)
    names = LightCurveFeatures().fit(X).get_feature_names_out().tolist()
    column = names.index("multiband_log10_period")
    default = LightCurveFeatures().fit_transform(X)[:, column]
    assert (10**default < 1.0).all()  # RR Lyrae: under a day
    ranged = LightCurveFeatures(min_period=2.0, max_period=50.0).fit_transform(X)[:, column]
    assert ((10**ranged >= 2.0) & (10**ranged <= 50.0)).all()


def test_multiband_features_per_band_and_across_bands():
    from sklearn_astromer.datasets import make_light_curves

    X, _ = make_light_curves(2, classes=["RRab", "Mira"], survey="ztf", bands=("g", "r"),
                             n_obs=(60, 90), random_state=1)
    extractor = LightCurveFeatures().fit(X)
    F = extractor.transform(X)
    names = extractor.get_feature_names_out().tolist()
    n = len(FEATURE_NAMES)
    assert F.shape == (4, 2 * n + 4) and len(names) == F.shape[1] and np.isfinite(F).all()
    assert names[:2] == [f"{FEATURE_NAMES[0]}_band0", f"{FEATURE_NAMES[1]}_band0"]
    band_g = LightCurveFeatures().transform([curve[curve[:, 3] == 0, :3] for curve in X])
    np.testing.assert_allclose(F[:, :n], band_g)
    # g - r is redder for Miras than for RR Lyrae in the simulation.
    colour = F[:, names.index("colour_0_1")]
    assert np.isfinite(colour).all()
    with pytest.raises(ValueError, match="need the bands"):
        LightCurveFeatures().transform(X)
    stranger = X[0].copy()
    stranger[0, 3] = 4
    with pytest.raises(ValueError, match=r"Light curve\(s\) \[0\] have band code\(s\) \[4\]"):
        extractor.transform([stranger])
