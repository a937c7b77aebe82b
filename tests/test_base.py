"""What both estimators share (``_base``): the warning about emulated reduced precision."""

import warnings

import pytest
import torch

from sklearn_astromer import AstromerEmbedder
from sklearn_astromer._base import warn_if_emulated
from tests.conftest import make_sinusoids


@pytest.mark.parametrize("precision, check", [("bfloat16", "_is_mkldnn_bf16_supported"),
                                              ("float16", "_is_mkldnn_fp16_supported")])
def test_reduced_precision_warns_on_a_cpu_that_emulates_it(monkeypatch, precision, check):
    monkeypatch.setattr(torch.ops.mkldnn, check, lambda: False)
    with pytest.warns(RuntimeWarning, match=f"precision='{precision}' on this CPU .* emulated"):
        warn_if_emulated(precision, "cpu")
    monkeypatch.setattr(torch.ops.mkldnn, check, lambda: True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_if_emulated(precision, "cpu")
    monkeypatch.setattr(torch.ops.mkldnn, check, lambda: False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_if_emulated(precision, "cuda")  # GPUs are not judged by the CPU's instructions


def test_transform_and_fit_in_emulated_bfloat16_say_so(monkeypatch):
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)
    X, _ = make_sinusoids(8, 20, 40)
    with pytest.warns(RuntimeWarning, match="emulated"):
        embedder = AstromerEmbedder(d_model=16, n_layers=1, n_heads=2, d_ff=16, max_obs=32,
                                    max_epochs=1, precision="bfloat16", device="cpu",
                                    random_state=0).fit(X)
    with pytest.warns(RuntimeWarning, match="emulated"):
        embedder.transform(X)
