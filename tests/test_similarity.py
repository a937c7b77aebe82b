"""Cosine similarity search and class-centroid outlier scores."""

import numpy as np
import pytest

from sklearn_astromer.similarity import (
    class_centroid_outlier_scores,
    cosine_similarity_matrix,
    nearest_neighbors,
)


@pytest.fixture
def clusters():
    """Two tight clusters of 10 unit-ish vectors in 8-D, and their labels."""
    rng = np.random.default_rng(0)
    centres = np.eye(8)[:2] * 3
    embeddings = np.vstack([centre + 0.1 * rng.normal(size=(10, 8)) for centre in centres])
    return embeddings, np.repeat(["a", "b"], 10)


def test_similarity_is_the_cosine_and_ignores_scale(clusters):
    embeddings, _ = clusters
    similarities = cosine_similarity_matrix(embeddings, 5 * embeddings[:3])
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    np.testing.assert_allclose(similarities, unit[:3] @ unit.T)
    np.testing.assert_allclose(np.diag(similarities[:, :3]), 1.0)


def test_nearest_neighbors_stay_in_the_cluster_and_are_sorted(clusters):
    embeddings, labels = clusters
    indices, similarities = nearest_neighbors(embeddings, embeddings, k=5)
    assert indices.shape == similarities.shape == (20, 5)
    np.testing.assert_array_equal(indices[:, 0], np.arange(20))  # itself first
    assert (labels[indices] == labels[:, None]).all()
    assert (np.diff(similarities, axis=1) <= 0).all()


def test_nearest_neighbors_can_exclude_the_query_itself(clusters):
    embeddings, _ = clusters
    indices, _ = nearest_neighbors(embeddings, embeddings[[4, 12]], k=9, exclude=[4, 12])
    assert 4 not in indices[0] and 12 not in indices[1]
    assert set(indices[0]) == set(range(10)) - {4}
    one, _ = nearest_neighbors(embeddings, embeddings[0], k=1, exclude=[-1])
    assert one.tolist() == [[0]]


def test_nearest_neighbors_refuses_bad_k_and_shapes(clusters):
    embeddings, _ = clusters
    with pytest.raises(ValueError, match="k must be"):
        nearest_neighbors(embeddings, embeddings[:1], k=21)
    with pytest.raises(ValueError, match="features"):
        nearest_neighbors(embeddings, np.ones((1, 3)))
    with pytest.raises(ValueError, match="NaN"):
        nearest_neighbors(np.full((3, 8), np.nan), embeddings[:1], k=1)


def test_outlier_scores_flag_the_mislabelled_object(clusters):
    embeddings, labels = clusters
    labels = labels.copy()
    labels[3] = "b"  # an "a" object labelled "b"
    scores = class_centroid_outlier_scores(embeddings, labels)
    assert scores.shape == (20,) and np.argmax(scores) == 3
    assert (scores >= 0).all() and (scores <= 2).all()


def test_outlier_score_definition():
    embeddings = np.array([[1.0, 0.0], [0.0, 2.0], [5.0, 0.0]])
    scores = class_centroid_outlier_scores(embeddings, [0, 0, 1])
    centroid = np.array([1.0, 1.0]) / np.sqrt(2)  # mean of the unit vectors, normalised
    np.testing.assert_allclose(scores[:2], 1 - centroid @ np.eye(2))
    assert scores[2] == 0.0  # a class of one sits on its own centroid
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        class_centroid_outlier_scores(embeddings, [0, 1])


def test_works_on_multimodal_embeddings():
    from sklearn_astromer import MultimodalCLIPEmbedder
    from sklearn_astromer.datasets import make_multimodal

    X, y = make_multimodal(3, classes=["RRab", "Mira"], n_obs=(20, 40), random_state=0)
    embedder = MultimodalCLIPEmbedder(embed_dim=8, d_model=8, n_layers=1, n_heads=2, d_ff=8,
                                      spectrum_channels=(4, 4, 4, 4), metadata_hidden=8,
                                      max_epochs=0, random_state=0).fit(X)
    Z = embedder.transform(X)
    indices, _ = nearest_neighbors(Z, Z[:2], k=3)
    assert indices.shape == (2, 3)
    assert class_centroid_outlier_scores(Z, y).shape == (6,)
