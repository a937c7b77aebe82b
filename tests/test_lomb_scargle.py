import subprocess
import sys

import numpy as np
import pytest

from sklearn_astromer._lomb_scargle import (
    _FFT_OVERSAMPLING,
    _NumpyArrays,
    _TorchArrays,
    _coarse_power,
    _exact_power,
    _fast_fft_length,
    best_frequencies,
)


def _noisy_sinusoid(period, n, span, noise, seed=0):
    rng = np.random.default_rng(seed)
    times = np.sort(rng.uniform(0, span, n))
    return times, 15 + 0.4 * np.sin(2 * np.pi * times / period) + rng.normal(0, noise, n)


def _padded(rows):
    """``(times, magnitudes, weights)`` of ``(times, magnitudes)`` rows, padded as the search's."""
    width = max(len(times) for times, _ in rows)
    times, magnitudes, weights = (np.zeros((len(rows), width)) for _ in range(3))
    for i, (t, m) in enumerate(rows):
        times[i], magnitudes[i, :len(m)] = np.r_[t, np.full(width - len(t), t[-1])], m
        weights[i, :len(t)] = 1 / len(t)
    return times, magnitudes, weights


def _least_squares_power(times, magnitudes, weights, frequency):
    """Floating-mean Lomb-Scargle power the slow, obvious way: a weighted fit of y ~ 1 + cos + sin."""
    design = np.column_stack([np.ones_like(times), np.cos(2 * np.pi * frequency * times),
                              np.sin(2 * np.pi * frequency * times)])
    root = np.sqrt(weights)
    coefficients = np.linalg.lstsq(design * root[:, None], magnitudes * root, rcond=None)[0]
    mean = np.sum(weights * magnitudes) / np.sum(weights)
    residual = np.sum(weights * (magnitudes - design @ coefficients) ** 2)
    return 1.0 - residual / np.sum(weights * (magnitudes - mean) ** 2)


@pytest.mark.parametrize("dtype, tolerance", [(np.complex128, 1e-9), (np.complex64, 1e-4)])
def test_exact_power_is_the_least_squares_power(dtype, tolerance):
    """The stepped phase factors and complex sums give the weighted least-squares fit's power."""
    times, magnitudes = _noisy_sinusoid(0.77, n=150, span=2000.0, noise=0.3)
    times += 55_000.0 - times[0]  # MJD-sized: phases of many thousand cycles
    rng = np.random.default_rng(1)
    weights = rng.uniform(0.5, 2.0, len(times))
    weights /= weights.sum()
    centred = magnitudes - np.sum(weights * magnitudes)
    starts, spacing = np.array([[0.013, 1.2987, 7.9]]), np.array([3e-4])
    power = _exact_power((times - times[0])[None], centred[None], weights[None], starts,
                         spacing, 11, dtype=dtype)[0]
    frequencies = (starts[0, :, None] + np.arange(11) * spacing[0]).ravel()
    expected = [_least_squares_power(times, magnitudes, weights, f) for f in frequencies]
    np.testing.assert_allclose(power, expected, atol=tolerance)


@pytest.mark.parametrize("arrays", ["numpy", "torch"])
def test_coarse_power_is_the_classical_periodogram(arrays):
    """The non-uniform FFT gives |sum w (y - ybar) exp(2 pi i f t)|**2 on the whole grid.

    Three rows: the numpy pass transforms rows two by two (one the real, one
    the imaginary part of a complex FFT), so an odd row goes alone.
    """
    rows = [_noisy_sinusoid(period, 200, 300.0, 0.5, seed)
            for seed, period in enumerate([0.77, 13.0, 2.2])]
    times, magnitudes, weights = _padded(rows)
    centred = magnitudes - magnitudes.mean(axis=1, keepdims=True)
    step, k_max = 1 / 600, 12_000
    backend = _NumpyArrays() if arrays == "numpy" else _TorchArrays("cpu")
    coarse = np.asarray(_coarse_power(times, centred, weights, np.full(3, step), k_max + 1,
                                      _fast_fft_length(_FFT_OVERSAMPLING * k_max + 1),
                                      backend))
    frequencies = np.arange(k_max + 1) * step
    phasors = np.exp(2j * np.pi * frequencies[:, None, None] * times)  # (grid, row, point)
    exact = np.abs(np.einsum("frp,rp->rf", phasors, weights * centred)) ** 2
    for row in range(3):
        assert np.max(np.abs(coarse[row] - exact[row])) < 1e-4 * exact[row].max()
        assert np.argmax(coarse[row, 1:]) == np.argmax(exact[row, 1:])


def test_aliased_nightly_sampling_finds_the_highest_exact_peak():
    """Ground-based nightly cadence: aliases 1 cycle/day apart; the search finds the global maximum.

    The classical periodogram ranks such aliases differently from the
    floating-mean power; screening the coarse peaks by exact power makes the
    result the highest peak of a brute-force exact search.
    """
    rng = np.random.default_rng(3)
    nights = np.sort(rng.choice(np.arange(900), 120, replace=False)).astype(float)
    seasons = (nights % 365) < 240  # yearly gaps too
    times = nights[seasons] + rng.normal(0.0, 0.04, seasons.sum())  # same hour each night
    magnitudes = 15 + 0.3 * np.sin(2 * np.pi * times / 0.5773) + rng.normal(0, 0.2, len(times))
    weights = np.full(len(times), 1 / len(times))
    (frequency,), (power,) = best_frequencies(times[None], magnitudes[None], weights[None],
                                              0.05, 1000.0, 2.0, 100_000, 5)
    grid = np.arange(1, 400_000) * (20.0 / 400_000)  # 20 points per peak width
    centred = magnitudes - magnitudes.mean()
    brute = np.concatenate([
        _exact_power((times - times[0])[None], centred[None], weights[None],
                     chunk[None, :], np.array([0.0]), 1)[0]
        for chunk in np.array_split(grid, 40)])
    assert power >= 0.999 * brute.max()
    assert abs(frequency - grid[np.argmax(brute)]) < 1 / (times[-1] - times[0])


def test_fast_fft_length_is_the_smallest_fast_length_not_below():
    fast = np.unique([m * 2**a for m in (1, 3, 5, 15, 25, 75) for a in range(24)])
    minimum = np.r_[0.0, 0.5, 1.0, 1.5, np.arange(2, 5000), 102_400, 102_401.0, 1e6 + 0.3]
    expected = fast[np.searchsorted(fast, np.maximum(np.ceil(minimum), 1))]
    np.testing.assert_array_equal(_fast_fft_length(minimum), expected)
    assert _fast_fft_length(100_001.0) == 102_400


@pytest.mark.parametrize("n_columns, k", [(40_037, 20), (2_000, 20), (1_000, 20), (30, 7)])
def test_top_is_the_k_largest_of_each_row_in_order(n_columns, k):
    """The grouped floor selects exactly what a full sort does, equal values by index."""
    rng = np.random.default_rng(n_columns)
    ranked = rng.random((9, n_columns)).astype(np.float32)
    ranked[1] = np.round(ranked[1], 2)                  # many ties
    ranked[2] = -1.0                                    # nothing but ties
    ranked[3, rng.choice(n_columns, k, replace=False)] = 5.0  # all at the top tied
    ranked[4, -3:] = 9.0                                # the largest in the columns left over
    values, indices = _NumpyArrays.top(ranked, k)
    expected = np.lexsort((np.broadcast_to(np.arange(n_columns), ranked.shape), -ranked),
                          axis=1)[:, :k]
    np.testing.assert_array_equal(indices, expected)
    np.testing.assert_array_equal(values, np.take_along_axis(ranked, expected, 1))


def test_rows_of_a_batch_are_searched_independently():
    """Padding (zero weight, last time repeated) changes no row's peak."""
    rows = [_noisy_sinusoid(period, n, span, 0.05, seed)
            for seed, (period, n, span) in enumerate([(0.37, 40, 90.0), (13.0, 120, 700.0),
                                                      (2.2, 80, 30.0)])]
    times, magnitudes, weights = _padded(rows)
    search = (0.05, 1000.0, 2.0, 100_000, 5)
    frequencies, powers = best_frequencies(times, magnitudes, weights, *search)
    for i, (t, m) in enumerate(rows):
        alone = best_frequencies(t[None], m[None], np.full((1, len(t)), 1 / len(t)), *search)
        np.testing.assert_allclose([frequencies[i], powers[i]], np.ravel(alone), rtol=1e-12)
    np.testing.assert_allclose(1 / frequencies, [0.37, 13.0, 2.2], rtol=1e-2)


def test_torch_path_gives_the_numpy_paths_periods(monkeypatch):
    """The coarse pass in torch (what a GPU runs) finds the numpy pass's periods.

    Run on the CPU: the torch operations on CPU tensors stand in for a GPU's.
    """
    import sklearn_astromer._lomb_scargle as module

    rows = [_noisy_sinusoid(period, 150, span, 0.3, seed)
            for seed, (period, span) in enumerate([(0.37, 90.0), (13.0, 700.0), (2.2, 300.0),
                                                   (0.0712, 1500.0)])]
    times, magnitudes, weights = _padded(rows)
    search = (0.05, 1000.0, 2.0, 100_000, 5)
    with_numpy = best_frequencies(times, magnitudes, weights, *search)
    monkeypatch.setattr(module, "_arrays_on", lambda device: module._TorchArrays(device))
    with_torch = best_frequencies(times, magnitudes, weights, *search, device="cpu")
    np.testing.assert_allclose(with_torch, with_numpy, rtol=1e-9)
    np.testing.assert_allclose(1 / with_torch[0], [0.37, 13.0, 2.2, 0.0712], rtol=1e-2)


def test_the_cpu_search_imports_no_torch():
    """ONNX Runtime serving searches periods without torch."""
    code = ("import sys, numpy as np\n"
            "from sklearn_astromer._periods import lomb_scargle_periods\n"
            "from sklearn_astromer._validation import check_light_curves\n"
            "t = np.sort(np.random.default_rng(0).uniform(0, 300, 80))\n"
            "curve = np.column_stack([t, np.sin(2 * np.pi * t / 0.7), np.full(80, 0.1)])\n"
            "frequency = lomb_scargle_periods(check_light_curves([curve]))[0][0]\n"
            "assert abs(1 / frequency - 0.7) < 0.01, frequency\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True)
