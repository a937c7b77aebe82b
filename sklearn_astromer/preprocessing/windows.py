"""Cut light curves into windows of at most ``max_obs`` observations.

A window is described by the light curve it comes from, its first
observation and its length; :func:`gather_windows` turns a set of windows
into padded, zero-mean arrays in one vectorised step.
"""

from dataclasses import dataclass

import numpy as np

from .descriptors import window_descriptors

_FLOAT64_MAX = np.finfo(np.float64).max


@dataclass
class Windows:
    """A batch of padded, zero-mean windows.

    Parameters
    ----------
    times, magnitudes : float32 ndarray of shape (n_windows, width)
        Zero-mean time (days) and magnitude; 0 on padding.
    valid : bool ndarray of shape (n_windows, width)
        True on real observations, False on padding.
    mean_magnitudes : float64 ndarray of shape (n_windows,)
        Mean magnitude removed from each window (added back by reconstructions).
    point_index : int64 ndarray of shape (n_windows, width)
        Row of each observation in :attr:`RaggedLightCurves.values`; -1 on padding.
    sample_index : int64 ndarray of shape (n_windows,)
        Light curve of each window.
    errors : float32 ndarray of shape (n_windows, width)
        Magnitude errors as given (not centred, not scaled); 0 on padding.
    magnitude_scales : float64 ndarray of shape (n_windows,)
        What each window's centred magnitudes were divided by (1 unless
        scaled); reconstructions are multiplied back by it.
    phases : float32 ndarray of shape (n_windows, width) or None
        Phase of each observation at its light curve's period, cycles in
        [0, 1) (0 on padding and where no period is known); only when
        periods are given.
    descriptors : float32 ndarray of shape (n_windows, n_descriptors) or None
        :func:`window_descriptors`; only when periods are given.
    bands : int64 ndarray of shape (n_windows, width) or None
        Band of each observation (0 on padding), for light curves with
        ``bands``; each band's magnitudes are then centred on their own mean
        within the window (``mean_magnitudes`` leaves those offsets out).
    """

    times: np.ndarray
    magnitudes: np.ndarray
    valid: np.ndarray
    mean_magnitudes: np.ndarray
    point_index: np.ndarray
    sample_index: np.ndarray
    errors: np.ndarray = None
    magnitude_scales: np.ndarray = None
    phases: np.ndarray = None
    descriptors: np.ndarray = None
    bands: np.ndarray = None

    @property
    def lengths(self):
        """Number of real observations in each window."""
        return self.valid.sum(axis=1)


def consecutive_windows(lengths, max_obs):
    """Consecutive windows covering every observation of every light curve.

    Parameters
    ----------
    lengths : int ndarray of shape (n_samples,)
        Number of observations of each light curve (all >= 1).
    max_obs : int
        Window size.

    Returns
    -------
    sample_index, starts, window_lengths : int64 ndarrays of shape (n_windows,)
        Light curve, first observation (relative to the light curve) and
        length of each window; windows of one light curve are consecutive
        and in time order, and the last one holds the remainder (no window
        is repeated).
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    n_windows = -(-lengths // max_obs)
    sample_index = np.repeat(np.arange(len(lengths)), n_windows)
    first_window = np.cumsum(n_windows) - n_windows
    rank = np.arange(n_windows.sum()) - np.repeat(first_window, n_windows)
    starts = rank * max_obs
    window_lengths = np.minimum(max_obs, lengths[sample_index] - starts)
    return sample_index, starts, window_lengths


def random_windows(lengths, max_obs, rng):
    """One window of ``min(L, max_obs)`` observations per light curve, at a random start.

    The start is uniform over ``[0, L - max_obs]``, as in ASTROMER pre-training.

    Parameters
    ----------
    lengths : int ndarray of shape (n_samples,)
        Number of observations of each light curve, as for :func:`consecutive_windows`.
    max_obs : int
        Window size.
    rng : numpy.random.Generator
        Source of the random starts.

    Returns
    -------
    starts, window_lengths : int64 ndarrays of shape (n_samples,)
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    spare = np.maximum(lengths - max_obs, 0)
    starts = np.floor(rng.random(len(lengths)) * (spare + 1)).astype(np.int64)
    return starts, np.minimum(lengths, max_obs)


def gather_windows(light_curves, sample_index, starts, window_lengths, width,
                   float32_mean=False, scale_magnitudes=False, periods=None):
    """Gather windows into padded, zero-mean arrays.

    Parameters
    ----------
    light_curves : RaggedLightCurves
    sample_index, starts, window_lengths : int ndarrays of shape (n_windows,)
        As returned by :func:`consecutive_windows` or :func:`random_windows`.
    width : int
        Padded width (>= the longest window).
    float32_mean : bool, default=False
        Zero-mean in float32 with a sequential sum, as TensorFlow's
        ``reduce_mean`` in the original code does. The published weights
        need it: at MJD ~ 50000 a float32 mean is off by up to a few
        thousandths of a day, and their embeddings follow that offset.
        Otherwise the mean is taken in float64, in units of a power of two
        near each window's largest value, so that finite inputs never
        overflow.
    scale_magnitudes : bool, default=False
        Divide each window's centred magnitudes by their standard deviation
        (computed in float64; windows with no spread are left as they are),
        so every window reaches the model at unit scale. The scale is kept
        in :attr:`Windows.magnitude_scales` and among the descriptors.
    periods : tuple of two float ndarrays of shape (n_samples,), optional
        ``(frequencies, powers)`` of every light curve (cycles/day, 0 where
        unknown; see :func:`sklearn_astromer._periods.lomb_scargle_periods`):
        adds :attr:`Windows.phases` and :attr:`Windows.descriptors`.

    Returns
    -------
    Windows
        With :attr:`Windows.bands` for light curves with ``bands`` (band
        positions, 0 .. n_bands - 1), each band centred on its own mean.
    """
    positions = np.arange(width)
    valid = positions < window_lengths[:, None]
    point_index = np.where(
        valid, (light_curves.offsets[sample_index] + starts)[:, None] + positions, -1
    )
    observed = np.where(valid[..., None], light_curves.values[np.maximum(point_index, 0)], 0.0)
    counts = window_lengths[:, None].astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        # Values beyond float32 become inf here; the estimators refuse such
        # light curves beforehand, or name them when their outputs overflow.
        means, centred, exponents = _centre(observed, valid, counts, float32_mean)
        magnitudes = centred[..., 1].astype(np.float64)
        bands = None
        if light_curves.bands is not None:
            bands = np.where(valid, light_curves.bands[np.maximum(point_index, 0)], 0)
            magnitudes = _centre_bands(magnitudes, bands, valid)
        spreads = np.sqrt((magnitudes**2).sum(axis=1) / counts[:, 0])
        # Capped rather than infinite beyond float64: only its logarithm and
        # the reconstructions (checked for overflow) use the spread.
        spreads_in_magnitudes = np.minimum(np.ldexp(spreads, exponents[:, 1]), _FLOAT64_MAX)
        scales = np.ones(len(magnitudes))
        if scale_magnitudes:
            scales = np.where(spreads > 0, spreads_in_magnitudes, 1.0)
            magnitudes = magnitudes / np.where(spreads > 0, spreads, 1.0)[:, None]
        else:
            magnitudes = np.ldexp(magnitudes, exponents[:, None, 1])
        times = centred[..., 0].astype(np.float32)
        magnitudes = magnitudes.astype(np.float32)
        errors = observed[..., 2].astype(np.float32)
    windows = Windows(
        times=times,
        magnitudes=magnitudes,
        valid=valid,
        mean_magnitudes=means[:, 1].astype(np.float64),
        point_index=point_index,
        sample_index=np.asarray(sample_index, dtype=np.int64),
        errors=errors,
        magnitude_scales=scales,
        bands=bands,
    )
    if periods is not None:
        frequencies = np.asarray(periods[0], dtype=np.float64)[windows.sample_index]
        powers = np.asarray(periods[1], dtype=np.float64)[windows.sample_index]
        with np.errstate(over="ignore", invalid="ignore"):
            cycles = observed[..., 0] * frequencies[:, None]  # float64: MJD x 20 c/d keeps 1e-9
            # Beyond 2**53 cycles a phase has no digits left: 0 rather than NaN.
            phases = np.where(valid & np.isfinite(cycles), cycles - np.floor(cycles), 0.0)
        windows.phases = phases.astype(np.float32)
        windows.descriptors = window_descriptors(frequencies, powers, spreads_in_magnitudes,
                                                 observed[..., 2], valid)
    return windows


def _centre_bands(magnitudes, bands, valid):
    """``magnitudes`` ``(n_windows, width)`` with each (window, band)'s mean removed."""
    n_bands = int(bands.max()) + 1
    segments = (np.arange(len(bands))[:, None] * n_bands + bands)[valid]
    n_segments = len(bands) * n_bands
    sums = np.bincount(segments, magnitudes[valid], minlength=n_segments)
    counts = np.bincount(segments, minlength=n_segments)
    means = sums / np.maximum(counts, 1)
    offsets = means.reshape(len(bands), n_bands)[np.arange(len(bands))[:, None], bands]
    return np.where(valid, magnitudes - offsets, 0.0)


def _centre(observed, valid, counts, float32_mean):
    """Window means and centred values of ``observed`` ``(n_windows, width, 3)``.

    Returns ``(means, centred, exponents)``: the means ``(n_windows, 3)``;
    the centred values, times in days but magnitudes (and errors) in units
    of ``2 ** exponents`` ``(n_windows, 3)``, so that no sum, difference or
    square of them overflows or underflows however large or small the
    input. Scaling by powers of two is exact: ordinary inputs give the same
    bits as centring in plain units.
    """
    if float32_mean:
        observed32 = observed.astype(np.float32)
        sums = np.cumsum(observed32, axis=1, dtype=np.float32)[:, -1]
        means = sums / counts.astype(np.float32)
        centred = np.where(valid[..., None], observed32 - means[:, None, :], 0.0)
        return means, centred, np.zeros((len(observed), 3), dtype=np.int64)
    exponents = np.frexp(np.abs(observed).max(axis=1))[1]
    scaled = np.ldexp(observed, -exponents[:, None, :])
    scaled_means = scaled.sum(axis=1) / counts
    centred = np.where(valid[..., None], scaled - scaled_means[:, None, :], 0.0)
    # A mean of times far larger than their span (1e300 + a few days) is off
    # by many times that span; no centred time can exceed it.
    last = scaled[np.arange(len(scaled)), counts[:, 0].astype(np.int64) - 1, 0]
    spans = (last - scaled[:, 0, 0])[:, None]
    centred[..., 0] = np.ldexp(np.clip(centred[..., 0], -spans, spans), exponents[:, None, 0])
    return np.ldexp(scaled_means, exponents), centred, exponents
