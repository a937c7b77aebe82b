"""Checks on model files before anything is built from them.

Model files are untrusted input: a config may be malformed, or hold sizes
that would allocate gigabytes or build for minutes; weights may be corrupt,
hold NaN, or not fit the architecture their config describes. Every problem
found here is a :class:`ValueError` that names the file and the key or tensor
at fault.
"""

import json
from contextlib import contextmanager
from numbers import Integral, Real

import torch
from sklearn.utils._param_validation import (
    InvalidParameterError,
    Interval,
    StrOptions,
    validate_parameter_constraints,
)

from ..nn.encoder import VARIANTS
from ..nn.positional import TIME_ENCODINGS

# Upper bounds far above any ASTROMER model (the published ones: d_model 256,
# 2 layers, 4 heads, d_ff 128, max_obs 200) that keep a corrupt or hostile
# config from allocating gigabytes or building for minutes.
MAX_D_MODEL = 4096
MAX_LAYERS = 64
MAX_HEADS = 64
MAX_D_FF = 16384
MAX_OBS = 100_000
MAX_HARMONICS = 64
MAGNITUDE_SCALINGS = ("none", "std")
# A time-encoding base below 1 runs the frequency ladder backwards, and tiny
# bases overflow float32 (infinite frequencies, NaN embeddings).
PE_BASE_RANGE = (1.0, 1e12)

ARCHITECTURE_CONSTRAINTS = {
    "d_model": [Interval(Integral, 1, MAX_D_MODEL, closed="both")],
    "n_layers": [Interval(Integral, 1, MAX_LAYERS, closed="both")],
    "n_heads": [Interval(Integral, 1, MAX_HEADS, closed="both")],
    "d_ff": [Interval(Integral, 1, MAX_D_FF, closed="both")],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "max_obs": [Interval(Integral, 1, MAX_OBS, closed="both")],
    "variant": [StrOptions(set(VARIANTS))],
    "pe_base": [Interval(Real, *PE_BASE_RANGE, closed="both")],
    "time_encoding": [StrOptions(set(TIME_ENCODINGS))],
    "period_input": ["boolean"],
    "n_harmonics": [Interval(Integral, 1, MAX_HARMONICS, closed="both")],
    "magnitude_scaling": [StrOptions(set(MAGNITUDE_SCALINGS))],
}
"""Constraints on the architecture of an ASTROMER model, in the form of
:attr:`AstromerEmbedder._parameter_constraints`, which uses them too: a model
the estimator can build is a model the loaders accept."""


@contextmanager
def errors_naming(path, errors, problem):
    """Turn ``errors`` raised inside the block into a ValueError that names ``path``.

    Readers of binary formats (zip, HDF5, TensorFlow tables, safetensors)
    fail on malformed bytes with exceptions of many types; users get one type,
    with the file and ``problem`` (e.g. ``"is not a readable zip"``) in the
    message, unless the message names the file already.
    """
    try:
        yield
    except errors as error:
        message = str(error)
        if str(path) not in message:
            message = f"{path} {problem}: {message}"
        raise ValueError(message) from None


def read_json_object(path):
    """The JSON object (a dict) in the file ``path``.

    Raises
    ------
    ValueError
        Naming the file, if it is not UTF-8, not JSON, or not a JSON object.
    """
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ValueError(f"{path} is not a valid JSON file: {error}") from None
    if not isinstance(value, dict):
        raise ValueError(f"{path} must hold a JSON object of settings, not "
                         f"{type(value).__name__} {str(value)[:40]!r}.")
    return value


def check_architecture(config, origin):
    """Check the architecture keys present in ``config`` against :data:`ARCHITECTURE_CONSTRAINTS`.

    Keys that are absent, and keys these constraints do not know (settings
    added by later versions, or used by one estimator only), are left to the
    estimator that reads the config.

    Parameters
    ----------
    config : dict
    origin : str or path-like
        The file the config comes from, named in errors.

    Raises
    ------
    ValueError
        Naming ``origin`` and the key, for a value out of its range, of the
        wrong type, or ``d_model`` not divisible by ``n_heads``.
    """
    present = {key: config[key] for key in ARCHITECTURE_CONSTRAINTS if key in config}
    try:
        validate_parameter_constraints(ARCHITECTURE_CONSTRAINTS, present,
                                       caller_name="this config")
    except InvalidParameterError as error:
        raise ValueError(f"{origin}: {error}") from None
    if "d_model" in present and "n_heads" in present and present["d_model"] % present["n_heads"]:
        raise ValueError(f"{origin}: d_model={present['d_model']} is not divisible by "
                         f"n_heads={present['n_heads']}.")


def check_tensors(state_dict, origin):
    """Check that every floating-point tensor is finite; return them as float32.

    Integer tensors (counters, indices) are returned as they are.

    Raises
    ------
    ValueError
        Naming ``origin`` and the first tensor holding NaN or infinity (also
        after conversion to float32).
    """
    checked = {}
    for name, tensor in state_dict.items():
        if tensor.is_floating_point():
            tensor = tensor.to(torch.float32)
            if not torch.isfinite(tensor).all():
                raise ValueError(f"{origin}: tensor {name!r} holds NaN or infinite values "
                                 "(corrupt or diverged weights).")
        checked[name] = tensor
    return checked


def expected_shapes(module_class, **params):
    """``{name: shape}`` of the state dict of ``module_class(**params)``, built on no device.

    The module is built on PyTorch's ``meta`` device: shapes only, no memory
    for the weights, so a config can be checked against its weights before
    anything real is built. Call it with checked sizes (see
    :func:`check_architecture`): building still takes time in the number of
    layers.

    Parameters
    ----------
    module_class : type
        The :class:`torch.nn.Module` to build.
    **params
        Its constructor's arguments.

    Returns
    -------
    dict of str to tuple of int
        Shape of each tensor of the module's state dict, by name.

    Raises
    ------
    ValueError
        If the module refuses ``params``.
    """
    try:
        with torch.device("meta"):
            module = module_class(**params)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{module_class.__name__} cannot be built with {params}: "
                         f"{error}") from None
    return {name: tuple(tensor.shape) for name, tensor in module.state_dict().items()}


def check_state_dict(expected, state_dict, origin, optional=(), ignored_prefixes=()):
    """Check the names and shapes of ``state_dict`` against ``expected`` before loading it.

    Parameters
    ----------
    expected : dict of str to tuple
        Shapes of the module's state dict (see :func:`expected_shapes`).
    state_dict : dict of str to Tensor
    origin : str or path-like
        The weights file, named in errors.
    optional : iterable of str, default=()
        Names of ``expected`` that may be missing (the caller initialises them).
    ignored_prefixes : tuple of str, default=()
        Names of ``state_dict`` starting with these belong to another module
        (e.g. a classification head) and are not checked here.

    Raises
    ------
    ValueError
        Naming ``origin`` and the missing, unexpected or misshapen tensors.
    """
    names = {name for name in state_dict if not name.startswith(tuple(ignored_prefixes))}
    missing = sorted(set(expected) - names - set(optional))
    unexpected = sorted(names - set(expected))
    if missing or unexpected:
        raise ValueError(
            f"{origin}: the weights do not fit the architecture of their config: "
            f"{_listed('missing', missing)}{', ' if missing and unexpected else ''}"
            f"{_listed('unexpected', unexpected)}.")
    for name in sorted(names):
        shape = tuple(state_dict[name].shape)
        if shape != expected[name]:
            raise ValueError(f"{origin}: tensor {name!r} has shape {shape}; the architecture "
                             f"of the config needs {expected[name]}.")


def _listed(label, names):
    if not names:
        return ""
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    return f"{label} {', '.join(map(repr, names[:3]))}{more}"

