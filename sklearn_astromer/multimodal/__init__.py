"""AstroM3: CLIP-style embeddings of light curves, spectra and metadata (estimator family).

Private modules: ``_estimator`` (:class:`MultimodalCLIPEmbedder`), ``_data``
(input checks, spectra, prepared inputs and collates), ``_cells`` (missing
cells, reading a column), ``_metadata`` (metadata columns, AstroM3's
transforms, z-scores), ``_photometry_features`` (AstroM3's photometry
inputs), ``_layout`` (column layout, save/load), ``_net`` (skorch nets and
inference), ``_schedule`` (warm-up, plateau, early stopping).
"""

from ._estimator import MultimodalCLIPEmbedder

__all__ = ["MultimodalCLIPEmbedder"]
