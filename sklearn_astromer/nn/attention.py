"""Multi-head self-attention with a fused query/key/value projection."""

import torch
import torch.nn.functional as F
from torch import nn

from .linear import Linear


class MultiHeadAttention(nn.Module):
    """Multi-head self-attention.

    Queries, keys and values come from one fused linear layer (one matrix
    multiply instead of three); the heads run through
    :func:`torch.nn.functional.scaled_dot_product_attention`, which picks a
    fused kernel where one applies.

    Parameters
    ----------
    d_model : int
        Width of the input and output.
    n_heads : int
        Number of heads; ``d_model`` must be divisible by it.
    """

    def __init__(self, d_model, n_heads):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model={d_model} is not divisible by n_heads={n_heads}.")
        self.n_heads = n_heads
        self.qkv = Linear(d_model, 3 * d_model)
        self.out = Linear(d_model, d_model)

    def forward(self, x, attn_mask=None, return_weights=False):
        """Attend.

        Parameters
        ----------
        x : Tensor of shape (batch, length, d_model)
        attn_mask : Tensor, optional
            Boolean (True = may attend) or additive float mask broadcastable to
            ``(batch, n_heads, length, length)``.
        return_weights : bool, default=False
            Also return the attention weights ``(batch, n_heads, length, length)``
            (computed explicitly, for plots; slower).

        Returns
        -------
        Tensor of shape (batch, length, d_model), or a tuple with the weights.
        """
        batch, length, d_model = x.shape
        head_dim = d_model // self.n_heads
        q, k, v = (
            self.qkv(x)
            .view(batch, length, 3, self.n_heads, head_dim)
            .permute(2, 0, 3, 1, 4)
            .unbind(0)
        )
        if return_weights:
            scores = q @ k.transpose(-2, -1) / head_dim**0.5
            if attn_mask is not None:
                if attn_mask.dtype == torch.bool:
                    scores = scores.masked_fill(~attn_mask, float("-inf"))
                else:
                    scores = scores + attn_mask
            weights = scores.softmax(-1)
            heads = weights @ v
        else:
            heads = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
        merged = heads.transpose(1, 2).reshape(batch, length, d_model)
        output = self.out(merged)
        return (output, weights) if return_weights else output
