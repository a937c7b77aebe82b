"""ASTROMER: masked-magnitude pre-trained light-curve embeddings (estimator family).

:class:`AstromerEmbedder` is the estimator; :class:`AstromerNet` is the
skorch net it trains (its ``net_``), which
:func:`sklearn_astromer.distributed.fit_ddp` extends to data-parallel ranks.
"""

from ._estimator import AstromerEmbedder
from ._net import AstromerNet

__all__ = ["AstromerEmbedder", "AstromerNet"]
