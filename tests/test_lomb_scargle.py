import numpy as np

from sklearn_astromer._lomb_scargle import (
    _FFT_OVERSAMPLING,
    _direct_power,
    _fast_fft_length,
    _fast_power,
    best_frequencies,
    best_frequency,
)


def _noisy_sinusoid(period, n, span, noise, seed=0):
    rng = np.random.default_rng(seed)
    times = np.sort(rng.uniform(0, span, n))
    return times, 15 + 0.4 * np.sin(2 * np.pi * times / period) + rng.normal(0, noise, n)


def test_fast_periodogram_agrees_with_the_exact_one():
    times, magnitudes = _noisy_sinusoid(0.77, n=200, span=300.0, noise=0.5)
    weights = np.full(len(times), 1 / len(times))
    centred = magnitudes - magnitudes.mean()
    step, k_max = 1 / 600, 12_000
    fast = _fast_power(times[None], centred[None], weights[None], np.array([step]), k_max + 1,
                       _fast_fft_length(_FFT_OVERSAMPLING * k_max + 1))[0, 1:]
    exact = _direct_power(times[None], centred[None], weights[None],
                          np.arange(1, k_max + 1)[None] * step)[0]
    assert np.max(np.abs(fast - exact)) < 0.02
    assert np.argmax(fast) == np.argmax(exact)


def test_rows_of_a_batch_are_searched_independently():
    """Padding (zero weight, last time repeated) changes no row's peak."""
    rows = [_noisy_sinusoid(period, n, span, 0.05, seed)
            for seed, (period, n, span) in enumerate([(0.37, 40, 90.0), (13.0, 120, 700.0),
                                                      (2.2, 80, 30.0)])]
    width = max(len(times) for times, _ in rows)
    times, magnitudes, weights = (np.zeros((len(rows), width)) for _ in range(3))
    for i, (t, m) in enumerate(rows):
        times[i], magnitudes[i, :len(m)] = np.r_[t, np.full(width - len(t), t[-1])], m
        weights[i, :len(t)] = 1 / len(t)
    search = (0.05, 1000.0, 2.0, 100_000, 5)
    frequencies, powers = best_frequencies(times, magnitudes, weights, *search)
    for i, (t, m) in enumerate(rows):
        alone = best_frequency(t, m, np.full(len(t), 1 / len(t)), *search)
        np.testing.assert_allclose([frequencies[i], powers[i]], alone, rtol=1e-12)
    np.testing.assert_allclose(1 / frequencies, [0.37, 13.0, 2.2], rtol=1e-2)
