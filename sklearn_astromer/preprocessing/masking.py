"""ASTROMER's masked-magnitude pre-training mask (50% masked, 20% same, 20% random)."""

from dataclasses import dataclass

import numpy as np


@dataclass
class MaskedWindows:
    """Inputs and targets of masked-magnitude reconstruction.

    Parameters
    ----------
    input_magnitudes : float32 ndarray of shape (n_windows, width)
        Magnitudes fed to the encoder: the true value except at "random"
        positions, which hold a magnitude drawn from the same window.
    mask_in : bool ndarray of shape (n_windows, width)
        True where the encoder must not see the observation: the hidden
        positions and the padding.
    mask_out : bool ndarray of shape (n_windows, width)
        True on the positions the loss is computed on (hidden, random and
        same).
    """

    input_magnitudes: np.ndarray
    mask_in: np.ndarray
    mask_out: np.ndarray


def mask_counts(lengths, mask_frac=0.5, same_frac=0.2, random_frac=0.2):
    """Numbers of loss, "same" and "random" positions per window (the original's counts).

    ``n = int(L * mask_frac)`` positions enter the loss; ``ceil(same_frac * n)``
    of them stay visible with their true value; ``ceil(random_frac * (n - same))``
    of the rest get a random magnitude of the same window; the remaining ones
    are hidden. With ``L = 200``: 100 = 20 same + 16 random + 64 hidden.
    """
    lengths = np.asarray(lengths)
    n_masked = np.floor(lengths * mask_frac).astype(np.int64)
    n_same = np.ceil(same_frac * n_masked).astype(np.int64)
    n_random = np.ceil(random_frac * (n_masked - n_same)).astype(np.int64)
    return n_masked, n_same, n_random


def mask_windows(magnitudes, valid, rng, mask_frac=0.5, same_frac=0.2, random_frac=0.2):
    """Draw the pre-training mask for a batch of windows.

    Positions are chosen uniformly without replacement among each window's
    real observations by ranking uniform random keys (padding ranks last).

    Parameters
    ----------
    magnitudes : float ndarray of shape (n_windows, width)
        Zero-mean true magnitudes (0 on padding).
    valid : bool ndarray of shape (n_windows, width)
        True on real observations.
    rng : numpy.random.Generator
    mask_frac, same_frac, random_frac : float
        See :func:`mask_counts`.

    Returns
    -------
    MaskedWindows
    """
    lengths = valid.sum(axis=1)
    n_masked, n_same, n_random = mask_counts(lengths, mask_frac, same_frac, random_frac)
    keys = np.where(valid, rng.random(valid.shape), np.inf)
    rank = np.empty_like(keys, dtype=np.int64)
    np.put_along_axis(rank, np.argsort(keys, axis=1), np.arange(valid.shape[1]), axis=1)

    mask_out = rank < n_masked[:, None]
    is_random = (rank >= n_same[:, None]) & (rank < (n_same + n_random)[:, None])
    hidden = mask_out & (rank >= (n_same + n_random)[:, None])

    donor = np.floor(rng.random(valid.shape) * lengths[:, None]).astype(np.int64)
    # Windows are left-aligned, so real positions 0..L-1 are the donors.
    donated = np.take_along_axis(magnitudes, donor, axis=1)
    input_magnitudes = np.where(is_random, donated, magnitudes).astype(np.float32)
    return MaskedWindows(
        input_magnitudes=input_magnitudes,
        mask_in=hidden | ~valid,
        mask_out=mask_out,
    )
