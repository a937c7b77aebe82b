"""Pure PyTorch building blocks (no scikit-learn or skorch imports).

The estimators in :mod:`sklearn_astromer` hold these modules; nothing here knows
about them.
"""

from .astromer import AstromerModel
from .attention import MultiHeadAttention
from .encoder import AstromerEncoder, EncoderBlock
from .heads import RegressionHead
from .positional import TimePositionalEncoding

__all__ = [
    "AstromerEncoder",
    "AstromerModel",
    "EncoderBlock",
    "MultiHeadAttention",
    "RegressionHead",
    "TimePositionalEncoding",
]
