import numpy as np
import pytest

from sklearn_astromer import _periods
from sklearn_astromer._periods import lomb_scargle_periods
from sklearn_astromer._validation import check_light_curves


def _curves(periods, seed=0):
    rng = np.random.default_rng(seed)
    curves = []
    for period in periods:
        times = np.sort(rng.uniform(0, 200, 150))
        curves.append(np.column_stack([times, 15 + 0.4 * np.sin(2 * np.pi * times / period)
                                       + 0.01 * rng.normal(size=150), np.full(150, 0.01)]))
    return check_light_curves(curves)


def test_periods_are_found_and_degenerate_curves_get_none():
    light_curves = _curves([0.37, 3.3, 41.0])
    frequencies, powers = _periods.lomb_scargle_periods(light_curves, n_jobs=2)
    np.testing.assert_allclose(1 / frequencies, [0.37, 3.3, 41.0], rtol=1e-3)
    assert (powers > 0.9).all()
    flat = check_light_curves([np.column_stack([np.arange(5.0), np.ones(5), np.ones(5)]),
                               np.array([[1.0, 2.0, 0.1], [2.0, 3.0, 0.1]])])
    frequencies, powers = _periods.lomb_scargle_periods(flat)
    assert (frequencies == 0).all() and (powers == 0).all()


def _sinusoid(period=3.7, n=120):
    times = np.sort(np.random.default_rng(0).uniform(0, 200, n)) + 5e4
    return np.column_stack([times, 15 + 0.3 * np.sin(2 * np.pi * times / period),
                            np.full(n, 0.02)])


def test_finds_the_period_of_a_sinusoid():
    frequencies, powers = lomb_scargle_periods(check_light_curves([_sinusoid()]))
    assert frequencies[0] == pytest.approx(1 / 3.7, rel=1e-3) and powers[0] > 0.99


@pytest.mark.parametrize("factor", [1e-300, 1e300])
def test_magnitudes_of_any_size_give_the_same_period(factor):
    curve = _sinusoid()
    expected = lomb_scargle_periods(check_light_curves([curve]))
    scaled = curve * [1.0, factor, 1.0]
    np.testing.assert_allclose(lomb_scargle_periods(check_light_curves([scaled])), expected,
                               rtol=1e-9)


def test_degenerate_and_huge_light_curves_give_no_period_and_no_nan():
    curve = _sinusoid()
    degenerate = [
        curve[:2],                                   # too few points
        curve * [0.0, 1.0, 1.0] + [7.0, 0.0, 0.0],   # one epoch
        curve * [1.0, 0.0, 1.0],                     # constant
        curve * [1e13, 1.0, 1.0],                    # phases beyond float64 digits
        np.column_stack([curve[:, 0], curve[:, 1] * 1e306, curve[:, 2]]),
        np.column_stack([curve[:, :2], np.r_[1e-320, 1e308, curve[2:, 2]]]),
    ]
    frequencies, powers = lomb_scargle_periods(check_light_curves(degenerate))
    assert np.isfinite(frequencies).all() and np.isfinite(powers).all()
    assert (frequencies[:4] == 0).all() and (powers[:4] == 0).all()
    assert frequencies[4] == pytest.approx(1 / 3.7, rel=1e-3)


def test_batches_and_threads_do_not_change_the_periods(monkeypatch):
    """Light curves of many lengths, searched in batches, give each one's own period."""
    monkeypatch.setattr(_periods, "_MIN_CHUNK_CURVES", 4)  # several threads' chunks
    rng = np.random.default_rng(3)
    curves = []
    for n in rng.integers(3, 400, 60):
        times = np.sort(rng.uniform(0, rng.uniform(1, 3000), n)) + 5e4
        curves.append(np.column_stack([times, 15 + np.sin(times / rng.uniform(0.05, 50))
                                       + 0.1 * rng.normal(size=n), rng.uniform(0.01, 0.1, n)]))
    light_curves = check_light_curves(curves)
    together = lomb_scargle_periods(light_curves, n_jobs=2)
    one_by_one = np.array([lomb_scargle_periods(check_light_curves([curve]))
                           for curve in curves])[:, :, 0].T
    np.testing.assert_allclose(together, one_by_one, rtol=1e-9, atol=1e-12)

