import subprocess
import sys

import numpy as np
import pytest

from sklearn_astromer._lomb_scargle import (
    _FFT_OVERSAMPLING,
    _NumpyArrays,
    _coarse_power,
    _exact_power,
    _fast_fft_length,
    best_frequencies,
    best_frequency,
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


def test_coarse_power_is_the_classical_periodogram():
    """The non-uniform FFT gives |sum w (y - ybar) exp(2 pi i f t)|**2 on the whole grid."""
    times, magnitudes = _noisy_sinusoid(0.77, n=200, span=300.0, noise=0.5)
    weights = np.full(len(times), 1 / len(times))
    centred = magnitudes - magnitudes.mean()
    step, k_max = 1 / 600, 12_000
    coarse = _coarse_power(times[None], centred[None], weights[None], np.array([step]),
                           k_max + 1, _fast_fft_length(_FFT_OVERSAMPLING * k_max + 1),
                           _NumpyArrays)[0, 1:]
    frequencies = np.arange(1, k_max + 1) * step
    sums = np.exp(2j * np.pi * frequencies[:, None] * times) @ (weights * centred)
    exact = np.abs(sums) ** 2
    assert np.max(np.abs(coarse - exact)) < 1e-4 * exact.max()
    assert np.argmax(coarse) == np.argmax(exact)


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
    frequency, power = best_frequency(times, magnitudes, weights, 0.05, 1000.0, 2.0, 100_000, 5)
    grid = np.arange(1, 400_000) * (20.0 / 400_000)  # 20 points per peak width
    centred = magnitudes - magnitudes.mean()
    brute = np.concatenate([
        _exact_power((times - times[0])[None], centred[None], weights[None],
                     chunk[None, :], np.array([0.0]), 1)[0]
        for chunk in np.array_split(grid, 40)])
    assert power >= 0.999 * brute.max()
    assert abs(frequency - grid[np.argmax(brute)]) < 1 / (times[-1] - times[0])


def test_rows_of_a_batch_are_searched_independently():
    """Padding (zero weight, last time repeated) changes no row's peak."""
    rows = [_noisy_sinusoid(period, n, span, 0.05, seed)
            for seed, (period, n, span) in enumerate([(0.37, 40, 90.0), (13.0, 120, 700.0),
                                                      (2.2, 80, 30.0)])]
    times, magnitudes, weights = _padded(rows)
    search = (0.05, 1000.0, 2.0, 100_000, 5)
    frequencies, powers = best_frequencies(times, magnitudes, weights, *search)
    for i, (t, m) in enumerate(rows):
        alone = best_frequency(t, m, np.full(len(t), 1 / len(t)), *search)
        np.testing.assert_allclose([frequencies[i], powers[i]], alone, rtol=1e-12)
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
