"""Fuzzing light-curve inputs: every call works with finite outputs, or refuses with an error.

Random ragged light curves (NaN and infinite points, unsorted and repeated
times, empty and one-point curves, magnitudes from 1e-300 to 1e300, times up
to 1e300, two or three columns), dense arrays and single curves passed bare
go through ``fit``, ``transform``, ``embed_observations``, ``reconstruct`` and
``score`` of tiny models in the three numerical set-ups (magnitudes scaled per
window, trained with uncertainty weights; unscaled; the paper variant's float32
centring). Whatever comes out
must be a ``ValueError``/``TypeError``, or outputs that are finite, with row
``i`` for input ``i`` and, per observation, one row per input observation
(NaN exactly where an observation was dropped).
"""

import re
import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.base import clone

from sklearn_astromer import AstromerEmbedder
from tests.conftest import make_sinusoids

TINY = dict(d_model=8, n_layers=1, n_heads=2, d_ff=8, max_obs=16, max_epochs=1,
            batch_size=16, random_state=0, device="cpu")
SETUPS = {
    "scaled": dict(loss_weighting="uncertainty"),
    "unscaled": dict(magnitude_scaling="none"),
    "paper": dict(variant="paper", time_encoding="paper", period_input=False,
                  magnitude_scaling="none"),
}
FUZZ = settings(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# Ordinary values (repeated, so that about half the draws are ordinary) and extremes.
TIME_OFFSETS = [5e4] * 4 + [0.0, 2400000.5, -1e5, 1e12, 1e30, 3.4e38, 1e300, -1e300]
TIME_SCALES = [300.0] * 4 + [0.0, 1e-6, 1.0, 1e29, 1e35]
MAGNITUDE_SCALES = [0.5] * 4 + [0.0, 1e-300, 1e-12, 1e18, 1e20, 1e300]
ODD_VALUES = st.one_of(st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.7e308]),
                       st.floats(allow_nan=True, allow_infinity=True))


@pytest.fixture(scope="module")
def models():
    """The tiny models, fitted once on ordinary light curves."""
    X, _ = make_sinusoids(n_samples=8, min_obs=5, max_obs=40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {name: AstromerEmbedder(**TINY, **options).fit(X)
                for name, options in SETUPS.items()}


@st.composite
def light_curves(draw):
    """One ``(n, 2|3)`` light curve: structured values, then a few odd cells."""
    n = draw(st.integers(1, 24)) if draw(st.integers(0, 9)) else 0
    unit = arrays(np.float64, n, elements=st.floats(-1, 1))
    times = draw(st.sampled_from(TIME_OFFSETS)) + draw(st.sampled_from(TIME_SCALES)) * draw(unit)
    if draw(st.booleans()):
        times = np.round(times, 1)  # repeated times
    if draw(st.booleans()):
        times = np.sort(times)
    magnitudes = (draw(st.sampled_from([0.0, 15.0, -1e300]))
                  + draw(st.sampled_from(MAGNITUDE_SCALES)) * draw(unit))
    errors = np.abs(draw(unit)) * draw(st.sampled_from([0.0, 1e-300, 0.05, 1e300]))
    curve = np.column_stack([times, magnitudes, errors])[:, :draw(st.sampled_from([2, 3]))]
    for _ in range(draw(st.integers(0, 3)) if curve.size else 0):
        row, column = draw(st.integers(0, n - 1)), draw(st.integers(0, curve.shape[1] - 1))
        curve[row, column] = draw(ODD_VALUES)
    return curve


dense_arrays = arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 12)),
                      elements=st.one_of(st.floats(-30, 30), ODD_VALUES))
lists_of_light_curves = st.lists(light_curves(), min_size=1, max_size=4)


@st.composite
def inputs(draw):
    """Mostly lists of light curves; also dense arrays, and one light curve passed bare."""
    kind = draw(st.sampled_from(["list", "list", "dense", "bare"]))
    event(f"input: {kind}")
    if kind == "list":
        return draw(lists_of_light_curves)
    return draw(dense_arrays if kind == "dense" else light_curves())


def _input_rows(X):
    """Per light curve of ``X``: a boolean per input observation, True where it is kept."""
    if isinstance(X, np.ndarray):  # dense: one light curve per row, one observation per cell
        return list(np.isfinite(X))
    return [np.isfinite(curve).all(axis=1) for curve in X]


def _call(method, X):
    """``method(X)``, or None when it refuses with a ValueError/TypeError."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = method(X)
    except (ValueError, TypeError) as error:
        problem = re.sub(r"\[[^\]]*\]|\([^)]*\)|[0-9.e+-]{3,}", "", str(error))
        event(f"refused: {' '.join(problem.split()[:8])}")
        return None
    event("accepted")
    return result


def _check_outputs(embedder, name, X, result):
    """Finite outputs, row i for input i, one row per input observation."""
    kept = _input_rows(X)
    if name == "score":
        assert np.isfinite(result) and result <= 0
    elif name == "transform":
        assert result.shape == (len(kept), embedder._n_features_out)
        assert np.isfinite(result).all()
        alone = _call(embedder.transform, X[-1:])  # row i is input i, whatever its company
        assert alone is not None
        np.testing.assert_allclose(alone[0], result[-1], rtol=1e-4, atol=1e-4)
    else:
        assert len(result) == len(kept)
        for rows, observed in zip(result, kept):
            assert len(rows) == len(observed)
            assert np.isfinite(rows[observed]).all()
            assert np.isnan(rows[~observed]).all()


@pytest.mark.parametrize("setup", sorted(SETUPS))
@settings(FUZZ, max_examples=60)
@given(X=inputs(), method=st.sampled_from(["transform", "embed_observations", "reconstruct",
                                         "score"]))
def test_inference_returns_finite_aligned_outputs_or_refuses(models, setup, X, method):
    embedder = models[setup]
    result = _call(getattr(embedder, method), X)
    if result is not None:
        _check_outputs(embedder, method, X, result)


@pytest.mark.parametrize("setup", sorted(SETUPS))
@settings(FUZZ, max_examples=20)
@given(X=lists_of_light_curves)
def test_fit_trains_finite_weights_or_refuses(models, setup, X):
    embedder = clone(models[setup]).set_params(validation_fraction=None)
    fitted = _call(embedder.fit, X)
    if fitted is None:
        assert not hasattr(embedder, "net_")
        return
    for parameter in fitted.net_.module_.parameters():
        assert torch.isfinite(parameter).all()
    result = _call(fitted.transform, X)
    if result is not None:
        _check_outputs(fitted, "transform", X, result)
