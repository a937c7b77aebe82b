"""Batched, gradient-free passes of a fitted encoder over light curves.

Windows are sorted by length and batched so that padding costs little; only
index arrays are held for the whole data set, so memory stays flat as the
number of light curves grows.
"""

import numpy as np
import torch

from .preprocessing import consecutive_windows, gather_windows, length_sorted_batches, mask_windows
from ._finite import non_finite_error


#: Padded observations per inference batch when the batch size is "auto". On a
#: CPU, batches of ~8k observations keep the activations of a paper-size
#: encoder in cache (measured end to end: 200-point windows run 1.5-1.8x faster
#: in batches of 40 than of 256); a GPU needs far larger batches to stay busy.
AUTO_TOKENS_PER_BATCH = {"cpu": 8192, "cuda": 262_144}


def inference_batching(batch_size, device):
    """``(batch_size, max_tokens)`` for :func:`iter_window_batches`.

    Parameters
    ----------
    batch_size : int or "auto"
        Windows per batch, or ``"auto"``: a budget of padded observations per
        batch chosen for the device (:data:`AUTO_TOKENS_PER_BATCH`).
    device : str or torch.device
    """
    if batch_size != "auto":
        return int(batch_size), None
    device_type = torch.device(device).type
    return None, AUTO_TOKENS_PER_BATCH.get(device_type, AUTO_TOKENS_PER_BATCH["cuda"])


def window_args(config, batch_size, device, periods=None):
    """Keyword arguments of :func:`iter_window_batches` for a model of architecture ``config``.

    Parameters
    ----------
    config : dict
        A fitted embedder's ``config_`` (``max_obs``, ``variant``,
        ``magnitude_scaling``).
    batch_size : int or "auto"
        Windows per batch (see :func:`inference_batching`).
    device : str or torch.device
    periods : tuple of two ndarrays or None, default=None
        ``(frequencies, powers)`` of the light curves, for a period input.

    Returns
    -------
    dict
    """
    batch_size, max_tokens = inference_batching(batch_size, device)
    return dict(max_obs=config["max_obs"], batch_size=batch_size, max_tokens=max_tokens,
                pad_to_max_obs=config["variant"] == "paper",
                scale_magnitudes=config.get("magnitude_scaling") == "std", periods=periods)


def iter_window_batches(light_curves, max_obs, batch_size, pad_to_max_obs, max_tokens=None,
                        scale_magnitudes=False, periods=None):
    """Yield :class:`~sklearn_astromer.preprocessing.Windows` covering every observation.

    Parameters
    ----------
    light_curves : RaggedLightCurves
    max_obs : int
        Window size.
    batch_size : int or None
        At most this many windows per batch.
    pad_to_max_obs : bool
        Pad to ``max_obs`` and zero-mean in float32 (the paper-exact variant,
        whose published weights need both) instead of padding to the batch's
        longest window.
    max_tokens : int or None, default=None
        At most this many padded observations per batch.
    scale_magnitudes : bool, default=False
    periods : tuple of two ndarrays or None, default=None
        As for :func:`~sklearn_astromer.preprocessing.gather_windows`.
    """
    sample_index, starts, lengths = consecutive_windows(light_curves.lengths, max_obs)
    # The windows partition the observations in order, so each one's content
    # sums come from one reduceat; they make the batching order-invariant.
    first = light_curves.offsets[sample_index] + starts
    content = np.add.reduceat(light_curves.values, first, axis=0).T if len(first) else None
    batches = length_sorted_batches(lengths, batch_size, max_tokens,
                                    pad_to=max_obs if pad_to_max_obs else None,
                                    tie_break=content)
    for batch in batches:
        width = max_obs if pad_to_max_obs else int(lengths[batch].max())
        yield gather_windows(
            light_curves, sample_index[batch], starts[batch], lengths[batch], width,
            float32_mean=pad_to_max_obs, scale_magnitudes=scale_magnitudes, periods=periods,
        )


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
    magnitudes = windows.magnitudes if magnitudes is None else magnitudes
    mask_in = ~windows.valid if mask_in is None else mask_in
    inputs = {
        "times": to_device(windows.times, device),
        "magnitudes": to_device(magnitudes, device),
        "mask_in": to_device(mask_in, device),
    }
    if windows.phases is not None:
        inputs["phases"] = to_device(windows.phases, device)
        inputs["descriptors"] = to_device(windows.descriptors, device)
    if windows.bands is not None:
        inputs["bands"] = to_device(windows.bands, device)
    return inputs


POOLINGS = ("mean", "max", "mean_std", "layers", "weighted_layers")
LAYER_POOLINGS = ("layers", "weighted_layers")


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
        :meth:`~sklearn_astromer.nn.LayerWeightedClassifier.combine`);
        default: their plain mean.
    **window_args
        ``max_obs``, ``batch_size``, ``pad_to_max_obs``, ``max_tokens``,
        ``scale_magnitudes``, ``periods``: see :func:`iter_window_batches`.

    Returns
    -------
    float32 ndarray of shape (n_samples, n_features)
    """
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}.")
    if pooling in LAYER_POOLINGS:
        means = pool_layers(encoder, light_curves, device=device, **window_args)
        if pooling == "layers":
            return means.reshape(len(means), -1).numpy().astype(np.float32)
        combined = means.mean(dim=1) if combine_layers is None else combine_layers(means)
        return combined.detach().cpu().numpy().astype(np.float32)
    n_samples = len(light_curves)
    d_model = encoder.input_projection.out_features
    sums = torch.zeros(n_samples, d_model, dtype=torch.float64)
    squares = torch.zeros_like(sums) if pooling == "mean_std" else None
    maxima = torch.full((n_samples, d_model), -torch.inf) if pooling == "max" else None
    for windows in iter_window_batches(light_curves, **window_args):
        embeddings = encoder(**windows_to_tensors(windows, device)).float()
        valid = torch.from_numpy(windows.valid).to(embeddings.device).unsqueeze(-1)
        samples = torch.from_numpy(windows.sample_index)
        if maxima is not None:
            window_max = embeddings.masked_fill(~valid, -torch.inf).amax(dim=1).cpu()
            maxima.scatter_reduce_(0, samples[:, None].expand_as(window_max), window_max, "amax")
            continue
        zeroed = embeddings * valid
        sums.index_add_(0, samples, zeroed.sum(dim=1).cpu().double())
        if squares is not None:
            squares.index_add_(0, samples, (zeroed**2).sum(dim=1).cpu().double())
    if maxima is not None:
        return maxima.numpy().astype(np.float32)
    counts = torch.from_numpy(light_curves.lengths).double().unsqueeze(-1)
    means = sums / counts
    if squares is None:
        return means.numpy().astype(np.float32)
    stds = (squares / counts - means**2).clamp(min=0).sqrt()
    return torch.cat([means, stds], dim=1).numpy().astype(np.float32)


def pool_layers(encoder, light_curves, *, device, **window_args):
    """Mean of every layer's output over each light curve's observations.

    Returns
    -------
    float64 Tensor of shape (n_samples, n_layers + 1, d_model)
        The input embedding first, then each encoder block's output.
    """
    n_layers = len(encoder.blocks) + 1
    d_model = encoder.input_projection.out_features
    sums = torch.zeros(len(light_curves), n_layers, d_model, dtype=torch.float64)
    for windows in iter_window_batches(light_curves, **window_args):
        layers = encoder(**windows_to_tensors(windows, device), return_layers=True)
        valid = torch.from_numpy(windows.valid).to(layers[0].device).unsqueeze(-1)
        window_sums = torch.stack([(layer.float() * valid).sum(dim=1) for layer in layers], 1)
        sums.index_add_(0, torch.from_numpy(windows.sample_index), window_sums.cpu().double())
    return sums / torch.from_numpy(light_curves.lengths).double()[:, None, None]


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
