"""Training batches of every modality (the collate of the CLIP and fine-tuning nets)."""

import numpy as np
import torch

from ._data import PHOTOMETRY, SPECTRUM
from ._photometry_features import AstroM3LightCurves, centre_starts
from .._torch_common import SeededCollate
from ..preprocessing import gather_windows, random_windows


class MultimodalCollate(SeededCollate):
    """Collate row indices into one training batch of every modality.

    Each light curve contributes one window of up to ``max_obs`` observations
    at a random start (zero-meaned, as in ASTROMER; for AstroM3's tower the
    random crop in training and the centre crop when ``fixed``, as AstroM3
    validates); absent modalities get zeros (and an all-True ``mask_in`` for
    light curves), flagged in ``present``.

    Parameters
    ----------
    data : MultimodalData
    max_obs : int
    pad_to_max_obs : bool
        Pad windows to ``max_obs`` (the paper-exact encoder needs it).
    seed : int
    fixed : bool, default=False
        Same windows for the same batch every epoch (validation).
    labels : int ndarray of shape (n_samples,), optional
        Class indices returned as the batch's targets (supervised fine-tuning).
    scale_magnitudes : bool, default=False
        ASTROMER's tower: divide each window's magnitudes by their spread.
    period_input : bool, default=False
        ASTROMER's tower: add each observation's phase and each window's
        descriptors (the light curves' periods).

    Returns (when called)
    ---------------------
    X : dict
        ``{"inputs": {modality: tower input}, "present": bool (batch, n_modalities)}``,
        the keyword arguments of :class:`~sklearn_astromer.nn.MultimodalCLIPModel`.
    y : int64 Tensor of shape (batch,) or None
    """

    def __init__(self, data, max_obs, pad_to_max_obs, seed, fixed=False, labels=None,
                 scale_magnitudes=False, period_input=False):
        super().__init__(seed, fixed)
        self.data = data
        self.scale_magnitudes = scale_magnitudes
        self.period_input = period_input
        self.max_obs = max_obs
        self.pad_to_max_obs = pad_to_max_obs
        self.labels = labels

    def release(self):
        """Drop the catalogue, so pickles of a fitted model stay small."""
        self.data = None

    def _windows(self, light_curves, present, rows, rng):
        if isinstance(light_curves, AstroM3LightCurves):
            lengths = light_curves.lengths[rows]
            starts = (centre_starts(lengths, self.max_obs) if self.fixed
                      else random_windows(lengths, self.max_obs, rng)[0])
            series, mask_in = light_curves.windows(rows, starts, self.max_obs, present)
            return {"series": torch.tensor(series), "mask_in": torch.tensor(mask_in)}
        curves = light_curves.light_curves
        starts, lengths = random_windows(curves.lengths[rows], self.max_obs, rng)
        lengths = np.where(present, lengths, 0)
        width = self.max_obs if self.pad_to_max_obs else max(int(lengths.max()), 1)
        windows = gather_windows(curves, rows, starts, np.maximum(lengths, 1), width,
                                 float32_mean=self.pad_to_max_obs,
                                 scale_magnitudes=self.scale_magnitudes,
                                 periods=light_curves.periods if self.period_input else None)
        valid = windows.valid & present[:, None]
        inputs = {
            "times": torch.tensor(np.where(valid, windows.times, 0.0).astype(np.float32)),
            "magnitudes": torch.tensor(np.where(valid, windows.magnitudes, 0.0)
                                       .astype(np.float32)),
            "mask_in": torch.tensor(~valid),
        }
        if windows.phases is not None:  # zeros where absent: placeholders have no period
            inputs["phases"] = torch.tensor(np.where(valid, windows.phases, 0.0)
                                            .astype(np.float32))
            inputs["descriptors"] = torch.tensor(np.where(present[:, None], windows.descriptors,
                                                          0.0).astype(np.float32))
        return inputs

    def __call__(self, indices):
        rows = np.asarray(indices, dtype=np.int64)
        rng = self._generator(rows)
        data = self.data
        present = data.present[rows]
        inputs = {}
        for j, (name, kind) in enumerate(zip(data.modalities, data.kinds)):
            if kind == PHOTOMETRY:
                inputs[name] = self._windows(data.light_curves[name], present[:, j], rows, rng)
            elif kind == SPECTRUM:
                inputs[name] = torch.tensor(data.spectra.channels(rows))
            else:
                inputs[name] = torch.tensor(data.metadata[rows])
        targets = None if self.labels is None else torch.tensor(self.labels[rows])
        return {"inputs": inputs, "present": torch.tensor(present)}, targets
