"""MultimodalCLIPEmbedder with AstroM3's photometry tower (the default) and with ASTROMER's."""

import numpy as np
import pytest
import torch

from sklearn_astromer import MultimodalCLIPEmbedder
from sklearn_astromer._validation import check_light_curves
from sklearn_astromer.datasets import make_multimodal
from sklearn_astromer.multimodal import _photometry_features
from sklearn_astromer.nn import InformerPhotometryTower, PhotometryTower

TINY = dict(embed_dim=16, d_model=8, n_layers=1, n_heads=2, d_ff=16, max_obs=24,
            spectrum_channels=(4, 4, 4, 4), metadata_hidden=16, batch_size=16, lr=1e-3,
            warmup_epochs=0, validation_fraction=None, random_state=0)


@pytest.fixture(scope="module")
def catalogue():
    """20 stars of 4 classes, a fifth of each modality missing; 15-40 observations."""
    return make_multimodal(5, classes=["RRab", "EW", "Mira", "DSCT"], missing_fraction=0.2,
                           n_obs=(15, 40), random_state=3)


@pytest.fixture(scope="module")
def fitted(catalogue):
    X, _ = catalogue
    return MultimodalCLIPEmbedder(**TINY, max_epochs=2).fit(X)


def test_default_tower_is_astrom3_with_its_published_sizes():
    embedder = MultimodalCLIPEmbedder()
    assert embedder.photometry_encoder == "astrom3"
    assert (embedder.lr, embedder.batch_size, embedder.embed_dim) == (3.9e-3, 512, 512)
    X, _ = make_multimodal(1, classes=["RRab", "EW"], n_obs=(10, 12), random_state=0)
    embedder.set_params(max_epochs=0, max_obs=20).fit(X)
    assert {key: embedder.config_[key] for key in ("d_model", "n_layers", "n_heads", "d_ff")} \
        == dict(d_model=128, n_layers=8, n_heads=4, d_ff=512)
    astromer = MultimodalCLIPEmbedder(photometry_encoder="astromer", max_epochs=0,
                                      max_obs=20).fit(X)
    assert astromer.config_["d_model"] == 256 and astromer.config_["n_layers"] == 2


def test_tower_output_and_embeddings(fitted, catalogue):
    X, _ = catalogue
    tower = fitted.net_.module_.towers["light_curve"]
    assert isinstance(tower, InformerPhotometryTower) and tower.output_dim == 24 * 8
    assert fitted.net_.module_.projections["light_curve"].in_features == 24 * 8
    embeddings = fitted.transform_modalities(X)["light_curve"]
    has_curve = X["light_curve"].notna().to_numpy()
    assert np.isnan(embeddings[~has_curve]).all()
    np.testing.assert_allclose(np.linalg.norm(embeddings[has_curve], axis=1), 1, atol=1e-5)
    assert np.isfinite(fitted.transform(X)).all()


def test_inference_sees_the_centre_crop_only(fitted, catalogue):
    X, _ = catalogue
    row = int(np.argmax([0 if c is None else len(c) for c in X["light_curve"]]))
    curve = X.loc[row, "light_curve"]
    start = (len(curve) - 24) // 2
    edited = X.loc[[row]].copy()
    changed = curve.copy()
    changed[:start, 1] += 1.0  # outside the centre window: only the statistics change
    edited.at[row, "light_curve"] = changed
    before = fitted.transform_modalities(X.loc[[row]])["light_curve"]
    after = fitted.transform_modalities(edited)["light_curve"]
    assert not np.allclose(before, after)  # amplitude, MAD, period... differ
    # and the same curve gives the same embedding alone or among others
    np.testing.assert_allclose(before[0], fitted.transform_modalities(X)["light_curve"][row],
                               atol=1e-5)


def test_auxiliary_values_are_computed_once_per_light_curve(catalogue, monkeypatch):
    X, y = catalogue
    seen = []

    def counting(light_curves, **kwargs):
        seen.append(len(light_curves))
        return periods(light_curves, **kwargs)

    periods = _photometry_features.lomb_scargle_periods
    monkeypatch.setattr(_photometry_features, "lomb_scargle_periods", counting)
    n_curves = int(X["light_curve"].notna().sum())
    embedder = MultimodalCLIPEmbedder(**{**TINY, "validation_fraction": 0.25}, max_epochs=3,
                                      fine_tune="supervised", fine_tune_epochs=2).fit(X, y)
    assert seen == [n_curves]  # three CLIP epochs, validation, fine-tuning: one pass
    embedder.transform(X)
    embedder.predict(X)
    assert seen == [n_curves] * 3


def test_auxiliary_values_are_z_scored_with_the_training_set(fitted, catalogue):
    X, _ = catalogue
    mean, scale = (np.asarray(v) for v in fitted.layout_["photometry_statistics"]["light_curve"])
    assert mean.shape == scale.shape == (4,) and (scale > 0).all()
    raw = _photometry_features.astrom3_light_curves(
        check_light_curves(list(X["light_curve"].dropna())))
    np.testing.assert_allclose(mean, np.nanmean(raw.auxiliary[:, :4], axis=0))


def test_save_and_load_round_trip(fitted, catalogue, tmp_path):
    X, _ = catalogue
    fitted.save_pretrained(tmp_path / "model")
    loaded = MultimodalCLIPEmbedder.from_pretrained(tmp_path / "model")
    assert loaded.photometry_encoder == "astrom3" and loaded.metadata_transform == "astrom3"
    assert loaded.layout_["photometry_statistics"] == fitted.layout_["photometry_statistics"]
    np.testing.assert_array_equal(loaded.transform(X), fitted.transform(X))
    # the photometry tower alone, fine-tuned on labels from the saved weights
    rows = X["light_curve"].notna()
    alone = MultimodalCLIPEmbedder(pretrained=tmp_path / "model", spectrum_column=None,
                                   metadata_columns=[], max_epochs=0).fit(X[rows])
    assert isinstance(alone.net_.module_.towers["light_curve"], InformerPhotometryTower)
    np.testing.assert_allclose(alone.transform(X[rows]),
                               fitted.transform_modalities(X[rows])["light_curve"], atol=1e-6)


def test_missing_modalities_and_light_curves_alone(fitted, catalogue):
    X, _ = catalogue
    no_curves = X[X["spectrum"].notna() | X["parallax"].notna()].assign(light_curve=None)
    fused = fitted.transform(no_curves)
    assert np.isfinite(fused).all()
    np.testing.assert_allclose(
        fused, np.nanmean(np.stack([fitted.transform_modalities(no_curves)[name]
                                    for name in ("spectrum", "metadata")], 1), axis=1),
        atol=1e-6)
    curves = list(X["light_curve"].dropna())
    np.testing.assert_allclose(fitted.transform(curves),
                               fitted.transform_modalities(X)["light_curve"][
                                   X["light_curve"].notna()], atol=1e-6)
    supervised = MultimodalCLIPEmbedder(**TINY, max_epochs=0, fine_tune="supervised",
                                        fine_tune_epochs=1).fit(curves, np.arange(len(curves)) % 2)
    assert supervised.predict(curves).shape == (len(curves),)


def test_astromer_tower_still_available(catalogue):
    X, _ = catalogue
    embedder = MultimodalCLIPEmbedder(**TINY, photometry_encoder="astromer", max_epochs=1).fit(X)
    assert isinstance(embedder.net_.module_.towers["light_curve"], PhotometryTower)
    assert embedder.layout_["photometry_statistics"] == {}
    assert np.isfinite(embedder.transform(X)).all()


def test_warm_up_then_plateau(catalogue):
    X, _ = catalogue
    embedder = MultimodalCLIPEmbedder(**{**TINY, "warmup_epochs": 4, "lr": 1e-2},
                                      max_epochs=6).fit(X)
    rates = embedder.net_.history[:, "lr"]
    np.testing.assert_allclose(rates[:5], 1e-2 * (1e-5 + (1 - 1e-5) * np.arange(5) / 4))
    assert rates[5] == pytest.approx(1e-2)
    assert torch.isfinite(torch.tensor(embedder.net_.history[:, "train_loss"])).all()
