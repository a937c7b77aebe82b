"""embed_observations and reconstruct: one row per input observation, in the input's order."""

import numpy as np
import pytest

from sklearn_astromer import AstromerEmbedder, LightCurveRepairWarning
from tests.conftest import TINY_ASTROMER, make_sinusoids


@pytest.fixture(scope="module")
def fitted():
    X, _ = make_sinusoids(n_samples=10, min_obs=20, max_obs=60)
    return AstromerEmbedder(**TINY_ASTROMER, max_epochs=1).fit(X), X


@pytest.mark.parametrize("method", ["embed_observations", "reconstruct"])
def test_rows_follow_the_input_order_not_time_order(fitted, method):
    embedder, X = fitted
    order = np.random.default_rng(0).permutation(len(X[0]))
    expected = getattr(embedder, method)(X[:2])
    with pytest.warns(LightCurveRepairWarning, match=r"Sorted .* \[0\]"):
        shuffled = getattr(embedder, method)([X[0][order], X[1]])
    np.testing.assert_array_equal(shuffled[0], expected[0][order])
    np.testing.assert_array_equal(shuffled[1], expected[1])


@pytest.mark.parametrize("method", ["embed_observations", "reconstruct"])
def test_dropped_observations_get_nan_rows_in_place(fitted, method):
    embedder, X = fitted
    curve = X[0].copy()
    dropped = [0, 5, len(curve) - 1]
    curve[dropped[0], 0] = np.nan
    curve[dropped[1], 1] = np.inf
    curve[dropped[2], 2] = -np.inf
    with pytest.warns(LightCurveRepairWarning, match=r"Dropped .* \[0\]"):
        rows = getattr(embedder, method)([curve])[0]
    assert len(rows) == len(curve)
    assert np.isnan(rows[dropped]).all()
    kept = np.setdiff1d(np.arange(len(curve)), dropped)
    np.testing.assert_array_equal(rows[kept], getattr(embedder, method)([curve[kept]])[0])


def test_repeated_times_are_separate_observations(fitted):
    embedder, X = fitted
    curve = X[0].copy()
    curve[4, 0] = curve[3, 0]
    curve[4, 1] = curve[3, 1] + 1.0
    observations = embedder.embed_observations([curve])[0]
    assert len(observations) == len(curve)
    assert not np.allclose(observations[3], observations[4])
    np.testing.assert_allclose(embedder.transform([curve])[0], observations.mean(axis=0),
                               atol=1e-5)
    reconstruction = embedder.reconstruct([curve])[0]
    assert len(reconstruction) == len(curve) and np.isfinite(reconstruction).all()


def test_dense_input_gives_one_row_per_cell(fitted):
    embedder, _ = fitted
    dense = np.sin(np.arange(24.0)).reshape(2, 12) + 15
    dense[1, [2, 7]] = np.nan
    with pytest.warns(LightCurveRepairWarning, match=r"\[1\]"):
        reconstruction = embedder.reconstruct(dense)
    assert [len(rows) for rows in reconstruction] == [12, 12]
    np.testing.assert_array_equal(np.flatnonzero(np.isnan(reconstruction[1])), [2, 7])
    assert np.isfinite(reconstruction[0]).all()
