"""Errors that name the light curves, in place of NaN outputs or ruined weights.

A model computes in float32. Where a light curve's numbers overflow it (a
model without magnitude scaling takes magnitudes as they are, and its
attention and layer norms square them: ~1e18 is too much), inference
raises a ValueError naming the light curves instead of returning NaN, and
training stops at the first non-finite loss or gradient, naming the light
curves of the batch, before the optimiser can spread NaN into the weights
(:class:`~sklearn_astromer._finite_training.FiniteTrainingMixin`). This module
is numpy only: the ONNX Runtime embedder uses it without torch.
"""

import numpy as np

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
