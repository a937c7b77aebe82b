"""AstromerEmbedder on multi-band light curves: per-band and joint models, bands_, colours."""

import numpy as np
import pytest

from sklearn_astromer import AstromerEmbedder
from sklearn_astromer.datasets import make_light_curves
from tests.conftest import TINY_ASTROMER


@pytest.fixture(scope="module")
def survey():
    """A small simulated ZTF g/r survey: (L, 4) light curves, band codes 0 (g) and 1 (r)."""
    return make_light_curves(3, classes=["RRab", "EW", "Mira", "ROT"], survey="ztf",
                             bands=("g", "r"), n_obs=(40, 80), random_state=0)


PER_BAND = dict(TINY_ASTROMER, multiband="per_band")


@pytest.fixture(scope="module")
def fitted(survey):
    X, _ = survey
    return AstromerEmbedder(**PER_BAND, max_epochs=1, include_descriptors=True).fit(X)


def _per_band(X, band):
    return [curve[curve[:, 3] == band, :3] for curve in X]


def test_concatenated_bands_are_the_single_band_embeddings(survey, fitted):
    X, _ = survey
    Z = fitted.transform(X)
    np.testing.assert_array_equal(fitted.bands_, [0, 1])
    d = fitted.config_["d_model"]
    names = fitted.get_feature_names_out()
    assert Z.shape == (len(X), 2 * d + 5 + 2) and len(names) == Z.shape[1]
    assert names[0] == "astromerembedder0_band0" and names[-2:].tolist() == [
        "colour_0_1", "amplitude_ratio_0_1"]
    assert np.isfinite(Z).all()
    # A band's columns embed that band's observations alone, with the period the bands
    # share: the period input of the single-band path would see another period, so
    # compare with the period input's phases switched off by a model without it.
    plain = AstromerEmbedder(**PER_BAND, max_epochs=0, period_input=False).fit(X)
    for band in (0, 1):
        single = AstromerEmbedder(**TINY_ASTROMER, max_epochs=0, period_input=False).fit(
            _per_band(X, band))
        np.testing.assert_allclose(plain.transform(X)[:, band * d:(band + 1) * d],
                                   single.transform(_per_band(X, band)), atol=1e-5)


def test_a_missing_band_is_nan_in_concat_and_left_out_of_the_mean(survey, fitted):
    X, _ = survey
    lacking = [X[0][X[0][:, 3] == 0], *X[1:3]]
    d = fitted.config_["d_model"]
    Z = fitted.transform(lacking)
    assert np.isnan(Z[0, d:2 * d]).all() and np.isfinite(Z[0, :d]).all()
    assert np.isfinite(Z[1:]).all()
    mean = AstromerEmbedder(**{**PER_BAND, "band_pooling": "mean"}, max_epochs=0).fit(X)
    pooled = mean.transform(lacking)
    assert pooled.shape == (3, d) and np.isfinite(pooled).all()
    np.testing.assert_allclose(pooled[0], mean.set_params(band_pooling="concat")
                               .transform(lacking)[0, :d], atol=1e-6)


def test_bands_are_checked_and_saved(survey, fitted, tmp_path):
    X, _ = survey
    stranger = X[0].copy()
    stranger[:3, 3] = 7
    with pytest.raises(ValueError, match=r"Light curve\(s\) \[1\] have band code\(s\) \[7\]"):
        fitted.transform([X[1], stranger])
    with pytest.raises(ValueError, match="fitted on multi-band light curves"):
        fitted.transform(_per_band(X, 0))
    single = AstromerEmbedder(**TINY_ASTROMER, max_epochs=0).fit(_per_band(X, 0))
    with pytest.raises(ValueError, match="fit it on multi-band light curves"):
        single.transform(X)
    with pytest.raises(ValueError, match="takes single-band light curves"):
        AstromerEmbedder(**PER_BAND, fine_tune="supervised").fit(X, np.arange(len(X)) % 2)
    with pytest.raises(ValueError, match="fourth column"):
        fitted.reconstruct(X)
    fitted.save_pretrained(tmp_path / "multiband")
    loaded = AstromerEmbedder.from_pretrained(tmp_path / "multiband")
    np.testing.assert_array_equal(loaded.bands_, fitted.bands_)
    np.testing.assert_array_equal(loaded.transform(X), fitted.transform(X))


def test_published_weights_embed_multiband_light_curves(survey):
    X, _ = survey
    macho = AstromerEmbedder.from_pretrained("macho").fit(X)  # max_epochs=0: learns bands_
    Z = macho.transform(X)
    assert Z.shape == (len(X), 512) and np.isfinite(Z).all()
    alone = AstromerEmbedder.from_pretrained("macho").transform(_per_band(X, 1))
    np.testing.assert_allclose(Z[:, 256:], alone, atol=1e-4)


def test_a_joint_model_embeds_every_band_in_one_sequence(survey, tmp_path):
    X, y = survey
    joint = AstromerEmbedder(**TINY_ASTROMER, max_epochs=2, fine_tune="supervised",
                             fine_tune_epochs=1, head_epochs=3,
                             validation_fraction=None).fit(X, y)
    assert joint.config_["n_bands"] == 2 and joint._joint()
    Z = joint.transform(X)
    assert Z.shape == (len(X), TINY_ASTROMER["d_model"]) and np.isfinite(Z).all()
    assert set(joint.predict(X)) <= set(y)
    # The band embedding matters: the same observations labelled with the other band
    # embed differently.
    swapped = [np.column_stack([curve[:, :3], 1 - curve[:, 3]]) for curve in X]
    assert not np.allclose(joint.transform(swapped), Z)
    joint.save_pretrained(tmp_path / "joint")
    loaded = AstromerEmbedder.from_pretrained(tmp_path / "joint")
    np.testing.assert_array_equal(loaded.transform(X), Z)
    np.testing.assert_array_equal(loaded.predict_proba(X), joint.predict_proba(X))
    with pytest.raises(ValueError, match="multiband='per_band' cannot use it"):
        AstromerEmbedder(pretrained=tmp_path / "joint", multiband="per_band").fit(X)
    three = [np.column_stack([curve[:, :3], np.where(curve[:, 3] == 1, 2, 0)]) for curve in X]
    with pytest.raises(ValueError, match=r"embeds bands \[0, 1\]; these light curves have "
                                         r"bands \[0, 2\]"):
        AstromerEmbedder(pretrained=tmp_path / "joint").fit(three)


def test_published_weights_cannot_be_joint(survey):
    X, _ = survey
    with pytest.raises(ValueError, match="embed one band at a time"):
        AstromerEmbedder(pretrained="macho", multiband="joint").fit(X)


def test_the_bands_parameter(survey):
    X, _ = survey
    macho = AstromerEmbedder.from_pretrained("macho", bands=[1, 0])
    np.testing.assert_array_equal(macho.bands_, [0, 1])
    assert macho.transform(X).shape == (len(X), 512)
    wider = AstromerEmbedder(**PER_BAND, max_epochs=0, bands=[0, 1, 2]).fit(X)
    assert wider.transform(X).shape[1] == 3 * TINY_ASTROMER["d_model"]
    with pytest.raises(ValueError, match=r"band code\(s\) \[1\] that the model was not fitted"):
        AstromerEmbedder(**PER_BAND, max_epochs=0, bands=[0]).fit(X)
    with pytest.raises(ValueError, match="distinct non-negative integer band codes"):
        AstromerEmbedder(**PER_BAND, max_epochs=0, bands=[0, 0]).fit(X)


def test_a_joint_model_scores_multiband_light_curves(survey):
    X, _ = survey
    joint = AstromerEmbedder(**TINY_ASTROMER, max_epochs=2, validation_fraction=None).fit(X)
    score = joint.score(X)
    assert np.isfinite(score) and score < 0
    assert joint.score(X) == score  # a fixed mask seed
    per_band = AstromerEmbedder(**PER_BAND, max_epochs=0).fit(X)
    with pytest.raises(ValueError, match="fourth column"):
        per_band.score(X)


def test_one_period_search_per_call_for_a_joint_model_with_descriptors(survey, monkeypatch):
    import sklearn_astromer._prepared as prepared_module

    X, _ = survey
    joint = AstromerEmbedder(**TINY_ASTROMER, max_epochs=1, include_descriptors=True,
                             validation_fraction=None).fit(X)
    searched = []
    original = prepared_module.multiband_periods
    monkeypatch.setattr(prepared_module, "multiband_periods",
                        lambda curves, **kwargs: searched.append(len(curves))
                        or original(curves, **kwargs))
    joint.transform(X)
    assert searched == [len(X)]
