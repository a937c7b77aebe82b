"""Per-window statistics of an encoder's outputs, from which a light curve's pooled embedding follows."""

import torch
from torch import nn

from .._curve_pooling import LAYER_POOLINGS, check_pooling


class WindowPooling(nn.Module):
    """An encoder followed by the per-window statistics of a pooling.

    A light curve longer than one window is embedded window by window; its
    pooled embedding then combines the statistics of its windows (sums divided
    by its number of observations, or the maximum over them). This module
    computes those statistics for a batch of padded windows, so that the same
    graph serves PyTorch inference and an exported (ONNX) model.

    Parameters
    ----------
    encoder : AstromerEncoder
        The encoder, in evaluation mode.
    pooling : {"mean", "max", "mean_std", "layers", "weighted_layers"}
        Which statistics: the sum of the valid
        observations' embeddings (``"mean"``), that and the sum of their
        squares (``"mean_std"``), their element-wise maximum (``"max"``), or
        every layer's sum, input embedding first (``"layers"``,
        ``"weighted_layers"``).
    """

    def __init__(self, encoder, pooling):
        super().__init__()
        check_pooling(pooling)
        self.encoder = encoder
        self.pooling = pooling

    def forward(self, times, magnitudes, valid, phases=None, descriptors=None, bands=None):
        """Statistics of each window's valid observations.

        Parameters
        ----------
        times, magnitudes : Tensor of shape (batch, length)
            Zero-mean times and magnitudes of padded windows.
        valid : bool Tensor of shape (batch, length)
            True for real observations, False for padding.
        phases, descriptors, bands : Tensor, optional
            As :meth:`AstromerEncoder.forward` takes them.

        Returns
        -------
        float32 Tensor of shape (batch, n_statistics, d_model)
            ``n_statistics`` is 1, 2 (``"mean_std"``: sums, then sums of
            squares) or ``n_layers + 1`` (layer poolings).
        """
        inputs = dict(times=times, magnitudes=magnitudes, mask_in=~valid, phases=phases,
                      descriptors=descriptors, bands=bands)
        weights = valid.unsqueeze(-1)
        if self.pooling in LAYER_POOLINGS:
            layers = self.encoder(**inputs, return_layers=True)
            return torch.stack([(layer.float() * weights).sum(dim=1) for layer in layers], 1)
        embeddings = self.encoder(**inputs).float()
        if self.pooling == "max":
            return embeddings.masked_fill(~weights, -torch.inf).amax(dim=1).unsqueeze(1)
        zeroed = embeddings * weights
        if self.pooling == "mean":
            return zeroed.sum(dim=1).unsqueeze(1)
        return torch.stack([zeroed.sum(dim=1), (zeroed**2).sum(dim=1)], 1)
