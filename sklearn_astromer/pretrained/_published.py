"""Load the published ASTROMER v0 weights into :class:`sklearn_astromer.nn.AstromerModel`.

Two layouts were published: the MACHO model as a TensorFlow checkpoint
(``weights.index`` + ``weights.data-00000-of-00001``, written by the 2021 code)
and the ATLAS model as a Keras HDF5 file (``weights.h5``, written by the 2022
package). Their variable names differ; each is mapped to our state-dict keys by
an explicit table, and every variable must be used exactly once.
"""

from pathlib import Path

import numpy as np
import torch

from ._archive import CONFIG_FILE
from ._checks import check_architecture, check_tensors, read_json_object
from ._download import PUBLISHED_WEIGHTS, fetch_published_weights
from ._format import CONFIG_NAME, WEIGHTS_NAME
from ._keras_h5 import read_keras_h5
from ._tf_checkpoint import read_tf_checkpoint

CHECKPOINT_PREFIX = "weights"
KERAS_FILE = "weights.h5"
# Keras LayerNormalization names its scale and offset gamma and beta.
NORM_PARAMS = {"weight": "gamma", "bias": "beta"}
LINEAR_PARAMS = {"weight": "kernel", "bias": "bias"}


def _layer_entries(ours, theirs, params):
    """Table rows mapping ``ours.{weight,bias}`` to ``theirs/{kernel,bias|gamma,beta}``."""
    return {
        f"{ours}.{param}": tuple(f"{name}/{params[param]}" for name in theirs)
        for param in ("weight", "bias")
    }


# Our sub-module of an encoder block, the role naming its source layer, its parameters.
BLOCK_LAYERS = (
    ("attention.out", "out", LINEAR_PARAMS),
    ("attention_norm", "attention_norm", NORM_PARAMS),
    ("feed_forward.0", "ff_hidden", LINEAR_PARAMS),
    ("feed_forward.2", "ff_output", LINEAR_PARAMS),
    ("feed_forward_norm", "feed_forward_norm", NORM_PARAMS),
)


def _model_table(input_projection, blocks, head_norm, head_linear):
    """Assemble the full table from per-layer source names.

    ``blocks`` holds, per encoder block, a dict with the source names of
    ``query``, ``key``, ``value``, ``out``, ``attention_norm``, ``ff_hidden``,
    ``ff_output`` and ``feed_forward_norm``.
    """
    table = _layer_entries("encoder.input_projection", [input_projection], LINEAR_PARAMS)
    for i, block in enumerate(blocks):
        prefix = f"encoder.blocks.{i}"
        qkv = [block["query"], block["key"], block["value"]]
        table.update(_layer_entries(f"{prefix}.attention.qkv", qkv, LINEAR_PARAMS))
        for module, role, params in BLOCK_LAYERS:
            table.update(_layer_entries(f"{prefix}.{module}", [block[role]], params))
    table.update(_layer_entries("head.norm", [head_norm], NORM_PARAMS))
    table.update(_layer_entries("head.linear", [head_linear], LINEAR_PARAMS))
    return table


def checkpoint_table(n_layers):
    """Our state-dict keys -> variable names of the MACHO TensorFlow checkpoint."""
    encoder = "layer_with_weights-0"
    blocks = []
    for i in range(n_layers):
        layer = f"{encoder}/enc_layers/{i}"
        blocks.append(
            {
                "query": f"{layer}/mha/wq",
                "key": f"{layer}/mha/wk",
                "value": f"{layer}/mha/wv",
                "out": f"{layer}/mha/dense",
                "attention_norm": f"{layer}/layernorm1",
                "ff_hidden": f"{layer}/ffn/layer_with_weights-0",
                "ff_output": f"{layer}/ffn/layer_with_weights-1",
                "feed_forward_norm": f"{layer}/layernorm2",
            }
        )
    return _model_table(
        f"{encoder}/inp_transform",
        blocks,
        head_norm="layer_with_weights-1/bn_0",
        head_linear="layer_with_weights-1/reg_layer",
    )


def _keras_name(base, index):
    """Keras auto-naming: ``base``, ``base_1``, ``base_2``, ... in creation order."""
    return base if index == 0 else f"{base}_{index}"


def keras_h5_table(n_layers):
    """Our state-dict keys -> weight names of the ATLAS Keras HDF5 file.

    Keras numbers layers of one class in creation order across the model:
    block ``i`` owns ``encoder_layer_i``, ``multi_head_attention_i``,
    ``layer_normalization_{2i, 2i+1}`` and the feed-forward ``dense_{2i+1, 2i+2}``
    (``dense`` itself is the input projection); the head's layer norm comes last.
    """
    blocks = []
    for i in range(n_layers):
        layer = f"encoder/encoder/{_keras_name('encoder_layer', i)}"
        attention = f"{layer}/{_keras_name('multi_head_attention', i)}"
        blocks.append(
            {
                "query": f"{attention}/WQ",
                "key": f"{attention}/WK",
                "value": f"{attention}/WV",
                "out": f"{attention}/MixerDense",
                "attention_norm": f"{layer}/{_keras_name('layer_normalization', 2 * i)}",
                "ff_hidden": f"encoder/{_keras_name('dense', 2 * i + 1)}",
                "ff_output": f"encoder/{_keras_name('dense', 2 * i + 2)}",
                "feed_forward_norm": f"{layer}/{_keras_name('layer_normalization', 2 * i + 1)}",
            }
        )
    return _model_table(
        "encoder/encoder/dense",
        blocks,
        head_norm=f"regression/regression/{_keras_name('layer_normalization', 2 * n_layers)}",
        head_linear="regression/regression/RegLayer",
    )


def _to_state_dict(variables, table, origin):
    """Apply ``table`` to ``variables``; Keras kernels ``(in, out)`` become ``(out, in)``."""
    wanted = {name for names in table.values() for name in names}
    missing = sorted(wanted - variables.keys())
    if missing:
        raise ValueError(f"{origin}: variable {missing[0]!r} is missing ({len(missing)} missing).")
    unexpected = sorted(variables.keys() - wanted)
    if unexpected:
        raise ValueError(
            f"{origin}: unexpected variable {unexpected[0]!r} ({len(unexpected)} unexpected); "
            "this is not an ASTROMER v0 model of the configured size."
        )
    state_dict = {}
    for key, names in table.items():
        parts = [
            variables[name].T if name.endswith("/kernel") else variables[name] for name in names
        ]
        try:
            tensor = np.concatenate(parts, axis=0) if len(parts) > 1 else parts[0]
            state_dict[key] = torch.from_numpy(np.ascontiguousarray(tensor, dtype=np.float32))
        except (ValueError, TypeError) as error:
            raise ValueError(f"{origin}: variables {', '.join(names)} do not form the "
                             f"{key} weights: {error}") from None
    return state_dict


# Our config keys -> the upstream conf.json settings and their types.
CONF_SETTINGS = {
    "d_model": ("head_dim", int),
    "n_layers": ("layers", int),
    "n_heads": ("heads", int),
    "d_ff": ("dff", int),
    "dropout": ("dropout", float),
    "max_obs": ("max_obs", int),
    "mask_frac": ("msk_frac", float),
    "random_frac": ("rnd_frac", float),
    "same_frac": ("same_frac", float),
}


def _read_config(folder, source):
    path = folder / CONFIG_FILE
    conf = read_json_object(path)
    config = {}
    for key, (setting, kind) in CONF_SETTINGS.items():
        if setting not in conf:
            raise ValueError(f"{path} lacks the setting {setting!r}.")
        try:
            config[key] = kind(conf[setting])
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"{path}: the setting {setting!r} = {conf[setting]!r} is not "
                             f"a number of type {kind.__name__}.") from None
    # conf.json's `base` (1000) was never passed to the positional encoding:
    # the published weights were trained with 10000.
    config.update(variant="paper", pe_base=10000.0, source=str(source))
    check_architecture(config, path)
    return config


def _resolve_folder(source, cache_dir):
    if isinstance(source, str) and source.lower() in PUBLISHED_WEIGHTS:
        return fetch_published_weights(source, cache_dir)
    path = Path(source)
    if path.is_file() and path.suffix == ".zip":
        return fetch_published_weights(path, cache_dir)
    if path.is_dir():
        if (path / CONFIG_FILE).is_file():
            return path
        children = [child for child in path.iterdir() if (child / CONFIG_FILE).is_file()]
        if len(children) == 1:
            return children[0]
        saved = [path / name for name in (CONFIG_NAME, WEIGHTS_NAME)]
        present = [file.name for file in saved if file.exists()]
        if present:
            missing = [file.name for file in saved if not file.exists()]
            raise ValueError(f"{path} is an incomplete saved model: it has {present} but not "
                             f"{missing} (save_pretrained writes both).")
        raise ValueError(f"{path} holds no model: neither {CONFIG_NAME} + {WEIGHTS_NAME} "
                         f"(save_pretrained) nor a published ASTROMER folder ({CONFIG_FILE}).")
    raise ValueError(
        f"Cannot load published ASTROMER weights from {source!r}: expected one of "
        f"{sorted(PUBLISHED_WEIGHTS)}, a published zip, or its unpacked folder."
    )


def load_published(source, cache_dir=None):
    """Read published ASTROMER v0 weights as ``(config, state_dict)``.

    Parameters
    ----------
    source : str or path-like
        ``"macho"`` or ``"atlas"`` (downloaded once, checksummed and cached,
        see :func:`fetch_published_weights`); the path of a published zip; or
        its unpacked folder holding ``conf.json`` and either a TensorFlow
        checkpoint (``weights.index``) or a Keras HDF5 file (``weights.h5``).
    cache_dir : path-like, optional
        Where downloaded and unpacked zips are kept; see
        :func:`fetch_published_weights`.

    Returns
    -------
    config : dict
        ``d_model``, ``n_layers``, ``n_heads``, ``d_ff``, ``dropout``,
        ``max_obs``, ``variant`` (always ``"paper"``), ``pe_base``,
        ``mask_frac``, ``random_frac``, ``same_frac`` and ``source``.
    state_dict : dict of str to Tensor
        Loads with ``strict=True`` into
        ``AstromerModel(variant="paper", d_model=..., n_layers=..., ...)``.

    Raises
    ------
    ValueError
        Naming the file: a ``conf.json`` that is not a JSON object or holds
        settings out of range, a weights file that cannot be read, a variable
        the model needs that is missing or one it does not use, non-finite
        weights.
    """
    folder = _resolve_folder(source, cache_dir)
    config = _read_config(folder, source)
    if (folder / f"{CHECKPOINT_PREFIX}.index").is_file():
        weights_file = folder / f"{CHECKPOINT_PREFIX}.index"
        variables = read_tf_checkpoint(folder / CHECKPOINT_PREFIX)
        table = checkpoint_table(config["n_layers"])
    elif (folder / KERAS_FILE).is_file():
        weights_file = folder / KERAS_FILE
        variables = read_keras_h5(weights_file)
        table = keras_h5_table(config["n_layers"])
    else:
        raise ValueError(
            f"{folder} holds neither a TensorFlow checkpoint ({CHECKPOINT_PREFIX}.index) "
            f"nor a Keras weights file ({KERAS_FILE})."
        )
    return config, check_tensors(_to_state_dict(variables, table, weights_file), weights_file)
