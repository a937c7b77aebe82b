"""Sinusoidal encoding of observation times (ASTROMER)."""

import math

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


#: Period range of :class:`LogPeriodTimeEncoding`, days: 3 hours to 3 years,
#: the ladder in ASTROMER's own code (``get_angles_prior_knowledge``).
LOG_PERIOD_RANGE = (0.125, 3 * 365.25)


class LogPeriodTimeEncoding(nn.Module):
    """Sine/cosine pairs at periods log-spaced over a range that holds sub-day variability.

    Dimensions ``2i`` and ``2i + 1`` are ``sin(2 pi t / P_i)`` and
    ``cos(2 pi t / P_i)`` with ``P_i`` log-spaced from ``min_period`` to
    ``max_period``. The paper's ladder (:class:`TimePositionalEncoding`)
    peaks at 1 rad/day, a period of 6.3 days: shorter periods alias.

    Parameters
    ----------
    d_model : int
        Size of the encoding (even).
    min_period, max_period : float, default=0.125, 1095.75
        Shortest and longest period, days.
    trainable : bool, default=False
        Learn the frequencies (their logarithms), starting from the ladder
        (Moreno-Cartagena et al. 2023 report that trainable encodings help).
    """

    def __init__(self, d_model, min_period=LOG_PERIOD_RANGE[0], max_period=LOG_PERIOD_RANGE[1],
                 trainable=False):
        super().__init__()
        if d_model % 2:
            raise ValueError(f"d_model={d_model} must be even for sine/cosine pairs.")
        self.d_model = d_model
        periods = torch.logspace(math.log10(min_period), math.log10(max_period), d_model // 2,
                                 dtype=torch.float64)
        log_frequencies = torch.log(2 * math.pi / periods).float()
        if trainable:
            self.log_frequencies = nn.Parameter(log_frequencies)
        else:
            self.register_buffer("log_frequencies", log_frequencies, persistent=False)

    def forward(self, times):
        """Encode observation times.

        Parameters
        ----------
        times : Tensor of shape (batch, length)
            Observation times, days.

        Returns
        -------
        Tensor of shape (batch, length, d_model)
            The sine/cosine pairs of each time.
        """
        angles = times.float().unsqueeze(-1) * torch.exp(self.log_frequencies)
        return torch.stack([torch.sin(angles), torch.cos(angles)], dim=-1).flatten(-2)


TIME_ENCODINGS = ("paper", "log_periods", "learnable")


def make_time_encoding(kind, d_model, pe_base=10000.0):
    """The time encoding named ``kind``.

    Parameters
    ----------
    kind : {"paper", "log_periods", "learnable"}
        ``"paper"``: :class:`TimePositionalEncoding` (what the published
        weights use); ``"log_periods"``: :class:`LogPeriodTimeEncoding`;
        ``"learnable"``: the same with trainable frequencies.
    d_model : int
    pe_base : float, default=10000.0
        Base of the paper's ladder (``"paper"`` only).
    """
    if kind == "paper":
        return TimePositionalEncoding(d_model, base=pe_base)
    if kind in ("log_periods", "learnable"):
        return LogPeriodTimeEncoding(d_model, trainable=kind == "learnable")
    raise ValueError(f"time_encoding must be one of {TIME_ENCODINGS}, got {kind!r}.")
