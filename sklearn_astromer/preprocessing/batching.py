"""Group windows of similar length so that little compute is spent on padding."""

import numpy as np


def length_sorted_batches(lengths, batch_size=None, max_tokens=None, pad_to=None,
                          tie_break=None):
    """Split window indices into batches of similar length.

    Parameters
    ----------
    lengths : int ndarray of shape (n_windows,)
    batch_size : int or None, default=None
        At most this many windows per batch.
    max_tokens : int or None, default=None
        At most this many padded observations (windows x width of the batch's
        longest window) per batch, and at least one window. Batches of short
        windows then hold more windows than batches of long ones.
    pad_to : int or None, default=None
        Width every window is padded to (when the batches are padded to a
        fixed width rather than to their longest window); used with
        ``max_tokens``.
    tie_break : ndarray of shape (n_windows,) or (n_keys, n_windows), optional
        Keys that order windows of equal length (the last row first). A key
        computed from each window's content makes the batches, and each
        window's place in its batch, independent of the order the windows
        came in: matrix kernels round a row differently by its position, so
        without it a permuted input gives results that differ in the last bit.

    Returns
    -------
    list of int64 ndarray
        Index arrays, longest windows first. The order is deterministic
        (stable sort).
    """
    if batch_size is None and max_tokens is None:
        raise ValueError("Give batch_size, max_tokens or both.")
    lengths = np.asarray(lengths)
    if tie_break is None:
        order = np.argsort(-lengths, kind="stable")
    else:
        order = np.lexsort((*np.atleast_2d(tie_break), -lengths))
    if max_tokens is None:
        return np.array_split(order, np.arange(batch_size, len(order), batch_size))
    widths = np.maximum(lengths[order], 1) if pad_to is None else np.full(len(order), pad_to)
    batches, start = [], 0
    while start < len(order):
        size = max(1, max_tokens // int(widths[start]))
        if batch_size is not None:
            size = min(size, batch_size)
        batches.append(order[start:start + size])
        start += size
    return batches
