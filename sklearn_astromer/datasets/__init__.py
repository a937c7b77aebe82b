"""Simulated surveys, small real samples and catalogue readers."""

from ._simulate import make_light_curves
from ._multimodal import METADATA_COLUMNS, SPECTRUM_WAVELENGTHS, make_multimodal
from ._real import (load_asas_sample, load_catalina, load_eros_sample, load_macho_sample,
                    load_ogle3_catalog)

__all__ = [
    "make_light_curves",
    "make_multimodal",
    "METADATA_COLUMNS",
    "SPECTRUM_WAVELENGTHS",
    "load_macho_sample",
    "load_asas_sample",
    "load_catalina",
    "load_eros_sample",
    "load_ogle3_catalog",
]
