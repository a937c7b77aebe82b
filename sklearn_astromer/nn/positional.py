"""Sinusoidal encoding of observation times (ASTROMER)."""

import torch
from torch import nn


class TimePositionalEncoding(nn.Module):
    """Encode irregular observation times with sinusoids of geometric frequencies.

    Dimension ``j`` of the encoding is ``sin(t * w_j)`` for even ``j`` and
    ``cos(t * w_j)`` for odd ``j`` with ``w_j = base ** (-2 j / d_model)``.
    Every dimension has its own frequency (not shared sin/cos pairs): this is
    what the original ASTROMER code computes and what its published weights
    were trained with.

    Parameters
    ----------
    d_model : int
        Size of the encoding.
    base : float, default=10000.0
        Base of the geometric frequency ladder.
    """

    def __init__(self, d_model, base=10000.0):
        super().__init__()
        self.d_model = d_model
        dims = torch.arange(d_model, dtype=torch.float64)
        frequencies = (base ** (-2.0 * dims / d_model)).float()
        # Sines and cosines are taken on their own dimensions only: half the
        # transcendental work of computing both everywhere and selecting.
        self.register_buffer("sine_frequencies", frequencies[0::2].clone(), persistent=False)
        self.register_buffer("cosine_frequencies", frequencies[1::2].clone(), persistent=False)

    def forward(self, times):
        """Encode times.

        Parameters
        ----------
        times : Tensor of shape (batch, length)
            Observation times in days (zero-mean per window).

        Returns
        -------
        Tensor of shape (batch, length, d_model)
        """
        times = times.float().unsqueeze(-1)
        encoding = times.new_empty(*times.shape[:-1], self.d_model)
        encoding[..., 0::2] = torch.sin(times * self.sine_frequencies)
        encoding[..., 1::2] = torch.cos(times * self.cosine_frequencies)
        return encoding
