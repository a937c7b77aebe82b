"""ASTROMER: masked-magnitude pre-trained light-curve embeddings (estimator family).

Private modules: ``_estimator`` (:class:`AstromerEmbedder`, scikit-learn glue),
``_net`` (skorch nets and collates), ``_inference`` (batched gradient-free
passes).
"""

from ._estimator import AstromerEmbedder

__all__ = ["AstromerEmbedder"]
