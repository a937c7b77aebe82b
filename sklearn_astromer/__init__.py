"""sklearn-astromer: light-curve embeddings (ASTROMER, AstroM3) as scikit-learn transformers."""

from .astromer import AstromerEmbedder
from .multimodal import MultimodalCLIPEmbedder
from ._validation import LightCurveRepairWarning

__version__ = "0.1.0"

__all__ = ["AstromerEmbedder", "LightCurveRepairWarning", "MultimodalCLIPEmbedder", "__version__"]
