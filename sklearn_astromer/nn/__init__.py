"""Pure PyTorch building blocks (no scikit-learn or skorch imports).

The estimators in :mod:`sklearn_astromer` hold these modules; nothing here knows
about them.
"""

from .astromer import AstromerClassifierModel, AstromerModel
from .attention import MultiHeadAttention
from .clip_loss import ContrastiveLoss, modality_pairs, pairwise_clip_loss
from .encoder import AstromerEncoder, EncoderBlock
from .heads import LayerWeightedClassifier, RegressionHead
from .informer import InformerEncoder, InformerEncoderLayer, ProbSparseAttention
from .linear import Linear
from .metadata import MetadataEncoder
from .multimodal import (
    InformerPhotometryTower,
    MultimodalClassifier,
    MultimodalCLIPModel,
    PhotometryTower,
)
from .period import PeriodInputEmbedding
from .pooling import WindowPooling
from .positional import LogPeriodTimeEncoding, TimePositionalEncoding
from .spectrum import SpectrumEncoder

__all__ = [
    "AstromerClassifierModel",
    "AstromerEncoder",
    "AstromerModel",
    "ContrastiveLoss",
    "EncoderBlock",
    "InformerEncoder",
    "InformerEncoderLayer",
    "InformerPhotometryTower",
    "LayerWeightedClassifier",
    "Linear",
    "LogPeriodTimeEncoding",
    "MetadataEncoder",
    "MultiHeadAttention",
    "MultimodalCLIPModel",
    "MultimodalClassifier",
    "PeriodInputEmbedding",
    "PhotometryTower",
    "ProbSparseAttention",
    "RegressionHead",
    "SpectrumEncoder",
    "TimePositionalEncoding",
    "WindowPooling",
    "modality_pairs",
    "pairwise_clip_loss",
]
