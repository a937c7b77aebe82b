import numpy as np
import pytest

from sklearn_astromer import _periods
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


def test_the_same_light_curves_are_searched_once(monkeypatch):
    searches = []
    original = _periods._search
    monkeypatch.setattr(_periods, "_search",
                        lambda *args: searches.append(1) or original(*args))
    light_curves = _curves([0.5, 7.0], seed=3)
    first = _periods.lomb_scargle_periods(light_curves)
    first[0][:] = -1  # callers get copies: the cache cannot be changed from outside
    again = _periods.lomb_scargle_periods(_curves([0.5, 7.0], seed=3))
    assert len(searches) == 1 and (again[0] > 0).all()
    _periods.lomb_scargle_periods(light_curves, min_period=0.2)  # other search, other entry
    _periods.lomb_scargle_periods(_curves([0.5, 7.0], seed=4))  # other curves
    assert len(searches) == 3


def test_the_cache_stays_small(monkeypatch):
    monkeypatch.setattr(_periods, "_cache", type(_periods._cache)())
    for seed in range(_periods.CACHE_SIZE + 5):
        _periods.lomb_scargle_periods(_curves([1.0], seed=100 + seed))
    assert len(_periods._cache) == _periods.CACHE_SIZE
