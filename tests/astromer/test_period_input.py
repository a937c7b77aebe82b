"""The period input and the new time encodings, through the estimator."""

import numpy as np
import pytest

import sklearn_astromer._prepared as prepared_module
from sklearn_astromer import AstromerEmbedder


@pytest.mark.parametrize("time_encoding", ["paper", "log_periods", "learnable"])
@pytest.mark.parametrize("period_input", [True, False])
def test_every_encoding_trains_embeds_and_reloads(sinusoids, tiny_params, tmp_path,
                                                  time_encoding, period_input):
    X, _ = sinusoids
    embedder = AstromerEmbedder(**tiny_params, max_epochs=1, time_encoding=time_encoding,
                                period_input=period_input).fit(X)
    Z = embedder.transform(X)
    assert Z.shape == (len(X), 16) and np.isfinite(Z).all()
    embedder.save_pretrained(tmp_path / "model")
    loaded = AstromerEmbedder.from_pretrained(tmp_path / "model")
    assert loaded.config_["time_encoding"] == time_encoding
    assert loaded.config_["period_input"] is period_input
    np.testing.assert_allclose(loaded.transform(X), Z, atol=1e-5)


def test_periods_are_searched_once_per_light_curve_and_call(sinusoids, tiny_params,
                                                            monkeypatch):
    X, _ = sinusoids
    searched = []
    original = prepared_module.lomb_scargle_periods

    def counting(light_curves, **kwargs):
        searched.append(len(light_curves))
        return original(light_curves, **kwargs)

    monkeypatch.setattr(prepared_module, "lomb_scargle_periods", counting)
    # Pre-training, the head's pooled layers, fine-tuning, its validation
    # curves, the output components: one search of the training curves.
    embedder = AstromerEmbedder(**tiny_params, max_epochs=3, fine_tune="supervised",
                                fine_tune_epochs=2, n_components=2,
                                include_descriptors=True).fit(X, np.arange(len(X)) % 2)
    assert searched == [len(X)]
    # Embeddings and descriptors of one transform: one search, again nothing cached
    # between calls.
    embedder.transform(X[:7])
    embedder.transform(X[:7])
    assert searched == [len(X), 7, 7]


def test_period_input_sees_the_period(tiny_params):
    rng = np.random.default_rng(0)
    times = np.sort(rng.uniform(0, 300, 150))
    curves = [np.column_stack([times, 15 + 0.3 * np.sin(2 * np.pi * times / period),
                               np.full(150, 0.02)]) for period in (0.31, 0.62, 5.0)]
    embedder = AstromerEmbedder(**tiny_params, max_epochs=0).fit(curves)
    Z = embedder.transform(curves)
    assert not np.allclose(Z[0], Z[1]) and not np.allclose(Z[1], Z[2])


def test_published_weights_take_a_period_input_that_starts_silent(tmp_path):
    rng = np.random.default_rng(1)
    times = np.sort(rng.uniform(50000, 50300, 120))
    curves = [np.column_stack([times, 15 + 0.3 * np.sin(2 * np.pi * times / p),
                               np.full(120, 0.02)]) for p in (0.4, 3.0)]
    frozen = AstromerEmbedder.from_pretrained("macho")
    extended = AstromerEmbedder(pretrained="macho", period_input=True, max_epochs=0).fit(curves)
    assert extended.config_["period_input"] and not frozen.config_["period_input"]
    np.testing.assert_allclose(extended.transform(curves), frozen.transform(curves), atol=1e-5)
    extended.save_pretrained(tmp_path / "extended")
    with pytest.raises(ValueError, match="period_input=False cannot remove it"):
        AstromerEmbedder(pretrained=tmp_path / "extended", period_input=False).fit(curves)
    reloaded = AstromerEmbedder(pretrained=tmp_path / "extended", max_epochs=0).fit(curves)
    assert reloaded.config_["period_input"]
