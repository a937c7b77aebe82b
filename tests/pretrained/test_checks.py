"""Model files are checked before anything is built: errors name the file and the key or tensor."""

import json
import math

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from sklearn_astromer import AstromerEmbedder
from sklearn_astromer.nn import AstromerModel
from sklearn_astromer.pretrained import ARCHITECTURE_CONSTRAINTS, load_pretrained
from sklearn_astromer.pretrained._checks import check_state_dict, expected_shapes

TINY = dict(d_model=8, n_layers=1, n_heads=2, d_ff=8, max_obs=16, random_state=0)
CURVE = np.column_stack([np.arange(20.0), np.sin(np.arange(20.0)), np.full(20, 0.1)])


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A tiny model written by save_pretrained."""
    directory = tmp_path_factory.mktemp("saved") / "model"
    AstromerEmbedder(**TINY, max_epochs=0).fit([CURVE]).save_pretrained(directory)
    return directory


@pytest.fixture
def model_dir(saved, tmp_path):
    """A fresh copy of the saved model, to damage."""
    directory = tmp_path / "model"
    directory.mkdir()
    for path in saved.iterdir():
        (directory / path.name).write_bytes(path.read_bytes())
    return directory


def _edit_config(directory, **changes):
    path = directory / "config.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


@pytest.mark.parametrize("key, value", [
    ("d_model", 0), ("d_model", -8), ("d_model", math.nan), ("d_model", 10**9),
    ("d_model", "256"), ("n_layers", 10**6), ("n_heads", 0), ("n_heads", 65), ("d_ff", -1),
    ("d_ff", 10**7), ("max_obs", 0), ("max_obs", 10**6), ("dropout", 1.0),
    ("pe_base", 0.0), ("pe_base", -1.0), ("pe_base", math.inf), ("variant", "fancy"),
])
def test_config_out_of_range_names_file_and_key(model_dir, key, value):
    _edit_config(model_dir, **{key: value})
    with pytest.raises(ValueError, match=rf"config\.json.*'{key}'"):
        load_pretrained(model_dir)
    with pytest.raises(ValueError, match=rf"config\.json.*'{key}'"):
        AstromerEmbedder(pretrained=model_dir, max_epochs=0).fit([CURVE])


def test_heads_must_divide_the_width(model_dir):
    _edit_config(model_dir, n_heads=3)
    with pytest.raises(ValueError, match=r"config\.json: d_model=8 is not divisible by n_heads=3"):
        load_pretrained(model_dir)


@pytest.mark.parametrize("text, problem", [
    ("null", "JSON object"), ("[1, 2]", "JSON object"), ('"d_model"', "JSON object"),
    ('{"d_model": 8,', "not a valid JSON file"), ("\xff\xfe", "not a valid JSON file"),
    ("[" * 100_000, "not a valid JSON file"),
], ids=["null", "list", "string", "syntax", "not-utf8", "deep"])
def test_malformed_config_names_the_file(model_dir, text, problem):
    (model_dir / "config.json").write_bytes(text.encode("latin-1"))
    with pytest.raises(ValueError, match=rf"config\.json.*{problem}|{problem}.*config\.json"):
        load_pretrained(model_dir)


def test_unknown_config_keys_are_left_to_the_estimator(model_dir):
    _edit_config(model_dir, added_in_a_later_version={"any": [1, 2]})
    config, _ = load_pretrained(model_dir)
    assert config["added_in_a_later_version"] == {"any": [1, 2]}
    embedder = AstromerEmbedder.from_pretrained(model_dir)
    assert embedder.transform([CURVE]).shape == (1, 8)


def _edit_weights(directory, change):
    path = directory / "model.safetensors"
    tensors = load_file(str(path))
    change(tensors)
    save_file(tensors, str(path))


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_weights_name_file_and_tensor(model_dir, bad):
    _edit_weights(model_dir, lambda t: t["head.linear.weight"].view(-1).__setitem__(0, bad))
    with pytest.raises(ValueError, match=r"model\.safetensors: tensor 'head\.linear\.weight' "
                                         "holds NaN or infinite values"):
        load_pretrained(model_dir)


def test_float64_overflowing_float32_is_caught(model_dir):
    def widen(tensors):
        tensors["head.linear.bias"] = torch.tensor([1e300], dtype=torch.float64)

    _edit_weights(model_dir, widen)
    with pytest.raises(ValueError, match="'head.linear.bias' holds NaN or infinite"):
        load_pretrained(model_dir)


@pytest.mark.parametrize("cut", [0, 7, 100, -1])
def test_corrupt_safetensors_names_the_file(model_dir, cut):
    path = model_dir / "model.safetensors"
    path.write_bytes(path.read_bytes()[:cut])
    with pytest.raises(ValueError, match=r"model\.safetensors is not a readable safetensors"):
        load_pretrained(model_dir)


@pytest.mark.parametrize("change, message", [
    (lambda t: t.pop("head.norm.bias"), r"missing 'head\.norm\.bias'"),
    (lambda t: t.update(extra=torch.zeros(2)), r"unexpected 'extra'"),
    (lambda t: t.update({"head.norm.bias": torch.zeros(9)}),
     r"tensor 'head\.norm\.bias' has shape \(9,\); the architecture of the config needs \(8,\)"),
], ids=["missing", "unexpected", "shape"])
def test_weights_that_do_not_fit_are_refused_before_building(model_dir, monkeypatch, change,
                                                             message):
    from sklearn_astromer.astromer import _building

    _edit_weights(model_dir, change)

    def no_build(*args, **kwargs):
        raise AssertionError("the model was built before its weights were checked")

    monkeypatch.setattr(_building, "AstromerNet", no_build)
    with pytest.raises(ValueError, match=rf"model\.safetensors: .*{message}"):
        AstromerEmbedder.from_pretrained(model_dir)


def test_config_of_a_huge_model_with_small_weights_fails_at_once(model_dir):
    _edit_config(model_dir, d_model=4096, n_layers=64, n_heads=64, d_ff=16384)
    with pytest.raises(ValueError, match=r"model\.safetensors: the weights do not fit"):
        AstromerEmbedder(pretrained=model_dir, max_epochs=0).fit([CURVE])


def test_expected_shapes_allocate_nothing():
    shapes = expected_shapes(AstromerModel, d_model=4096, n_layers=4, n_heads=64, d_ff=16384,
                             variant="paper")
    assert shapes["encoder.blocks.3.attention.qkv.weight"] == (3 * 4096, 4096)


def test_optional_and_ignored_tensors():
    expected = {"a": (2,), "b": (3,)}
    check_state_dict(expected, {"a": torch.zeros(2), "head.x": torch.zeros(5)}, "f",
                     optional=["b"], ignored_prefixes=("head.",))
    with pytest.raises(ValueError, match="f: .*missing 'b'"):
        check_state_dict(expected, {"a": torch.zeros(2)}, "f")


@pytest.mark.parametrize("key", sorted(set(ARCHITECTURE_CONSTRAINTS)
                                       - {"period_input", "n_harmonics"}))
def test_the_estimator_checks_the_same_architecture_constraints(key):
    assert AstromerEmbedder._parameter_constraints[key] is ARCHITECTURE_CONSTRAINTS[key]


def test_the_estimator_accepts_what_model_files_hold_and_auto():
    # period_input is True or False in a model file; the estimator also takes "auto".
    assert ARCHITECTURE_CONSTRAINTS["period_input"] == ["boolean"]
    assert AstromerEmbedder._parameter_constraints["period_input"][0] == "boolean"


def test_estimator_refuses_sizes_no_model_file_could_hold():
    with pytest.raises(ValueError, match="'d_model' parameter of AstromerEmbedder"):
        AstromerEmbedder(d_model=10**9, max_epochs=0).fit([CURVE])
