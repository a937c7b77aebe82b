"""skorch glue for masked-magnitude pre-training.

The dataset only hands out light-curve indices; the collate function turns a
batch of indices into random windows and masks in one vectorised step, so no
Python code runs per observation.
"""

import numpy as np
import torch
from skorch import NeuralNet

from .._interrupt import PropagateInterruptMixin
from .._torch_common import AutocastMixin, SeededCollate
from ..preprocessing import gather_windows, mask_windows, random_windows
from .._finite_training import FiniteTrainingMixin
from .._encoder_inference import windows_to_tensors


class WindowSampler:
    """Draw random windows of light curves, with the model's preprocessing.

    Parameters
    ----------
    light_curves : RaggedLightCurves
    max_obs : int
    pad_to_max_obs : bool
        Pad every window to ``max_obs`` and zero-mean in float32 (needed by
        the paper-exact variant, whose outputs depend on both); otherwise pad
        to the longest window of the batch.
    scale_magnitudes : bool, default=False
        See :func:`~sklearn_astromer.preprocessing.gather_windows`.
    periods : tuple of two ndarrays or None, default=None
        ``(frequencies, powers)`` of every light curve, for a period input.
    windows_per_curve : int, default=1
        Windows drawn from each light curve of a batch.
    """

    def __init__(self, light_curves, max_obs, pad_to_max_obs, scale_magnitudes=False,
                 periods=None, windows_per_curve=1):
        self.light_curves = light_curves
        self.max_obs = max_obs
        self.pad_to_max_obs = pad_to_max_obs
        self.scale_magnitudes = scale_magnitudes
        self.periods = periods
        self.windows_per_curve = windows_per_curve

    def sample(self, indices, rng):
        """Random windows (start uniform over the light curve) of light curves ``indices``."""
        indices = np.repeat(np.asarray(indices, dtype=np.int64), self.windows_per_curve)
        starts, lengths = random_windows(self.light_curves.lengths[indices], self.max_obs, rng)
        width = self.max_obs if self.pad_to_max_obs else int(lengths.max())
        return gather_windows(self.light_curves, indices, starts, lengths, width,
                              float32_mean=self.pad_to_max_obs,
                              scale_magnitudes=self.scale_magnitudes, periods=self.periods)

    def release(self):
        """Drop the light curves (and periods), so pickles of a fitted model stay small."""
        self.light_curves = self.periods = None


class WindowCollate(SeededCollate):
    """Collate light-curve indices into windows drawn by a :class:`WindowSampler` (a base).

    Parameters
    ----------
    sampler : WindowSampler
    seed : int
        Seed of the window draws.
    fixed : bool, default=False
        Derive the draws from ``seed`` and the batch's indices, so the same
        batch gets the same windows every epoch (for validation). Otherwise
        one generator advances from batch to batch.
    """

    def __init__(self, sampler, seed, fixed=False):
        super().__init__(seed, fixed)
        self.sampler = sampler

    def with_seed(self, seed):
        """A copy drawing from ``seed`` (e.g. one per data-parallel rank), sharing the sampler."""
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__, seed=seed, _rng=np.random.default_rng(seed))
        return copy

    def release(self):
        """Drop the light curves, so pickles of a fitted model stay small."""
        self.sampler.release()

    def _windows(self, indices):
        """``(windows, rng)``: the windows of light curves ``indices`` and the generator that
        drew them (for further draws of the same batch)."""
        indices = np.asarray(indices, dtype=np.int64)
        rng = self._generator(indices)
        return self.sampler.sample(indices, rng), rng


class MaskedWindowCollate(WindowCollate):
    """Collate light-curve indices into masked windows, as in ASTROMER pre-training.

    Each light curve contributes ``sampler.windows_per_curve`` windows of up
    to ``max_obs`` observations at uniformly random starts; windows are
    zero-meaned (and scaled, and given phases, as the sampler says) and
    masked 50/20/20 (see :func:`sklearn_astromer.preprocessing.mask_windows`).
    The targets also hold each window's light curve (``"sample_index"``), so
    that a non-finite loss can name the light curves.

    Parameters
    ----------
    sampler : WindowSampler
    mask_frac, same_frac, random_frac : float
    seed : int
        Seed of the window and mask draws.
    fixed : bool, default=False
        Same windows and masks for the same batch every epoch (validation).
    uncertainty_weights : bool, default=False
        Add per-observation loss weights from the errors
        (:func:`uncertainty_weights`) to the targets.
    """

    def __init__(self, sampler, mask_frac, same_frac, random_frac, seed, fixed=False,
                 uncertainty_weights=False):
        super().__init__(sampler, seed, fixed)
        self.fractions = dict(mask_frac=mask_frac, same_frac=same_frac, random_frac=random_frac)
        self.uncertainty_weights = uncertainty_weights

    def __call__(self, indices):
        windows, rng = self._windows(indices)
        masked = mask_windows(windows.magnitudes, windows.valid, rng, **self.fractions)
        inputs = windows_to_tensors(windows, "cpu", masked.input_magnitudes, masked.mask_in)
        targets = {
            "magnitudes": torch.from_numpy(windows.magnitudes),
            "mask_out": torch.from_numpy(masked.mask_out),
            "sample_index": torch.from_numpy(windows.sample_index),
        }
        if self.uncertainty_weights:
            targets["weights"] = torch.from_numpy(uncertainty_weights(windows.errors,
                                                                      windows.valid))
        return inputs, targets


def uncertainty_weights(errors, valid, floor=1e-3):
    """ASTROMER 2's loss weights: ``1 / error`` min-max scaled within each window, plus ``floor``.

    Windows with an error that is not positive (unknown errors) get equal
    weights.

    Parameters
    ----------
    errors : float ndarray of shape (n_windows, width)
    valid : bool ndarray of shape (n_windows, width)

    Returns
    -------
    float32 ndarray of shape (n_windows, width)
    """
    known = np.all((errors > 0) | ~valid, axis=1, keepdims=True)
    inverse = 1.0 / np.where(valid & (errors > 0), errors, 1.0).astype(np.float64)
    low = np.min(np.where(valid, inverse, np.inf), axis=1, keepdims=True)
    high = np.max(np.where(valid, inverse, -np.inf), axis=1, keepdims=True)
    spread = known & (high > low)
    scaled = np.where(spread, (inverse - low) / np.where(spread, high - low, 1.0), 1.0)
    return np.where(valid, scaled + floor, 0.0).astype(np.float32)


def masked_rmse(reconstruction, magnitudes, mask_out, weights=None):
    """ASTROMER's loss: ``sqrt(mean over windows of the masked squared error)``.

    Windows without any masked observation (one-point windows) are left out
    of the mean.

    Parameters
    ----------
    reconstruction, magnitudes : Tensor of shape (n_windows, width)
    mask_out : bool Tensor of shape (n_windows, width)
    weights : Tensor of shape (n_windows, width), optional
        Per-observation weights of the squared errors within each window
        (ASTROMER 2's uncertainty weighting).

    Returns
    -------
    Tensor
        Scalar loss.
    """
    weights = mask_out.to(reconstruction.dtype) * (1.0 if weights is None else weights)
    n_masked = weights.sum(dim=1)
    squared = ((reconstruction - magnitudes) ** 2 * weights).sum(dim=1)
    has_mask = n_masked > 0
    if not has_mask.any():
        return (reconstruction * 0.0).sum()
    return torch.sqrt((squared[has_mask] / n_masked[has_mask]).mean())


class AstromerNet(PropagateInterruptMixin, FiniteTrainingMixin, AutocastMixin, NeuralNet):
    """:class:`skorch.NeuralNet` that trains by masked-magnitude reconstruction.

    The net of :class:`~sklearn_astromer.AstromerEmbedder` (its ``net_``).
    Batches are ``(inputs, targets)`` pairs of dicts of masked windows; the
    loss is the masked RMSE of the reconstructed magnitudes, so the
    criterion module is not used. A non-finite loss or gradient stops
    training with a ValueError naming the light curves.

    Parameters
    ----------
    module : type or torch.nn.Module
        The model (an :class:`~sklearn_astromer.nn.AstromerModel`).
    *args
        Positional arguments of :class:`skorch.NeuralNet`.
    criterion : type, default=torch.nn.MSELoss
        Required by skorch; unused by the loss.
    autocast_dtype : torch.dtype or None, default=None
        Mixed-precision training: the forward passes run under
        :func:`torch.autocast` with this dtype, the loss in float32.
    **kwargs
        Keyword arguments of :class:`skorch.NeuralNet`.
    """

    def __init__(self, module, *args, criterion=torch.nn.MSELoss, autocast_dtype=None,
                 **kwargs):
        super().__init__(module, *args, criterion=criterion, **kwargs)
        self.autocast_dtype = autocast_dtype

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """Masked RMSE between the reconstruction and the true magnitudes, in float32.

        Parameters
        ----------
        y_pred : Tensor of shape (n_windows, width)
            Reconstructed magnitudes.
        y_true : dict
            ``"magnitudes"``, ``"mask_out"`` (the observations in the loss)
            and optionally ``"weights"``.
        X : dict, optional
            The batch's inputs (unused).
        training : bool, default=False
            Unused.

        Returns
        -------
        Tensor
            The scalar loss.
        """
        y_pred = y_pred.float()
        magnitudes = y_true["magnitudes"].to(y_pred.device)
        mask_out = y_true["mask_out"].to(y_pred.device)
        weights = y_true.get("weights")
        return masked_rmse(y_pred, magnitudes, mask_out,
                           None if weights is None else weights.to(y_pred.device))
