"""Training that stops at the first non-finite loss or gradient, naming the light curves."""

import numpy as np
import torch

from ._finite import RESCALE_HINT
from ._validation import format_indices


class FiniteTrainingMixin:
    """Stop a skorch net's training with a ValueError at the first non-finite loss or gradient.

    Batches must be ``(inputs, targets)`` with ``targets["sample_index"]``
    the light curve of each window. The error names the light curves whose
    windows gave non-finite outputs or targets (all of the batch's when none
    stands out). Raised before the optimiser steps, so the weights stay as
    they were; the estimator then discards the net.
    """

    def train_step_single(self, batch, **fit_params):
        step = super().train_step_single(batch, **fit_params)
        if not torch.isfinite(step["loss"]).item():
            raise self._non_finite_batch(batch, step["y_pred"], "training loss")
        return step

    def on_grad_computed(self, net, named_parameters, batch=None, training=False, **kwargs):
        """Raise a ValueError naming the batch's light curves when a gradient is not finite.

        Parameters
        ----------
        net : skorch.NeuralNet
            This net.
        named_parameters : iterable of (str, Parameter)
            The module's parameters, after the backward pass.
        batch : tuple, optional
            The batch ``(inputs, targets)``.
        training : bool, default=False
            Whether the batch trains.
        **kwargs
            Other arguments of skorch's hook.
        """
        super().on_grad_computed(net, named_parameters, batch=batch, training=training,
                                 **kwargs)
        gradients = [parameter.grad for _, parameter in named_parameters
                     if parameter.grad is not None]
        if gradients and not torch.stack([torch.isfinite(g).all() for g in gradients]).all():
            raise self._non_finite_batch(batch, None, "gradients")

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        """Raise a ValueError naming the batch's light curves on a non-finite validation loss.

        Parameters
        ----------
        net : skorch.NeuralNet
            This net.
        batch : tuple, optional
            The batch ``(inputs, targets)``.
        training : bool, default=False
            Whether the batch trained.
        **kwargs
            Other arguments of skorch's hook (``loss``, ``y_pred``).
        """
        # Validation losses are checked here, after a data-parallel net has
        # averaged them, so that every rank stops together.
        super().on_batch_end(net, batch=batch, training=training, **kwargs)
        loss = kwargs.get("loss")
        if not training and loss is not None and not torch.isfinite(loss).item():
            raise self._non_finite_batch(batch, kwargs.get("y_pred"), "validation loss")

    def _non_finite_batch(self, batch, y_pred, what):
        """The ValueError naming the light curves behind a non-finite ``what``."""
        _, targets = batch
        samples = targets["sample_index"].cpu().numpy()
        tensors = [y_pred] + [value for value in targets.values()
                              if torch.is_tensor(value) and value.is_floating_point()]
        offending = torch.zeros(len(samples), dtype=torch.bool)
        for tensor in tensors:
            if tensor is not None and len(tensor) == len(samples):
                # Squares overflow where the loss would: a finite but huge
                # window stands out as well as a NaN one.
                squares = tensor.detach().float().reshape(len(tensor), -1) ** 2
                offending |= ~torch.isfinite(squares.sum(dim=1)).cpu()
        named = samples[offending.numpy()] if offending.any() else samples
        return ValueError(
            f"Training stopped in epoch {len(self.history)}: non-finite {what} on the batch with "
            f"light curve(s) "
            f"{format_indices(np.unique(named))}; {RESCALE_HINT}")
