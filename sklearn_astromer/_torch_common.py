"""Torch and skorch pieces that both estimator families use.

Device resolution, a silent log sink, the dataset of light-curve indices
that the collates turn into batches, and autocast for skorch nets. They live
here, outside either subpackage, so that ``multimodal`` and ``distributed``
need no private module of ``astromer``.
"""

import numpy as np
import torch
from torch.utils.data import Dataset


def resolve_device(device):
    """Map ``"auto"`` to ``"cuda"`` when a GPU is visible, else ``"cpu"``."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def silent(*args, **kwargs):
    """A sink that prints nothing."""


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


class AutocastMixin:
    """Run a skorch net's forward passes (training and validation) under :func:`torch.autocast`.

    ``autocast_dtype`` None keeps float32. With ``torch.bfloat16`` the matrix
    multiplies run in bfloat16 while the weights, the optimizer state and the
    loss stay float32 (mixed precision): the forward pass is autocast, the
    loss is computed in float32 outside it, and the backward pass follows the
    forward's dtypes. bfloat16 has float32's range, so no loss scaling is
    needed.
    """

    def infer(self, x, **fit_params):
        if self.autocast_dtype is None:
            return super().infer(x, **fit_params)
        with torch.autocast(torch.device(self.device).type, dtype=self.autocast_dtype):
            return super().infer(x, **fit_params)


def release_training_data(net):
    """Drop the data held by ``net``'s loaders (collates with a ``release`` method), so that
    pickles of a fitted estimator stay small."""
    for name in ("iterator_train__collate_fn", "iterator_valid__collate_fn"):
        release = getattr(getattr(net, name, None), "release", None)
        if release is not None:
            release()


class SeededCollate:
    """Base of the collates whose random draws (windows, masks) follow a seed.

    Training collates draw from one generator that advances from batch to
    batch and restarts from ``(seed, epoch)`` at every epoch (see
    :class:`~sklearn_astromer._training.EpochSeeding`); ``fixed`` collates
    (validation) derive each batch's draws from the seed and the batch's
    indices, so the same batch gets the same draws every epoch.

    Parameters
    ----------
    seed : int
    fixed : bool, default=False
    """

    def __init__(self, seed, fixed=False):
        self.seed = seed
        self.fixed = fixed
        self._rng = np.random.default_rng(seed)

    def reseed(self, epoch):
        """Draw the coming batches from ``(seed, epoch)``."""
        self._rng = np.random.default_rng([self.seed, epoch])

    def _generator(self, indices):
        """The generator of the batch of samples ``indices`` (int64 ndarray)."""
        return np.random.default_rng([self.seed, *indices]) if self.fixed else self._rng
