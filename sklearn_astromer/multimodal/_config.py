"""Checks of a saved MultimodalCLIPEmbedder (``config.json`` and its tensors) before anything is built.

Every key the estimator reads is checked for presence, type and range; the
architecture it describes is built on PyTorch's ``meta`` device (shapes only,
no memory) and refused when its weights alone would be too large; the saved
tensors must be floating point and have the shapes of that architecture. A
tampered or corrupt model is a ``ValueError`` naming the file and the key,
never an allocation, a ``KeyError`` or a ``RuntimeError``.
"""

import math
from numbers import Integral, Real

from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    StrOptions,
    validate_parameter_constraints,
)

from ..pretrained import ARCHITECTURE_CONSTRAINTS, check_state_dict, expected_shapes
from ._data import METADATA, PHOTOMETRY, PHOTOMETRY_ENCODERS, SPECTRUM
from ._metadata import METADATA_TRANSFORMS
from ._net import (
    INFORMER_KEYS,
    PHOTOMETRY_KEYS,
    TOWER_INPUT_DEFAULTS,
    ConfiguredClassifier,
    ConfiguredCLIPModel,
)

#: Limits of the sizes a saved model may declare (widths as for ASTROMER's).
MAX_D_MODEL = ARCHITECTURE_CONSTRAINTS["d_model"][0].right
MAX_D_FF = ARCHITECTURE_CONSTRAINTS["d_ff"][0].right
MAX_SPECTRUM_CONVOLUTIONS = 16
MAX_SPECTRUM_CHANNELS = 4096
MAX_WAVELENGTHS = 1_000_000
MAX_METADATA_COLUMNS = 100_000
#: Weights a loaded model may hold (float32): 2**28 parameters, 1 GiB.
MAX_PARAMETERS = 2**28

CONSTRAINTS = {
    "modalities": [list],
    "kinds": [list],
    "columns": [list],
    "embed_dim": [Interval(Integral, 1, MAX_D_MODEL, closed="both")],
    "metadata_hidden": [Interval(Integral, 1, MAX_D_FF, closed="both")],
    "spectrum_channels": [list],
    "metadata_columns": [list],
    "metadata_mean": [list],
    "metadata_scale": [list],
    "wavelengths": [list, None],
    "metadata_transform": [StrOptions(set(METADATA_TRANSFORMS)), None],
    "photometry_encoder": [StrOptions(set(PHOTOMETRY_ENCODERS))],
    "photometry_statistics": [dict],
    "photometry_bands": [dict],
    "output": [StrOptions({"fused", "concat"})],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "classes": [list, None],
    # The ASTROMER tower's inputs (absent in configs written before they existed).
    "time_encoding": ARCHITECTURE_CONSTRAINTS["time_encoding"],
    "magnitude_scaling": ARCHITECTURE_CONSTRAINTS["magnitude_scaling"],
    "period_input": ["boolean"],
    "n_harmonics": [Interval(Integral, 1, 64, closed="both")],
}
REQUIRED = ("modalities", "kinds", "columns", "embed_dim", "metadata_hidden",
            "spectrum_channels", "metadata_columns", "metadata_mean", "metadata_scale",
            "output", "batch_size", "dropout")


def check_saved_config(config, origin):
    """Check every key of a saved multimodal ``config`` that the estimator reads.

    Parameters
    ----------
    config : dict
        As read from ``config.json`` (architecture keys already in range, see
        :func:`sklearn_astromer.pretrained.load_model`).
    origin : str or path-like
        The file, named in errors.

    Raises
    ------
    ValueError
        Naming ``origin`` and the key: a missing key, a value of the wrong
        type or out of range, lists that do not match, non-finite or
        non-positive scales, wavelengths that are not increasing, AstroM3
        photometry statistics that are missing.
    """
    encoder = config.get("photometry_encoder", "astromer")
    required = (*REQUIRED, *(PHOTOMETRY_KEYS if encoder == "astromer" else INFORMER_KEYS))
    missing = [key for key in required if key not in config]
    if missing:
        raise ValueError(f"{origin}: the config lacks {missing}.")
    present = {key: config[key] for key in CONSTRAINTS if key in config}
    try:
        validate_parameter_constraints(CONSTRAINTS, present, caller_name="this config")
    except InvalidParameterError as error:
        raise ValueError(f"{origin}: {error}") from None
    kinds = config["kinds"]
    _check_modalities(config, origin)
    _check_spectrum_channels(config["spectrum_channels"], origin)
    if SPECTRUM in kinds:
        wavelengths = _finite_numbers(config.get("wavelengths"), "wavelengths", origin)
        if len(wavelengths) < 2 or len(wavelengths) > MAX_WAVELENGTHS or any(
                b <= a for a, b in zip(wavelengths, wavelengths[1:])):
            raise ValueError(f"{origin}: 'wavelengths' must be 2 to {MAX_WAVELENGTHS:,} strictly "
                             "increasing wavelengths.")
    n_columns = len(config["metadata_columns"])
    if METADATA in kinds:
        if not 1 <= n_columns <= MAX_METADATA_COLUMNS:
            raise ValueError(f"{origin}: 'metadata_columns' must hold 1 to "
                             f"{MAX_METADATA_COLUMNS:,} columns, not {n_columns}.")
        for key in ("metadata_mean", "metadata_scale"):
            values = _finite_numbers(config[key], key, origin)
            if len(values) != n_columns:
                raise ValueError(f"{origin}: '{key}' has {len(values)} values for {n_columns} "
                                 "metadata columns.")
        if min(config["metadata_scale"]) <= 0:
            raise ValueError(f"{origin}: 'metadata_scale' must be positive.")
    if encoder == "astrom3":
        _check_photometry_statistics(config, origin)
    bands = config.get("photometry_bands") or {}
    photometry = [name for name, kind in zip(config["modalities"], kinds) if kind == PHOTOMETRY]
    if any(name not in photometry or not isinstance(code, int) or isinstance(code, bool)
           or code < 0 for name, code in bands.items()):
        raise ValueError(f"{origin}: 'photometry_bands' must map photometry modalities to "
                         f"non-negative integer band codes, not {bands!r}.")
    classes = config.get("classes")
    if classes is not None and (len(classes) < 2 or any(
            not isinstance(label, (str, int, float, bool)) for label in classes)
            or len(set(classes)) != len(classes)):
        raise ValueError(f"{origin}: 'classes' must be two or more distinct labels (strings or "
                         "numbers).")


def _check_modalities(config, origin):
    modalities, kinds, columns = config["modalities"], config["kinds"], config["columns"]
    if not modalities or not len(modalities) == len(kinds) == len(columns):
        raise ValueError(f"{origin}: 'modalities', 'kinds' and 'columns' must be non-empty lists "
                         f"of one length, not {len(modalities)}, {len(kinds)} and "
                         f"{len(columns)}.")
    if not all(isinstance(name, str) for name in modalities) or len(set(modalities)) != len(
            modalities):
        raise ValueError(f"{origin}: 'modalities' must be distinct names, got {modalities}.")
    unknown = sorted({str(kind) for kind in kinds} - {PHOTOMETRY, SPECTRUM, METADATA})
    if unknown:
        raise ValueError(f"{origin}: unknown modality kinds {unknown} in 'kinds'; known: "
                         f"{[PHOTOMETRY, SPECTRUM, METADATA]}.")
    for kind in (SPECTRUM, METADATA):
        if kinds.count(kind) > 1:
            raise ValueError(f"{origin}: 'kinds' holds {kinds.count(kind)} {kind} modalities; "
                             "a model has one at most.")


def _check_spectrum_channels(channels, origin):
    if not 1 <= len(channels) <= MAX_SPECTRUM_CONVOLUTIONS or not all(
            isinstance(c, Integral) and not isinstance(c, bool)
            and 1 <= c <= MAX_SPECTRUM_CHANNELS for c in channels):
        raise ValueError(f"{origin}: 'spectrum_channels' must be 1 to "
                         f"{MAX_SPECTRUM_CONVOLUTIONS} integers in [1, "
                         f"{MAX_SPECTRUM_CHANNELS}], got {channels}.")


def _check_photometry_statistics(config, origin):
    statistics = config["photometry_statistics"]
    for name, kind in zip(config["modalities"], config["kinds"]):
        if kind != PHOTOMETRY:
            continue
        entry = statistics.get(name)
        if not isinstance(entry, list) or len(entry) != 2:
            raise ValueError(f"{origin}: 'photometry_statistics' lacks the [mean, scale] of the "
                             f"photometry modality {name!r} (AstroM3's encoder needs them).")
        mean = _finite_numbers(entry[0], f"photometry_statistics[{name!r}] mean", origin)
        scale = _finite_numbers(entry[1], f"photometry_statistics[{name!r}] scale", origin)
        if len(mean) != len(scale) or not mean or min(scale) <= 0:
            raise ValueError(f"{origin}: 'photometry_statistics[{name!r}]' needs as many "
                             "positive scales as means.")


def _finite_numbers(values, key, origin):
    """``values`` if it is a list of finite numbers, else a ValueError naming ``key``."""
    if not isinstance(values, list) or not all(
            isinstance(v, Real) and not isinstance(v, bool) and math.isfinite(v)
            for v in values):
        raise ValueError(f"{origin}: '{key}' must be a list of finite numbers.")
    return values


def check_saved_tensors(architecture, n_classes, state_dict, origin):
    """Check the saved tensors against the architecture they claim, built on the meta device.

    Parameters
    ----------
    architecture : dict
        What :class:`~._net.ConfiguredCLIPModel` is built from (a checked config).
    n_classes : int or None
        Classes of a saved head.
    state_dict : dict of str to Tensor
        ``model.*``, ``loss.logit_scales`` and, with a head, ``head.*``.
    origin : str or path-like
        The weights file, named in errors.

    Raises
    ------
    ValueError
        Naming ``origin``: weights that would exceed :data:`MAX_PARAMETERS`,
        a missing, unexpected, non-floating-point or misshapen tensor.
    """
    expected = {f"model.{key}": shape for key, shape in
                _shapes(ConfiguredCLIPModel, origin, architecture=architecture).items()}
    n_parameters = sum(math.prod(shape) for shape in expected.values())
    if n_parameters > MAX_PARAMETERS:
        raise ValueError(f"{origin}: the architecture of its config has {n_parameters:,} "
                         f"weights ({4 * n_parameters / 2**30:.1f} GiB), more than the "
                         f"{MAX_PARAMETERS:,} a model may hold.")
    n_modalities = len(architecture["modalities"])
    if n_modalities >= 2:
        expected["loss.logit_scales"] = (n_modalities * (n_modalities - 1) // 2,)
    if n_classes is not None:
        head = _shapes(ConfiguredClassifier, origin, architecture=architecture,
                       n_classes=n_classes)
        expected.update({key: shape for key, shape in head.items()
                         if not key.startswith("model.")})
    check_state_dict(expected, state_dict, origin)
    for key in expected:
        if not state_dict[key].is_floating_point():
            raise ValueError(f"{origin}: tensor '{key}' has dtype {state_dict[key].dtype}; a "
                             "floating-point tensor is expected.")


def _shapes(module_class, origin, **params):
    try:
        return expected_shapes(module_class, **params)
    except ValueError as error:
        raise ValueError(f"{origin}: {error}") from None


def saved_architecture(config):
    """The tower sizes of a checked saved ``config``: the photometry encoder's, ``embed_dim``,
    ``spectrum_channels`` and ``metadata_hidden``, with ``photometry_encoder``."""
    encoder = config.get("photometry_encoder", "astromer")
    keys = (*(PHOTOMETRY_KEYS if encoder == "astromer" else INFORMER_KEYS),
            "embed_dim", "spectrum_channels", "metadata_hidden")
    inputs = {key: config[key] for key in TOWER_INPUT_DEFAULTS
              if encoder == "astromer" and key in config}
    return {**{key: config[key] for key in keys}, **inputs, "photometry_encoder": encoder}


def full_architecture(config):
    """What :class:`~._net.ConfiguredCLIPModel` builds for every modality of a saved ``config``."""
    wavelengths = config.get("wavelengths")
    return {**saved_architecture(config), "modalities": list(config["modalities"]),
            "kinds": list(config["kinds"]),
            "n_wavelengths": 0 if wavelengths is None else len(wavelengths),
            "n_metadata": len(config["metadata_columns"]), "dropout": config["dropout"]}
