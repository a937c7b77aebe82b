"""Pure PyTorch building blocks (no scikit-learn or skorch imports).

The estimators in :mod:`sklearn_astromer` hold these modules; nothing here knows
about them.
"""

from .astromer import AstromerModel
from .attention import MultiHeadAttention
from .clip_loss import ContrastiveLoss, modality_pairs, pairwise_clip_loss
from .encoder import AstromerEncoder, EncoderBlock
from .heads import RegressionHead
from .informer import InformerEncoder, InformerEncoderLayer, ProbSparseAttention
from .linear import Linear
from .metadata import MetadataEncoder
from .multimodal import (
    InformerPhotometryTower,
    MultimodalClassifier,
    MultimodalCLIPModel,
    PhotometryTower,
)
from .positional import TimePositionalEncoding
from .spectrum import SpectrumEncoder

__all__ = [
    "AstromerEncoder",
    "AstromerModel",
    "ContrastiveLoss",
    "EncoderBlock",
    "InformerEncoder",
    "InformerEncoderLayer",
    "InformerPhotometryTower",
    "Linear",
    "MetadataEncoder",
    "MultiHeadAttention",
    "MultimodalCLIPModel",
    "MultimodalClassifier",
    "PhotometryTower",
    "ProbSparseAttention",
    "RegressionHead",
    "SpectrumEncoder",
    "TimePositionalEncoding",
    "modality_pairs",
    "pairwise_clip_loss",
]
