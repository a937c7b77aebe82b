"""Fuzzing the model loaders: malformed files give ValueError or TypeError, never NaN weights.

Tiny models in every format the package reads (its own ``config.json`` +
``model.safetensors``, a published-style folder with a TensorFlow checkpoint
or a Keras HDF5 file, and zips of them) are damaged at random: configs with
out-of-range, mistyped or extra values, truncated and bit-flipped weight
files, zips with odd members, and TensorFlow tables whose checksums are valid
but whose contents are not. Whatever comes out must be either a loaded model
whose tensors are all finite (and whose embeddings are finite) or a
``ValueError``/``TypeError``; any other exception fails the test.
"""

import json
import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sklearn_astromer import AstromerEmbedder
from sklearn_astromer.pretrained import load_pretrained
from sklearn_astromer.pretrained._published import checkpoint_table, keras_h5_table
from sklearn_astromer.pretrained._tf_checkpoint import read_tf_checkpoint

from ._files import write_bundle, write_table, write_table_of_block, zip_bytes

h5py = pytest.importorskip("h5py")

TINY = dict(d_model=8, n_layers=1, n_heads=2, d_ff=8, max_obs=16, random_state=0)
CONF = {"head_dim": 8, "layers": 1, "heads": 2, "dff": 8, "dropout": 0.1, "max_obs": 16,
        "msk_frac": 0.5, "rnd_frac": 0.2, "same_frac": 0.2}
CURVE = np.column_stack([np.linspace(0, 30, 25), np.sin(np.arange(25.0)), np.full(25, 0.1)])
FUZZ = settings(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


class _Files(dict):
    """File name -> bytes, shown by name only when hypothesis reports a failing case."""

    def __repr__(self):
        return f"<tiny model files {sorted(self)}>"


def _loads_or_refuses(load):
    """``load()``'s result, or None if it refuses with ValueError/TypeError; others propagate."""
    try:
        result = load()
    except (ValueError, TypeError) as error:
        event(f"refused: {type(error).__name__}")
        return None
    event("loaded")
    return result


def _assert_finite(state_dict):
    for name, tensor in state_dict.items():
        assert torch.isfinite(tensor).all(), f"non-finite tensor {name} was loaded"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The undamaged bytes of a tiny model in each format the loaders read."""
    root = tmp_path_factory.mktemp("fuzz")
    # The published models' architecture: the paper's computation, time encoding and inputs.
    embedder = AstromerEmbedder(**TINY, variant="paper", time_encoding="paper",
                                period_input=False, magnitude_scaling="none",
                                max_epochs=0).fit([CURVE])
    embedder.save_pretrained(root / "saved")
    state_dict = {key: value.numpy() for key, value in embedder.net_.module_.state_dict().items()}
    write_bundle(root / "weights", _published_variables(state_dict, checkpoint_table(1)))
    _write_keras_weights(root / "weights.h5", _published_variables(state_dict,
                                                                   keras_h5_table(1)))
    return _Files({name: (root / path).read_bytes() for name, path in {
        "config": "saved/config.json", "safetensors": "saved/model.safetensors",
        "index": "weights.index", "data": "weights.data-00000-of-00001",
        "h5": "weights.h5"}.items()})


def _published_variables(state_dict, table):
    """Our weights under the published file's names (Keras kernels are ``(in, out)``)."""
    variables = {}
    for key, names in table.items():
        for name, part in zip(names, np.split(state_dict[key], len(names))):
            variables[name] = part.T if name.endswith("/kernel") else part
    return variables


def _write_keras_weights(path, variables):
    """Keras 2 layout: ``layer_names`` at the root, a group per layer with ``weight_names``."""
    layers = {}
    for name, array in variables.items():
        layer, weight = name.split("/", 1)
        layers.setdefault(layer, {})[f"{weight}:0"] = array
    with h5py.File(path, "w") as h5:
        h5.attrs["layer_names"] = [layer.encode() for layer in layers]
        for layer, weights in layers.items():
            group = h5.create_group(layer)
            group.attrs["weight_names"] = [weight.encode() for weight in weights]
            for weight, array in weights.items():
                group.create_dataset(weight, data=array)


def _write(folder, contents):
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in contents.items():
        (folder / name).write_bytes(data)
    return folder


def _damaged(data, draw):
    """``data`` truncated and/or with bytes overwritten, as hypothesis draws."""
    data = bytearray(data)
    if draw(st.booleans()):
        del data[draw(st.integers(0, len(data))):]
    for _ in range(draw(st.integers(0, 8))):
        if data:
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


# ------------------------------------------------------------------ strategies
JSON_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-2**70, 2**70),
    st.sampled_from([0, -1, 1, 2, 8, 16, 64, 4096, 4097, 10**6, 10**9]),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
    st.lists(st.integers(0, 3), max_size=2),
)
CONFIG_KEYS = ("d_model", "n_layers", "n_heads", "d_ff", "dropout", "max_obs", "variant",
               "pe_base", "mask_frac", "random_frac", "same_frac", "pooling", "batch_size",
               "format_version", "time_encoding", "period_input", "future_setting")


@st.composite
def configs(draw, valid):
    """config.json text: ``valid`` with keys replaced, dropped or added; or not an object."""
    if draw(st.integers(0, 9)) == 0:
        return json.dumps(draw(st.one_of(JSON_VALUES, st.lists(JSON_VALUES, max_size=3))))
    config = dict(valid)
    for key in draw(st.lists(st.sampled_from(CONFIG_KEYS), max_size=4, unique=True)):
        if draw(st.integers(0, 5)) == 0:
            config.pop(key, None)
        else:
            config[key] = draw(st.one_of(JSON_VALUES, st.sampled_from(
                ["paper", "corrected", "mean", "max", 1e12, 0.5, 16, 8])))
    text = json.dumps(config)
    if draw(st.integers(0, 9)) == 0:
        text = text[:draw(st.integers(0, len(text)))]  # a JSON syntax error
    return text


ZIP_NAMES = st.sampled_from([
    "m/conf.json", "conf.json", "m/weights.h5", "m/weights.index",
    "m/weights.data-00000-of-00001", "m/", "m/logs/", "a/b/conf.json", "n/conf.json",
    "m/conf.json/", "../m/conf.json", "/abs/conf.json", "m\\conf.json", "m/./conf.json",
])


# ------------------------------------------------------------------ the fuzz tests
@settings(FUZZ, max_examples=120)
@given(data=st.data())
def test_fuzzed_configs(files, data):
    valid = json.loads(files["config"])
    text = data.draw(configs(valid))
    with tempfile.TemporaryDirectory() as folder:
        model = _write(Path(folder) / "m", {"config.json": text.encode(),
                                            "model.safetensors": files["safetensors"]})
        loaded = _loads_or_refuses(lambda: load_pretrained(model))
        if loaded is not None:
            _assert_finite(loaded[1])
        embedder = _loads_or_refuses(lambda: AstromerEmbedder.from_pretrained(model,
                                                                             device="cpu"))
        if embedder is not None:
            assert np.isfinite(embedder.transform([CURVE])).all()


@settings(FUZZ, max_examples=300)
@given(data=st.data())
def test_fuzzed_safetensors(files, data):
    weights = _damaged(files["safetensors"], data.draw)
    with tempfile.TemporaryDirectory() as folder:
        model = _write(Path(folder) / "m", {"config.json": files["config"],
                                            "model.safetensors": weights})
        loaded = _loads_or_refuses(lambda: load_pretrained(model))
        if loaded is not None:
            _assert_finite(loaded[1])


@settings(FUZZ, max_examples=200)
@given(data=st.data())
def test_fuzzed_published_folders(files, data):
    """conf.json + a Keras HDF5 file or a TensorFlow checkpoint, any of them damaged."""
    conf = json.dumps(CONF).encode()
    contents = data.draw(st.sampled_from([
        {"conf.json": conf, "weights.h5": files["h5"]},
        {"conf.json": conf, "weights.index": files["index"],
         "weights.data-00000-of-00001": files["data"]},
    ]))
    damaged = data.draw(st.sampled_from(sorted(contents)))
    contents[damaged] = _damaged(contents[damaged], data.draw)
    with tempfile.TemporaryDirectory() as folder:
        model = _write(Path(folder) / "m", contents)
        loaded = _loads_or_refuses(lambda: load_pretrained(model))
        if loaded is not None:
            _assert_finite(loaded[1])


@pytest.mark.filterwarnings("ignore:Duplicate name")
@settings(FUZZ, max_examples=200)
@given(data=st.data())
def test_fuzzed_zips(files, data):
    """Zips of odd members: traversal, duplicates, directories, misplaced or damaged files."""
    payloads = st.sampled_from([json.dumps(CONF).encode(), files["h5"], files["index"],
                                files["data"], b"", b"garbage"])
    members = data.draw(st.lists(st.tuples(ZIP_NAMES, payloads), min_size=0, max_size=6))
    if data.draw(st.booleans()):  # a loadable model among the odd members
        members = [("m/conf.json", json.dumps(CONF).encode()), ("m/weights.h5", files["h5"]),
                   *members]
    archive = zip_bytes(members) if members or data.draw(st.booleans()) else b"PK\x05\x06"
    if data.draw(st.integers(0, 4)) == 0:
        archive = _damaged(archive, data.draw)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.zip"
        path.write_bytes(archive)
        loaded = _loads_or_refuses(lambda: load_pretrained(path, cache_dir=Path(folder)))
        if loaded is not None:
            _assert_finite(loaded[1])


@settings(FUZZ, max_examples=300)
@given(data=st.data())
def test_fuzzed_checkpoint_tables_with_valid_checksums(files, data):
    """Table blocks and bundle entries of arbitrary bytes, behind valid checksums."""
    with tempfile.TemporaryDirectory() as folder:
        prefix = Path(folder) / "weights"
        (Path(folder) / "weights.data-00000-of-00001").write_bytes(files["data"])
        if data.draw(st.booleans()):
            write_table_of_block(prefix.with_suffix(".index"), data.draw(st.binary(max_size=64)))
        else:
            keys = st.sampled_from([b"", b"w/.ATTRIBUTES/VARIABLE_VALUE", b"k"])
            items = data.draw(st.lists(st.tuples(keys, st.binary(max_size=24)), min_size=1,
                                       max_size=4, unique_by=lambda item: item[0]))
            write_table(prefix.with_suffix(".index"), items)
        variables = _loads_or_refuses(lambda: read_tf_checkpoint(prefix))
        if variables is not None:
            assert all(isinstance(array, np.ndarray) for array in variables.values())


def test_undamaged_tiny_models_load(files, tmp_path):
    """The fuzzers start from files that load: what they find is damage, not a bad start."""
    saved = _write(tmp_path / "saved", {"config.json": files["config"],
                                        "model.safetensors": files["safetensors"]})
    h5 = _write(tmp_path / "h5", {"conf.json": json.dumps(CONF).encode(),
                                  "weights.h5": files["h5"]})
    tf = _write(tmp_path / "tf", {"conf.json": json.dumps(CONF).encode(),
                                  "weights.index": files["index"],
                                  "weights.data-00000-of-00001": files["data"]})
    reference = load_pretrained(saved)[1]
    for folder in (h5, tf):
        config, state_dict = load_pretrained(folder)
        assert config["d_model"] == 8 and config["max_obs"] == 16
        for key, tensor in reference.items():
            torch.testing.assert_close(state_dict[key], tensor, rtol=0, atol=0)
    archive = tmp_path / "h5.zip"
    archive.write_bytes(zip_bytes([(f"m/{path.name}", path.read_bytes())
                                   for path in h5.iterdir()]))
    assert math.isclose(load_pretrained(archive, cache_dir=tmp_path / "c")[0]["dropout"], 0.1)
