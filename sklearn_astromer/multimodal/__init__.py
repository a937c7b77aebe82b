"""AstroM3: CLIP-style embeddings of light curves, spectra and metadata (estimator family).

Private modules: ``_estimator`` (:class:`MultimodalCLIPEmbedder`), ``_data``
(input checks and collates), ``_layout`` (column layout, save/load), ``_net``
(skorch nets).
"""

from ._estimator import MultimodalCLIPEmbedder

__all__ = ["MultimodalCLIPEmbedder"]
