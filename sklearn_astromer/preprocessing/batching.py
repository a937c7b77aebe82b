"""Group windows of similar length so that little compute is spent on padding."""

import numpy as np


def length_sorted_batches(lengths, batch_size=None, max_tokens=None, pad_to=None):
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

    Returns
    -------
    list of int64 ndarray
        Index arrays, longest windows first. The order is deterministic
        (stable sort).
    """
    if batch_size is None and max_tokens is None:
        raise ValueError("Give batch_size, max_tokens or both.")
    lengths = np.asarray(lengths)
    order = np.argsort(-lengths, kind="stable")
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
