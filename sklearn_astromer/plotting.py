"""Figures for fitted embedders: training curves, reconstructions, attention, embedding maps.

Every function returns a :class:`matplotlib.figure.Figure` (drawn on ``ax``
when one is given). matplotlib is imported only when a function runs; install
it with ``pip install sklearn-astromer[plot]``.
"""

import numpy as np

__all__ = [
    "plot_attention",
    "plot_embedding_map",
    "plot_reconstruction",
    "plot_training_history",
]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "sklearn_astromer.plotting needs matplotlib: pip install sklearn-astromer[plot]"
        ) from exc
    return plt


def _axes(ax, **subplots):
    """``(figure, ax)``: ``ax``'s figure, or a new figure with one axes."""
    if ax is not None:
        return ax.figure, ax
    return _pyplot().subplots(**subplots)


def _window_args(embedder, light_curves):
    """How ``embedder`` cuts ``light_curves`` into windows (with their periods if it takes them)."""
    from ._window_batches import window_args
    from ._prepared import PreparedLightCurves

    periods = (PreparedLightCurves(light_curves).periods
               if embedder.config_.get("period_input") else None)
    return window_args(embedder.config_, embedder.inference_batch_size, embedder.net_.device,
                       periods)


def _one_light_curve(light_curve):
    """Validate one ``(L, 2|3)`` light curve as a :class:`RaggedLightCurves` of one."""
    from ._validation import check_light_curves

    array = np.asarray(light_curve, dtype=float)
    if array.ndim != 2:
        raise ValueError(f"light_curve must be one (L, 2|3) array; got shape {array.shape}.")
    return check_light_curves([array])


def plot_training_history(embedder, *, ax=None):
    """Training and validation loss per epoch.

    The masked-reconstruction loss of self-supervised training, or, for an
    embedder fine-tuned on labels (``fine_tune="supervised"``), the
    cross-entropy of that stage.

    Parameters
    ----------
    embedder : fitted AstromerEmbedder (or any estimator with a skorch ``net_``)
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(embedder, "net_")
    stages = [(getattr(embedder, "classifier_net_", None), "cross-entropy",
               "Supervised fine-tuning loss"),
              (embedder.net_, "masked RMSE (scaled magnitudes)" if _scaled(embedder)
               else "masked RMSE (mag)", "Masked-magnitude reconstruction loss")]
    for net, ylabel, title in stages:
        history = [] if net is None else net.history
        train = [(row["epoch"], row["train_loss"]) for row in history if "train_loss" in row]
        if train:
            break
    else:
        raise ValueError("The embedder has no training history (fitted with max_epochs=0?).")
    figure, ax = _axes(ax, figsize=(6, 4))
    ax.plot(*zip(*train), marker="o", label="training")
    valid = [(row["epoch"], row["valid_loss"]) for row in history if "valid_loss" in row]
    if valid:
        ax.plot(*zip(*valid), marker="o", label="validation")
        best_epoch, best_loss = min(valid, key=lambda pair: pair[1])
        ax.axvline(best_epoch, color="grey", linestyle=":", label=f"best (epoch {best_epoch})")
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    return figure


def _scaled(embedder):
    return getattr(embedder, "config_", {}).get("magnitude_scaling") == "std"


def _masked_reconstruction(embedder, light_curves, rng):
    """Reconstruct the magnitudes of one light curve under a random pre-training mask.

    Returns ``(masked, reconstruction)``: a boolean (L,) array of the
    observations scored by the loss and the (L,) reconstructed magnitudes.
    """
    import torch

    from ._encoder_inference import windows_to_tensors
    from ._window_batches import iter_window_batches
    from .preprocessing import mask_windows

    args = _window_args(embedder, light_curves)
    device = embedder.net_.device
    n_points = len(light_curves.values)
    masked = np.zeros(n_points, dtype=bool)
    reconstruction = np.empty(n_points)
    module = embedder.net_.module_.eval()
    with torch.inference_mode():
        for windows in iter_window_batches(light_curves, **args):
            draw = mask_windows(windows.magnitudes, windows.valid, rng,
                                mask_frac=embedder.mask_frac, same_frac=embedder.same_frac,
                                random_frac=embedder.random_frac)
            inputs = windows_to_tensors(windows, device, draw.input_magnitudes, draw.mask_in)
            output = (module(**inputs).float().cpu().numpy() * windows.magnitude_scales[:, None]
                      + windows.mean_magnitudes[:, None])
            rows = windows.point_index[windows.valid]
            reconstruction[rows] = output[windows.valid]
            masked[rows] = draw.mask_out[windows.valid]
    return masked, reconstruction


def plot_reconstruction(embedder, light_curve, *, random_state=None, ax=None):
    """Observations, the masked ones, and the model's reconstruction of them.

    A pre-training mask is drawn as in ``fit`` (``mask_frac`` of each window's
    observations are scored; of those, ``random_frac`` get a random magnitude
    and ``same_frac`` stay visible, the rest are hidden) and the model
    reconstructs every observation from what it sees.

    Parameters
    ----------
    embedder : fitted AstromerEmbedder
    light_curve : ndarray of shape (L, 2|3)
        Time (days), magnitude[, error].
    random_state : int, RandomState instance or None, default=None
        Seeds the mask.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    from sklearn.utils import check_random_state

    light_curves = _one_light_curve(light_curve)
    rng = np.random.default_rng(check_random_state(random_state).randint(2**31 - 1))
    masked, reconstruction = _masked_reconstruction(embedder, light_curves, rng)
    times, magnitudes, errors = light_curves.values.T
    rmse = float(np.sqrt(np.mean((reconstruction[masked] - magnitudes[masked]) ** 2)))

    figure, ax = _axes(ax, figsize=(8, 4))
    ax.errorbar(times, magnitudes, yerr=errors, fmt=".", color="0.6", zorder=1,
                label="observed")
    ax.plot(times[masked], magnitudes[masked], "o", mfc="none", color="tab:orange", zorder=2,
            label="masked (scored)")
    ax.plot(times[masked], reconstruction[masked], "x", color="tab:blue", zorder=3,
            label="reconstructed")
    ax.invert_yaxis()  # brighter is up
    ax.set_xlabel("time (days)")
    ax.set_ylabel("magnitude")
    ax.set_title(f"Masked reconstruction: RMSE {rmse:.3f} mag on {masked.sum()} points")
    ax.legend(loc="best", fontsize="small")
    return figure


def attention_weights(embedder, light_curve, *, layer=-1):
    """Attention weights of one encoder block on the first window of a light curve.

    Parameters
    ----------
    embedder : fitted AstromerEmbedder
    light_curve : ndarray of shape (L, 2|3)
    layer : int, default=-1
        Encoder block (negative counts from the last).

    Returns
    -------
    weights : ndarray of shape (n_heads, n_obs, n_obs)
        Row ``i`` holds how much observation ``i`` attends to each other
        observation (rows sum to 1); ``n_obs = min(L, max_obs)``.
    times : ndarray of shape (n_obs,)
        Observation times (days).
    """
    import torch

    from ._encoder_inference import windows_to_tensors
    from ._window_batches import iter_window_batches

    light_curves = _one_light_curve(light_curve)
    args = {**_window_args(embedder, light_curves), "batch_size": 1, "max_tokens": None}
    n_layers = embedder.config_["n_layers"]
    if not -n_layers <= layer < n_layers:
        raise ValueError(f"layer={layer} is out of range for {n_layers} encoder block(s).")
    windows = next(iter_window_batches(light_curves, **args))
    encoder = embedder.net_.module_.eval().encoder
    with torch.inference_mode():
        _, weights = encoder(**windows_to_tensors(windows, embedder.net_.device),
                             return_weights=True)
    n_obs = int(windows.valid[0].sum())
    block = weights[layer][0, :, :n_obs, :n_obs].float().cpu().numpy()
    times = light_curves.values[windows.point_index[0, :n_obs], 0]
    return block, times


def plot_attention(embedder, light_curve, *, layer=-1, head=None, ax=None):
    """Attention map of one encoder block on (the first window of) a light curve.

    Parameters
    ----------
    embedder : fitted AstromerEmbedder
    light_curve : ndarray of shape (L, 2|3)
        Time (days), magnitude[, error]; the first ``max_obs`` observations
        (one window) are shown.
    layer : int, default=-1
        Encoder block.
    head : int or None, default=None
        One attention head, or None for the mean over heads.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    weights, times = attention_weights(embedder, light_curve, layer=layer)
    if head is None:
        shown, which = weights.mean(axis=0), f"mean of {len(weights)} heads"
    else:
        shown, which = weights[head], f"head {head}"
    figure, ax = _axes(ax, figsize=(5.5, 4.5))
    image = ax.imshow(shown, cmap="viridis", origin="upper", interpolation="nearest")
    figure.colorbar(image, ax=ax, label="attention weight")
    ax.set_xlabel("attended observation (index)")
    ax.set_ylabel("attending observation (index)")
    n_layers = embedder.config_["n_layers"]
    ax.set_title(f"Attention, block {layer % n_layers + 1}/{n_layers}, {which}\n"
                 f"{len(times)} observations over {np.ptp(times):.0f} days")
    return figure


def plot_embedding_map(embeddings, labels=None, *, method="pca", random_state=0, ax=None):
    """Two-dimensional map of embeddings, coloured by class.

    Parameters
    ----------
    embeddings : array-like of shape (n_samples, n_features)
        E.g. ``AstromerEmbedder.transform(X)``.
    labels : array-like of shape (n_samples,), optional
        Class of each sample (a legend entry per class).
    method : {"pca", "umap"}, default="pca"
        Projection: principal components (scikit-learn), or UMAP (needs
        ``umap-learn``).
    random_state : int, default=0
        Seed of the projection.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    embeddings = np.asarray(embeddings, dtype=float)
    if embeddings.ndim != 2 or len(embeddings) < 2:
        raise ValueError(f"embeddings must be (n_samples >= 2, n_features); got shape "
                         f"{embeddings.shape}.")
    if method == "pca":
        from sklearn.decomposition import PCA

        projection = PCA(n_components=2, random_state=random_state)
        points = projection.fit_transform(embeddings)
        ratios = projection.explained_variance_ratio_
        axis_labels = [f"PC{i + 1} ({100 * ratio:.0f}% of variance)"
                       for i, ratio in enumerate(ratios)]
    elif method == "umap":
        try:
            import umap
        except ImportError as exc:
            raise ImportError("method='umap' needs umap-learn: pip install umap-learn "
                              "(or use method='pca').") from exc
        points = umap.UMAP(n_components=2, random_state=random_state).fit_transform(embeddings)
        axis_labels = ["UMAP 1", "UMAP 2"]
    else:
        raise ValueError(f"method must be 'pca' or 'umap', got {method!r}.")

    figure, ax = _axes(ax, figsize=(6, 5))
    if labels is None:
        ax.scatter(points[:, 0], points[:, 1], s=10)
    else:
        labels = np.asarray(labels)
        if len(labels) != len(points):
            raise ValueError(f"{len(labels)} labels for {len(points)} embeddings.")
        for label in np.unique(labels):
            chosen = labels == label
            ax.scatter(points[chosen, 0], points[chosen, 1], s=10, label=str(label))
        ax.legend(fontsize="small", markerscale=1.5, ncols=2 if len(np.unique(labels)) > 6
                  else 1)
    ax.set_xlabel(axis_labels[0])
    ax.set_ylabel(axis_labels[1])
    ax.set_title(f"Embeddings ({method.upper()})")
    return figure
