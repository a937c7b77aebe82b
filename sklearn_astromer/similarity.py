"""Similarity search and outlier scores on embeddings (cosine geometry, as AstroM3).

Contrastive embeddings live on the unit sphere: objects are compared by the
cosine of the angle between their vectors. These functions take any
embedding matrix (from :class:`~sklearn_astromer.MultimodalCLIPEmbedder`,
:class:`~sklearn_astromer.AstromerEmbedder` or elsewhere); rows are
L2-normalised internally, so fused (averaged) embeddings work as they are.
"""

import numpy as np
from sklearn.utils import check_array, check_consistent_length
from sklearn.utils.validation import column_or_1d

__all__ = ["class_centroid_outlier_scores", "cosine_similarity_matrix", "nearest_neighbors"]


def _unit_rows(embeddings, name):
    embeddings = check_array(embeddings, dtype=np.float64, input_name=name)
    norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
    # A zero vector has no direction: it is similar to nothing (cosine 0).
    return np.divide(embeddings, norms, out=np.zeros_like(embeddings), where=norms > 0)


def cosine_similarity_matrix(embeddings, query):
    """Cosine similarity of every query row with every embedding row.

    Parameters
    ----------
    embeddings : array-like of shape (n_samples, n_features)
    query : array-like of shape (n_queries, n_features) or (n_features,)

    Returns
    -------
    ndarray of shape (n_queries, n_samples), float64 in [-1, 1]
    """
    reference = _unit_rows(embeddings, "embeddings")
    query = _unit_rows(np.atleast_2d(query), "query")
    if query.shape[1] != reference.shape[1]:
        raise ValueError(
            f"query has {query.shape[1]} features, embeddings {reference.shape[1]}."
        )
    return np.clip(query @ reference.T, -1.0, 1.0)


def nearest_neighbors(embeddings, query, k=5, *, exclude=None):
    """The ``k`` most similar embeddings (cosine) to each query.

    Parameters
    ----------
    embeddings : array-like of shape (n_samples, n_features)
        The catalogue searched (finite values; e.g. ``transform`` output).
    query : array-like of shape (n_queries, n_features) or (n_features,)
        Query vectors, e.g. ``embeddings[[i]]`` for the objects most like
        object ``i`` (which is then its own first neighbour; see ``exclude``).
    k : int, default=5
        Neighbours per query (at most ``n_samples``, fewer with ``exclude``).
    exclude : array-like of int of shape (n_queries,), optional
        For each query, a row of ``embeddings`` to leave out (typically the
        query's own row); -1 excludes nothing.

    Returns
    -------
    indices : int64 ndarray of shape (n_queries, k)
        Rows of ``embeddings``, most similar first (ties by row order).
    similarities : float64 ndarray of shape (n_queries, k)
        Their cosine similarities to the query.

    Examples
    --------
    >>> import numpy as np
    >>> embeddings = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
    >>> indices, similarities = nearest_neighbors(embeddings, embeddings[[0]], k=2, exclude=[0])
    >>> indices.tolist()
    [[1, 2]]
    """
    similarities = cosine_similarity_matrix(embeddings, query)
    n_queries, n_samples = similarities.shape
    if exclude is not None:
        exclude = column_or_1d(np.asarray(exclude, dtype=np.int64))
        if len(exclude) != n_queries:
            raise ValueError(f"exclude has {len(exclude)} entries for {n_queries} queries.")
        rows = np.flatnonzero(exclude >= 0)
        similarities[rows, exclude[rows]] = -np.inf
    available = n_samples - (0 if exclude is None else int((exclude >= 0).any()))
    if not 1 <= k <= available:
        raise ValueError(f"k must be in [1, {available}], got {k}.")
    order = np.argsort(-similarities, axis=1, kind="stable")[:, :k]
    return order.astype(np.int64), np.take_along_axis(similarities, order, axis=1)


def class_centroid_outlier_scores(embeddings, labels):
    """How far each object sits from its class: ``1 - cos(embedding, class centroid)``.

    AstroM3's way of finding misclassified or peculiar objects: the centroid
    of a class is the mean of its members' L2-normalised embeddings (the
    object itself included), and an object far from its own class's centroid
    is a candidate for a wrong label or an unusual member.

    Parameters
    ----------
    embeddings : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)
        Class of each object (any hashable values).

    Returns
    -------
    scores : float64 ndarray of shape (n_samples,)
        In [0, 2]: 0 on the centroid's direction, 1 orthogonal to it, 2
        opposite. Higher is more anomalous. A class of one object scores 0.

    Examples
    --------
    >>> import numpy as np
    >>> embeddings = np.array([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0], [0.0, 1.0]])
    >>> class_centroid_outlier_scores(embeddings, ["a", "a", "b", "b"]).round(3).tolist()
    [0.001, 0.001, 0.0, 0.0]
    """
    unit = _unit_rows(embeddings, "embeddings")
    labels = column_or_1d(labels)
    check_consistent_length(unit, labels)
    _, inverse = np.unique(labels, return_inverse=True)
    sums = np.zeros((inverse.max() + 1, unit.shape[1]))
    np.add.at(sums, inverse, unit)
    centroids = _unit_rows(sums, "centroids")
    return np.clip(1.0 - np.einsum("ij,ij->i", unit, centroids[inverse]), 0.0, 2.0)
