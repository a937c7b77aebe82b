"""Group windows of similar length so that little compute is spent on padding."""

import numpy as np


def length_sorted_batches(lengths, batch_size):
    """Split window indices into batches of similar length.

    Parameters
    ----------
    lengths : int ndarray of shape (n_windows,)
    batch_size : int

    Returns
    -------
    list of int64 ndarray
        Index arrays, longest windows first; each batch holds at most
        ``batch_size`` windows. The order is deterministic (stable sort).
    """
    order = np.argsort(-np.asarray(lengths), kind="stable")
    return np.array_split(order, np.arange(batch_size, len(order), batch_size))
