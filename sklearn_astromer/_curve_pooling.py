"""Light curves' pooled embeddings from the statistics of their windows (numpy only).

The encoder (PyTorch's :class:`~sklearn_astromer.nn.pooling.WindowPooling`,
or its ONNX export) returns, per window, the sums, sums of squares, maxima or
per-layer sums of its observations' embeddings; a light curve's embedding
combines those of its windows. Sums accumulate in float64, window by window
in batch order, so that the result does not depend on how the windows were
batched beyond float32 rounding inside the encoder.
"""

import numpy as np

#: How a light curve's embedding follows from its windows' statistics.
POOLINGS = ("mean", "max", "mean_std", "layers", "weighted_layers")
LAYER_POOLINGS = ("layers", "weighted_layers")


def check_pooling(pooling):
    """Refuse an unknown pooling."""
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}.")


def n_statistics(pooling, n_layers):
    """Statistics per window of ``pooling`` for an encoder of ``n_layers`` blocks."""
    check_pooling(pooling)
    if pooling in LAYER_POOLINGS:
        return n_layers + 1
    return 2 if pooling == "mean_std" else 1


class CurveStatistics:
    """Window statistics accumulated per light curve.

    Parameters
    ----------
    n_samples : int
        Number of light curves.
    pooling : {"mean", "max", "mean_std", "layers", "weighted_layers"}
    n_statistics : int
        Statistics per window: 1, 2 (``"mean_std"``) or ``n_layers + 1``.
    d_model : int
        Width of the embeddings.
    """

    def __init__(self, n_samples, pooling, n_statistics, d_model):
        check_pooling(pooling)
        self.pooling = pooling
        maximum = pooling == "max"
        self.totals = np.full((n_samples, n_statistics, d_model), -np.inf if maximum else 0.0,
                              np.float32 if maximum else np.float64)

    def add(self, statistics, sample_index):
        """Add a batch of windows' statistics.

        Parameters
        ----------
        statistics : float32 ndarray of shape (n_windows, n_statistics, d_model)
            As :class:`~sklearn_astromer.nn.pooling.WindowPooling` returns them.
        sample_index : int ndarray of shape (n_windows,)
            The light curve of each window.
        """
        if self.pooling == "max":
            np.maximum.at(self.totals, sample_index, statistics)
        else:
            np.add.at(self.totals, sample_index, statistics.astype(np.float64))

    def layer_means(self, lengths):
        """Every layer's mean embedding (layer poolings).

        Parameters
        ----------
        lengths : int ndarray of shape (n_samples,)
            Observations per light curve.

        Returns
        -------
        float64 ndarray of shape (n_samples, n_layers + 1, d_model)
        """
        return self.totals / lengths.astype(np.float64)[:, None, None]

    def pooled(self, lengths, combine_layers=None):
        """One float32 vector per light curve.

        Parameters
        ----------
        lengths : int ndarray of shape (n_samples,)
            Observations per light curve.
        combine_layers : callable, optional
            ``"weighted_layers"``: maps the float64 layer means ``(n_samples,
            n_layers + 1, d_model)`` to ``(n_samples, d_model)``; default:
            their plain mean.

        Returns
        -------
        float32 ndarray of shape (n_samples, n_features)
        """
        if self.pooling == "max":
            return self.totals[:, 0]
        if self.pooling in LAYER_POOLINGS:
            means = self.layer_means(lengths)
            if self.pooling == "layers":
                return means.reshape(len(means), -1).astype(np.float32)
            combine = combine_layers or (lambda layer_means: layer_means.mean(axis=1))
            return np.asarray(combine(means)).astype(np.float32)
        counts = lengths.astype(np.float64)[:, None]
        means = self.totals[:, 0] / counts
        if self.pooling == "mean":
            return means.astype(np.float32)
        stds = np.sqrt(np.maximum(self.totals[:, 1] / counts - means**2, 0.0))
        return np.hstack([means, stds]).astype(np.float32)


def project(embeddings, projection):
    """Coordinates of pooled ``embeddings`` on fitted principal components (float32).

    Parameters
    ----------
    embeddings : ndarray of shape (n_samples, n_features)
    projection : dict
        ``"mean"`` (n_features,) and ``"components"`` (n_components, n_features).

    Returns
    -------
    float32 ndarray of shape (n_samples, n_components)
    """
    centred = embeddings.astype(np.float64) - projection["mean"]
    return (centred @ np.asarray(projection["components"]).T.astype(np.float64)).astype(
        np.float32)
