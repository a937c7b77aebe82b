import numpy as np
import torch

from sklearn_astromer import _prepared
from sklearn_astromer._periods import lomb_scargle_periods
from sklearn_astromer._prepared import PreparedLightCurves
from sklearn_astromer.preprocessing import curve_descriptors


def _curves(periods, seed=0):
    rng = np.random.default_rng(seed)
    curves = []
    for period in periods:
        times = np.sort(rng.uniform(0, 200, 150))
        curves.append(np.column_stack([times, 15 + 0.4 * np.sin(2 * np.pi * times / period),
                                       np.full(150, 0.01)]))
    return curves


def _counting(monkeypatch):
    searched = []
    original = _prepared.lomb_scargle_periods
    monkeypatch.setattr(_prepared, "lomb_scargle_periods",
                        lambda curves, **kwargs: searched.append(len(curves))
                        or original(curves, **kwargs))
    return searched


def test_periods_and_descriptors_are_computed_once_on_first_use(monkeypatch):
    searched = _counting(monkeypatch)
    prepared = PreparedLightCurves.from_input(_curves([0.5, 7.0, 30.0]), first_index=4)
    assert searched == [] and len(prepared) == 3 and prepared.first_index == 4
    frequencies, powers = prepared.periods
    np.testing.assert_allclose(1 / frequencies, [0.5, 7.0, 30.0], rtol=1e-2)
    descriptors = prepared.descriptors
    assert prepared.periods[0] is frequencies and prepared.descriptors is descriptors
    assert searched == [3]
    expected = lomb_scargle_periods(prepared.light_curves)
    np.testing.assert_array_equal(frequencies, expected[0])
    np.testing.assert_array_equal(descriptors,
                                  curve_descriptors(prepared.light_curves, *expected))


def test_a_subset_keeps_what_was_computed(monkeypatch):
    searched = _counting(monkeypatch)
    prepared = PreparedLightCurves.from_input(_curves([0.5, 7.0, 30.0]))
    fresh = prepared.subset([2, 0])
    assert fresh._periods is None  # nothing computed yet: nothing to carry
    descriptors = prepared.descriptors
    subset = prepared.subset([2, 0])
    np.testing.assert_array_equal(subset.periods[0], prepared.periods[0][[2, 0]])
    np.testing.assert_array_equal(subset.descriptors, descriptors[[2, 0]])
    np.testing.assert_array_equal(subset.light_curves.values,
                                  prepared.light_curves.subset([2, 0]).values)
    assert searched == [3]


def test_the_period_search_runs_on_the_given_device(monkeypatch):
    """The estimator's device reaches the search, through subsets too."""
    devices = []
    original = _prepared.lomb_scargle_periods
    monkeypatch.setattr(_prepared, "lomb_scargle_periods",
                        lambda curves, **kwargs: devices.append(kwargs["device"])
                        or original(curves, **kwargs))
    prepared = PreparedLightCurves.from_input(_curves([0.5, 7.0]), device="cpu")
    derived = prepared.derived(prepared.light_curves)  # before any search: it searches itself
    derived.periods
    assert devices == ["cpu"] and derived.device == "cpu"
    PreparedLightCurves.from_input(_curves([0.5]), device=torch.device("cpu")).periods
    assert devices == ["cpu", torch.device("cpu")]


def test_the_estimator_searches_periods_on_its_device():
    from sklearn_astromer import AstromerEmbedder

    embedder = AstromerEmbedder(device="cpu")
    assert embedder._prepare(_curves([0.5])).device == "cpu"
