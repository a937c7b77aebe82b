"""Simulated surveys, small real samples and catalogue readers."""

from ._simulate import make_light_curves
from ._multimodal import METADATA_COLUMNS, SPECTRUM_WAVELENGTHS, make_multimodal

__all__ = [
    "make_light_curves",
    "make_multimodal",
    "METADATA_COLUMNS",
    "SPECTRUM_WAVELENGTHS",
]
