"""Contrastive (CLIP) loss over any number of modalities, with missing ones."""

import math
from collections.abc import Mapping
from itertools import combinations

import torch
import torch.nn.functional as F
from torch import nn


def modality_pairs(n_modalities):
    """Pairs ``(a, b)``, ``a < b``, in the order the logit scales follow.

    Parameters
    ----------
    n_modalities : int
        Number of modalities.

    Returns
    -------
    list of tuple of int
        For three modalities: ``[(0, 1), (0, 2), (1, 2)]``.
    """
    return list(combinations(range(n_modalities), 2))


def _as_list(embeddings):
    if isinstance(embeddings, Mapping):
        return list(embeddings.values())
    return list(embeddings)


def _pair_loss(first, second, log_scale, min_scale, max_scale):
    # logits[i, j] compares object i of one modality with object j of the
    # other; the matching pairs sit on the diagonal.
    scale = log_scale.exp().clamp(min_scale, max_scale)
    logits = scale * first @ second.T
    targets = torch.arange(len(first), device=first.device)
    return F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets)


def pairwise_clip_loss(
    embeddings, present, logit_scales, *, min_scale=1.0, max_scale=100.0, per_pair=False
):
    """Symmetric CLIP loss summed over every pair of modalities.

    For each pair ``(a, b)`` only the objects observed in both take part:
    with ``A`` and ``B`` their embeddings, ``logits = s_ab * A @ B.T`` with
    ``s_ab = clamp(exp(logit_scales[k]), min_scale, max_scale)``, and the pair
    contributes ``CE(logits, I) + CE(logits.T, I)`` (cross-entropies averaged
    over the common objects). A pair with fewer than two common objects
    contributes 0: one object alone has nothing to be contrasted with.

    Parameters
    ----------
    embeddings : sequence (or mapping, in insertion order) of Tensors of shape (batch, dim)
        One L2-normalised embedding per modality, rows aligned by object.
        Rows of absent modalities may hold anything finite.
    present : bool Tensor of shape (batch, n_modalities), or None
        True where object i has modality m, columns in the order of
        ``embeddings``. None means every object has every modality.
    logit_scales : Tensor of shape (n_pairs,)
        Logarithms of the pair temperatures, pairs in the order of
        :func:`modality_pairs`.
    min_scale, max_scale : float, default=1.0, 100.0
        Clamp of ``exp(logit_scales)``. The gradient to a scale is zero while
        it is clamped.
    per_pair : bool, default=False
        Return the ``(n_pairs,)`` pair losses instead of their sum.

    Returns
    -------
    Tensor
        Scalar loss (nats), or ``(n_pairs,)`` losses with ``per_pair=True``.
    """
    embeddings = _as_list(embeddings)
    pairs = modality_pairs(len(embeddings))
    if logit_scales.shape != (len(pairs),):
        raise ValueError(
            f"{len(embeddings)} modalities need {len(pairs)} logit scales, "
            f"got shape {tuple(logit_scales.shape)}."
        )
    if present is not None:
        # An integer mask would index rows instead of selecting them.
        present = present.to(torch.bool)
    if present is not None and present.shape != (len(embeddings[0]), len(embeddings)):
        raise ValueError(
            f"present must have shape (batch, n_modalities) = "
            f"{(len(embeddings[0]), len(embeddings))}, got {tuple(present.shape)}."
        )
    losses = []
    for k, (a, b) in enumerate(pairs):
        first, second = embeddings[a], embeddings[b]
        if present is not None:
            common = present[:, a] & present[:, b]
            first, second = first[common], second[common]
        if len(first) < 2:
            # Zero that stays attached to the scale, so that every parameter
            # receives a gradient (data-parallel training expects it).
            losses.append(logit_scales[k] * 0.0)
        else:
            losses.append(_pair_loss(first, second, logit_scales[k], min_scale, max_scale))
    losses = torch.stack(losses)
    return losses if per_pair else losses.sum()


class ContrastiveLoss(nn.Module):
    """The n-modality CLIP loss with one learnable temperature per pair.

    Parameters
    ----------
    n_modalities : int
        Number of modalities (at least 2).
    init_scale : float, default=100.0
        Initial temperature of every pair; the parameters hold its logarithm.
    min_scale, max_scale : float, default=1.0, 100.0
        Clamp of the temperatures.

    Attributes
    ----------
    logit_scales : Parameter of shape (n_pairs,)
        Logarithms of the pair temperatures, pairs in the order of
        :func:`modality_pairs`.

    Notes
    -----
    As in AstroM3, the scales start at the upper clamp, ``log(100)``, where
    their gradient is zero: they only move once something else (weight
    decay) brings them below it.

    Examples
    --------
    >>> import torch
    >>> import torch.nn.functional as F
    >>> loss = ContrastiveLoss(3)
    >>> embeddings = [F.normalize(torch.randn(8, 16), dim=1) for _ in range(3)]
    >>> present = torch.ones(8, 3, dtype=torch.bool)
    >>> loss(embeddings, present).shape
    torch.Size([])
    """

    def __init__(self, n_modalities, *, init_scale=100.0, min_scale=1.0, max_scale=100.0):
        super().__init__()
        if n_modalities < 2:
            raise ValueError(f"A contrastive loss needs 2 modalities or more, got {n_modalities}.")
        self.n_modalities = n_modalities
        self.min_scale = min_scale
        self.max_scale = max_scale
        n_pairs = len(modality_pairs(n_modalities))
        self.logit_scales = nn.Parameter(torch.full((n_pairs,), math.log(init_scale)))

    @property
    def pairs(self):
        """Modality index pairs, in the order of ``logit_scales``."""
        return modality_pairs(self.n_modalities)

    def forward(self, embeddings, present=None, per_pair=False):
        """Compute the loss with this module's temperatures (:func:`pairwise_clip_loss`).

        Parameters
        ----------
        embeddings : sequence or mapping of Tensor of shape (batch, embed_dim)
            One L2-normalised embedding per modality, ``n_modalities`` of them.
        present : bool Tensor of shape (batch, n_modalities), optional
            Which modalities each object has (None: all).
        per_pair : bool, default=False
            Also return each pair's loss.

        Returns
        -------
        Tensor or tuple of Tensor
            The loss, a scalar, as :func:`pairwise_clip_loss` returns it.
        """
        embeddings = _as_list(embeddings)
        if len(embeddings) != self.n_modalities:
            raise ValueError(
                f"Expected {self.n_modalities} embeddings, got {len(embeddings)}."
            )
        return pairwise_clip_loss(
            embeddings,
            present,
            self.logit_scales,
            min_scale=self.min_scale,
            max_scale=self.max_scale,
            per_pair=per_pair,
        )
