import numpy as np

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
