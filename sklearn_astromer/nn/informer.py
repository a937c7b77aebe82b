"""Informer encoder with ProbSparse self-attention, as AstroM3's photometry tower runs it.

Zhou et al. (2021, AAAI) "Informer": only the ``u = factor * ceil(ln L)``
queries whose attention is furthest from uniform attend; every other query
gets the mean of the values. Which queries are "active" is estimated from
``u`` sampled keys per query. AstroM3 configures it with ``factor=1``, no
causal mask, no distilling convolutions between layers, post-norm layers
with a GELU feed-forward, and a final LayerNorm.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

# Seed of the keys sampled at inference (eval mode): a fixed draw keeps
# ``transform`` deterministic and independent of the batch composition.
EVAL_SAMPLING_SEED = 0


def index_encoding(length, d_model, *, base=10000.0, device=None):
    """Sinusoidal encoding of positions ``0 .. length - 1`` (Vaswani et al.).

    Dimensions ``2k`` and ``2k + 1`` hold ``sin`` and ``cos`` of
    ``position * base ** (-2k / d_model)``: the sine/cosine pairs of the
    Transformer and Informer (unlike ASTROMER's time encoding, whose every
    dimension has its own frequency).

    Returns
    -------
    Tensor of shape (length, d_model), float32
    """
    position = torch.arange(length, dtype=torch.float32, device=device)[:, None]
    pairs = torch.arange(0, d_model, 2, dtype=torch.float32, device=device)
    angles = position * torch.exp(pairs * (-math.log(base) / d_model))
    encoding = torch.zeros(length, d_model, device=device)
    encoding[:, 0::2] = torch.sin(angles)
    encoding[:, 1::2] = torch.cos(angles[:, : d_model // 2])
    return encoding


def n_active(length, factor):
    """``min(factor * ceil(ln length), length)``: queries that attend, keys sampled per query."""
    return min(factor * math.ceil(math.log(length)), length) if length > 1 else length


class ProbSparseAttention(nn.Module):
    """Multi-head ProbSparse self-attention (Informer), without a causal mask.

    For each head: ``n_active(L, factor)`` keys are drawn (with replacement)
    for every query; the sparsity score ``M(q) = max_j q.k_j - sum_j q.k_j / L``
    over the drawn keys picks the ``n_active`` queries that get full softmax
    attention over all ``L`` keys; the other queries output the mean of the
    values over all ``L`` positions (padding included, as in AstroM3).

    Parameters
    ----------
    d_model : int
    n_heads : int
        Must divide ``d_model``.
    factor : int, default=1
        Informer's sampling factor ``c`` (AstroM3: 1).

    Notes
    -----
    In training the keys are drawn from torch's global generator, as
    AstroM3 does; in eval mode from a generator seeded with
    :data:`EVAL_SAMPLING_SEED`, so that inference is deterministic (AstroM3
    draws anew at every evaluation).
    """

    def __init__(self, d_model, n_heads, *, factor=1):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"n_heads ({n_heads}) must divide d_model ({d_model}).")
        self.n_heads = n_heads
        self.factor = factor
        self.query_projection = nn.Linear(d_model, d_model)
        self.key_projection = nn.Linear(d_model, d_model)
        self.value_projection = nn.Linear(d_model, d_model)
        self.out_projection = nn.Linear(d_model, d_model)

    def _sampled_keys(self, length, n_samples, device):
        generator = None
        if not self.training:
            generator = torch.Generator().manual_seed(EVAL_SAMPLING_SEED)
        keys = torch.randint(length, (length, n_samples), generator=generator)
        return keys.to(device)

    def forward(self, x):
        """Attend ``x`` to itself.

        Parameters
        ----------
        x : Tensor of shape (batch, length, d_model)
            One vector per time step.

        Returns
        -------
        Tensor of shape (batch, length, d_model)
            The attended vectors, projected back to ``d_model``.
        """
        batch, length, d_model = x.shape
        heads = self.n_heads

        def split(projection):
            return projection(x).view(batch, length, heads, -1).transpose(1, 2)

        queries, keys, values = (split(self.query_projection), split(self.key_projection),
                                 split(self.value_projection))
        u = n_active(length, self.factor)
        sampled = keys[:, :, self._sampled_keys(length, u, x.device)]  # (B, H, L, u, E)
        sampled_scores = torch.einsum("bhle,bhlue->bhlu", queries, sampled)
        sparsity = sampled_scores.amax(-1) - sampled_scores.sum(-1) / length
        active = sparsity.topk(u, dim=-1, sorted=False).indices  # (B, H, u)
        index = active.unsqueeze(-1).expand(-1, -1, -1, queries.shape[-1])
        active_queries = queries.gather(2, index)
        scores = active_queries @ keys.transpose(-2, -1) / math.sqrt(queries.shape[-1])
        attended = torch.softmax(scores, dim=-1) @ values
        context = values.mean(dim=2, keepdim=True).expand(-1, -1, length, -1)
        context = context.scatter(2, index, attended.to(context.dtype))
        context = context.transpose(1, 2).reshape(batch, length, d_model)
        return self.out_projection(context)


class InformerEncoderLayer(nn.Module):
    """Post-norm encoder layer: ``x = LN(x + attention(x)); LN(x + FF(x))``.

    The feed-forward is ``Linear(d_model, d_ff) -> GELU -> Linear(d_ff, d_model)``
    with dropout after the activation and the second linear map (Informer
    writes these maps as kernel-1 convolutions: the same computation).

    Parameters
    ----------
    d_model : int
        Width of the per-step vectors.
    n_heads : int
        Attention heads; must divide ``d_model``.
    d_ff : int
        Hidden size of the feed-forward network.
    dropout : float, default=0.1
        Dropout after attention, the activation and the feed-forward network.
    factor : int, default=1
        ProbSparse sampling factor (:class:`ProbSparseAttention`).
    """

    def __init__(self, d_model, n_heads, d_ff, *, dropout=0.1, factor=1):
        super().__init__()
        self.attention = ProbSparseAttention(d_model, n_heads, factor=factor)
        self.feed_forward_in = nn.Linear(d_model, d_ff)
        self.feed_forward_out = nn.Linear(d_ff, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        """Apply attention, then the feed-forward network, each with its residual and norm.

        Parameters
        ----------
        x : Tensor of shape (batch, length, d_model)
            The previous layer's output.

        Returns
        -------
        Tensor of shape (batch, length, d_model)
        """
        x = self.norm1(x + self.dropout(self.attention(x)))
        y = self.dropout(F.gelu(self.feed_forward_in(x)))
        return self.norm2(x + self.dropout(self.feed_forward_out(y)))


class InformerEncoder(nn.Module):
    """Token embedding, index encoding and a stack of ProbSparse encoder layers.

    Parameters
    ----------
    in_channels : int
        Channels per time step (AstroM3: 9).
    d_model, n_layers, n_heads, d_ff : int, default=128, 8, 4, 512
        AstroM3's sizes.
    dropout : float, default=0.1
        Dropout inside the layers.
    embedding_dropout : float, default=0.1
        Dropout after the embedding (AstroM3 keeps Informer's 0.1 there).
    factor : int, default=1
        ProbSparse sampling factor.

    Notes
    -----
    The token embedding is a bias-free ``Conv1d(in_channels, d_model, 3)``
    with circular padding over the time steps, Kaiming-normal initialised
    (fan-in, leaky ReLU gain), as in Informer.
    """

    def __init__(self, in_channels, d_model=128, n_layers=8, n_heads=4, d_ff=512, *,
                 dropout=0.1, embedding_dropout=0.1, factor=1):
        super().__init__()
        self.d_model = d_model
        self.token_embedding = nn.Conv1d(in_channels, d_model, kernel_size=3, padding=1,
                                         padding_mode="circular", bias=False)
        nn.init.kaiming_normal_(self.token_embedding.weight, mode="fan_in",
                                nonlinearity="leaky_relu")
        self.embedding_dropout = nn.Dropout(embedding_dropout)
        self.layers = nn.ModuleList(
            InformerEncoderLayer(d_model, n_heads, d_ff, dropout=dropout, factor=factor)
            for _ in range(n_layers)
        )
        self.norm = nn.LayerNorm(d_model)

    def forward(self, series):
        """Encode a batch of series.

        Parameters
        ----------
        series : Tensor of shape (batch, length, in_channels)
            The channels of each time step.

        Returns
        -------
        Tensor of shape (batch, length, d_model)
            One vector per time step, after the final layer normalisation.
        """
        x = self.token_embedding(series.transpose(1, 2)).transpose(1, 2)
        x = x + index_encoding(series.shape[1], self.d_model, device=series.device)
        x = self.embedding_dropout(x)
        for layer in self.layers:
            x = layer(x)
        return self.norm(x)
