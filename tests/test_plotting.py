"""Figures render headless and show what they claim (no image comparison)."""

import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sklearn_astromer import AstromerEmbedder  # noqa: E402
from sklearn_astromer.plotting import (  # noqa: E402
    attention_weights,
    plot_attention,
    plot_embedding_map,
    plot_reconstruction,
    plot_training_history,
)


@pytest.fixture(scope="module")
def fitted():
    from tests.conftest import TINY_ASTROMER, make_sinusoids

    X, y = make_sinusoids()
    embedder = AstromerEmbedder(**TINY_ASTROMER, max_epochs=3, validation_fraction=0.25).fit(X)
    return embedder, X, y


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_training_history_shows_both_losses_per_epoch(fitted):
    embedder, _, _ = fitted
    figure = plot_training_history(embedder)
    ax = figure.axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels[:2] == ["training", "validation"] and labels[2].startswith("best")
    train = ax.get_lines()[0]
    assert list(train.get_xdata()) == [1, 2, 3]
    np.testing.assert_allclose(train.get_ydata(), embedder.net_.history[:, "train_loss"])
    assert "RMSE" in ax.get_ylabel()


def test_training_history_needs_training(fitted):
    _, X, _ = fitted
    frozen = AstromerEmbedder(d_model=16, n_layers=1, n_heads=2, d_ff=16, max_epochs=0).fit(X)
    with pytest.raises(ValueError, match="no training history"):
        plot_training_history(frozen)


def test_reconstruction_marks_masked_points_and_their_reconstruction(fitted):
    embedder, X, _ = fitted
    light_curve = X[4]
    figure = plot_reconstruction(embedder, light_curve, random_state=0)
    ax = figure.axes[0]
    masked, reconstructed = [line for line in ax.get_lines()
                             if line.get_label() in ("masked (scored)", "reconstructed")]
    n_masked = len(masked.get_xdata())
    assert n_masked == round(0.5 * len(light_curve))  # mask_frac of the observations
    assert set(masked.get_xdata()) <= set(light_curve[:, 0])
    np.testing.assert_array_equal(masked.get_xdata(), reconstructed.get_xdata())
    assert np.isfinite(reconstructed.get_ydata()).all()
    assert ax.yaxis_inverted()
    # Same seed, same mask.
    again = plot_reconstruction(embedder, light_curve, random_state=0).axes[0]
    np.testing.assert_array_equal(again.get_lines()[-1].get_ydata(), reconstructed.get_ydata())


def test_attention_map_is_one_window_of_row_normalised_weights(fitted):
    embedder, X, _ = fitted
    light_curve = max(X, key=len)  # longer than max_obs=32: the first window is shown
    weights, times = attention_weights(embedder, light_curve)
    assert weights.shape == (2, 32, 32) and len(times) == 32
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-5)
    figure = plot_attention(embedder, light_curve, head=1)
    image = figure.axes[0].get_images()[0]
    np.testing.assert_allclose(image.get_array(), weights[1], atol=1e-6)
    assert len(figure.axes) == 2  # the map and its colour bar
    with pytest.raises(ValueError, match="out of range"):
        plot_attention(embedder, light_curve, layer=3)


def test_attention_of_the_paper_variant_leaves_out_padding(fitted):
    _, X, _ = fitted
    paper = AstromerEmbedder(d_model=16, n_layers=2, n_heads=2, d_ff=16, max_obs=32,
                             variant="paper", max_epochs=0, random_state=0).fit(X)
    short = min(X, key=len)
    weights, _ = attention_weights(paper, short, layer=0)
    assert weights.shape == (2, len(short), len(short))
    assert "mean of 2 heads" in plot_attention(paper, short).axes[0].get_title()


def test_embedding_map_has_one_group_per_class(fitted):
    embedder, X, y = fitted
    labels = np.where(y == 1, "fast", "slow")
    figure = plot_embedding_map(embedder.transform(X), labels)
    ax = figure.axes[0]
    assert len(ax.collections) == 2
    assert sorted(text.get_text() for text in ax.get_legend().get_texts()) == ["fast", "slow"]
    assert sum(len(group.get_offsets()) for group in ax.collections) == len(X)
    assert ax.get_xlabel().startswith("PC1")


def test_embedding_map_draws_on_a_given_axes_and_without_labels(fitted):
    embedder, X, _ = fitted
    figure, (left, right) = plt.subplots(1, 2)
    assert plot_embedding_map(embedder.transform(X), ax=right) is figure
    assert len(right.collections) == 1 and not left.collections


def test_embedding_map_errors():
    embeddings = np.random.default_rng(0).normal(size=(10, 4))
    with pytest.raises(ValueError, match="method"):
        plot_embedding_map(embeddings, method="tsne")
    with pytest.raises(ValueError, match="labels"):
        plot_embedding_map(embeddings, labels=[0, 1])
    try:
        import umap  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="umap-learn"):
            plot_embedding_map(embeddings, method="umap")


def test_missing_matplotlib_says_how_to_install(fitted, monkeypatch):
    embedder, _, _ = fitted
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"sklearn-astromer\[plot\]"):
        plot_training_history(embedder)
