"""Fuzzing saved models of both estimators: tampered files give ValueError/TypeError, nothing else.

A tiny fine-tuned model of each estimator (with a classification head) is
saved, then its ``config.json`` values and keys and its safetensors tensors
(presence, shape, dtype, extra ones) are changed at random. Loading it with
``from_pretrained`` (and, when it loads, embedding with it), and running the
CLI's ``info`` and ``embed --model`` on it, must either work or refuse with a
``ValueError``/``TypeError`` (exit code 1 and one line from the CLI) — never
another exception, and never an allocation beyond the checked architecture.
"""

import json
import math
import resource
from collections import Counter

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from safetensors.torch import load_file, save_file

from sklearn_astromer import AstromerEmbedder, MultimodalCLIPEmbedder
from sklearn_astromer.__main__ import main
from sklearn_astromer.datasets import make_multimodal
from tests.conftest import make_sinusoids

FUZZ = settings(deadline=None, derandomize=True, database=None, max_examples=120,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
#: Memory growth allowed over the whole fuzz run (KiB): tiny models need a few MB.
MAX_GROWTH_KIB = 2_000_000
VALUES = st.sampled_from([0, -1, 1, 2, 3, 7, 10**9, 2**31, 1e300, -0.5, 0.5, math.nan,
                          math.inf, -math.inf, "x", "", None, True, False, [], [1], [10**6] * 4,
                          {}, {"a": 1}, "astromer", "astrom3", "paper", "corrected"])
DTYPES = st.sampled_from([torch.int64, torch.int32, torch.bool, torch.float64, torch.float16,
                          torch.bfloat16, torch.uint8])


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Bytes of a tiny fine-tuned model of each estimator, and inputs for them."""
    root = tmp_path_factory.mktemp("models")
    curves, y = make_sinusoids(n_samples=12, max_obs=30)
    AstromerEmbedder(d_model=8, n_layers=1, n_heads=2, d_ff=8, max_obs=16, max_epochs=0,
                     fine_tune="supervised", fine_tune_epochs=1, head_epochs=2,
                     random_state=0).fit(curves, y).save_pretrained(root / "astromer")
    catalogue, labels = make_multimodal(3, classes=["RRab", "EW"], n_obs=(20, 40),
                                        random_state=0)
    MultimodalCLIPEmbedder(embed_dim=8, d_model=8, n_layers=1, n_heads=2, d_ff=8, max_obs=32,
                           spectrum_channels=(2, 2, 2, 2), metadata_hidden=8, max_epochs=1,
                           warmup_epochs=0, validation_fraction=None, random_state=0,
                           photometry_encoder="astromer", fine_tune="supervised",
                           fine_tune_epochs=1).fit(catalogue, labels).save_pretrained(
        root / "multimodal")
    table = root / "table.csv"
    rows = [(f"s{i}", t, m) for i, curve in enumerate(curves[:3]) for t, m in curve[:, :2]]
    table.write_text("object_id,time,mag\n" + "".join(f"{a},{b},{c}\n" for a, b, c in rows))
    files = {name: {path.name: path.read_bytes() for path in (root / name).iterdir()}
             for name in ("astromer", "multimodal")}
    return files, {"astromer": curves[:3], "multimodal": catalogue}, table


@st.composite
def tampering(draw, config, tensors):
    """A list of changes to a config dict and a tensor dict."""
    changes = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["set", "drop", "tensor_drop", "tensor_dtype",
                                     "tensor_shape", "tensor_extra"]))
        if kind in ("set", "drop"):
            changes.append((kind, draw(st.sampled_from(sorted(config))), draw(VALUES)))
        elif kind == "tensor_extra":
            changes.append((kind, f"{draw(st.sampled_from(sorted(tensors)))}_extra", None))
        else:
            key = draw(st.sampled_from(sorted(tensors)))
            changes.append((kind, key, draw(DTYPES) if kind == "tensor_dtype"
                            else draw(st.lists(st.integers(0, 5), min_size=0, max_size=3))))
    return changes


def _apply(changes, config, tensors):
    for kind, key, value in changes:
        if kind == "set":
            config[key] = value
        elif kind == "drop":
            config.pop(key, None)
        elif kind == "tensor_drop":
            tensors.pop(key, None)
        elif kind == "tensor_extra":
            tensors[key] = torch.zeros(2)
        elif kind == "tensor_dtype" and key in tensors:
            tensors[key] = tensors[key].to(value)
        elif kind == "tensor_shape" and key in tensors:
            tensors[key] = torch.zeros(value)


def _write(directory, files, changes):
    directory.mkdir(parents=True, exist_ok=True)
    config = json.loads(files["config.json"])
    (directory / "model.safetensors").write_bytes(files["model.safetensors"])
    tensors = load_file(str(directory / "model.safetensors"))
    _apply(changes, config, tensors)
    (directory / "config.json").write_text(json.dumps(config))
    save_file({key: value.contiguous() for key, value in tensors.items()},
              str(directory / "model.safetensors"))


def _works_or_refuses(action, outcomes, what):
    try:
        result = action()
    except (ValueError, TypeError) as error:
        event(f"{what} refused: {type(error).__name__}")
        outcomes[f"{what} refused"] += 1
        return None
    event(f"{what} worked")
    outcomes[f"{what} worked"] += 1
    return result


@pytest.mark.parametrize("estimator", ["astromer", "multimodal"])
def test_tampered_models_load_or_refuse_through_the_library(saved, tmp_path_factory, estimator):
    files, inputs, _ = saved
    cls = AstromerEmbedder if estimator == "astromer" else MultimodalCLIPEmbedder
    config = json.loads(files[estimator]["config.json"])
    tensors = load_file_from_bytes(files[estimator]["model.safetensors"])
    start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    outcomes = Counter()

    @FUZZ
    @given(changes=tampering(config, tensors))
    def run(changes):
        directory = tmp_path_factory.mktemp("tampered")
        _write(directory, files[estimator], changes)
        model = _works_or_refuses(lambda: cls.from_pretrained(directory), outcomes, "load")
        if model is not None:
            embeddings = _works_or_refuses(lambda: model.transform(inputs[estimator]),
                                           outcomes, "transform")
            if embeddings is not None:
                assert len(embeddings) == len(inputs[estimator])
        assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - start < MAX_GROWTH_KIB

    run()
    print(f"{estimator}: {dict(outcomes)}")
    assert outcomes["load refused"] > 0 and outcomes["load worked"] > 0


def test_tampered_models_exit_1_with_one_line_from_the_cli(saved, tmp_path_factory, capsys):
    files, _, table = saved
    config = json.loads(files["astromer"]["config.json"])
    tensors = load_file_from_bytes(files["astromer"]["model.safetensors"])
    outcomes = Counter()

    @settings(FUZZ, max_examples=40)
    @given(changes=tampering(config, tensors), command=st.sampled_from(["info", "embed"]))
    def run(changes, command):
        directory = tmp_path_factory.mktemp("tampered")
        _write(directory / "model", files["astromer"], changes)
        capsys.readouterr()
        argv = (["info", str(directory / "model")] if command == "info" else
                ["embed", str(table), "--model", str(directory / "model"), "-o",
                 str(directory / "out.csv"), "-q"])
        code = main(argv)
        err = capsys.readouterr().err.strip()
        assert code in (0, 1)
        outcomes[f"{command}: exit {code}"] += 1
        if code == 1:
            lines = [line for line in err.splitlines() if not line.startswith("warning:")]
            assert len(lines) == 1 and lines[0].startswith("error:")
            assert "internal error" not in lines[0]

    run()
    with capsys.disabled():
        print(f"CLI: {dict(outcomes)}")
    assert outcomes["info: exit 1"] + outcomes["embed: exit 1"] > 0


def load_file_from_bytes(data):
    from safetensors.torch import load

    return load(data)
