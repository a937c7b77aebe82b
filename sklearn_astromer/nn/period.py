"""Period-aware inputs: each observation's phase and each window's descriptors."""

import math

import torch
from torch import nn

#: Per-window descriptors, in the order :class:`PeriodInputEmbedding` expects
#: them (see :func:`sklearn_astromer.preprocessing.window_descriptors`).
DESCRIPTOR_NAMES = ("log10_period", "period_power", "has_period", "log10_std",
                    "log10_median_error")


class PeriodInputEmbedding(nn.Module):
    """Embed phases (a few harmonics) and window descriptors into the model width.

    The output is added to every observation's input embedding: the phase
    term differs per observation, the descriptor term (log period, its
    periodogram power, amplitude, noise level) is the same for the whole
    window. A transformer that sees times alone must discover the period;
    one that sees the phase can spend its capacity on the folded shape.

    Parameters
    ----------
    d_model : int
        Width of the model's per-observation embedding.
    n_harmonics : int, default=4
        Phase features ``sin(2 pi k phase)``, ``cos(2 pi k phase)`` for
        ``k = 1 .. n_harmonics``.
    n_descriptors : int, default=len(DESCRIPTOR_NAMES)
        Descriptors per window (:data:`DESCRIPTOR_NAMES`).
    """

    def __init__(self, d_model, n_harmonics=4, n_descriptors=len(DESCRIPTOR_NAMES)):
        super().__init__()
        self.register_buffer("harmonics", torch.arange(1, n_harmonics + 1, dtype=torch.float32),
                             persistent=False)
        self.phase_projection = nn.Linear(2 * n_harmonics, d_model)
        self.descriptor_projection = nn.Linear(n_descriptors, d_model)

    def forward(self, phases, descriptors):
        """Embed phases and window descriptors.

        Parameters
        ----------
        phases : Tensor of shape (batch, length)
            Phase of each observation at its light curve's period, cycles.
        descriptors : Tensor of shape (batch, n_descriptors)
            Descriptors of each window.

        Returns
        -------
        Tensor of shape (batch, length, d_model)
            What is added to each observation's input embedding.
        """
        angles = (2 * math.pi) * phases.float().unsqueeze(-1) * self.harmonics
        harmonics = torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)
        return (self.phase_projection(harmonics)
                + self.descriptor_projection(descriptors.float()).unsqueeze(1))

    @torch.no_grad()
    def zero_(self):
        """Zero every weight, so that adding this input leaves a trained model's outputs as they were.

        Returns
        -------
        PeriodInputEmbedding
            This module, zeroed in place.
        """
        for parameter in self.parameters():
            parameter.zero_()
        return self
