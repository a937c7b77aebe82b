"""Pretrained ASTROMER models: the library's own format and the published weights."""

from ._checks import ARCHITECTURE_CONSTRAINTS, check_state_dict, expected_shapes
from ._download import PUBLISHED_WEIGHTS, WeightsUnavailableError, fetch_published_weights
from ._format import CONFIG_NAME, WEIGHTS_NAME, is_saved_model_dir, load_model, save_model
from ._shipped import SHIPPED_MODELS, shipped_model_dir
from ._sources import load_pretrained, model_files, saved_model_dir

__all__ = [
    "ARCHITECTURE_CONSTRAINTS",
    "CONFIG_NAME",
    "PUBLISHED_WEIGHTS",
    "SHIPPED_MODELS",
    "WEIGHTS_NAME",
    "WeightsUnavailableError",
    "check_state_dict",
    "expected_shapes",
    "fetch_published_weights",
    "is_saved_model_dir",
    "load_model",
    "load_pretrained",
    "model_files",
    "save_model",
    "saved_model_dir",
    "shipped_model_dir",
]
