"""Cut light curves into windows of at most ``max_obs`` observations.

A window is described by the light curve it comes from, its first
observation and its length; :func:`gather_windows` turns a set of windows
into padded, zero-mean arrays in one vectorised step.
"""

from dataclasses import dataclass

import numpy as np


@dataclass
class Windows:
    """A batch of padded, zero-mean windows.

    Attributes
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
    """

    times: np.ndarray
    magnitudes: np.ndarray
    valid: np.ndarray
    mean_magnitudes: np.ndarray
    point_index: np.ndarray
    sample_index: np.ndarray

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

    Returns
    -------
    starts, window_lengths : int64 ndarrays of shape (n_samples,)
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    spare = np.maximum(lengths - max_obs, 0)
    starts = np.floor(rng.random(len(lengths)) * (spare + 1)).astype(np.int64)
    return starts, np.minimum(lengths, max_obs)


def gather_windows(light_curves, sample_index, starts, window_lengths, width,
                   float32_mean=False):
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
        Otherwise the mean is taken in float64.

    Returns
    -------
    Windows
    """
    positions = np.arange(width)
    valid = positions < window_lengths[:, None]
    point_index = np.where(
        valid, (light_curves.offsets[sample_index] + starts)[:, None] + positions, -1
    )
    observed = np.where(valid[..., None], light_curves.values[np.maximum(point_index, 0)], 0.0)
    if float32_mean:
        observed = observed.astype(np.float32)
        sums = np.cumsum(observed, axis=1, dtype=np.float32)[:, -1]
        means = sums / window_lengths[:, None].astype(np.float32)
    else:
        means = observed.sum(axis=1) / window_lengths[:, None].astype(np.float64)
    centred = np.where(valid[..., None], observed - means[:, None, :], 0.0)
    return Windows(
        times=centred[..., 0].astype(np.float32),
        magnitudes=centred[..., 1].astype(np.float32),
        valid=valid,
        mean_magnitudes=means[:, 1].astype(np.float64),
        point_index=point_index,
        sample_index=np.asarray(sample_index, dtype=np.int64),
    )
