"""No silent NaN: light curves a model cannot take raise errors naming them, in fit and after."""

import re
import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError

from sklearn_astromer import AstromerEmbedder
from tests.conftest import TINY_ASTROMER, make_sinusoids


def _times_magnitudes(curve, factor=1.0, offset=0.0):
    """``curve`` with magnitudes multiplied by ``factor`` and times shifted by ``offset``."""
    return curve * [1.0, factor, 1.0] + [offset, 0.0, 0.0]


@pytest.fixture(scope="module")
def curves():
    return make_sinusoids(n_samples=12, min_obs=20, max_obs=60)


@pytest.fixture(scope="module")
def scaled_model(curves):
    return AstromerEmbedder(**TINY_ASTROMER, max_epochs=1).fit(curves[0])


@pytest.fixture(scope="module")
def unscaled_model(curves):
    return AstromerEmbedder(**TINY_ASTROMER, max_epochs=1, magnitude_scaling="none").fit(
        curves[0])


@pytest.mark.parametrize("factor", [1e-300, 1e20, 1e300])
def test_scaled_model_takes_magnitudes_of_any_size(scaled_model, curves, factor):
    X = [curves[0][0], _times_magnitudes(curves[0][1], factor)]
    assert np.isfinite(scaled_model.transform(X)).all()
    assert all(np.isfinite(rows).all() for rows in scaled_model.embed_observations(X))
    reconstruction = scaled_model.reconstruct(X)[1]
    assert np.isfinite(reconstruction).all()
    assert np.abs(reconstruction).max() < 100 * factor * np.abs(X[1][:, 1] / factor).max()
    score = scaled_model.score(X)
    assert np.isfinite(score) and score < 0


def test_repeated_times_at_the_largest_magnitude_stay_finite(scaled_model, curves):
    curve = curves[0][0].copy()
    curve[1, 0] = curve[0, 0]
    curve[:2, 1] = 1.7e308  # once averaged, to inf
    assert np.isfinite(scaled_model.transform([curve])).all()
    assert np.isfinite(scaled_model.embed_observations([curve])[0]).all()
    # Reconstructions of such a spread may pass 1.8e308, in the input's units.
    try:
        reconstruction = scaled_model.reconstruct([curve])[0]
    except ValueError as error:
        assert re.search(r"\[0\] give non-finite reconstructions.*float64", str(error))
    else:
        assert np.isfinite(reconstruction).all()


def test_scaled_model_scores_in_the_input_magnitudes(scaled_model, curves):
    X = curves[0][:4]
    score = scaled_model.score(X)
    # The score of magnitudes x 1e20 is 1e20 times as large (descriptors aside: same windows).
    scaled_score = scaled_model.score([_times_magnitudes(curve, 1e20) for curve in X])
    assert 1e19 < scaled_score / score < 1e21


@pytest.mark.parametrize("method", ["transform", "embed_observations", "reconstruct", "score"])
def test_unscaled_model_names_the_light_curves_that_overflow(unscaled_model, curves, method):
    X = [curves[0][0], _times_magnitudes(curves[0][1], 1e25), curves[0][2]]
    with pytest.raises(ValueError, match=r"Light curve\(s\) \[1\] give non-finite .*magnitude "
                                         r"range up to [0-9.]+e\+25.*magnitude_scaling='std'"):
        getattr(unscaled_model, method)(X)


def test_transform_names_light_curves_by_their_index_in_the_whole_input(unscaled_model, curves,
                                                                     monkeypatch):
    from sklearn_astromer.astromer import _estimator

    monkeypatch.setattr(_estimator, "TRANSFORM_CHUNK_SIZE", 2)
    X = list(curves[0][:5]) + [_times_magnitudes(curves[0][5], 1e25)]
    with pytest.raises(ValueError, match=r"Light curve\(s\) \[5\]"):
        unscaled_model.transform(X)


def test_published_weights_refuse_what_overflows_and_warn_about_jd(curves):
    embedder = AstromerEmbedder.from_pretrained("macho", device="cpu")
    curve = curves[0][0]
    with pytest.raises(ValueError, match=r"\[0\] give non-finite embeddings"):
        embedder.transform([_times_magnitudes(curve, 1e18)])
    with pytest.raises(ValueError, match=r"\[0\] have times .*float32 sum overflows"):
        embedder.transform([_times_magnitudes(curve, offset=3.4e38)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mjd = embedder.transform([curve])
    with pytest.warns(UserWarning, match=r"\[0\] have times of 131072 days or more"):
        jd = embedder.transform([_times_magnitudes(curve, offset=2400000.5)])
    assert np.isfinite(jd).all() and np.isfinite(mjd).all()


@pytest.mark.parametrize("scaling", ["none", "std"])
def test_huge_spans_are_refused_before_training(curves, tiny_params, scaling):
    X = [curves[0][0], curves[0][1] * [1e30, 1.0, 1.0]]
    embedder = AstromerEmbedder(**tiny_params, max_epochs=1, magnitude_scaling=scaling)
    with pytest.raises(ValueError, match=r"\[1\] span more than 1e\+30 days"):
        embedder.fit(X)
    assert not hasattr(embedder, "net_") and not hasattr(embedder, "config_")


def test_one_overflowing_light_curve_stops_fit_and_leaves_it_unfitted(curves, tiny_params):
    curve = curves[0][0]
    X = [curve, curve + [0.0, 1.0, 0.0], _times_magnitudes(curve, 1e20)]
    embedder = AstromerEmbedder(**tiny_params, max_epochs=2, magnitude_scaling="none",
                                validation_fraction=None).fit(X[:2])
    with pytest.raises(ValueError, match=r"non-finite training loss on the batch with light "
                                         r"curve\(s\) \[2\]"):
        embedder.fit(X)
    with pytest.raises(NotFittedError):
        embedder.transform(X[:1])
    # The same light curves train a model that scales magnitudes.
    scaled = AstromerEmbedder(**tiny_params, max_epochs=2, validation_fraction=None).fit(X)
    assert all(torch.isfinite(p).all() for p in scaled.net_.module_.parameters())
    assert np.isfinite(scaled.transform(X)).all()


def test_non_finite_validation_loss_stops_fit(curves, tiny_params):
    curve = curves[0][0]
    X = [curve + [0.0, shift, 0.0] for shift in range(5)] + [_times_magnitudes(curve, 1e20)]
    embedder = AstromerEmbedder(**tiny_params, max_epochs=2, magnitude_scaling="none",
                                validation_fraction=0.5)
    with pytest.raises(ValueError, match=r"non-finite (training|validation) loss.*\[5\]"):
        embedder.fit(X)
    assert not hasattr(embedder, "net_")


def test_supervised_fine_tuning_stops_at_a_non_finite_loss(curves, tiny_params):
    X, y = curves
    X = list(X) + [_times_magnitudes(X[0], 1e20)]
    y = list(y) + [0]
    embedder = AstromerEmbedder(**tiny_params, max_epochs=0, magnitude_scaling="none",
                                fine_tune="supervised", fine_tune_epochs=2,
                                validation_fraction=None)
    with pytest.raises(ValueError, match=r"\[12\] give non-finite pooled layers"):
        embedder.fit(X, y)
    assert not hasattr(embedder, "classifier_net_") and not hasattr(embedder, "classes_")
    embedder.fit(X[:-1], y[:-1])
    with pytest.raises(ValueError, match=r"\[1\] give non-finite class logits"):
        embedder.predict_proba([X[0], X[-1]])


def test_non_finite_gradients_stop_training(scaled_model):
    net = scaled_model.net_
    parameter = next(net.module_.parameters())
    parameter.grad = torch.full_like(parameter, torch.nan)
    batch = ({}, {"sample_index": torch.tensor([3, 7, 3])})
    with pytest.raises(ValueError, match=r"in epoch \d+: non-finite gradients on the batch "
                                         r"with light curve\(s\) \[3, 7\]"):
        net.on_grad_computed(net, list(net.module_.named_parameters()), batch=batch,
                             training=True)
    parameter.grad = torch.zeros_like(parameter)
    net.on_grad_computed(net, list(net.module_.named_parameters()), batch=batch, training=True)
    parameter.grad = None
