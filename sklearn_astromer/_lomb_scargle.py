"""Generalised Lomb-Scargle periodogram on a fine frequency grid, fast.

The power is the floating-mean Lomb-Scargle of Zechmeister & Kuerster
(2009), written as the 2x2 weighted least-squares problem it is, so no phase
offset ``tau`` is needed. The trigonometric sums over a uniform frequency grid
come from the extirpolation + FFT scheme of Press & Rybicki (1989):
O(n_grid log n_grid) per light curve instead of O(n_grid * n_observations).
The highest coarse peaks are then refined by exact evaluation.
"""

import math

import numpy as np

_EXTIRPOLATION_ORDER = 4
# FFT length / highest frequency index. With 4-point extirpolation the coarse
# power is then within ~1e-2 of the exact one (95% of grid points within
# 3e-3): enough to rank peaks, which are then refined exactly. Higher orders
# gain little at this length; longer FFTs cost more than the refinement.
_FFT_OVERSAMPLING = 3


def _power_from_sums(C, S, C2, S2, YC, YS, YY):
    """Generalised Lomb-Scargle power from weighted trigonometric sums (weights sum to 1).

    ``C = sum w cos(wt)``, ``S = sum w sin(wt)``, ``C2``/``S2`` the same at
    twice the frequency, ``YC``/``YS`` the sums weighted by the centred
    magnitudes, ``YY`` their weighted variance. The power is the fraction of
    variance explained by the best sinusoid plus constant, in [0, 1].
    """
    CC = 0.5 * (1.0 + C2) - C * C
    SS = 0.5 * (1.0 - C2) - S * S
    CS = 0.5 * S2 - C * S
    det = CC * SS - CS * CS
    explained = YC * YC * SS - 2.0 * YC * YS * CS + YS * YS * CC
    # det -> 0 at frequencies where the sampling cannot tell sine from cosine
    # (e.g. frequency 0); the power is undefined there, report none.
    ok = (det > 1e-10) & (YY > 0)
    power = np.divide(explained, det * YY, out=np.zeros_like(explained), where=ok)
    return np.clip(power, 0.0, 1.0)


def _direct_power(times, centred, weights, frequencies):
    """Exact Lomb-Scargle power at arbitrary ``frequencies`` (cycles/day)."""
    phase = (2.0 * np.pi) * np.outer(frequencies, times)
    cos, sin = np.cos(phase), np.sin(phase)
    wy = weights * centred
    return _power_from_sums(
        cos @ weights, sin @ weights, (cos * cos - sin * sin) @ weights,
        (2.0 * sin * cos) @ weights, cos @ wy, sin @ wy, wy @ centred,
    )


def _extirpolate(positions, values, n_grid):
    """Spread ``values`` at real ``positions`` onto an integer grid of ``n_grid`` cells.

    Lagrange weights over the ``_EXTIRPOLATION_ORDER`` nearest cells make
    ``sum_m grid[m] exp(i theta m)`` approximate ``sum_j values[j] exp(i theta x_j)``
    for ``theta`` well below the grid's Nyquist frequency (Press & Rybicki 1989).
    """
    order = _EXTIRPOLATION_ORDER
    first = np.floor(positions).astype(np.int64) - (order // 2 - 1)
    offset = positions - first
    cells = np.empty((len(positions), order), dtype=np.int64)
    spread = np.empty((len(positions), order))
    for i in range(order):
        numerator = np.ones_like(offset)
        for j in range(order):
            if j != i:
                numerator *= offset - j
        denominator = (-1) ** (order - 1 - i) * math.factorial(i) * math.factorial(order - 1 - i)
        cells[:, i] = first + i
        spread[:, i] = numerator * (values / denominator)
    return np.bincount((cells % n_grid).ravel(), spread.ravel(), minlength=n_grid)


def _fast_fft_length(minimum):
    """Smallest 2**a * 3**b * 5**c >= ``minimum``: lengths that pocketfft transforms fast."""
    best = 1 << int(np.ceil(np.log2(minimum)))
    power5 = 1
    while power5 < best:
        power35 = power5
        while power35 < best:
            length = power35 << max(0, int(np.ceil(np.log2(minimum / power35))))
            best = min(best, length)
            power35 *= 3
        power5 *= 5
    return int(best)


def _fast_power(times, centred, weights, frequency_step, k_min, k_max):
    """Approximate power at frequencies ``k * frequency_step`` for ``k_min <= k <= k_max``."""
    n_fft = _fast_fft_length(_FFT_OVERSAMPLING * k_max + 1)
    positions = (times * (frequency_step * n_fft)) % n_fft
    grids = (
        _extirpolate(positions, weights, n_fft),
        _extirpolate(positions, weights * centred, n_fft),
        _extirpolate((2.0 * positions) % n_fft, weights, n_fft),
    )
    # sum_j h_j exp(+i 2 pi k x_j / n) is the conjugate of the forward real FFT.
    # One 1-D transform at a time: faster than a stacked 2-D call in pocketfft.
    sums = [np.fft.rfft(grid)[k_min:k_max + 1] for grid in grids]
    return _power_from_sums(
        sums[0].real, -sums[0].imag, sums[2].real, -sums[2].imag,
        sums[1].real, -sums[1].imag, weights @ (centred * centred),
    )


def best_frequency(times, magnitudes, weights, min_period, max_period, oversampling,
                   max_n_frequencies, n_peaks):
    """Frequency (cycles/day) of the highest periodogram peak, and its power.

    Parameters
    ----------
    times, magnitudes : ndarray of shape (n_observations,)
        Sorted times (days) and magnitudes.
    weights : ndarray of shape (n_observations,)
        Non-negative weights summing to 1 (e.g. normalised ``1 / error**2``).
    min_period, max_period : float
        Period range searched, days.
    oversampling : float
        Grid points per peak width ``1 / time_span``.
    max_n_frequencies : int
        Cap on the coarse grid size (the spacing widens beyond it).
    n_peaks : int
        Coarse peaks refined exactly.

    Returns
    -------
    frequency, power : float
        ``(0.0, 0.0)`` when the range holds no grid frequency.
    """
    times = times - times[0]  # phases of MJD-sized times would lose digits
    span = times[-1]
    f_min, f_max = 1.0 / max_period, 1.0 / min_period
    step = max(1.0 / (oversampling * span), (f_max - f_min) / max_n_frequencies)
    k_min, k_max = max(1, int(np.ceil(f_min / step))), int(np.floor(f_max / step))
    if k_max < k_min:
        return 0.0, 0.0
    centred = magnitudes - weights @ magnitudes
    coarse = _fast_power(times, centred, weights, step, k_min, k_max)
    # Local maxima of the coarse periodogram, highest first.
    padded = np.concatenate([[-1.0], coarse, [-1.0]])
    peaks = np.flatnonzero((coarse >= padded[:-2]) & (coarse >= padded[2:]))
    peaks = peaks[np.argsort(coarse[peaks])[::-1][:n_peaks]]
    centres = (k_min + peaks) * step
    # Exact refinements: the top peaks at step / 5, then the best at step / 25
    # and step / 125, then the vertex of a parabola through the best 3 points.
    for half_width, n_centres in ((step, len(centres)), (step / 5, 1), (step / 25, 1)):
        candidates = (centres[:n_centres, None] + np.linspace(-half_width, half_width, 11)).ravel()
        candidates = candidates[(candidates >= f_min) & (candidates <= f_max)]
        if candidates.size == 0:
            return 0.0, 0.0
        fine = _direct_power(times, centred, weights, candidates)
        order = np.argsort(-fine, kind="stable")  # exact ties (aliases): lowest frequency
        centres = candidates[order]
    best, power = centres[0], fine[order[0]]
    index = order[0]
    if 0 < index < len(candidates) - 1:
        left, middle, right = fine[index - 1:index + 2]
        curvature = left - 2 * middle + right
        if curvature < 0:
            vertex = best + 0.5 * (left - right) / curvature * (candidates[1] - candidates[0])
            vertex_power = _direct_power(times, centred, weights, np.array([vertex]))[0]
            if vertex_power > power:
                best, power = vertex, vertex_power
    return best, power
