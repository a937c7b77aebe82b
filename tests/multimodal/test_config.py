"""A saved multimodal model is checked before anything is built: ValueError naming file and key."""

import json
import math
import resource

import pytest
import torch
from safetensors.torch import load_file, save_file

from sklearn_astromer import MultimodalCLIPEmbedder
from sklearn_astromer.datasets import make_multimodal

TINY = dict(embed_dim=8, d_model=8, n_layers=1, n_heads=2, d_ff=8, max_obs=32,
            spectrum_channels=(2, 2, 2, 2), metadata_hidden=8, max_epochs=1, warmup_epochs=0,
            validation_fraction=None, random_state=0, fine_tune="supervised",
            fine_tune_epochs=1)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Tiny fine-tuned models of both photometry encoders, saved."""
    X, y = make_multimodal(4, classes=["RRab", "EW"], n_obs=(20, 40), random_state=0)
    directories = {}
    for encoder in ("astromer", "astrom3"):
        directory = tmp_path_factory.mktemp(encoder) / "model"
        MultimodalCLIPEmbedder(**TINY, photometry_encoder=encoder).fit(X, y).save_pretrained(
            directory)
        directories[encoder] = directory
    return directories, X


def _tampered(saved, tmp_path, encoder="astromer", config=None, weights=None):
    directory = tmp_path / "tampered"
    directory.mkdir()
    for path in saved[0][encoder].iterdir():
        (directory / path.name).write_bytes(path.read_bytes())
    if config is not None:
        values = json.loads((directory / "config.json").read_text())
        config(values)
        (directory / "config.json").write_text(json.dumps(values))
    if weights is not None:
        tensors = load_file(str(directory / "model.safetensors"))
        weights(tensors)
        save_file(tensors, str(directory / "model.safetensors"))
    return directory


def _set(key, value):
    return lambda config: config.__setitem__(key, value)


def _drop(key):
    return lambda config: config.pop(key)


CONFIG_CASES = {
    "huge embed_dim": (_set("embed_dim", 10**9), "embed_dim"),
    "huge metadata_hidden": (_set("metadata_hidden", 10**9), "metadata_hidden"),
    "huge spectrum channels": (_set("spectrum_channels", [10**6] * 4), "spectrum_channels"),
    "negative embed_dim": (_set("embed_dim", -1), "embed_dim"),
    "negative channel": (_set("spectrum_channels", [2, -2, 2, 2]), "spectrum_channels"),
    "missing kinds": (_drop("kinds"), r"lacks \['kinds'\]"),
    "missing columns": (_drop("columns"), r"lacks \['columns'\]"),
    "missing embed_dim": (_drop("embed_dim"), r"lacks \['embed_dim'\]"),
    "missing metadata_mean": (_drop("metadata_mean"), r"lacks \['metadata_mean'\]"),
    "unknown photometry_encoder": (_set("photometry_encoder", "lstm"), "photometry_encoder"),
    "unknown metadata_transform": (_set("metadata_transform", "log"), "metadata_transform"),
    "unknown kind": (lambda c: c["kinds"].__setitem__(0, "radio"), "unknown modality kinds"),
    "kinds shorter": (lambda c: c["kinds"].pop(), "one length"),
    "NaN metadata_scale": (lambda c: c["metadata_scale"].__setitem__(0, math.nan),
                           "'metadata_scale' must be a list of finite numbers"),
    "infinite metadata_scale": (lambda c: c["metadata_scale"].__setitem__(0, math.inf),
                                "'metadata_scale' must be a list of finite numbers"),
    "negative metadata_scale": (lambda c: c["metadata_scale"].__setitem__(0, -1.0),
                                "'metadata_scale' must be positive"),
    "short metadata_mean": (lambda c: c["metadata_mean"].pop(), "values for"),
    "reversed wavelengths": (lambda c: c["wavelengths"].reverse(), "strictly increasing"),
    "NaN wavelength": (lambda c: c["wavelengths"].__setitem__(3, math.nan),
                       "'wavelengths' must be a list of finite numbers"),
    "string batch_size": (_set("batch_size", "64"), "batch_size"),
    "one class": (_set("classes", ["EW"]), "'classes' must be two or more"),
    "classes not matching the head": (_set("classes", ["EW", "RRab", "Mira"]),
                                      r"tensor 'head\.(weight|bias)' has shape \(2"),
}


@pytest.mark.parametrize("case", sorted(CONFIG_CASES))
def test_tampered_config_is_a_value_error_naming_file_and_key(saved, tmp_path, case):
    change, message = CONFIG_CASES[case]
    directory = _tampered(saved, tmp_path, config=change)
    with pytest.raises(ValueError, match=message) as error:
        MultimodalCLIPEmbedder.from_pretrained(directory)
    assert str(directory) in str(error.value)


def test_empty_photometry_statistics_of_astrom3_are_refused(saved, tmp_path):
    directory = _tampered(saved, tmp_path, "astrom3", config=_set("photometry_statistics", {}))
    with pytest.raises(ValueError, match="'photometry_statistics' lacks the"):
        MultimodalCLIPEmbedder.from_pretrained(directory)


def test_an_architecture_too_large_to_hold_is_refused_with_its_size(saved, tmp_path):
    directory = _tampered(saved, tmp_path, config=lambda c: c.update(
        spectrum_channels=[4096] * 4, embed_dim=4096))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ValueError, match=r"weights \([0-9.]+ GiB\), more than"):
        MultimodalCLIPEmbedder.from_pretrained(directory)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 500_000  # KiB


WEIGHT_CASES = {
    "missing tensor": (lambda t: t.pop("head.bias"), r"missing 'head\.bias'"),
    "extra tensor": (lambda t: t.__setitem__("head.extra", torch.zeros(2)),
                     r"unexpected 'head\.extra'"),
    "int tensor": (lambda t: t.__setitem__("head.bias", t["head.bias"].to(torch.int64)),
                   r"'head\.bias' has dtype torch\.int64"),
    "bool tensor": (lambda t: t.__setitem__("head.bias", t["head.bias"] > 0),
                    r"'head\.bias' has dtype torch\.bool"),
    "complex tensor": (lambda t: t.__setitem__("head.bias", t["head.bias"].to(torch.complex64)),
                       r"'head\.bias' has dtype torch\.complex64"),
    "wrong shape": (lambda t: t.__setitem__("loss.logit_scales", torch.zeros(7)),
                    r"'loss\.logit_scales' has shape \(7,\)"),
}


@pytest.mark.parametrize("case", sorted(WEIGHT_CASES))
def test_tampered_tensors_are_a_value_error_naming_file_and_key(saved, tmp_path, case):
    change, message = WEIGHT_CASES[case]
    directory = _tampered(saved, tmp_path, weights=change)
    with pytest.raises(ValueError, match=r"model\.safetensors: .*" + message):
        MultimodalCLIPEmbedder.from_pretrained(directory)


@pytest.mark.parametrize("encoder", ["astromer", "astrom3"])
def test_untampered_models_load_and_embed(saved, encoder):
    directories, X = saved
    Z = MultimodalCLIPEmbedder.from_pretrained(directories[encoder]).transform(X)
    assert Z.shape == (len(X), 8)
