"""What ``transform`` returns around the pooled embedding: a few principal components, descriptors.

A random forest draws ``sqrt(n_features)`` candidate columns per split, so
hundreds of weak embedding columns crowd strong ones out, and scalars that a
model was conditioned on (the period, the noise level) are smeared over many
columns. ``n_components`` keeps the first principal components of the pooled
embeddings (fitted in ``fit``); ``include_descriptors`` appends the light
curve's descriptors as they are.
"""

import numpy as np
from sklearn.decomposition import PCA

from .._curve_pooling import project
from ..nn.period import DESCRIPTOR_NAMES

PROJECTION_KEYS = ("output_projection.mean", "output_projection.components")


def fit_projection(embeddings, n_components, seed=0):
    """``{"mean", "components"}`` of the first principal components of ``embeddings``.

    ``n_components`` is reduced to what the data hold (``min(n_samples,
    n_features)``), so small cross-validation folds still fit.
    """
    n_components = min(n_components, *embeddings.shape)
    pca = PCA(n_components, random_state=seed).fit(embeddings.astype(np.float64))
    return {"mean": pca.mean_.astype(np.float32), "components": pca.components_.astype(np.float32)}


def projection_tensors(projection):
    """The projection as named arrays for the model file."""
    return dict(zip(PROJECTION_KEYS, (projection["mean"], projection["components"])))


def projection_from(state_dict):
    """The projection saved in ``state_dict``, or None."""
    if PROJECTION_KEYS[0] not in state_dict:
        return None
    return {"mean": state_dict[PROJECTION_KEYS[0]].numpy(),
            "components": state_dict[PROJECTION_KEYS[1]].numpy()}


__all__ = ["DESCRIPTOR_NAMES", "fit_projection", "project",
           "projection_from", "projection_tensors"]
