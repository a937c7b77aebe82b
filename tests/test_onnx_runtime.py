"""OnnxEmbedder: an exported model run with numpy and ONNX Runtime, inputs checked as transform."""

import json
import pickle
import subprocess
import sys

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sklearn_astromer import AstromerEmbedder

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxscript")
pytest.importorskip("onnxruntime")

from sklearn_astromer import onnx_runtime  # noqa: E402
from sklearn_astromer.onnx_runtime import METADATA_KEY, OnnxEmbedder  # noqa: E402


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """``(embedder, path)``: a tiny model with a period input (sinusoids) and its export."""
    from tests.conftest import TINY_ASTROMER, make_sinusoids

    X, _ = make_sinusoids()
    embedder = AstromerEmbedder(**TINY_ASTROMER, max_epochs=1).fit(X)
    return embedder, embedder.to_onnx(tmp_path_factory.mktemp("onnx") / "model.onnx")


def test_loads_without_torch(exported):
    """A broker's process: numpy and ONNX Runtime, no torch imported."""
    code = ("import sys, numpy as np\n"
            "from sklearn_astromer.onnx_runtime import OnnxEmbedder\n"
            f"runtime = OnnxEmbedder({str(exported[1])!r}).fit()\n"
            "curve = np.column_stack([np.linspace(0, 50, 40), np.sin(np.arange(40)),"
            " np.full(40, 0.1)])\n"
            "assert runtime.transform([curve]).shape == (1, 16)\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_rows_follow_the_input_across_chunks(exported, sinusoids, monkeypatch):
    embedder, path = exported
    X, _ = sinusoids
    whole = OnnxEmbedder(path).fit().transform(X)
    monkeypatch.setattr(onnx_runtime, "TRANSFORM_CHUNK_SIZE", 7)
    np.testing.assert_array_equal(OnnxEmbedder(path).fit().transform(X), whole)
    # Other batches change only float32 rounding inside the graph.
    np.testing.assert_allclose(OnnxEmbedder(path, batch_size=5).fit().transform(X), whole,
                               rtol=0, atol=1e-6)
    np.testing.assert_allclose(whole, embedder.transform(X), rtol=0, atol=1e-4)


def test_bad_light_curves_get_the_estimators_errors(exported, sinusoids):
    embedder, path = exported
    runtime = OnnxEmbedder(path).fit()
    X, _ = sinusoids
    broken = list(X[:3]) + [np.empty((0, 3))]
    with pytest.raises(ValueError) as from_estimator:
        embedder.transform(broken)
    with pytest.raises(ValueError) as from_runtime:
        runtime.transform(broken)
    assert str(from_runtime.value) == str(from_estimator.value)
    assert "3" in str(from_runtime.value)
    with pytest.raises(ValueError, match="band column"):
        runtime.transform([np.column_stack([X[0], np.zeros(len(X[0]))])])


def test_works_in_a_pipeline_and_pickles(exported, sinusoids):
    _, path = exported
    X, y = sinusoids
    pipeline = make_pipeline(OnnxEmbedder(path), LogisticRegression(max_iter=500)).fit(X, y)
    restored = pickle.loads(pickle.dumps(pipeline))
    np.testing.assert_array_equal(restored.predict_proba(X), pipeline.predict_proba(X))


def test_refuses_models_it_cannot_read(exported, tmp_path):
    _, path = exported
    model = onnx.load(str(path))
    entry = next(prop for prop in model.metadata_props if prop.key == METADATA_KEY)
    metadata = json.loads(entry.value)
    entry.value = json.dumps({**metadata, "format_version": 99})
    onnx.save(model, str(tmp_path / "newer.onnx"))
    with pytest.raises(ValueError, match="layout 99"):
        OnnxEmbedder(tmp_path / "newer.onnx").fit()
    model.metadata_props.remove(entry)
    onnx.save(model, str(tmp_path / "foreign.onnx"))
    with pytest.raises(ValueError, match="not written by"):
        OnnxEmbedder(tmp_path / "foreign.onnx").fit()
