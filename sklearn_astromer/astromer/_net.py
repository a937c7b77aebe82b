"""skorch glue for masked-magnitude pre-training.

The dataset only hands out light-curve indices; the collate function turns a
batch of indices into random windows and masks in one vectorised step, so no
Python code runs per observation.
"""

import numpy as np
import torch
from skorch import NeuralNet
from torch.utils.data import Dataset

from ..preprocessing import gather_windows, mask_windows, random_windows


class LightCurveIndexDataset(Dataset):
    """A dataset whose items are light-curve indices (the collate does the work).

    Parameters
    ----------
    n_samples : int
        Number of light curves.
    """

    def __init__(self, n_samples):
        self.n_samples = n_samples

    def __len__(self):
        return self.n_samples

    def __getitem__(self, index):
        return index


class MaskedWindowCollate:
    """Collate light-curve indices into masked windows, as in ASTROMER pre-training.

    Each light curve contributes one window of up to ``max_obs`` observations
    at a uniformly random start; windows are zero-meaned and masked 50/20/20
    (see :func:`sklearn_astromer.preprocessing.mask_windows`).

    Parameters
    ----------
    light_curves : RaggedLightCurves
    max_obs : int
    pad_to_max_obs : bool
        Pad every window to ``max_obs`` (needed by the paper-exact variant,
        whose outputs depend on padding); otherwise pad to the longest
        window of the batch.
    mask_frac, same_frac, random_frac : float
    seed : int
        Seed of the window and mask draws.
    fixed : bool, default=False
        Derive the draws from ``seed`` and the batch's indices, so the same
        batch gets the same windows and masks every epoch (for validation).
        Otherwise one generator advances from batch to batch.
    """

    def __init__(self, light_curves, max_obs, pad_to_max_obs, mask_frac, same_frac,
                 random_frac, seed, fixed=False):
        self.light_curves = light_curves
        self.max_obs = max_obs
        self.pad_to_max_obs = pad_to_max_obs
        self.fractions = dict(mask_frac=mask_frac, same_frac=same_frac, random_frac=random_frac)
        self.seed = seed
        self.fixed = fixed
        self._rng = np.random.default_rng(seed)

    def __call__(self, indices):
        indices = np.asarray(indices, dtype=np.int64)
        rng = np.random.default_rng([self.seed, *indices]) if self.fixed else self._rng
        starts, lengths = random_windows(self.light_curves.lengths[indices], self.max_obs, rng)
        width = self.max_obs if self.pad_to_max_obs else int(lengths.max())
        windows = gather_windows(self.light_curves, indices, starts, lengths, width,
                                 float32_mean=self.pad_to_max_obs)
        masked = mask_windows(windows.magnitudes, windows.valid, rng, **self.fractions)
        inputs = {
            "times": torch.tensor(windows.times),
            "magnitudes": torch.tensor(masked.input_magnitudes),
            "mask_in": torch.tensor(masked.mask_in),
        }
        targets = {
            "magnitudes": torch.tensor(windows.magnitudes),
            "mask_out": torch.tensor(masked.mask_out),
        }
        return inputs, targets


def masked_rmse(reconstruction, magnitudes, mask_out):
    """ASTROMER's loss: ``sqrt(mean over windows of the masked squared error)``.

    Windows without any masked observation (one-point windows) are left out
    of the mean.

    Parameters
    ----------
    reconstruction, magnitudes : Tensor of shape (n_windows, width)
    mask_out : bool Tensor of shape (n_windows, width)

    Returns
    -------
    Tensor
        Scalar loss.
    """
    weights = mask_out.to(reconstruction.dtype)
    n_masked = weights.sum(dim=1)
    squared = ((reconstruction - magnitudes) ** 2 * weights).sum(dim=1)
    has_mask = n_masked > 0
    if not has_mask.any():
        return (reconstruction * 0.0).sum()
    return torch.sqrt((squared[has_mask] / n_masked[has_mask]).mean())


class AstromerNet(NeuralNet):
    """:class:`skorch.NeuralNet` that trains by masked-magnitude reconstruction.

    Batches are ``(inputs, targets)`` pairs of dicts built by
    :class:`MaskedWindowCollate`; the loss is :func:`masked_rmse`, so no
    criterion module is needed.
    """

    def __init__(self, module, *args, criterion=torch.nn.MSELoss, **kwargs):
        super().__init__(module, *args, criterion=criterion, **kwargs)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """Masked RMSE between the reconstruction and the true magnitudes."""
        magnitudes = y_true["magnitudes"].to(y_pred.device)
        mask_out = y_true["mask_out"].to(y_pred.device)
        return masked_rmse(y_pred, magnitudes, mask_out)
