"""The published ASTROMER weights: loading, parity with the original code, masked RMSE.

The reference outputs in ``../shared/data/astromer_reference`` were made by the
original TensorFlow package (0.1.8) with the same weights. Parity is checked
for both copies of the weights: the published zips in ``../shared/data`` and
the copies shipped in the package (``"macho"``, ``"atlas"``).
"""

import runpy
import sys
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch

from sklearn_astromer import AstromerEmbedder
from sklearn_astromer.nn import AstromerModel
from sklearn_astromer.pretrained import load_pretrained
from sklearn_astromer.pretrained._download import HOME_ENV
from sklearn_astromer.pretrained._keras_h5 import H5_INSTALL_HINT, read_keras_h5
from sklearn_astromer.pretrained._published import (
    _to_state_dict,
    checkpoint_table,
    keras_h5_table,
    load_published,
)
from sklearn_astromer.pretrained._shipped import SHIPPED_DIR
from sklearn_astromer.pretrained._tf_checkpoint import read_tf_checkpoint

ARCHITECTURE = ("d_model", "n_layers", "n_heads", "d_ff", "dropout", "variant", "pe_base")
N_PARAMETERS = 661_505
MAX_OBS = 200
# The reference itself is float32 round-off away from the exact network: on these
# files it differs from a float64 evaluation of the same weights by up to 1.0e-3
# (our float32 port: up to 0.85e-3). Mean differences are ~1e-6.
EMBEDDING_MAX_TOL = 3e-3
RECONSTRUCTION_MAX_TOL = 1e-3
MEAN_TOL = 1e-5
PAPER_MASKED_RMSE = 0.1097
CONVERT_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "convert_published_weights.py"


def _build(config, state_dict):
    model = AstromerModel(**{name: config[name] for name in ARCHITECTURE})
    model.load_state_dict(state_dict, strict=True)
    return model.eval()


@pytest.fixture(scope="module")
def published(shared_data, tmp_path_factory):
    """``{"macho": (config, model), "atlas": (config, model)}`` from the shared zips."""
    cache = tmp_path_factory.mktemp("cache")
    models = {}
    for name in ("macho", "atlas"):
        config, state_dict = load_published(
            shared_data / "astromer_weights" / f"{name}.zip", cache_dir=cache
        )
        models[name] = config, _build(config, state_dict)
    return models


def _zero_mean_windows(light_curves, offsets):
    """Pad every light curve (<= 200 points) to one window of exactly 200.

    Returns float32 ``times``, ``magnitudes`` (zero-mean, 0 on padding) and bool
    ``valid``, each ``(n_curves, 200)``. The original zero-means float32 values
    with TensorFlow's ``reduce_mean``, a sequential float32 sum: the model is so
    sensitive to the time offset (a 1-ulp change of the mean MJD, 0.004 d,
    moves embeddings by ~0.04) that a float64 mean does not reproduce it.
    """
    lengths = np.diff(offsets)
    assert lengths.max() <= MAX_OBS
    valid = np.arange(MAX_OBS) < lengths[:, None]
    rows = np.where(valid, offsets[:-1, None] + np.arange(MAX_OBS), 0)
    values = np.where(valid[..., None], light_curves[rows, :2], 0).astype(np.float32)
    means = np.cumsum(values, axis=1, dtype=np.float32)[:, -1] / lengths[:, None].astype(
        np.float32
    )
    centred = np.where(valid[..., None], values - means[:, None, :], np.float32(0))
    return centred[..., 0], centred[..., 1], valid


def _window_mean_magnitudes(light_curves, offsets):
    """Mean magnitude of each one-window light curve, as the original computes it."""
    lengths = np.diff(offsets)
    valid = np.arange(MAX_OBS) < lengths[:, None]
    rows = np.where(valid, offsets[:-1, None] + np.arange(MAX_OBS), 0)
    magnitudes = np.where(valid, light_curves[rows, 1], 0).astype(np.float32)
    return np.cumsum(magnitudes, axis=1, dtype=np.float32)[:, -1] / lengths.astype(np.float32)


def _reference_reconstruction(reference, lengths):
    """Reference reconstruction, one value per observation.

    The original ``encode`` repeats the last window of a light curve whose
    length is a multiple of 200; the synthetic files keep those duplicates.
    """
    reconstruction = reference["reconstruction"]
    if len(reconstruction) == lengths.sum():
        return reconstruction
    stored = lengths + MAX_OBS * (lengths % MAX_OBS == 0)
    starts = np.repeat(np.cumsum(stored) - stored, lengths)
    within = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return reconstruction[starts + within]


@pytest.mark.shared_data
def test_configs(published):
    for name, (config, model) in published.items():
        assert config["d_model"] == 256 and config["n_layers"] == 2 and config["n_heads"] == 4
        assert config["d_ff"] == 128 and config["max_obs"] == 200
        assert config["variant"] == "paper" and config["pe_base"] == 10000.0
        assert (config["mask_frac"], config["same_frac"], config["random_frac"]) == (0.5, 0.2, 0.2)
        assert config["source"].endswith(f"{name}.zip")
        assert sum(parameter.numel() for parameter in model.parameters()) == N_PARAMETERS


@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["macho", "atlas"])
def test_shipped_copy_holds_the_published_tensors(published, name):
    config, state_dict = load_pretrained(name)
    zip_config, model = published[name]
    assert config.pop("source").endswith(f"/{name}.zip")
    assert config == {key: value for key, value in zip_config.items() if key != "source"}
    assert state_dict.keys() == model.state_dict().keys()
    for key, tensor in model.state_dict().items():
        assert state_dict[key].dtype == torch.float32
        torch.testing.assert_close(state_dict[key], tensor, rtol=0, atol=0)


def _no_network(*args, **kwargs):
    raise AssertionError("the shipped copies must load without a download")


def test_shipped_copies_load_offline_without_h5py(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "home"))
    monkeypatch.setattr(urllib.request, "urlopen", _no_network)
    for name in ("macho", "ATLAS"):
        config, state_dict = load_pretrained(name)
        assert config["variant"] == "paper"
        assert sum(tensor.numel() for tensor in state_dict.values()) == N_PARAMETERS
    embedder = AstromerEmbedder(pretrained="atlas", max_epochs=0, device="cpu")
    curve = np.column_stack([np.linspace(0, 50, 30), np.sin(np.arange(30)), np.full(30, 0.1)])
    assert embedder.fit([curve]).transform([curve]).shape == (1, 256)
    assert not (tmp_path / "home").exists()  # no download, no cache


@pytest.mark.shared_data
def test_conversion_script_reproduces_the_shipped_files(shared_data, tmp_path, monkeypatch):
    weights = shared_data / "astromer_weights"
    monkeypatch.setattr(sys, "argv", [str(CONVERT_SCRIPT), "--macho", str(weights / "macho.zip"),
                                      "--atlas", str(weights / "atlas.zip"),
                                      "--output", str(tmp_path)])
    runpy.run_path(str(CONVERT_SCRIPT), run_name="__main__")
    written = sorted(path.relative_to(tmp_path) for path in tmp_path.rglob("*") if path.is_file())
    assert [str(path) for path in written] == [
        "atlas/config.json", "atlas/model.safetensors",
        "macho/config.json", "macho/model.safetensors"]
    for path in written:
        assert (tmp_path / path).read_bytes() == (SHIPPED_DIR / path).read_bytes(), path


@pytest.mark.shared_data
def test_unpacked_folder_loads_like_the_zip(published, shared_data, tmp_path):
    import zipfile

    with zipfile.ZipFile(shared_data / "astromer_weights" / "atlas.zip") as archive:
        archive.extractall(tmp_path)
    config, state_dict = load_published(tmp_path / "atlas")
    model = _build(config, state_dict)
    for key, tensor in published["atlas"][1].state_dict().items():
        torch.testing.assert_close(model.state_dict()[key], tensor, rtol=0, atol=0)


@pytest.mark.parametrize("table", [checkpoint_table, keras_h5_table])
def test_tables_cover_the_model_exactly(table):
    keys = set(AstromerModel(variant="paper").state_dict())
    assert set(table(2)) == keys


@pytest.fixture(scope="module")
def macho_variables(shared_data, tmp_path_factory):
    from sklearn_astromer.pretrained._download import fetch_published_weights

    folder = fetch_published_weights(
        shared_data / "astromer_weights" / "macho.zip", tmp_path_factory.mktemp("cache")
    )
    return read_tf_checkpoint(folder / "weights")


@pytest.mark.shared_data
def test_missing_variable_is_named(macho_variables):
    variables = dict(macho_variables)
    del variables["layer_with_weights-1/bn_0/gamma"]
    with pytest.raises(ValueError, match="bn_0/gamma"):
        _to_state_dict(variables, checkpoint_table(2), "macho")


@pytest.mark.shared_data
def test_unexpected_variable_is_named(macho_variables):
    variables = {**macho_variables, "layer_with_weights-0/extra/kernel": np.zeros(3)}
    with pytest.raises(ValueError, match="extra/kernel"):
        _to_state_dict(variables, checkpoint_table(2), "macho")


@pytest.mark.shared_data
def test_deeper_configuration_than_the_file_is_refused(macho_variables):
    with pytest.raises(ValueError, match="enc_layers/2"):
        _to_state_dict(macho_variables, checkpoint_table(3), "macho")


@pytest.mark.shared_data
def test_fused_qkv_rows_are_query_key_value(macho_variables, published):
    qkv = published["macho"][1].encoder.blocks[1].attention.qkv
    prefix = "layer_with_weights-0/enc_layers/1/mha"
    for part, name in enumerate(("wq", "wk", "wv")):
        rows = slice(256 * part, 256 * (part + 1))
        np.testing.assert_array_equal(
            qkv.weight.detach().numpy()[rows], macho_variables[f"{prefix}/{name}/kernel"].T
        )
        np.testing.assert_array_equal(
            qkv.bias.detach().numpy()[rows], macho_variables[f"{prefix}/{name}/bias"]
        )


def test_missing_h5py_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(ImportError, match=H5_INSTALL_HINT.replace("[", r"\[").replace("]", r"\]")):
        read_keras_h5(tmp_path / "weights.h5")


@pytest.mark.shared_data
@pytest.mark.parametrize("copy", ["shipped", "zip"])
@pytest.mark.parametrize(
    "weights, reference_file",
    [
        ("macho", "parity_macho_synthetic.npz"),
        ("atlas", "parity_atlas_synthetic.npz"),
        ("macho", "parity_macho_real.npz"),
    ],
)
def test_parity_with_the_original_code(
    shared_data, weights, reference_file, copy, record_property
):
    """Through the estimator, as users call it: embed_observations and reconstruct."""
    reference = dict(np.load(shared_data / "astromer_reference" / reference_file))
    offsets = reference["offsets"]
    light_curves = np.split(reference["lightcurves"].astype(np.float64), offsets[1:-1])
    # Repeated times are kept as separate observations, as the original does:
    # the synthetic files' curve with one is compared like the others.
    assert any(np.any(np.diff(curve[:, 0]) == 0) for curve in light_curves) == (
        "synthetic" in reference_file)
    source = weights if copy == "shipped" else shared_data / "astromer_weights" / f"{weights}.zip"
    embedder = AstromerEmbedder.from_pretrained(source, batch_size=64, device="cpu")
    embeddings = np.concatenate(embedder.embed_observations(light_curves))
    # reconstruct() adds each window's mean magnitude back; the reference is zero-mean.
    window_means = _window_mean_magnitudes(reference["lightcurves"], offsets)
    reconstruction = np.concatenate(embedder.reconstruct(light_curves)) - np.repeat(
        window_means, np.diff(offsets))

    embedding_error = np.abs(embeddings - reference["embeddings"])
    reconstruction_error = np.abs(
        reconstruction - _reference_reconstruction(reference, np.diff(offsets))
    )
    stats = {
        "embedding_max": float(embedding_error.max()),
        "embedding_mean": float(embedding_error.mean()),
        "reconstruction_max": float(reconstruction_error.max()),
        "reconstruction_mean": float(reconstruction_error.mean()),
    }
    for key, value in stats.items():
        record_property(key, value)
    print(f"\n{reference_file} ({weights} weights, {copy} copy): " + ", ".join(
        f"{key} {value:.2e}" for key, value in stats.items()
    ))
    assert stats["embedding_max"] < EMBEDDING_MAX_TOL
    assert stats["reconstruction_max"] < RECONSTRUCTION_MAX_TOL
    assert stats["embedding_mean"] < MEAN_TOL
    assert stats["reconstruction_mean"] < MEAN_TOL


@pytest.mark.shared_data
@pytest.mark.slow
def test_masked_rmse_matches_the_paper_model(shared_data, record_property):
    """With the shipped MACHO copy (its tensors equal the zip's, tested above)."""
    from sklearn_astromer.preprocessing import mask_windows

    reference = np.load(shared_data / "astromer_reference" / "parity_macho_real.npz")
    times, magnitudes, valid = _zero_mean_windows(reference["lightcurves"], reference["offsets"])
    model = _build(*load_pretrained("macho"))
    rng = np.random.default_rng(0)
    draws = []
    for _ in range(30):
        masked = mask_windows(magnitudes, valid, rng)
        with torch.no_grad():
            predicted = model(
                torch.from_numpy(times),
                torch.from_numpy(masked.input_magnitudes),
                torch.from_numpy(masked.mask_in),
            ).numpy()
        squared_errors = np.where(masked.mask_out, (predicted - magnitudes) ** 2, 0.0)
        # Pooled over every masked point of the draw, as the reference was computed.
        draws.append(np.sqrt(squared_errors.sum() / masked.mask_out.sum()))
    rmse = float(np.mean(draws))
    record_property("masked_rmse_mean", rmse)
    record_property("masked_rmse_sd", float(np.std(draws)))
    print(
        f"\nmasked RMSE over {len(draws)} draws: {rmse:.4f} (sd {np.std(draws):.4f}); "
        f"original code: {reference['masked_rmse_draws'].mean():.4f} "
        f"(sd {reference['masked_rmse_draws'].std():.4f})"
    )
    assert abs(rmse - PAPER_MASKED_RMSE) < 0.01
