"""skorch glue and inference for the multimodal CLIP model (AstroM3).

The towers are the pure modules of :mod:`sklearn_astromer.nn`; the classes
here only build them from a JSON-able architecture dict, so that skorch can
(re-)create them from their class and keyword arguments (and unpickle a GPU
model on a CPU), and compute the losses.
"""

import numpy as np
import torch
import torch.nn.functional as F
from skorch import NeuralNet

from ..astromer._inference import pool_light_curves
from ._data import PHOTOMETRY, SPECTRUM
from ..nn import (
    AstromerEncoder,
    MetadataEncoder,
    MultimodalClassifier,
    MultimodalCLIPModel,
    PhotometryTower,
    SpectrumEncoder,
)

PHOTOMETRY_KEYS = ("d_model", "n_layers", "n_heads", "d_ff", "variant", "pe_base", "max_obs")


def build_towers(architecture):
    """One freshly initialised tower per modality, in the architecture's order."""
    towers = {}
    dropout = architecture["dropout"]
    for name, kind in zip(architecture["modalities"], architecture["kinds"]):
        if kind == PHOTOMETRY:
            encoder = AstromerEncoder(
                **{key: architecture[key] for key in PHOTOMETRY_KEYS if key != "max_obs"},
                dropout=dropout,
            )
            towers[name] = PhotometryTower(encoder)
        elif kind == SPECTRUM:
            towers[name] = SpectrumEncoder(
                architecture["n_wavelengths"], channels=architecture["spectrum_channels"],
                dropout=dropout,
            )
        else:
            towers[name] = MetadataEncoder(
                architecture["n_metadata"], hidden_size=architecture["metadata_hidden"],
                dropout=dropout,
            )
    return towers


class ConfiguredCLIPModel(MultimodalCLIPModel):
    """:class:`~sklearn_astromer.nn.MultimodalCLIPModel` built from an architecture dict.

    Parameters
    ----------
    architecture : dict
        ``modalities``, ``kinds``, ``embed_dim``, ``dropout``, the photometry
        encoder's sizes, ``n_wavelengths``, ``spectrum_channels``,
        ``n_metadata`` and ``metadata_hidden``.
    """

    def __init__(self, architecture):
        super().__init__(build_towers(architecture), embed_dim=architecture["embed_dim"])


class ConfiguredClassifier(MultimodalClassifier):
    """A linear head on the fused embedding of a :class:`ConfiguredCLIPModel`."""

    def __init__(self, architecture, n_classes):
        super().__init__(ConfiguredCLIPModel(architecture), n_classes)


class MultimodalCLIPNet(NeuralNet):
    """:class:`skorch.NeuralNet` that trains the towers with the n-modality CLIP loss.

    Batches come from :class:`~sklearn_astromer.multimodal._data.MultimodalCollate`;
    the criterion is :class:`~sklearn_astromer.nn.ContrastiveLoss`, whose
    learnable logit scales skorch hands to the optimizer with the module's
    parameters.
    """

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """CLIP loss over every pair of modalities, objects lacking one left out of its pairs."""
        present = X["present"].to(self.device)
        return self.criterion_(y_pred, present)


class MultimodalClassifierNet(NeuralNet):
    """:class:`skorch.NeuralNet` for supervised fine-tuning (cross-entropy on class indices)."""

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """Cross-entropy of the class logits."""
        return self.criterion_(y_pred, y_true.to(y_pred.device))


def _batches(rows, batch_size):
    return np.array_split(rows, np.arange(batch_size, len(rows), batch_size))


def embed_modalities(model, data, *, max_obs, batch_size, pad_to_max_obs, device):
    """L2-normalised embeddings of every modality, NaN rows where it is absent.

    Light curves are covered by consecutive windows and their per-observation
    embeddings averaged over all observations before the projection, as
    :class:`AstromerEmbedder` pools.

    Returns
    -------
    dict of str to float32 ndarray of shape (n_samples, embed_dim)
    """
    n_samples = len(data)
    outputs = {}
    for j, (name, kind) in enumerate(zip(data.modalities, data.kinds)):
        rows = np.flatnonzero(data.present[:, j])
        embedded = np.full((n_samples, model.embed_dim), np.nan, np.float32)
        if kind == PHOTOMETRY and len(rows):
            features = pool_light_curves(
                model.towers[name].encoder, data.light_curves[name].subset(rows),
                max_obs=max_obs, batch_size=batch_size, pad_to_max_obs=pad_to_max_obs,
                pooling="mean", device=device,
            )
            for batch in _batches(np.arange(len(rows)), batch_size):
                projected = model.projections[name](torch.tensor(features[batch], device=device))
                embedded[rows[batch]] = F.normalize(projected, dim=-1).float().cpu().numpy()
        elif len(rows):
            for batch in _batches(rows, batch_size):
                inputs = (data.spectra.channels(batch) if kind == SPECTRUM
                          else data.metadata[batch])
                vectors = model.embed(name, torch.tensor(inputs, device=device))
                embedded[batch] = vectors.float().cpu().numpy()
        outputs[name] = embedded
    return outputs


def fuse(embeddings):
    """Mean of the available modality embeddings of each object (float32, not renormalised)."""
    stacked = np.stack(list(embeddings.values()), axis=1)
    available = ~np.isnan(stacked[..., 0])
    total = np.where(available[..., None], stacked, 0.0).sum(axis=1, dtype=np.float64)
    return (total / available.sum(axis=1, keepdims=True)).astype(np.float32)


def remap_logit_scales(saved_modalities, modalities, saved_scales):
    """The saved pair scales for a subset (or reordering) of the saved modalities."""
    from ..nn import modality_pairs

    saved_pairs = {
        frozenset((saved_modalities[a], saved_modalities[b])): k
        for k, (a, b) in enumerate(modality_pairs(len(saved_modalities)))
    }
    order = [saved_pairs[frozenset((modalities[a], modalities[b]))]
             for a, b in modality_pairs(len(modalities))]
    return saved_scales[order]
