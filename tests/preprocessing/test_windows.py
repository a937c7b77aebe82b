import numpy as np
import pytest

from sklearn_astromer._validation import check_light_curves
from sklearn_astromer.preprocessing import (
    consecutive_windows,
    gather_windows,
    random_windows,
)


def test_consecutive_windows_cover_every_observation_once_in_order():
    sample_index, starts, lengths = consecutive_windows(np.array([1, 200, 201, 400]), 200)
    assert sample_index.tolist() == [0, 1, 2, 2, 3, 3]
    assert starts.tolist() == [0, 0, 0, 200, 0, 200]
    # A length that is a multiple of max_obs gives no repeated last window.
    assert lengths.tolist() == [1, 200, 200, 1, 200, 200]


def test_random_windows_start_uniformly_within_the_curve():
    rng = np.random.default_rng(0)
    starts, lengths = random_windows(np.full(5000, 210), 200, rng)
    assert set(np.unique(starts)) == set(range(11))
    assert (lengths == 200).all()
    starts, lengths = random_windows(np.array([50]), 200, rng)
    assert starts.tolist() == [0] and lengths.tolist() == [50]


def test_gathered_windows_are_zero_mean_padded_and_traceable():
    rng = np.random.default_rng(1)
    curves = [np.column_stack([np.arange(n) + 5e4, rng.normal(15, 1, n), np.ones(n)])
              for n in (3, 7)]
    ragged = check_light_curves(curves)
    windows = gather_windows(ragged, *consecutive_windows(ragged.lengths, 4), width=4)
    assert windows.times.dtype == np.float32
    np.testing.assert_allclose((windows.magnitudes * windows.valid).sum(1), 0, atol=1e-5)
    np.testing.assert_allclose((windows.times * windows.valid).sum(1), 0, atol=1e-4)
    assert (windows.magnitudes[~windows.valid] == 0).all()
    rows = windows.point_index[windows.valid]
    np.testing.assert_allclose(
        windows.magnitudes[windows.valid] + np.repeat(windows.mean_magnitudes, windows.lengths),
        ragged.values[rows, 1],
    )
    assert sorted(rows.tolist()) == list(range(10))


def _one_window(curve, **options):
    ragged = check_light_curves([curve])
    return gather_windows(ragged, *consecutive_windows(ragged.lengths, len(curve)),
                          width=len(curve), **options)


def _sinusoid(n=40):
    times = np.sort(np.random.default_rng(2).uniform(0, 30, n)) + 5e4
    return np.column_stack([times, 15 + 0.4 * np.sin(times), np.full(n, 0.05)])


@pytest.mark.parametrize("factor", [1e-300, 1e-30, 1e30, 1e300])
def test_scaled_windows_of_any_magnitude_size_match_the_ordinary_curve(factor):
    curve = _sinusoid()
    periods = (np.array([0.16]), np.array([0.9]))
    ordinary = _one_window(curve, scale_magnitudes=True, periods=periods)
    rescaled = curve * [1.0, factor, factor]
    windows = _one_window(rescaled, scale_magnitudes=True, periods=periods)
    np.testing.assert_allclose(windows.magnitudes, ordinary.magnitudes, atol=1e-6)
    np.testing.assert_allclose(windows.magnitude_scales, ordinary.magnitude_scales * factor,
                               rtol=1e-12)
    np.testing.assert_allclose(windows.mean_magnitudes, ordinary.mean_magnitudes * factor,
                               rtol=1e-12)
    assert np.isfinite(windows.descriptors).all()
    log_spread = np.log10(np.maximum(ordinary.magnitude_scales * factor, 1e-4))  # floored
    np.testing.assert_allclose(windows.descriptors[:, 3], log_spread, rtol=1e-6)


def test_magnitudes_spanning_the_float64_range_are_centred_without_overflow():
    curve = _sinusoid(4)
    curve[:, 1] = [-1.7e308, 1.7e308, 1.7e308, 1.7e308]
    windows = _one_window(curve, scale_magnitudes=True, periods=(np.zeros(1), np.zeros(1)))
    assert np.isfinite(windows.magnitudes).all() and np.isfinite(windows.descriptors).all()
    np.testing.assert_allclose(windows.magnitudes, [[-np.sqrt(3), 1 / np.sqrt(3),
                                                     1 / np.sqrt(3), 1 / np.sqrt(3)]], rtol=1e-6)
    np.testing.assert_allclose(windows.mean_magnitudes, [0.85e308])


def test_huge_times_with_a_short_span_centre_to_the_span():
    curve = _sinusoid()
    curve[:, 0] = 1e300  # 1e300 + a few days is 1e300 in float64
    windows = _one_window(curve, periods=(np.array([5.0]), np.array([0.5])))
    assert (windows.times == 0).all()
    assert np.isfinite(windows.phases).all()


def test_float32_centring_is_left_as_the_original_computes_it():
    # The paper variant's published weights depend on the float32 rounding.
    curve = _sinusoid()
    windows = _one_window(curve, float32_mean=True)
    times32 = curve[:, 0].astype(np.float32)
    expected = times32 - np.cumsum(times32, dtype=np.float32)[-1] / np.float32(len(curve))
    np.testing.assert_array_equal(windows.times[0], expected)
