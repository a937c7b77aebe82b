"""Generalised Lomb-Scargle periodogram on a fine frequency grid, fast.

The search has two passes over each light curve's own frequency grid
(``oversampling`` points per peak width ``1 / time span``):

1. **Coarse**: the power of the weighted, centred magnitudes alone,
   ``|sum w (y - ybar) exp(2 pi i f t)|**2`` (the classical periodogram),
   at every grid frequency. Its trigonometric sums are a non-uniform FFT
   (Dutt & Rokhlin 1993; Greengard & Lee 2004): each observation is spread
   onto a regular grid with a Gaussian, one single-precision real FFT per
   light curve, then the Gaussian's transform is divided out.
   O(n_grid log n_grid) instead of O(n_grid * n_observations). It finds the
   candidate peaks, which are then screened by their exact power.
2. **Exact**: the highest coarse peaks are refined with the floating-mean
   Lomb-Scargle power of Zechmeister & Kuerster (2009), written as the 2x2
   weighted least-squares problem it is (no phase offset ``tau``), evaluated
   exactly in double precision on finer and finer grids around them. The
   reported frequency and power are those of the exact power.

Light curves are searched many at a time (:func:`best_frequencies`, rows of
padded arrays): the spreading, the FFTs (each light curve's own length, rows
of one length in one call), the peak search and the refinements are array
operations over all of them, and a light curve's period does not depend on
the light curves searched with it.
"""


import numpy as np
import scipy.fft

# Coarse pass: FFT length / highest frequency index, and the Gaussian spread
# of each observation over the cells within _SPREAD_HALF_WIDTH of it, of
# variance 2 * _SPREAD_TAU cells**2. With these the coarse power is within 1e-4
# of the highest peak's over the whole grid (3e-5 on the unit tests' curve);
# the FFT is 2.5x, not the 3x that 4-point Lagrange extirpolation
# (Press & Rybicki 1989) needs for 10 % at the grid's top.
_FFT_OVERSAMPLING = 2.5
_SPREAD_HALF_WIDTH = 8
_SPREAD_TAU = 1.0
# Exact evaluations per refinement grid, the first centred on each coarse peak.
_REFINEMENT_POINTS = 11


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


def _unit_phasors(frequencies, times, dtype):
    """``exp(2 pi i f t)`` of ``frequencies[..., None] * times`` (cycles) in ``dtype`` (complex).

    Whole cycles are removed in double precision first, so the angles stay
    within half a turn: single precision then loses nothing to the size of
    ``f * t``, and its vectorised cosine and sine are several times faster.
    """
    cycles = frequencies[..., None] * times
    cycles -= np.rint(cycles)
    angles = ((2.0 * np.pi) * cycles).astype(np.finfo(dtype).dtype)
    phasors = np.empty(angles.shape, dtype=dtype)
    np.cos(angles, out=phasors.real)
    np.sin(angles, out=phasors.imag)
    return phasors


def _exact_power(times, centred, weights, starts, spacings, n_steps, dtype=np.complex128):
    """Lomb-Scargle power of each row on evenly spaced frequency grids (cycles/day).

    Row ``r`` is evaluated at ``starts[r, g] + j * spacings[r]`` for every
    grid ``g`` and ``j < n_steps``: ``times``, ``centred`` and ``weights``
    are ``(n_rows, n_observations)`` (padding carries zero weight), ``starts``
    ``(n_rows, n_grids)``, ``spacings`` ``(n_rows,)``. Returns
    ``(n_rows, n_grids * n_steps)`` float64, grid by grid.

    Exact in ``complex128``; ``complex64`` (relative error ~1e-6) serves to
    rank candidates. The phase factors ``exp(2 pi i f t)`` of a grid are its
    first frequency's, then successive products by the factor of one
    spacing: two cosines and sines per point and grid instead of ``n_steps``.
    The six weighted sums are complex matrix products.
    """
    n_rows, n_grids = starts.shape
    factors = np.empty((n_rows, n_grids, n_steps, times.shape[1]), dtype=dtype)
    factors[:, :, 0] = _unit_phasors(starts, times[:, None, :], dtype)
    step = _unit_phasors(spacings, times, dtype)[:, None, :]
    for j in range(1, n_steps):  # a handful of steps, each over every row and grid at once
        np.multiply(factors[:, :, j - 1], step, out=factors[:, :, j])
    factors = factors.reshape(n_rows, n_grids * n_steps, -1)
    wy = weights * centred
    by = np.stack([weights, wy], axis=2).astype(dtype)
    sums = np.matmul(factors, by).astype(np.complex128)  # sum w exp(i wt), sum w y exp(i wt)
    np.multiply(factors, factors, out=factors)  # exp(2 i wt)
    doubled = np.matmul(factors, by[:, :, :1])[..., 0].astype(np.complex128)
    single, with_y = sums[..., 0], sums[..., 1]
    return _power_from_sums(single.real, single.imag, doubled.real, doubled.imag,
                            with_y.real, with_y.imag, np.sum(wy * centred, axis=1)[:, None])


def _spread(positions, values, n_grid):
    """Cells and weights that spread each row's ``values`` at real ``positions`` over its grid.

    Each value goes to the ``2 * _SPREAD_HALF_WIDTH`` nearest of the row's
    ``n_grid`` cells (the grid wraps around), weighted by
    ``exp(-distance**2 / (4 * _SPREAD_TAU))``: the grid's discrete Fourier
    transform is then the values' at their own positions times the
    Gaussian's transform (see :func:`_coarse_power`). ``positions`` and
    ``values`` are ``(n_rows, n_observations)``; returns flat cell indices
    into the ``(n_rows * n_grid)`` grids and their spread values.
    """
    n_rows = len(positions)
    cells = (np.floor(positions).astype(np.int64)[..., None]
             + np.arange(1 - _SPREAD_HALF_WIDTH, _SPREAD_HALF_WIDTH + 1))
    spread = values[..., None] * np.exp(-(positions[..., None] - cells) ** 2 / (4 * _SPREAD_TAU))
    cells = cells % n_grid + (np.arange(n_rows) * n_grid)[:, None, None]
    return cells.ravel(), spread.ravel()


def _fast_fft_length(minimum):
    """Smallest ``2**a * m >= minimum`` with ``m`` one of 1, 3, 5, 15, 25, 75, elementwise.

    Lengths that pocketfft transforms fast: those with more factors of 3 or
    5 were measured up to 30 % slower per value.
    """
    minimum = np.maximum(np.ceil(minimum), 1).astype(np.int64)
    factors = np.array([1, 3, 5, 15, 25, 75])
    quotients = -(-minimum[..., None] // factors)
    # frexp's exponent of q - 1 is its bit length: 2**it is the power of two >= q.
    return (factors << np.frexp(quotients - 1)[1]).min(axis=-1)


#: Columns per group in :meth:`_NumpyArrays.top`'s floor (fastest measured of 16-128).
_TOP_GROUP_SIZE = 64


class _NumpyArrays:
    """The coarse pass's array operations on the CPU: numpy and ``scipy.fft`` (no torch).

    One instance serves the blocks of one search call and reuses its large
    arrays from block to block: fresh arrays of this size are paid for in
    page faults (reusing them cut a search of 600 light curves from 64,000
    faults to 19,000, those of the FFT's output, and made it 1.2-1.4x
    faster). scipy's pocketfft vectorises across rows: 1.3-2x faster than
    torch's FFT on the CPU. :class:`_TorchArrays` does the same on another
    device.
    """

    def __init__(self):
        self._buffers = {}

    def _buffer(self, name, shape, dtype):
        """An uninitialised array of ``shape``, in memory kept for the next call."""
        size = int(np.prod(shape))
        buffer = self._buffers.get(name)
        if buffer is None or buffer.size < size or buffer.dtype != dtype:
            buffer = self._buffers[name] = np.empty(size, dtype)
        return buffer[:size].reshape(shape)

    def power_spectrum(self, cells, spread, n_rows, n_grid, n_frequencies, scale):
        """``|DFT|**2 * scale`` of each row's spread values on its grid, first ``n_frequencies`` bins.

        ``cells`` and ``spread`` are :func:`_spread`'s. Returns float32
        ``(n_rows, n_frequencies)``, valid until the next call.
        """
        grid = self._buffer("grid", (n_rows, n_grid), np.float32)
        grid.fill(0)
        # Unbuffered float32 sums: 4x faster than a float64 bincount (numpy >= 1.25).
        np.add.at(grid.reshape(-1), cells, spread.astype(np.float32))
        parts = scipy.fft.rfft(grid, axis=1).view(np.float32)[:, :2 * n_frequencies]
        power = self._buffer("power", (n_rows, n_frequencies), np.float32)
        imaginary = self._buffer("imaginary", (n_rows, n_frequencies), np.float32)
        np.multiply(parts[:, 0::2], parts[:, 0::2], out=power)
        np.multiply(parts[:, 1::2], parts[:, 1::2], out=imaginary)
        np.add(power, imaginary, out=power)
        return np.multiply(power, scale.astype(np.float32), out=power)

    @staticmethod
    def array(values):
        return np.asarray(values, dtype=np.float32 if values.dtype.kind == "f" else None)

    def ranked_peaks(self, power):
        """``power[:, 1:-1]`` where it is a local maximum, else about ``-2 - power``.

        Arithmetic, not ``np.where``: 4x faster. Returns a buffer valid until
        the next call.
        """
        inner = power[:, 1:-1]
        ranked = self._buffer("ranked", inner.shape, np.float32)
        drop = self._buffer("drop", inner.shape, np.float32)
        np.maximum(power[:, :-2], power[:, 2:], out=ranked)
        np.less(inner, ranked, out=ranked)  # 1 where not a peak, else 0
        np.add(inner, 1.0, out=drop)
        np.multiply(drop, 2.0, out=drop)
        np.multiply(ranked, drop, out=ranked)
        return np.subtract(inner, ranked, out=ranked)  # inner - 2 (inner + 1) off the peaks

    @staticmethod
    def top(ranked, k):
        """The ``k`` largest of each row, largest first, and their indices (ndarrays).

        Equal values come in index order. Each row's columns are dealt into
        groups of ``_TOP_GROUP_SIZE``; the ``k``-th highest group maximum is
        a floor under the row's ``k`` largest, so only the groups reaching
        it (and the columns left over) are sorted: 15x faster than
        ``argpartition`` over whole periodograms.
        """
        n_rows, n_columns = ranked.shape
        n_groups = n_columns // _TOP_GROUP_SIZE
        if n_groups < k:
            rows, columns = np.indices(ranked.shape).reshape(2, -1)
            floor = np.full(n_rows, -np.inf, dtype=ranked.dtype)
        else:
            # Group g of a row holds its columns g, g + n_groups, ...: strided
            # maxima reduce whole rows of the (size, n_groups) view at once.
            grouped = ranked[:, :n_groups * _TOP_GROUP_SIZE].reshape(
                n_rows, _TOP_GROUP_SIZE, n_groups)
            group_max = grouped.max(axis=1)
            floor = -np.partition(-group_max, k - 1, axis=1)[:, k - 1]
            rows, groups = np.nonzero(group_max >= floor[:, None])
            left_over = np.arange(n_groups * _TOP_GROUP_SIZE, n_columns)
            rows = np.concatenate([np.repeat(rows, _TOP_GROUP_SIZE),
                                   np.repeat(np.arange(n_rows), len(left_over))])
            columns = np.concatenate([
                (groups[:, None] + n_groups * np.arange(_TOP_GROUP_SIZE)).ravel(),
                np.tile(left_over, n_rows)])
        values = ranked[rows, columns]
        above = values >= floor[rows]
        rows, columns, values = rows[above], columns[above], values[above]
        order = np.lexsort((columns, -values, rows))
        first = np.searchsorted(rows[order], np.arange(n_rows))
        picked = order[first[:, None] + np.arange(k)]
        return values[picked], columns[picked]


class _TorchArrays:
    """:class:`_NumpyArrays`' operations with torch on ``device`` (e.g. a GPU)."""

    def __init__(self, device):
        import torch  # only here: the CPU search, and ONNX Runtime serving, need no torch

        self.torch, self.device = torch, device

    def power_spectrum(self, cells, spread, n_rows, n_grid, n_frequencies, scale):
        torch = self.torch
        grid = torch.zeros(n_rows * n_grid, device=self.device).index_add_(
            0, torch.from_numpy(cells).to(self.device),
            torch.from_numpy(spread).to(self.device, torch.float32))
        spectrum = torch.fft.rfft(grid.view(n_rows, n_grid), dim=1)[:, :n_frequencies]
        return (spectrum.real**2 + spectrum.imag**2) * self.array(scale)

    def array(self, values):
        tensor = self.torch.from_numpy(np.ascontiguousarray(values)).to(self.device)
        return tensor.float() if tensor.is_floating_point() else tensor

    def ranked_peaks(self, power):
        inner = power[:, 1:-1]
        peak = (inner >= power[:, :-2]) & (inner >= power[:, 2:])
        return self.torch.where(peak, inner, -2.0 - inner)

    def top(self, ranked, k):
        values, top = self.torch.topk(ranked, k)
        return values.cpu().numpy(), top.cpu().numpy()


def _arrays_on(device):
    """The coarse pass's array operations on ``device``, for one search call."""
    return _NumpyArrays() if str(device) == "cpu" else _TorchArrays(device)


def _coarse_power(times, centred, weights, steps, n_frequencies, n_fft, arrays):
    """Classical periodogram of each row at frequencies ``k * steps[row]``, ``k < n_frequencies``.

    ``|sum w (y - ybar) exp(2 pi i f t)|**2`` (float32, an array of
    ``arrays``), what ranks the coarse peaks. Each row's times are scaled so
    that its grid frequency ``k`` is the FFT's ``k``; the Gaussian spread
    multiplied the FFT by ``sqrt(4 pi tau) exp(-tau theta**2)`` at
    ``theta = 2 pi k / n_fft``.
    """
    positions = (times * (steps[:, None] * n_fft)) % n_fft
    theta = (2.0 * np.pi / n_fft) * np.arange(n_frequencies)
    unspread = np.exp(2.0 * _SPREAD_TAU * theta**2) / (4.0 * np.pi * _SPREAD_TAU)
    return arrays.power_spectrum(*_spread(positions, weights * centred, n_fft), len(times),
                                 n_fft, n_frequencies, unspread)


#: Float32 values per FFT batch: bounds memory.
_FFT_BATCH_VALUES = 1 << 22


def _coarse_peaks(times, centred, weights, steps, k_min, k_max, n_peaks, arrays):
    """The ``n_peaks`` highest local maxima of each row's coarse periodogram.

    The periodogram and its peaks are computed with ``arrays`` (on its
    device); only the peaks come back.

    Returns
    -------
    frequencies : float ndarray of shape (n_rows, n_peaks)
        Highest first; NaN where a row has fewer peaks.
    """
    centres = np.full((len(times), n_peaks), np.nan)
    # Each row's own FFT length, whatever rows it is searched with (its peaks
    # then do not depend on them); several rows of a length per FFT call:
    # pocketfft vectorises across them.
    n_ffts = _fast_fft_length(_FFT_OVERSAMPLING * k_max + 1)
    for n_fft in np.unique(n_ffts):
        same = np.flatnonzero(n_ffts == n_fft)
        per_batch = max(1, _FFT_BATCH_VALUES // int(n_fft))
        for start in range(0, len(same), per_batch):
            rows = same[start:start + per_batch]
            centres[rows] = _peaks_of_rows(times[rows], centred[rows], weights[rows],
                                           steps[rows], k_min[rows], k_max[rows], n_peaks,
                                           int(n_fft), arrays)
    return centres


def _peaks_of_rows(times, centred, weights, steps, k_min, k_max, n_peaks, n_fft, arrays):
    """:func:`_coarse_peaks` of rows whose FFTs have the same length ``n_fft``."""
    # One bin past the highest searched: a peak may sit on the range's edge.
    n_frequencies = int(k_max.max()) + 2
    power = _coarse_power(times, centred, weights, steps, n_frequencies, n_fft, arrays)
    # Outside each row's range: -1, on the few columns where rows differ.
    k = np.arange(n_frequencies)
    below, above = int(k_min.max()), int(k_max.min()) + 1
    power[:, :below][arrays.array(k[:below] < k_min[:, None])] = -1.0
    power[:, above:][arrays.array(k[above:] > k_max[:, None])] = -1.0
    # Non-peaks rank below every peak (powers are >= 0, the range's outside -1).
    centres = np.full((len(times), n_peaks), np.nan)
    n_kept = min(n_peaks, n_frequencies - 2)
    values, top = arrays.top(arrays.ranked_peaks(power), n_kept)
    centres[:, :n_kept] = np.where(values >= 0, (top + 1) * steps[:, None], np.nan)
    return centres


#: Complex values per array of the exact refinement (rows x candidates x
#: observations): blocks this small stay in cache.
_REFINEMENT_BATCH_VALUES = 1 << 18


#: Coarse peaks screened by their exact power per peak refined: the classical
#: periodogram ranks the floating-mean power's peaks only roughly where the
#: sampling has strong aliases (e.g. ground-based, nightly cadences).
_SCREENED_PER_REFINED = 4


def _power_in_range(times, centred, weights, starts, spacings, n_steps, f_min, f_max,
                    dtype=np.complex128):
    """:func:`_exact_power` on grids whose start may be NaN, and the frequencies it is at.

    Returns ``(frequencies, powers)``, both ``(n_rows, n_grids * n_steps)``;
    the power is ``-inf`` outside ``[f_min, f_max]`` and on NaN grids.
    """
    frequencies = (starts[:, :, None] + np.arange(n_steps) * spacings[:, None, None]
                   ).reshape(len(starts), -1)
    usable = (frequencies >= f_min) & (frequencies <= f_max)  # False for NaN too
    power = _exact_power(times, centred, weights, np.nan_to_num(starts), spacings, n_steps,
                         dtype=dtype)
    return frequencies, np.where(usable, power, -np.inf)


def _screened(times, centred, weights, steps, centres, n_kept, f_min, f_max):
    """The ``n_kept`` coarse peaks of each row with the highest exact power.

    Each peak's exact power is the highest of three points (its grid
    frequency and half a step either side), so a peak between grid points
    is not ranked low. Returns ``(n_rows, n_kept)`` frequencies, highest
    first, NaN where a row has fewer peaks.
    """
    n_rows, n_peaks = centres.shape
    _, exact = _power_in_range(times, centred, weights, centres - 0.5 * steps[:, None],
                               0.5 * steps, 3, f_min, f_max, dtype=np.complex64)
    per_peak = exact.reshape(n_rows, n_peaks, 3).max(axis=2)
    order = np.argsort(-per_peak, axis=1, kind="stable")[:, :n_kept]
    kept = np.take_along_axis(centres, order, 1)
    return np.where(np.isfinite(np.take_along_axis(per_peak, order, 1)), kept, np.nan)


def best_frequencies(times, magnitudes, weights, min_period, max_period, oversampling,
                     max_n_frequencies, n_peaks, device="cpu"):
    """Frequency (cycles/day) of the highest periodogram peak of each row, and its power.

    Parameters
    ----------
    times, magnitudes : ndarray of shape (n_rows, n_observations)
        Sorted times (days) and magnitudes of each light curve, padded at the
        end (padding carries zero weight; its times repeat the last one).
    weights : ndarray of shape (n_rows, n_observations)
        Non-negative weights, each row summing to 1 (e.g. normalised
        ``1 / error**2``), 0 on padding.
    min_period, max_period : float
        Period range searched, days.
    oversampling : float
        Grid points per peak width ``1 / time_span``.
    max_n_frequencies : int
        Cap on the coarse grid size (the spacing widens beyond it).
    n_peaks : int
        Peaks refined exactly: the best by exact power of the
        ``_SCREENED_PER_REFINED * n_peaks`` highest coarse peaks.
    device : str or torch.device, default="cpu"
        Where the coarse pass (the grid, its FFT and its peaks) runs, e.g.
        ``"cuda"``; the exact screening and refinement run on the CPU.

    Returns
    -------
    frequencies, powers : float ndarrays of shape (n_rows,)
        0 where the range holds no grid frequency.
    """
    times = times - times[:, :1]  # phases of MJD-sized times would lose digits
    f_min, f_max = 1.0 / max_period, 1.0 / min_period
    steps = np.maximum(1.0 / (oversampling * times[:, -1]), (f_max - f_min) / max_n_frequencies)
    k_min = np.maximum(1, np.ceil(f_min / steps)).astype(np.int64)
    k_max = np.floor(f_max / steps).astype(np.int64)
    frequencies, powers = np.zeros(len(times)), np.zeros(len(times))
    # Rows with similar grids together, so that a block shares one FFT length.
    searched = np.flatnonzero(k_max >= k_min)
    searched = searched[np.argsort(k_max[searched], kind="stable")]
    per_block = max(1, _REFINEMENT_BATCH_VALUES
                    // (_REFINEMENT_POINTS * n_peaks * times.shape[1]))
    arrays = _arrays_on(device)
    for start in range(0, len(searched), per_block):
        rows = searched[start:start + per_block]
        frequencies[rows], powers[rows] = _best_frequencies(
            times[rows], magnitudes[rows], weights[rows], steps[rows], k_min[rows], k_max[rows],
            f_min, f_max, n_peaks, arrays)
    return frequencies, powers


def _best_frequencies(times, magnitudes, weights, steps, k_min, k_max, f_min, f_max, n_peaks,
                      arrays):
    """:func:`best_frequencies` of a block of rows small enough to refine at once.

    ``times`` start at 0; row ``r``'s grid is ``k * steps[r]`` for
    ``k_min[r] <= k <= k_max[r]`` (not empty); ``arrays`` runs the coarse pass.
    """
    centred = magnitudes - np.sum(weights * magnitudes, axis=1)[:, None]
    centres = _coarse_peaks(times, centred, weights, steps, k_min, k_max,
                            _SCREENED_PER_REFINED * n_peaks, arrays)
    centres = _screened(times, centred, weights, steps, centres, n_peaks, f_min, f_max)
    # Exact refinements: the screened peaks at step / 5, then the best at step / 25
    # and step / 125, then the vertex of a parabola through the best 3 points.
    n_points = _REFINEMENT_POINTS
    for half_width, n_centres in ((steps, n_peaks), (steps / 5, 1), (steps / 25, 1)):
        spacing = 2.0 * half_width / (n_points - 1)
        candidates, fine = _power_in_range(times, centred, weights,
                                           centres[:, :n_centres] - half_width[:, None],
                                           spacing, n_points, f_min, f_max)
        order = np.argsort(-fine, axis=1, kind="stable")  # exact ties (aliases): lowest
        centres = np.take_along_axis(candidates, order, 1)
    found = np.isfinite(fine).any(axis=1)
    index = order[:, 0]
    rows = np.arange(len(steps))
    best_found, power_found = candidates[rows, index], fine[rows, index]
    # Vertex of the parabola through the best and its two neighbours, where both exist.
    inner = (index > 0) & (index < candidates.shape[1] - 1)
    left = fine[rows, np.maximum(index - 1, 0)]
    right = fine[rows, np.minimum(index + 1, candidates.shape[1] - 1)]
    with np.errstate(invalid="ignore"):
        curvature = left - 2 * power_found + right
        fit = found & inner & np.isfinite(curvature) & (curvature < 0)
        vertex = best_found + 0.5 * (left - right) / np.where(fit, curvature, -1.0) * spacing
    if fit.any():
        vertex_power = _exact_power(times[fit], centred[fit], weights[fit], vertex[fit, None],
                                    spacing[fit], 1)[:, 0]
        better = vertex_power > power_found[fit]
        best_found[np.flatnonzero(fit)[better]] = vertex[fit][better]
        power_found[np.flatnonzero(fit)[better]] = vertex_power[better]
    return np.where(found, best_found, 0.0), np.where(found, power_found, 0.0)
