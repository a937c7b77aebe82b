"""transform's compact outputs: principal components of the embedding, the descriptors."""

import numpy as np
import pytest

from sklearn_astromer import AstromerEmbedder
from sklearn_astromer.nn.period import DESCRIPTOR_NAMES


@pytest.fixture
def compact(sinusoids, tiny_params):
    X, _ = sinusoids
    return AstromerEmbedder(**tiny_params, max_epochs=1, n_components=4,
                            include_descriptors=True).fit(X)


def test_components_and_descriptors_are_the_columns(compact, sinusoids, tiny_params):
    X, _ = sinusoids
    Z = compact.transform(X)
    assert Z.shape == (len(X), 9) and Z.dtype == np.float32 and np.isfinite(Z).all()
    names = list(compact.get_feature_names_out())
    assert names[:4] == [f"astromerembedder{i}" for i in range(4)]
    assert names[4:] == list(DESCRIPTOR_NAMES)
    # the components are those of the fitted model's own pooled embeddings
    plain = AstromerEmbedder(**tiny_params, max_epochs=1).fit(X).transform(X)
    centred = plain - plain.mean(axis=0)
    variance = np.var(Z[:, :4], axis=0)
    assert np.all(np.diff(variance) <= 1e-6)  # decreasing, as principal components are
    assert variance.sum() <= np.var(centred, axis=0).sum() + 1e-4
    expected = np.where(np.arange(len(X)) % 2, np.log10(0.7), np.log10(13.0))
    assert np.mean(np.abs(Z[:, 4] - expected) < 0.02) > 0.7  # log10 period, short curves alias


def test_descriptors_are_whole_curve_statistics(compact, sinusoids):
    X, _ = sinusoids
    descriptors = compact.transform(X)[:, 4:]
    spreads = np.log10([np.std(curve[:, 1]) for curve in X])
    np.testing.assert_allclose(descriptors[:, 3], spreads, atol=1e-5)
    np.testing.assert_allclose(descriptors[:, 4], np.log10(0.05), atol=1e-5)


def test_components_need_the_pooling_they_were_fitted_for(compact, sinusoids):
    X, _ = sinusoids
    with pytest.raises(ValueError, match="fitted for pooling='mean'"):
        compact.set_params(pooling="max").transform(X)


def test_components_are_capped_by_the_data(sinusoids, tiny_params):
    X, _ = sinusoids
    embedder = AstromerEmbedder(**tiny_params, max_epochs=0, n_components=50).fit(X[:7])
    assert embedder.transform(X).shape == (len(X), 7)


def test_compact_outputs_save_and_load(compact, sinusoids, tmp_path):
    X, _ = sinusoids
    compact.save_pretrained(tmp_path / "model")
    loaded = AstromerEmbedder.from_pretrained(tmp_path / "model")
    assert loaded.n_components == 4 and loaded.include_descriptors
    np.testing.assert_allclose(loaded.transform(X), compact.transform(X), atol=1e-5)
    refitted = AstromerEmbedder(pretrained=tmp_path / "model", max_epochs=0,
                                n_components=2).fit(X)
    assert refitted.transform(X).shape == (len(X), 2)


def test_components_cannot_come_from_a_model_saved_without_them(sinusoids, tiny_params,
                                                                tmp_path):
    X, _ = sinusoids
    AstromerEmbedder(**tiny_params, max_epochs=0).fit(X).save_pretrained(tmp_path / "plain")
    with pytest.raises(ValueError, match="saved without output components"):
        AstromerEmbedder.from_pretrained(tmp_path / "plain", n_components=3)


def test_pandas_output_names_the_columns(compact, sinusoids):
    pytest.importorskip("pandas")
    X, _ = sinusoids
    frame = compact.set_output(transform="pandas").transform(X)
    assert list(frame.columns[-2:]) == ["log10_std", "log10_median_error"]
