"""Errors that name the light curves, in place of NaN outputs or ruined weights.

A model computes in float32. Where a light curve's numbers overflow it (a
model without magnitude scaling takes magnitudes as they are, and its
attention and layer norms square them: ~1e18 is too much), inference
raises a ValueError naming the light curves instead of returning NaN, and
training stops at the first non-finite loss or gradient, naming the light
curves of the batch, before the optimiser can spread NaN into the weights.
"""

import numpy as np
import torch

from ._validation import format_indices

RESCALE_HINT = ("their numbers overflow the model's float32 arithmetic (or, back in the "
                "input's units, float64). Rescale them (e.g. subtract a constant, change "
                "units); a model with magnitude_scaling='std' scales each window's magnitudes "
                "before it sees them.")


def check_finite(array, light_curves, what, first_index=0, per_observation=False):
    """Raise a ValueError naming the light curves with a non-finite row of ``array``.

    Parameters
    ----------
    array : ndarray of shape (n_samples, ...) or (n_points, ...)
        One row per light curve, or with ``per_observation`` one per
        observation of ``light_curves.values``.
    light_curves : RaggedLightCurves
        The light curves the rows belong to (for their ranges in the message).
    what : str
        What the rows are, e.g. ``"embeddings"``.
    first_index : int, default=0
        Index of the first light curve in the caller's data.
    per_observation : bool, default=False
    """
    finite = np.isfinite(array.reshape(len(array), -1)).all(axis=1)
    if finite.all():
        return
    rows = np.flatnonzero(~finite)
    if per_observation:
        rows = np.searchsorted(light_curves.offsets, rows, side="right") - 1
    raise non_finite_error(light_curves, rows, what, first_index)


def non_finite_error(light_curves, samples, what, first_index=0):
    """A ValueError naming light curves ``samples`` whose ``what`` are not finite."""
    samples = np.unique(samples)
    starts, stops = light_curves.offsets[samples], light_curves.offsets[samples + 1] - 1
    values = light_curves.values
    with np.errstate(over="ignore"):
        spans = values[stops, 0] - values[starts, 0]
        ranges = [np.ptp(values[start:stop + 1, 1]) for start, stop in zip(starts, stops)]
    return ValueError(
        f"Light curve(s) {format_indices(samples + first_index)} give non-finite {what} "
        f"(magnitude range up to {np.max(ranges):.3g}, time span up to {np.max(spans):.3g} "
        f"days): {RESCALE_HINT}")


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
