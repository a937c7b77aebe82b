"""Multimodal CLIP model (AstroM3-style): one tower and projection per modality."""

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn


class PhotometryTower(nn.Module):
    """ASTROMER encoder mean-pooled over the real observations of each window.

    Parameters
    ----------
    encoder : AstromerEncoder
        The light-curve encoder. Use ``variant="corrected"`` for outputs that
        do not depend on padding.

    Attributes
    ----------
    output_dim : int
        ``d_model`` of the encoder.
    """

    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder

    @property
    def output_dim(self):
        """Size of the output vector (int)."""
        return self.encoder.input_projection.out_features

    def forward(self, times, magnitudes, mask_in, phases=None, descriptors=None):
        """Embed a batch of windows into one vector each.

        Parameters
        ----------
        times : Tensor of shape (batch, length)
            Zero-mean observation times in days.
        magnitudes : Tensor of shape (batch, length)
            Zero-mean magnitudes.
        mask_in : bool Tensor of shape (batch, length)
            True on padding (and hidden observations, if any); those are
            left out of attention and of the mean.
        phases : Tensor of shape (batch, length), optional
            Phase of each observation (an encoder with a period input).
        descriptors : Tensor of shape (batch, n_descriptors), optional
            Window descriptors (an encoder with a period input).

        Returns
        -------
        Tensor of shape (batch, d_model)
            Mean of the per-observation embeddings over the visible
            observations; zeros for a window with none (an absent light curve).
        """
        visible = ~mask_in
        n_visible = visible.sum(1, keepdim=True)
        empty = n_visible == 0
        # A window with nothing to attend to would make attention undefined
        # (NaN on some kernels, and NaN gradients through the excluded rows):
        # compute it on its zeros instead and discard the result below.
        observations = self.encoder(times, magnitudes, mask_in & ~empty, phases=phases,
                                    descriptors=descriptors)
        weights = visible.to(observations.dtype).unsqueeze(-1)
        pooled = (observations * weights).sum(1) / n_visible.clamp(min=1).to(observations.dtype)
        return pooled.masked_fill(empty, 0.0)


class InformerPhotometryTower(nn.Module):
    """AstroM3's photometry tower: Informer over fixed-length windows, flattened.

    Parameters
    ----------
    encoder : InformerEncoder
    max_obs : int
        Window length every input is padded to (AstroM3: 200); the output
        keeps one block of ``d_model`` features per time step.
    dropout : float, default=0.1
        Dropout on the encoder's output, before padding is zeroed.

    Attributes
    ----------
    output_dim : int
        ``max_obs * d_model``.
    """

    def __init__(self, encoder, max_obs, *, dropout=0.1):
        super().__init__()
        self.encoder = encoder
        self.max_obs = max_obs
        self.dropout = nn.Dropout(dropout)

    @property
    def output_dim(self):
        """Size of the output vector (int)."""
        return self.max_obs * self.encoder.d_model

    def forward(self, series, mask_in):
        """Embed a batch of windows into one flat vector each.

        Parameters
        ----------
        series : Tensor of shape (batch, max_obs, in_channels)
            Per time step: scaled time, normalised flux and error, then the
            light curve's auxiliary values (tiled, padding included).
        mask_in : bool Tensor of shape (batch, max_obs)
            True on padding: those steps' features are zeroed in the output
            (as AstroM3 multiplies by its mask; they still take part in
            attention, as there).

        Returns
        -------
        Tensor of shape (batch, max_obs * d_model)
        """
        if series.shape[1] != self.max_obs:
            raise ValueError(f"Expected windows of {self.max_obs} steps, got {series.shape[1]}.")
        observations = self.dropout(self.encoder(series))
        observations = observations.masked_fill(mask_in.unsqueeze(-1), 0.0)
        return observations.flatten(1)


def _call_tower(tower, inputs):
    if isinstance(inputs, Mapping):
        return tower(**inputs)
    if isinstance(inputs, (tuple, list)):
        return tower(*inputs)
    return tower(inputs)


class MultimodalCLIPModel(nn.Module):
    """Modality towers, each followed by a linear projection to a shared space.

    Parameters
    ----------
    towers : dict of str to Module
        One encoder per modality (e.g. ``{"photometry": PhotometryTower(...),
        "spectra": SpectrumEncoder(...), "metadata": MetadataEncoder(...)}``).
        The dict order fixes the modality order, i.e. the columns of
        ``present`` (see ``modalities``).
    tower_dims : dict of str to int, optional
        Output size of each tower; by default its ``output_dim`` attribute.
    embed_dim : int, default=512
        Size of the shared embedding space.

    Attributes
    ----------
    modalities : tuple of str
        Modality names, in the column order of ``present``.
    towers, projections : ModuleDict
        The encoders and their ``Linear(tower_dim, embed_dim)`` heads.
    """

    def __init__(self, towers, tower_dims=None, embed_dim=512):
        super().__init__()
        if not towers:
            raise ValueError("towers must hold at least one modality.")
        self.modalities = tuple(towers)
        self.embed_dim = embed_dim
        if tower_dims is None:
            tower_dims = {name: tower.output_dim for name, tower in towers.items()}
        missing = set(self.modalities) - set(tower_dims)
        if missing:
            raise ValueError(f"tower_dims lacks the modalities {sorted(missing)}.")
        self.towers = nn.ModuleDict(towers)
        self.projections = nn.ModuleDict(
            {name: nn.Linear(tower_dims[name], embed_dim) for name in self.modalities}
        )

    def _column(self, name):
        try:
            return self.modalities.index(name)
        except ValueError:
            raise ValueError(f"Unknown modality {name!r}; known: {self.modalities}.") from None

    def embed(self, name, inputs):
        """Project one modality's inputs to unit vectors.

        Parameters
        ----------
        name : str
            The modality.
        inputs : Tensor, tuple or dict
            What its tower takes (see :meth:`forward`).

        Returns
        -------
        Tensor of shape (batch, embed_dim)
            L2-normalised embeddings.
        """
        features = _call_tower(self.towers[name], inputs)
        return F.normalize(self.projections[name](features), dim=-1)

    def forward(self, inputs, present=None, modalities=None):
        """Embed every (or the chosen) modality of a batch of objects.

        Parameters
        ----------
        inputs : dict of str to Tensor, tuple, dict or None
            Per modality, what its tower takes: a tensor, a tuple of
            positional arguments (``(times, magnitudes, mask_in)`` for a
            :class:`PhotometryTower`) or a dict of keyword arguments. Rows of
            objects lacking the modality hold filler (zeros; for photometry,
            an all-True ``mask_in``). None, or a missing key, means no object
            of the batch has the modality.
        present : bool Tensor of shape (batch, n_modalities), optional
            True where object i has modality ``modalities[j]``. By default
            every modality given in ``inputs`` is present for every object.
        modalities : sequence of str, optional
            Only embed these (default: all).

        Returns
        -------
        dict of str to Tensor of shape (batch, embed_dim)
            L2-normalised embeddings; rows of absent objects are zeros. Pass
            ``present`` on to the loss and to :meth:`fuse`.
        """
        names = self.modalities if modalities is None else tuple(modalities)
        if present is not None:
            present = present.to(torch.bool)
        embeddings, batch = {}, None
        for name in names:
            column = self._column(name)
            if inputs.get(name) is None:
                if present is not None and present[:, column].any():
                    raise ValueError(
                        f"present marks some objects as having {name!r}, but its input is None."
                    )
                continue
            embedded = self.embed(name, inputs[name])
            batch = len(embedded)
            if present is not None:
                embedded = embedded.masked_fill(~present[:, column, None], 0.0)
            embeddings[name] = embedded
        if batch is None:
            if present is None:
                raise ValueError("inputs holds no modality and present is None.")
            batch = len(present)
        for name in names:
            if name not in embeddings:
                embeddings[name] = self.projections[name].weight.new_zeros(batch, self.embed_dim)
        return {name: embeddings[name] for name in names}

    def present_from_inputs(self, inputs, batch):
        """``present`` for a batch where each modality is all-present or all-absent.

        Parameters
        ----------
        inputs : dict of str to Tensor, tuple, dict or None
            Per modality, its tower's inputs, or None (see :meth:`forward`).
        batch : int
            Number of objects in the batch.

        Returns
        -------
        bool Tensor of shape (batch, n_modalities)
            True in the columns of the modalities whose input is not None.
        """
        device = self.projections[self.modalities[0]].weight.device
        flags = torch.tensor([inputs.get(name) is not None for name in self.modalities])
        return flags.to(device).expand(batch, -1).clone()

    def fuse(self, embeddings, present=None, modalities=None):
        """Average the available normalised embeddings of each object.

        Parameters
        ----------
        embeddings : dict of str to Tensor of shape (batch, embed_dim)
            Output of :meth:`forward`.
        present : bool Tensor of shape (batch, n_modalities), optional
            Columns in the order of ``self.modalities``. None averages every
            embedding given, including the zeros :meth:`forward` returns for
            a modality whose input was None: pass ``present`` when any
            modality may be missing.
        modalities : sequence of str, optional
            Average only these (default: every key of ``embeddings``).

        Returns
        -------
        Tensor of shape (batch, embed_dim)
            Mean over the modalities each object has (not re-normalised, as
            AstroM3 feeds it to its classifier); zeros for an object with none.
        """
        names = tuple(embeddings) if modalities is None else tuple(modalities)
        stacked = torch.stack([embeddings[name] for name in names], dim=1)
        if present is None:
            return stacked.mean(1)
        columns = [self._column(name) for name in names]
        available = present.to(torch.bool)[:, columns].unsqueeze(-1)
        # masked_fill rather than a product: absent rows must not leak NaN.
        total = stacked.masked_fill(~available, 0.0).sum(1)
        return total / available.sum(1).clamp(min=1).to(stacked.dtype)


class MultimodalClassifier(nn.Module):
    """Linear classifier on the fused embedding of a :class:`MultimodalCLIPModel`.

    Parameters
    ----------
    model : MultimodalCLIPModel
        The (pre-trained) embedding model; trained along with the head.
    n_classes : int
        Number of classes.
    modalities : sequence of str, optional
        Modalities whose embeddings are averaged (default: all of the model's).
    """

    def __init__(self, model, n_classes, modalities=None):
        super().__init__()
        self.model = model
        self.modalities = tuple(model.modalities if modalities is None else modalities)
        for name in self.modalities:
            model._column(name)
        self.head = nn.Linear(model.embed_dim, n_classes)

    def forward(self, inputs, present=None):
        """Class logits of a batch of objects.

        Parameters
        ----------
        inputs : dict of str to Tensor, tuple, dict or None
            Per modality, its tower's inputs (as :meth:`MultimodalCLIPModel.forward`).
        present : bool Tensor of shape (batch, n_modalities), optional
            Which modalities each object has (default: those whose input is
            not None, for every object).

        Returns
        -------
        Tensor of shape (batch, n_classes)
            Class logits from the fused embedding.
        """
        embeddings = self.model(inputs, present, modalities=self.modalities)
        if present is None:
            batch = len(next(iter(embeddings.values())))
            present = self.model.present_from_inputs(inputs, batch)
        return self.head(self.model.fuse(embeddings, present, modalities=self.modalities))
