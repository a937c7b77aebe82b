"""``sklearn-astromer export``: a saved model as ONNX, checked against PyTorch."""

import re

import numpy as np
import pytest

from sklearn_astromer import AstromerEmbedder
from sklearn_astromer.__main__ import main
from tests.conftest import TINY_ASTROMER, make_sinusoids

pytest.importorskip("onnxscript")
pytest.importorskip("onnxruntime")

from sklearn_astromer.onnx_runtime import OnnxEmbedder  # noqa: E402


def test_exports_a_saved_model_and_checks_it(tmp_path, capsys):
    X, _ = make_sinusoids(12)
    AstromerEmbedder(**TINY_ASTROMER, max_epochs=1).fit(X).save_pretrained(tmp_path / "model")
    output = tmp_path / "model.onnx"
    assert main(["export", str(tmp_path / "model"), "-o", str(output), "--pooling", "max",
                 "--check"]) == 0
    err = capsys.readouterr().err
    assert "pooling max, 16 features" in err
    difference = float(re.search(r"largest difference from PyTorch .*: (\S+)", err).group(1))
    assert difference < 1e-4
    runtime = OnnxEmbedder(output).fit()
    assert runtime.metadata_["pooling"] == "max"
    expected = AstromerEmbedder.from_pretrained(tmp_path / "model", pooling="max").transform(X)
    np.testing.assert_allclose(runtime.transform(X), expected, rtol=0, atol=1e-4)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model", "model.onnx"]


def test_refuses_other_suffixes_and_unknown_models(tmp_path, capsys):
    assert main(["export", "macho", "-o", str(tmp_path / "model.txt")]) == 1
    assert "must be a .onnx file" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "missing"), "-o", str(tmp_path / "m.onnx")]) == 1
    assert "no such file or directory" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
