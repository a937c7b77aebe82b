"""Batched, gradient-free passes of a fitted encoder over light curves.

Windows are sorted by length and batched so that padding costs little; only
index arrays are held for the whole data set, so memory stays flat as the
number of light curves grows.
"""

import functools

import numpy as np
import torch

from .preprocessing import mask_windows
from ._finite import non_finite_error
from ._curve_pooling import CurveStatistics, check_pooling, n_statistics
from ._window_batches import iter_window_batches, model_inputs
from .nn.pooling import WindowPooling


def to_device(array, device):
    """A numpy array as a tensor on ``device``.

    On the CPU the array is copied into torch's own (aligned) memory: kernels
    pick their vectorised paths by address alignment, so wrapping numpy
    memory as is can change results in the last bit from one call to the
    next. For a GPU it goes through pinned (page-locked) memory, so the copy
    is asynchronous and overlaps the preparation of the next batch.
    """
    if torch.device(device).type == "cuda":
        return torch.from_numpy(np.ascontiguousarray(array)).pin_memory().to(
            device, non_blocking=True)
    return torch.tensor(array, device=device)


def windows_to_tensors(windows, device, magnitudes=None, mask_in=None):
    """Move a batch of windows to ``device`` as the encoder's keyword arguments.

    ``phases`` and ``descriptors`` are included when the windows carry them
    (a model with a period input), and so are ``bands`` (a multi-band model).
    """
    inputs = model_inputs(windows)
    valid = inputs.pop("valid")
    if magnitudes is not None:
        inputs["magnitudes"] = magnitudes
    inputs["mask_in"] = ~valid if mask_in is None else mask_in
    return {name: to_device(array, device) for name, array in inputs.items()}


def pool_light_curves(encoder, light_curves, *, pooling, device, combine_layers=None,
                      **window_args):
    """Pool per-observation embeddings into one vector per light curve.

    Parameters
    ----------
    encoder : AstromerEncoder
    light_curves : RaggedLightCurves
    pooling : {"mean", "max", "mean_std", "layers", "weighted_layers"}
        Mean over all observations (the paper's choice), element-wise
        maximum, mean and standard deviation concatenated, the mean of every
        layer's output (input embedding first) concatenated, or their
        combination by ``combine_layers``.
    device : str or torch.device
    combine_layers : callable, optional
        ``"weighted_layers"``: maps the ``(n_samples, n_layers + 1, d_model)``
        float64 layer means to ``(n_samples, d_model)`` (a supervised head's
        :meth:`~sklearn_astromer.nn.LayerWeightedClassifier.combine`, on
        tensors); default: their plain mean.
    **window_args
        ``max_obs``, ``batch_size``, ``pad_to_max_obs``, ``max_tokens``,
        ``scale_magnitudes``, ``periods``: see
        :func:`~sklearn_astromer._window_batches.iter_window_batches`.

    Returns
    -------
    float32 ndarray of shape (n_samples, n_features)
    """
    check_pooling(pooling)
    combine = None
    if combine_layers is not None:
        combine = functools.partial(_combine_tensors, combine_layers)
    statistics = _window_statistics(encoder, light_curves, pooling, device, window_args)
    return statistics.pooled(light_curves.lengths, combine)


def pool_layers(encoder, light_curves, *, device, **window_args):
    """Mean of every layer's output over each light curve's observations.

    Returns
    -------
    float64 Tensor of shape (n_samples, n_layers + 1, d_model)
        The input embedding first, then each encoder block's output.
    """
    statistics = _window_statistics(encoder, light_curves, "layers", device, window_args)
    return torch.from_numpy(statistics.layer_means(light_curves.lengths))


def _combine_tensors(combine_layers, means):
    return combine_layers(torch.from_numpy(means)).detach().cpu().numpy()


def _window_statistics(encoder, light_curves, pooling, device, window_args):
    """:class:`CurveStatistics` of every window of ``light_curves``."""
    model = WindowPooling(encoder, pooling)
    statistics = CurveStatistics(len(light_curves), pooling,
                                 n_statistics(pooling, len(encoder.blocks)),
                                 encoder.input_projection.out_features)
    for windows in iter_window_batches(light_curves, **window_args):
        inputs = {name: to_device(array, device) for name, array in model_inputs(windows).items()}
        statistics.add(model(**inputs).cpu().numpy(), windows.sample_index)
    return statistics


def per_observation_outputs(model, light_curves, *, device, embeddings=True,
                            reconstruction=True, **window_args):
    """Per-observation embeddings and reconstructed magnitudes for every light curve.

    Returns
    -------
    embeddings : float32 ndarray of shape (n_points, d_model) or None
    reconstruction : float64 ndarray of shape (n_points,) or None
        Reconstructed magnitudes in the input's scale (the window's scale
        multiplied and its mean magnitude added back).
    """
    n_points = len(light_curves.values)
    d_model = model.encoder.input_projection.out_features
    all_embeddings = np.empty((n_points, d_model), np.float32) if embeddings else None
    all_reconstruction = np.empty(n_points) if reconstruction else None
    for windows in iter_window_batches(light_curves, **window_args):
        encoded = model.encoder(**windows_to_tensors(windows, device))
        rows = windows.point_index[windows.valid]
        valid = torch.from_numpy(windows.valid).to(encoded.device)
        if embeddings:
            all_embeddings[rows] = encoded[valid].float().cpu().numpy()
        if reconstruction:
            with np.errstate(over="ignore", invalid="ignore"):  # the caller names what overflows
                reconstructed = (model.head(encoded).float().cpu().numpy()
                                 * windows.magnitude_scales[:, None]
                                 + windows.mean_magnitudes[:, None])
            all_reconstruction[rows] = reconstructed[windows.valid]
    return all_embeddings, all_reconstruction


def masked_rmse_score(model, light_curves, *, device, seed, mask_frac, same_frac, random_frac,
                      **window_args):
    """Masked-reconstruction RMSE over consecutive windows with a seeded mask, in magnitudes.

    The value pre-training minimises, computed on every window of every light
    curve: ``sqrt(mean over windows of the masked mean squared error)``;
    windows that the model sees scaled are scaled back, so models with and
    without magnitude scaling compare. Errors are summed in float64 and the
    scales applied with the largest factored out, so light curves of any
    magnitude range give a finite score.

    Raises
    ------
    ValueError
        Naming the light curves whose reconstruction errors are not finite
        (their numbers overflow the model's float32 arithmetic), or when no
        light curve has two observations.
    """
    rng = np.random.default_rng(seed)
    window_errors, window_scales, window_samples = [], [], []
    for windows in iter_window_batches(light_curves, **window_args):
        masked = mask_windows(windows.magnitudes, windows.valid, rng,
                              mask_frac=mask_frac, same_frac=same_frac, random_frac=random_frac)
        has_mask = masked.mask_out.any(axis=1)
        if not has_mask.any():
            continue
        inputs = windows_to_tensors(windows, device, masked.input_magnitudes, masked.mask_in)
        reconstruction = model(**inputs).double().cpu().numpy()
        errors = np.where(masked.mask_out, reconstruction - windows.magnitudes, 0.0)
        with np.errstate(over="ignore", invalid="ignore"):
            squared = (errors**2).sum(axis=1)[has_mask] / masked.mask_out.sum(axis=1)[has_mask]
        if not np.isfinite(squared).all():
            raise non_finite_error(light_curves,
                                   windows.sample_index[has_mask][~np.isfinite(squared)],
                                   "reconstruction errors")
        window_errors.append(squared)
        window_scales.append(windows.magnitude_scales[has_mask])
        window_samples.append(windows.sample_index[has_mask])
    if not window_errors:
        raise ValueError("No light curve has the two observations needed to mask one.")
    squared, scales = np.concatenate(window_errors), np.concatenate(window_scales)
    largest = scales.max()
    with np.errstate(over="ignore"):
        rmse = largest * np.sqrt(np.mean((scales / largest) ** 2 * squared))
    if not np.isfinite(rmse):  # an RMSE beyond float64, in the input's magnitudes
        raise non_finite_error(light_curves, np.concatenate(window_samples)[scales == largest],
                               "reconstruction errors")
    return float(rmse)
