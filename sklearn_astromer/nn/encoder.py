"""The ASTROMER transformer encoder, in its paper-exact and corrected variants."""

import torch
from torch import nn

from .attention import MultiHeadAttention
from .dropout import Dropout
from .linear import Linear
from .period import PeriodInputEmbedding
from .positional import make_time_encoding

VARIANTS = ("corrected", "paper")


class EncoderBlock(nn.Module):
    """One attention + feed-forward block.

    Parameters
    ----------
    d_model, n_heads, d_ff : int
        Width, number of heads and hidden size of the feed-forward network
        (``Linear(d_model, d_ff) -> tanh -> Linear(d_ff, d_model)``).
    dropout : float
        Dropout after attention and after the feed-forward network.
    residual : bool
        ``LayerNorm(x + sublayer(x))`` when True; ``LayerNorm(sublayer(x))``
        (the original ASTROMER v0 computation, ``use_leak=False``) when False.
    layer_norm_eps : float, default=1e-6
        Epsilon of the layer normalisations (Keras' default, as the original).
    """

    def __init__(self, d_model, n_heads, d_ff, dropout, residual, layer_norm_eps=1e-6):
        super().__init__()
        self.residual = residual
        self.attention = MultiHeadAttention(d_model, n_heads)
        self.attention_dropout = Dropout(dropout)
        self.attention_norm = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.feed_forward = nn.Sequential(
            Linear(d_model, d_ff), nn.Tanh(), Linear(d_ff, d_model)
        )
        self.feed_forward_dropout = Dropout(dropout)
        self.feed_forward_norm = nn.LayerNorm(d_model, eps=layer_norm_eps)

    def forward(self, x, attn_mask, return_weights=False):
        """Apply the block to ``(batch, length, d_model)`` inputs.

        Parameters
        ----------
        x : Tensor of shape (batch, length, d_model)
            Per-observation inputs.
        attn_mask : Tensor or None
            The variant's attention mask (:meth:`AstromerEncoder.attention_mask`).
        return_weights : bool, default=False
            Also return the attention weights.

        Returns
        -------
        Tensor of shape (batch, length, d_model), or a tuple of it and the weights
            The weights are of shape ``(batch, n_heads, length, length)``.
        """
        attended = self.attention(x, attn_mask, return_weights=return_weights)
        if return_weights:
            attended, weights = attended
        attended = self.attention_dropout(attended)
        x = self.attention_norm(x + attended if self.residual else attended)
        transformed = self.feed_forward_dropout(self.feed_forward(x))
        x = self.feed_forward_norm(x + transformed if self.residual else transformed)
        return (x, weights) if return_weights else x


class AstromerEncoder(nn.Module):
    """ASTROMER encoder: magnitudes and times in, one vector per observation out.

    Parameters
    ----------
    d_model : int, default=256
        Width of the per-observation embeddings.
    n_layers : int, default=2
        Number of encoder blocks.
    n_heads : int, default=4
        Attention heads per block.
    d_ff : int, default=128
        Hidden size of the feed-forward networks.
    dropout : float, default=0.1
        Dropout on the input embedding and inside the blocks.
    variant : {"corrected", "paper"}, default="corrected"
        ``"paper"`` reproduces the computation of the original code and its
        published weights: no residual connections, hidden observations keep
        their true magnitude and are hidden only by an *additive* attention
        mask ``min(1, m_i + m_j)`` (+1, not -inf), so padding changes results
        and windows must be padded to ``max_obs``. ``"corrected"`` uses
        residual blocks, excludes hidden and padded observations from
        attention entirely, and replaces hidden magnitudes by a learnable
        [MASK] value (as ASTROMER 2 does): embeddings then do not depend on
        padding.
    pe_base : float, default=10000.0
        Base of the paper time encoding's frequency ladder.
    time_encoding : {"paper", "log_periods", "learnable"}, default="paper"
        How observation times enter; see
        :func:`~sklearn_astromer.nn.positional.make_time_encoding`.
    period_input : bool, default=False
        Also add a :class:`~sklearn_astromer.nn.period.PeriodInputEmbedding`
        of each observation's phase and each window's descriptors; the
        forward pass then needs ``phases`` and ``descriptors``.
    n_harmonics : int, default=4
        Phase harmonics of the period input.
    n_bands : int, default=0
        Multi-band light curves in one sequence: each observation's band
        (0 .. ``n_bands - 1``) adds a learned band embedding, and the
        forward pass then needs ``bands``. 0: single band.

    Notes
    -----
    ``mask_in`` marks observations hidden from attention: padding, and the
    hidden share of the masked observations during pre-training.
    """

    def __init__(
        self,
        d_model=256,
        n_layers=2,
        n_heads=4,
        d_ff=128,
        dropout=0.1,
        variant="corrected",
        pe_base=10000.0,
        time_encoding="paper",
        period_input=False,
        n_harmonics=4,
        n_bands=0,
    ):
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}.")
        self.variant = variant
        self.positional = make_time_encoding(time_encoding, d_model, pe_base)
        self.input_projection = nn.Linear(1, d_model)
        self.period_embedding = (PeriodInputEmbedding(d_model, n_harmonics) if period_input
                                 else None)
        self.band_embedding = nn.Embedding(n_bands, d_model) if n_bands else None
        self.input_dropout = Dropout(dropout)
        if variant == "corrected":
            self.mask_token = nn.Parameter(torch.zeros(()))
        self.blocks = nn.ModuleList(
            EncoderBlock(d_model, n_heads, d_ff, dropout, residual=variant == "corrected")
            for _ in range(n_layers)
        )

    def attention_mask(self, mask_in):
        """Build the attention mask of the variant.

        Parameters
        ----------
        mask_in : bool Tensor of shape (batch, length)
            True where an observation is hidden from attention.

        Returns
        -------
        Tensor or None
            ``"paper"``: the additive mask ``min(1, m_i + m_j)``, float, of shape
            ``(batch, 1, length, length)``; ``"corrected"``: True where a key may be
            attended, of shape ``(batch, 1, 1, length)``. None when nothing is
            hidden (full windows at inference): both variants then compute plain
            attention, and the fused kernels run without a mask. While the encoder
            is being exported (ONNX) the mask is always built: a graph cannot
            branch on its data, and an all-visible mask gives the same result.
        """
        if not torch.compiler.is_exporting() and not mask_in.any():
            return None
        if self.variant == "paper":
            hidden = mask_in.float()
            return torch.clamp(hidden.unsqueeze(-1) + hidden.unsqueeze(-2), max=1.0).unsqueeze(1)
        return (~mask_in)[:, None, None, :]

    def embed_inputs(self, times, magnitudes, mask_in, phases=None, descriptors=None,
                     bands=None):
        """The input embedding: projected magnitudes + time encoding (+ period input, + band).

        Parameters
        ----------
        times, magnitudes, mask_in : Tensor of shape (batch, length)
            The windows, as :meth:`forward` takes them.
        phases, descriptors : Tensor, optional
            The period input, as :meth:`forward` takes it.
        bands : int Tensor of shape (batch, length), optional
            Each observation's band, as :meth:`forward` takes it.

        Returns
        -------
        Tensor of shape (batch, length, d_model)
            The input embedding, after dropout.
        """
        if self.variant == "corrected":
            magnitudes = torch.where(mask_in, self.mask_token.to(magnitudes.dtype), magnitudes)
        x = self.input_projection(magnitudes.unsqueeze(-1)) + self.positional(times).to(
            magnitudes.dtype
        )
        if self.period_embedding is not None:
            if phases is None or descriptors is None:
                raise ValueError("This encoder has a period input: pass phases and descriptors.")
            x = x + self.period_embedding(phases, descriptors).to(x.dtype)
        if self.band_embedding is not None:
            if bands is None:
                raise ValueError("This encoder takes multi-band windows: pass bands.")
            x = x + self.band_embedding(bands).to(x.dtype)
        return self.input_dropout(x)

    def forward(self, times, magnitudes, mask_in, phases=None, descriptors=None,
                return_weights=False, return_layers=False, bands=None):
        """Embed a batch of windows.

        Parameters
        ----------
        times : Tensor of shape (batch, length)
            Zero-mean observation times in days.
        magnitudes : Tensor of shape (batch, length)
            Zero-mean magnitudes.
        mask_in : bool Tensor of shape (batch, length)
            True where an observation is hidden from attention (padding,
            hidden masked observations).
        phases : Tensor of shape (batch, length), optional
            Phase of each observation at its light curve's period, cycles
            (needed with ``period_input``).
        descriptors : Tensor of shape (batch, n_descriptors), optional
            Window descriptors (needed with ``period_input``).
        return_weights : bool, default=False
            Also return the list of per-block attention weights.
        return_layers : bool, default=False
            Return the list of every layer's output instead, the input
            embedding first (``n_layers + 1`` tensors).
        bands : int Tensor of shape (batch, length), optional
            Band of each observation (needed with ``n_bands``).

        Returns
        -------
        Tensor of shape (batch, length, d_model), or a list of them
        """
        x = self.embed_inputs(times, magnitudes, mask_in, phases, descriptors, bands)
        attn_mask = self.attention_mask(mask_in)
        if attn_mask is not None and self.variant == "paper":
            attn_mask = attn_mask.to(x.dtype)
        layers, weights = [x], []
        for block in self.blocks:
            x = block(x, attn_mask, return_weights=return_weights)
            if return_weights:
                x, block_weights = x
                weights.append(block_weights)
            layers.append(x)
        if return_layers:
            return layers
        return (x, weights) if return_weights else x
