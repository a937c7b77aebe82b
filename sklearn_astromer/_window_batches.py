"""Light curves cut into padded, length-sorted batches of model-ready windows (numpy only).

What an encoder reads, whatever runs it: the PyTorch estimators
(:mod:`sklearn_astromer._encoder_inference`) and the ONNX Runtime embedder
(:mod:`sklearn_astromer.onnx_runtime`), which must not need torch.
"""

import numpy as np

from .preprocessing import consecutive_windows, gather_windows, length_sorted_batches


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
        Its type (``"cpu"``, ``"cuda"``, ...) picks the budget.
    """
    if batch_size != "auto":
        return int(batch_size), None
    device_type = str(device).split(":")[0]
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


def model_inputs(windows):
    """A batch of windows as the encoder's named numpy inputs.

    Parameters
    ----------
    windows : Windows

    Returns
    -------
    dict of str to ndarray
        ``times``, ``magnitudes`` (float32) and ``valid`` (bool) of shape
        ``(n_windows, width)``; with a period input ``phases`` (float32,
        same shape) and ``descriptors`` (float32, ``(n_windows,
        n_descriptors)``); for multi-band windows ``bands`` (int64). The names
        of :class:`~sklearn_astromer.nn.pooling.WindowPooling`'s arguments and
        of an exported model's inputs.
    """
    inputs = {"times": windows.times, "magnitudes": windows.magnitudes, "valid": windows.valid}
    if windows.phases is not None:
        inputs["phases"] = windows.phases
        inputs["descriptors"] = windows.descriptors.astype(np.float32, copy=False)
    if windows.bands is not None:
        inputs["bands"] = windows.bands.astype(np.int64, copy=False)
    return inputs
