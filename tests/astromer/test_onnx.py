"""AstromerEmbedder.to_onnx: the exported graph, run by OnnxEmbedder, gives transform's output."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from sklearn_astromer import AstromerEmbedder
from sklearn_astromer.datasets import make_light_curves

pytest.importorskip("onnxscript")
pytest.importorskip("onnxruntime")

from sklearn_astromer.onnx_runtime import OnnxEmbedder  # noqa: E402

#: float32 parity of a mean-pooled embedding (the issue's bound).
TOLERANCE = 1e-4


def _exported(embedder, tmp_path, name="model.onnx"):
    return OnnxEmbedder(embedder.to_onnx(tmp_path / name)).fit()


def test_the_shipped_model_matches_transform(tmp_path):
    X, _ = make_light_curves(6, classes=["RRab", "EA", "Mira"], survey="ogle", random_state=0)
    embedder = AstromerEmbedder.from_pretrained("macho")
    runtime = _exported(embedder, tmp_path)
    expected = embedder.transform(X)
    got = runtime.transform(X)
    assert got.dtype == np.float32 and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE)
    assert runtime.metadata_["config"]["variant"] == "paper"


def test_a_fine_tuned_model_with_components_and_descriptors_matches(sinusoids, tiny_params,
                                                                    tmp_path):
    X, y = sinusoids
    embedder = AstromerEmbedder(**tiny_params, max_epochs=1, fine_tune="supervised",
                                fine_tune_epochs=1, head_epochs=3, pooling="weighted_layers",
                                n_components=4, include_descriptors=True).fit(X, y)
    runtime = _exported(embedder, tmp_path)
    assert runtime.metadata_["combine_layers"] is not None
    assert runtime.metadata_["config"]["period_input"]
    np.testing.assert_allclose(runtime.transform(X), embedder.transform(X), rtol=0,
                               atol=TOLERANCE)
    np.testing.assert_array_equal(runtime.get_feature_names_out(),
                                  embedder.get_feature_names_out())


@pytest.mark.parametrize("pooling", ["max", "mean_std"])
def test_other_poolings_match_to_float32_rounding(sinusoids, tiny_params, tmp_path, pooling):
    """Curves longer than a window (max_obs=32) combine their windows' statistics."""
    X, _ = sinusoids
    embedder = AstromerEmbedder(**tiny_params, max_epochs=1, pooling=pooling).fit(X)
    expected = embedder.transform(X)
    got = _exported(embedder, tmp_path).transform(X)
    # max and std are not averaged over observations: their float32 differences
    # between kernels are relative to the embedding's scale.
    np.testing.assert_allclose(got, expected, rtol=0,
                               atol=TOLERANCE * max(1.0, np.abs(expected).max()))


def test_a_joint_multiband_model_matches(tiny_params, tmp_path):
    X, _ = make_light_curves(3, classes=["RRab", "EA"], survey="ztf", bands=("g", "r"),
                             random_state=0)
    embedder = AstromerEmbedder(**tiny_params, max_epochs=1, multiband="joint",
                                include_descriptors=True).fit(X)
    runtime = _exported(embedder, tmp_path)
    np.testing.assert_array_equal(runtime.bands_, embedder.bands_)
    np.testing.assert_allclose(runtime.transform(X), embedder.transform(X), rtol=0,
                               atol=TOLERANCE)
    with pytest.raises(ValueError, match="multi-band"):
        runtime.transform([curve[:, :3] for curve in X])


def test_refuses_an_unfitted_or_per_band_model(tmp_path):
    with pytest.raises(NotFittedError):
        AstromerEmbedder().to_onnx(tmp_path / "model.onnx")
    X, _ = make_light_curves(2, classes=["RRab", "EA"], survey="ztf", bands=("g", "r"),
                             random_state=0)
    per_band = AstromerEmbedder.from_pretrained("macho", multiband="per_band",
                                                max_epochs=0).fit(X)
    with pytest.raises(ValueError, match="per_band"):
        per_band.to_onnx(tmp_path / "model.onnx")
    assert not (tmp_path / "model.onnx").exists()


def test_refuses_components_fitted_for_another_pooling(sinusoids, tiny_params, tmp_path):
    X, _ = sinusoids
    embedder = AstromerEmbedder(**tiny_params, max_epochs=1, n_components=3).fit(X)
    embedder.set_params(pooling="max")
    with pytest.raises(ValueError, match="fitted for pooling='mean'"):
        embedder.to_onnx(tmp_path / "model.onnx")
