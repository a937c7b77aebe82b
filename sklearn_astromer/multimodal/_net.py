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

from .._interrupt import PropagateInterruptMixin
from .._torch_common import AutocastMixin
from .._validation import format_indices
from .._encoder_inference import pool_light_curves
from .._window_batches import inference_batching, window_args
from .._prepared import PreparedLightCurves
from ..preprocessing.ranges import check_time_ranges
from ._data import PHOTOMETRY, SPECTRUM
from ._photometry_features import N_CHANNELS, AstroM3LightCurves, centre_starts
from ..nn import (
    AstromerEncoder,
    InformerEncoder,
    InformerPhotometryTower,
    MetadataEncoder,
    MultimodalClassifier,
    MultimodalCLIPModel,
    PhotometryTower,
    SpectrumEncoder,
)

# Architecture keys of the photometry tower: ASTROMER's encoder, AstroM3's Informer.
PHOTOMETRY_KEYS = ("d_model", "n_layers", "n_heads", "d_ff", "variant", "pe_base", "max_obs")
ASTROMER_KEYS = PHOTOMETRY_KEYS[:-1]
#: The ASTROMER tower's inputs beyond times and magnitudes, as AstromerEmbedder's
#: architecture names them, and what a config written without them means.
TOWER_INPUT_DEFAULTS = {"time_encoding": "paper", "period_input": False, "n_harmonics": 4,
                        "magnitude_scaling": "none"}
INFORMER_KEYS = ("d_model", "n_layers", "n_heads", "d_ff", "max_obs")


def _photometry_tower(architecture, dropout):
    if architecture.get("photometry_encoder", "astromer") == "astrom3":
        encoder = InformerEncoder(
            N_CHANNELS, architecture["d_model"], architecture["n_layers"],
            architecture["n_heads"], architecture["d_ff"], dropout=dropout,
        )
        return InformerPhotometryTower(encoder, architecture["max_obs"], dropout=dropout)
    inputs = tower_inputs(architecture)
    encoder = AstromerEncoder(**{key: architecture[key] for key in ASTROMER_KEYS},
                              time_encoding=inputs["time_encoding"],
                              period_input=inputs["period_input"],
                              n_harmonics=inputs["n_harmonics"], dropout=dropout)
    return PhotometryTower(encoder)


def tower_inputs(architecture):
    """The ASTROMER tower's input settings in ``architecture`` (defaults where absent)."""
    return {key: architecture.get(key, default) for key, default in TOWER_INPUT_DEFAULTS.items()}


def build_towers(architecture):
    """One freshly initialised tower per modality, in the architecture's order."""
    towers = {}
    dropout = architecture["dropout"]
    for name, kind in zip(architecture["modalities"], architecture["kinds"]):
        if kind == PHOTOMETRY:
            towers[name] = _photometry_tower(architecture, dropout)
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
        ``modalities``, ``kinds``, ``embed_dim``, ``dropout``,
        ``photometry_encoder`` (``"astromer"`` when absent) and its sizes, ``n_wavelengths``, ``spectrum_channels``,
        ``n_metadata`` and ``metadata_hidden``.
    """

    def __init__(self, architecture):
        super().__init__(build_towers(architecture), embed_dim=architecture["embed_dim"])


class ConfiguredClassifier(MultimodalClassifier):
    """A linear head on the fused embedding of a :class:`ConfiguredCLIPModel`."""

    def __init__(self, architecture, n_classes):
        super().__init__(ConfiguredCLIPModel(architecture), n_classes)


def finite_loss(loss):
    """``loss``, or a ValueError when it is not finite (the weights would turn NaN)."""
    if not torch.isfinite(loss.detach()).all():
        raise ValueError(
            "The training loss is not finite: some inputs overflow the model's float32 "
            "arithmetic. Check the training rows with transform_modalities on a model "
            "fitted with max_epochs=0, which names the rows of each modality that overflow."
        )
    return loss


class MultimodalCLIPNet(PropagateInterruptMixin, AutocastMixin, NeuralNet):
    """:class:`skorch.NeuralNet` that trains the towers with the n-modality CLIP loss.

    Batches come from :class:`~sklearn_astromer.multimodal._collate.MultimodalCollate`;
    the criterion is :class:`~sklearn_astromer.nn.ContrastiveLoss`, whose
    learnable logit scales skorch hands to the optimizer with the module's
    parameters. ``autocast_dtype`` (see
    :class:`~sklearn_astromer._torch_common.AutocastMixin`) trains in mixed
    precision; the loss is computed in float32.
    """

    def __init__(self, module, *args, autocast_dtype=None, **kwargs):
        super().__init__(module, *args, **kwargs)
        self.autocast_dtype = autocast_dtype

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """CLIP loss over every pair of modalities, objects lacking one left out of its pairs."""
        present = X["present"].to(self.device)
        embeddings = {name: value.float() for name, value in y_pred.items()}
        return finite_loss(self.criterion_(embeddings, present))


class MultimodalClassifierNet(PropagateInterruptMixin, AutocastMixin, NeuralNet):
    """:class:`skorch.NeuralNet` for supervised fine-tuning (cross-entropy on class indices).

    ``autocast_dtype``: mixed-precision training, as :class:`MultimodalCLIPNet`.
    """

    def __init__(self, module, *args, autocast_dtype=None, **kwargs):
        super().__init__(module, *args, **kwargs)
        self.autocast_dtype = autocast_dtype

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """Cross-entropy of the class logits, in float32."""
        return finite_loss(self.criterion_(y_pred.float(), y_true.to(y_pred.device)))


#: Objects per batch of the spectrum and metadata towers and of projections at
#: inference (small inputs: the batch size hardly matters).
PROJECTION_BATCH = 512


def _batches(rows, batch_size):
    return np.array_split(rows, np.arange(batch_size, len(rows), batch_size))


def _astrom3_inputs(curves, rows, max_obs, device):
    """Centre-cropped AstroM3 windows of light curves ``rows``, as tower keyword arguments."""
    starts = centre_starts(curves.lengths[rows], max_obs)
    series, mask_in = curves.windows(rows, starts, max_obs, np.ones(len(rows), bool))
    return {"series": torch.tensor(series, device=device),
            "mask_in": torch.tensor(mask_in, device=device)}


def _pooled_photometry(model, name, prepared, rows, *, config, batch_size, device):
    """ASTROMER tower: per-observation embeddings over consecutive windows, mean, projection.

    ``prepared`` holds the light curves ``rows`` (their periods computed here, once,
    when the tower has a period input).
    """
    config = {**config, **tower_inputs(config)}
    periods = prepared.periods if config["period_input"] else None
    features = pool_light_curves(
        model.towers[name].encoder, prepared.light_curves, pooling="mean", device=device,
        **window_args(config, batch_size, device, periods))
    for batch in _batches(np.arange(len(rows)), PROJECTION_BATCH):
        projected = model.projections[name](torch.tensor(features[batch], device=device))
        yield rows[batch], F.normalize(projected, dim=-1)


def check_tower_times(data, config):
    """The time checks of :class:`AstromerEmbedder` on the ASTROMER tower's light curves.

    Refuses times its windows cannot carry and warns where the ``"paper"``
    variant's float32 centring loses precision, naming the frame's rows
    (see :func:`~sklearn_astromer.preprocessing.ranges.check_time_ranges`).
    """
    for curves in data.light_curves.values():
        if isinstance(curves, PreparedLightCurves):
            check_time_ranges(curves.light_curves, float32_mean=config.get("variant") == "paper",
                              max_obs=config["max_obs"])


def _check_embedded(name, rows, vectors):
    """ValueError naming the rows whose embedding is not a finite unit vector."""
    norms = np.linalg.norm(vectors, axis=1)
    # 1e-2: unit vectors rounded to bfloat16 (precision="bfloat16") are that close.
    bad = ~(np.isfinite(vectors).all(axis=1) & (np.abs(norms - 1) < 1e-2))
    if bad.any():
        raise ValueError(
            f"Modality {name!r} of row(s) {format_indices(rows[bad])} gives no finite "
            "embedding: its values overflow the model's float32 arithmetic. Check them "
            "(e.g. magnitudes or metadata far outside the training range)."
        )


def embed_modalities(model, data, *, config, batch_size, device):
    """L2-normalised embeddings of every modality, NaN rows where it is absent.

    ASTROMER's tower covers each light curve with consecutive windows and
    averages their per-observation embeddings over all observations before
    the projection, as :class:`AstromerEmbedder` pools; AstroM3's tower sees
    the centred window of ``max_obs`` observations, as AstroM3 evaluates.
    ``config`` is the model's architecture (``max_obs``, the ASTROMER tower's
    variant and inputs). Light curves are batched as :class:`AstromerEmbedder` batches them: with
    ``batch_size="auto"``, by a budget of padded observations per batch
    (cache-sized on a CPU, large on a GPU), otherwise ``batch_size`` windows.

    Returns
    -------
    dict of str to float32 ndarray of shape (n_samples, embed_dim)

    Raises
    ------
    ValueError
        When a present modality of some rows does not give a finite unit
        vector (naming the modality and rows), rather than letting NaN drop
        it from the fused mean.
    """
    check_tower_times(data, config)
    n_samples, max_obs = len(data), config["max_obs"]
    windows_per_batch, max_tokens = inference_batching(batch_size, device)
    photometry_rows = windows_per_batch or max(1, max_tokens // max_obs)
    outputs = {}
    for j, (name, kind) in enumerate(zip(data.modalities, data.kinds)):
        rows = np.flatnonzero(data.present[:, j])
        embedded = np.full((n_samples, model.embed_dim), np.nan, np.float32)
        outputs[name] = embedded
        if not len(rows):
            continue
        if kind == PHOTOMETRY and not isinstance(data.light_curves[name], AstroM3LightCurves):
            batches = _pooled_photometry(model, name, data.light_curves[name].subset(rows),
                                         rows, config=config, batch_size=batch_size,
                                         device=device)
        else:
            rows_per_batch = photometry_rows if kind == PHOTOMETRY else PROJECTION_BATCH
            batches = ((batch, model.embed(name, _tower_inputs(data, name, kind, batch, max_obs,
                                                               device)))
                       for batch in _batches(rows, rows_per_batch))
        for batch, vectors in batches:
            embedded[batch] = vectors.float().cpu().numpy()
        _check_embedded(name, rows, embedded[rows])
    return outputs


def _tower_inputs(data, name, kind, rows, max_obs, device):
    if kind == PHOTOMETRY:
        return _astrom3_inputs(data.light_curves[name], rows, max_obs, device)
    inputs = data.spectra.channels(rows) if kind == SPECTRUM else data.metadata[rows]
    return torch.tensor(inputs, device=device)


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
