"""Output heads on top of the ASTROMER encoder."""

from torch import nn


class RegressionHead(nn.Module):
    """Per-observation magnitude regression: ``LayerNorm -> Linear(d_model, 1)``.

    Parameters
    ----------
    d_model : int
        Width of the encoder output.
    layer_norm_eps : float, default=1e-6
        Epsilon of the layer normalisation (1e-6 as in the original code).
    """

    def __init__(self, d_model, layer_norm_eps=1e-6):
        super().__init__()
        self.norm = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.linear = nn.Linear(d_model, 1)

    def forward(self, embeddings):
        """Map ``(batch, length, d_model)`` embeddings to ``(batch, length)`` magnitudes."""
        return self.linear(self.norm(embeddings)).squeeze(-1)
