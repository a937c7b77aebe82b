"""MultimodalCLIPEmbedder: AstroM3 (CLIP over light curves, spectra, metadata) as a transformer."""

import contextlib
import os
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, column_or_1d
from skorch.callbacks import GradientNormClipping
from skorch.dataset import ValidSplit

from .._console import print_plain_off_terminal
from .._fit_lock import FIT_LOCK
from .._interrupt import forget_fit
from .._torch_common import LightCurveIndexDataset, resolve_device, silent
from ..astromer import AstromerEmbedder
from ._config import saved_architecture
from ._data import (
    METADATA,
    PHOTOMETRY,
    PHOTOMETRY_ENCODERS,
    SPECTRUM,
    MultimodalCollate,
    fit_photometry_statistics,
    prepare_inputs,
    standardise_photometry,
)
from ._layout import (
    ESTIMATOR_NAME,
    fit_layout,
    layout_to_json,
    load_saved,
    photometry_weights,
    requested_modalities,
    saved_requested,
)
from ._net import (
    ConfiguredClassifier,
    ConfiguredCLIPModel,
    MultimodalClassifierNet,
    MultimodalCLIPNet,
    embed_modalities,
    fuse,
    remap_logit_scales,
)
from ._metadata import METADATA_TRANSFORMS
from ._schedule import EarlyStoppingAfterWarmup, WarmupThenPlateau
from ..nn import ContrastiveLoss
from ..pretrained import model_files, save_model

# Settings saved beside the weights so that from_pretrained restores them.
SAVED_PARAMS = ("dropout", "batch_size", "output")
GRADIENT_CLIP = 45.0  # AstroM3's gradient-norm clip
LR_FACTOR = 0.5  # learning rate multiplier on a plateau
# Photometry encoder sizes (d_model, n_layers, n_heads, d_ff) where left to None:
# ASTROMER's published model, and AstroM3's Informer.
PUBLISHED_SIZES = {
    "astromer": dict(d_model=256, n_layers=2, n_heads=4, d_ff=128),
    "astrom3": dict(d_model=128, n_layers=8, n_heads=4, d_ff=512),
}
# CLIP's initial temperature 1/0.07. AstroM3 starts at the clamp (100), where the
# scales get no gradient until weight decay pulls them below it.
INIT_SCALE = 1 / 0.07


def _release_training_data(net):
    """Drop the catalogue held by the loaders, so pickles stay small."""
    for name in ("iterator_train__collate_fn", "iterator_valid__collate_fn"):
        collate = getattr(net, name, None)
        if isinstance(collate, MultimodalCollate):
            collate.data = None


def _has_classifier(estimator):
    return estimator.fine_tune == "supervised"


class MultimodalCLIPEmbedder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Embed objects seen in several modalities into one space, trained with CLIP (AstroM3).

    Each modality has its own encoder ("tower") and a linear projection to a
    shared ``embed_dim`` space, L2-normalised: per light-curve column
    AstroM3's Informer on normalised flux with six auxiliary values (or an
    ASTROMER encoder, mean over observations), a 1-D CNN for spectra and an
    MLP for metadata. ``fit`` trains them self-supervised with the
    symmetric CLIP loss summed over every pair of modalities, so that the
    embeddings of one object agree across modalities; an object lacking a
    modality is left out of that modality's pairs. ``transform`` averages
    the available modality embeddings of each object.

    Parameters
    ----------
    light_curve_column : str, list of str or None, default="light_curve"
        Column(s) of light curves: cells are ``(L, 2|3)`` arrays (time in
        days, magnitude[, error]) or None. Several columns (e.g. two bands)
        get one tower each.
    spectrum_column : str or None, default="spectrum"
        Column of spectra: 1-D flux on the grid ``wavelengths``, or
        ``(n_points, 2|3)`` arrays (wavelength in Angstrom, flux[, error])
        resampled onto it by linear interpolation; None cells are missing.
        None disables spectra.
    metadata_columns : list of str or None, default=None
        Numeric columns of metadata; None takes every numeric column that is
        not a light-curve or spectrum column, ``[]`` disables metadata. A
        row whose metadata are all NaN lacks the modality; single NaN values
        are replaced by the training mean.
    photometry_encoder : {"astrom3", "astromer"}, default="astrom3"
        The light-curve tower. ``"astrom3"``: AstroM3's, as its code computes
        it: nine channels per observation (time scaled to [0, 1], relative
        flux ``(flux - mean) / MAD`` and its error ``/ MAD``, then amplitude,
        log10 Lomb-Scargle period, Lafler-Kinman statistic, periodogram
        power, ``log10(MAD)`` and time span in years, tiled along time; the
        first four z-scored with the training set), a Conv1d token
        embedding, an index encoding and an Informer encoder with
        ProbSparse attention, flattened over the ``max_obs`` steps (a random
        crop in training, the centre crop at inference). ``"astromer"``:
        ASTROMER's encoder on zero-mean times (days) and magnitudes,
        averaged over consecutive windows covering every observation; the
        one ``photometry_init`` can start.
    metadata_transform : {"astrom3"} or None, default="astrom3"
        ``"astrom3"``: before z-scoring, as AstroM3, the apparent magnitudes
        among the metadata columns (``make_multimodal``'s names: ``mean_mag``,
        ``phot_g_mean_mag``, ``phot_bp_mean_mag``, ``phot_rp_mean_mag``,
        ``j_mag``, ``h_mag``, ``k_mag``, ``w1_mag`` ... ``w4_mag``) become
        absolute magnitudes with the ``parallax`` column (mas; 1 mas where
        not positive), ``l`` becomes ``cos(l)`` and ``b`` becomes ``sin(b)``
        (degrees). Columns of other names are only z-scored. None: z-scores
        only.
    embed_dim : int, default=512
        Size of the shared embedding space (AstroM3: 512).
    d_model, n_layers, n_heads, d_ff : int or None, default=None
        Photometry encoder sizes; None takes the published ones: AstroM3's
        Informer 128, 8, 4, 512, or ASTROMER's 256, 2, 4, 128.
    max_obs : int, default=200
        Observations per light-curve window (AstroM3 and ASTROMER: 200).
    spectrum_channels : tuple of int, default=(64, 64, 32, 32)
        Channels of the spectrum CNN's convolutions (AstroM3's); the last
        feature maps are flattened, so their size follows the grid.
    metadata_hidden : int, default=512
        Width of the metadata MLP (AstroM3: 512).
    dropout : float, default=0.1
        Dropout in every tower.
    wavelengths : array-like or None, default=None
        Wavelength grid (Angstrom) of the spectra. None: AstroM3's grid,
        3850-8998 Angstrom in steps of 2 (2575 points), unless the first
        training spectrum is 1-D flux of another length, whose sample index
        then serves as the grid.
    output : {"fused", "concat"}, default="fused"
        What ``transform`` returns: the mean of the available normalised
        modality embeddings (``embed_dim`` features), or every modality's
        embedding side by side (``n_modalities * embed_dim``, NaN where an
        object lacks the modality). :meth:`transform_modalities` gives them
        as a dict.
    photometry_init : AstromerEmbedder, str, path-like or None, default=None
        Start the light-curve tower(s) from these ASTROMER weights: a fitted
        :class:`AstromerEmbedder` (or an unfitted one with ``pretrained``
        set), or whatever ``AstromerEmbedder(pretrained=...)`` accepts
        (``"macho"``, ``"atlas"``, a zip, a folder, a ``save_pretrained``
        directory). ``d_model``, ``n_layers``, ``n_heads``, ``d_ff`` and
        ``max_obs`` (and the encoder variant) then come from the weights.
    pretrained : str, path-like or None, default=None
        A directory written by :meth:`save_pretrained`: architecture, fitted
        preprocessing and weights come from it and ``fit`` fine-tunes. The
        modalities enabled here must be among the saved ones (a subset is
        fine: e.g. ``spectrum_column=None, metadata_columns=[]`` keeps the
        light-curve tower alone, for single-modality fine-tuning).
    fine_tune : {"none", "supervised"}, default="none"
        ``"supervised"``: after the CLIP epochs, ``fit(X, y)`` trains a
        linear classifier on the fused embedding together with every tower
        (cross-entropy, nothing frozen), as AstroM3 fine-tunes; then
        :meth:`predict` and :meth:`predict_proba` are available and
        ``transform`` gives the fine-tuned embeddings. With ``max_epochs=0``
        this trains from scratch (or from ``pretrained``).
    fine_tune_epochs : int, default=50
        Epochs of supervised fine-tuning (AstroM3: at most 50, early stopped).
    fine_tune_lr : float or None, default=None
        Learning rate of fine-tuning (None: ``lr``).
    max_epochs : int, default=100
        CLIP training epochs (AstroM3: at most 100, early stopped); 0 trains
        nothing (the towers keep their initial, ``photometry_init`` or
        ``pretrained`` weights). CLIP needs two modalities or more.
    batch_size : int, default=512
        Objects per batch; every batch is one CLIP problem, so larger
        batches give harder negatives (AstroM3: 512, last batch dropped).
    inference_batch_size : int or "auto", default="auto"
        Light-curve windows per batch in ``transform``, ``predict`` and
        friends; ``"auto"`` fills each batch with a budget of padded
        observations (about 8192 on a CPU, 262,144 on a GPU), as
        :class:`AstromerEmbedder` does.
    lr : float, default=3.9e-3
        Adam learning rate (AstroM3's).
    warmup_epochs : int, default=10
        Epochs of linear learning-rate warm-up from ``1e-5 * lr`` (AstroM3's),
        for CLIP training and for fine-tuning; the reduce-on-plateau
        schedule starts after them.
    weight_decay : float, default=4.7e-3
        Adam's L2 penalty (AstroM3's value).
    validation_fraction : float or None, default=0.2
        Share of objects held out for early stopping and the learning-rate
        schedule (reduce on plateau); None or 0 trains on all.
    patience : int, default=6
        Epochs without improvement of the validation loss before stopping
        (AstroM3's), counted after the warm-up; the best weights are
        restored. After the warm-up, the learning rate is halved after
        ``max(1, patience // 2)`` such epochs.
    callbacks : list of skorch callbacks or None, default=None
        Extra callbacks for the CLIP net.
    precision : {"float32", "bfloat16"}, default="float32"
        ``"bfloat16"``: mixed-precision training (CLIP and fine-tuning: the
        forward passes autocast to bfloat16, weights, optimizer and loss in
        float32) and autocast inference; faster on GPUs and on CPUs with
        AVX512-BF16, embeddings within ~1e-2 of float32.
    device : {"auto", "cpu", "cuda"} or str, default="auto"
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, windows, dropout and shuffling.
    verbose : int, default=0

    Attributes
    ----------
    modalities_ : tuple of str
        Modality names: the light-curve columns, the spectrum column and
        ``"metadata"``, in that order.
    config_ : dict
        Architecture actually used (JSON-able).
    layout_ : dict
        Modalities, their kinds and columns, and the fitted preprocessing
        (the attributes below), as saved by :meth:`save_pretrained`.
    wavelengths_ : ndarray or None
        Grid the spectra are resampled onto (Angstrom).
    metadata_columns_ : list of str
    metadata_mean_, metadata_scale_ : ndarray of shape (n_metadata,)
        Standardisation learned from the training rows, after
        ``metadata_transform`` (NaN ignored); always finite.
    net_ : MultimodalCLIPNet
        ``net_.module_`` is the :class:`~sklearn_astromer.nn.MultimodalCLIPModel`,
        ``net_.criterion_`` the :class:`~sklearn_astromer.nn.ContrastiveLoss`.
    classifier_net_ : MultimodalClassifierNet
        With ``fine_tune="supervised"``: the fine-tuning net (its towers are
        copied back into ``net_``).
    classes_ : ndarray
        With ``fine_tune="supervised"``.
    device_ : str

    See Also
    --------
    AstromerEmbedder : Light curves alone, masked-magnitude pre-training.
    sklearn_astromer.similarity : Nearest neighbours and outlier scores.

    References
    ----------
    .. [1] Rizhko, M. & Bloom, J. S. (2024). "AstroM3: A self-supervised
       multimodal model for astronomy". arXiv:2411.08842.

    Examples
    --------
    >>> from sklearn_astromer import MultimodalCLIPEmbedder
    >>> from sklearn_astromer.datasets import make_multimodal
    >>> X, y = make_multimodal(n_per_class=4, random_state=0)
    >>> embedder = MultimodalCLIPEmbedder(
    ...     embed_dim=8, d_model=8, n_layers=1, n_heads=2, d_ff=8, max_obs=32,
    ...     spectrum_channels=(4, 4, 4, 4), metadata_hidden=8, max_epochs=1,
    ...     batch_size=16, random_state=0).fit(X)
    >>> embedder.modalities_
    ('light_curve', 'spectrum', 'metadata')
    >>> embedder.transform(X).shape
    (40, 8)
    """

    _parameter_constraints = {
        "light_curve_column": [str, list, tuple, None],
        "spectrum_column": [str, None],
        "metadata_columns": [list, tuple, None],
        "photometry_encoder": [StrOptions(set(PHOTOMETRY_ENCODERS))],
        "metadata_transform": [StrOptions(set(METADATA_TRANSFORMS)), None],
        "embed_dim": [Interval(Integral, 1, None, closed="left")],
        "d_model": [Interval(Integral, 1, None, closed="left"), None],
        "n_layers": [Interval(Integral, 1, None, closed="left"), None],
        "n_heads": [Interval(Integral, 1, None, closed="left"), None],
        "d_ff": [Interval(Integral, 1, None, closed="left"), None],
        "max_obs": [Interval(Integral, 1, None, closed="left")],
        "spectrum_channels": [list, tuple],
        "metadata_hidden": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "wavelengths": ["array-like", None],
        "output": [StrOptions({"fused", "concat"})],
        "photometry_init": [AstromerEmbedder, str, os.PathLike, None],
        "pretrained": [str, os.PathLike, None],
        "fine_tune": [StrOptions({"none", "supervised"})],
        "fine_tune_epochs": [Interval(Integral, 0, None, closed="left")],
        "fine_tune_lr": [Interval(Real, 0, None, closed="neither"), None],
        "max_epochs": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "inference_batch_size": [Interval(Integral, 1, None, closed="left"),
                                 StrOptions({"auto"})],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "warmup_epochs": [Interval(Integral, 0, None, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left"), None],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "callbacks": [list, None],
        "device": [str],
        "precision": [StrOptions({"float32", "bfloat16"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        light_curve_column="light_curve",
        spectrum_column="spectrum",
        metadata_columns=None,
        *,
        photometry_encoder="astrom3",
        metadata_transform="astrom3",
        embed_dim=512,
        d_model=None,
        n_layers=None,
        n_heads=None,
        d_ff=None,
        max_obs=200,
        spectrum_channels=(64, 64, 32, 32),
        metadata_hidden=512,
        dropout=0.1,
        wavelengths=None,
        output="fused",
        photometry_init=None,
        pretrained=None,
        fine_tune="none",
        fine_tune_epochs=50,
        fine_tune_lr=None,
        max_epochs=100,
        batch_size=512,
        inference_batch_size="auto",
        lr=3.9e-3,
        warmup_epochs=10,
        weight_decay=4.7e-3,
        validation_fraction=0.2,
        patience=6,
        callbacks=None,
        device="auto",
        precision="float32",
        random_state=None,
        verbose=0,
    ):
        self.light_curve_column = light_curve_column
        self.spectrum_column = spectrum_column
        self.metadata_columns = metadata_columns
        self.photometry_encoder = photometry_encoder
        self.metadata_transform = metadata_transform
        self.embed_dim = embed_dim
        self.d_model = d_model
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.d_ff = d_ff
        self.max_obs = max_obs
        self.spectrum_channels = spectrum_channels
        self.metadata_hidden = metadata_hidden
        self.dropout = dropout
        self.wavelengths = wavelengths
        self.output = output
        self.photometry_init = photometry_init
        self.pretrained = pretrained
        self.fine_tune = fine_tune
        self.fine_tune_epochs = fine_tune_epochs
        self.fine_tune_lr = fine_tune_lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.inference_batch_size = inference_batch_size
        self.lr = lr
        self.warmup_epochs = warmup_epochs
        self.weight_decay = weight_decay
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.callbacks = callbacks
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None):
        """Train the towers with the CLIP loss (then fine-tune them on ``y`` if asked).

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_columns), or light curves
            One row per object (see the column parameters). A list or dense
            array of light curves is a catalogue of that one modality
            (enough for ``max_epochs=0`` or supervised training only).
        y : array-like of shape (n_samples,) or None
            Class labels, used only with ``fine_tune="supervised"`` (required then).

        Returns
        -------
        self : MultimodalCLIPEmbedder
        """
        self._validate_params()
        if self.fine_tune == "supervised" and y is None:
            raise ValueError('fine_tune="supervised" needs the labels y in fit.')
        if self.pretrained is not None and self.photometry_init is not None:
            raise ValueError("Give pretrained or photometry_init, not both.")
        if self.photometry_init is not None and self.photometry_encoder != "astromer":
            raise ValueError('photometry_init holds ASTROMER weights: it needs '
                             'photometry_encoder="astromer".')
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        saved = None if self.pretrained is None else load_saved(self.pretrained)
        requested = requested_modalities(X, self.light_curve_column, self.spectrum_column,
                                         self.metadata_columns, saved and saved[0])
        self._set_layout(fit_layout(X, requested, saved and saved[0], self.wavelengths,
                                    metadata_transform=self.metadata_transform,
                                    photometry_encoder=self.photometry_encoder))
        # AstroM3's photometry inputs are computed here, once per light curve,
        # and serve every epoch of CLIP training and fine-tuning.
        data = prepare_inputs(X, self.layout_)
        if saved is None:
            self.layout_["photometry_statistics"] = fit_photometry_statistics(data)
            standardise_photometry(data, self.layout_["photometry_statistics"])
        empty = [name for name, has in zip(self.modalities_, data.present.any(axis=0)) if not has]
        if empty:
            raise ValueError(f"Modalities {empty} are missing in every training row; disable "
                             "them (light_curve_column / spectrum_column=None, "
                             "metadata_columns=[]).")
        if self.max_epochs > 0 and len(self.modalities_) < 2:
            raise ValueError(
                f"CLIP training contrasts two modalities or more; X gives only "
                f"{list(self.modalities_)}. Add a spectrum or metadata column, or set "
                'max_epochs=0 (e.g. with fine_tune="supervised").'
            )
        # torch's random state is global: one fit at a time (see _fit_lock).
        with FIT_LOCK, torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            try:
                self._initialize_net(saved, data if self.max_epochs > 0 else None, seed)
                if self.max_epochs > 0:
                    self.net_.partial_fit(LightCurveIndexDataset(len(data)), None)
                    _release_training_data(self.net_)
                if self.fine_tune == "supervised":
                    self._fine_tune(data, y, saved, seed + 2)
            except KeyboardInterrupt:
                # Ctrl-C: no half-trained model that a pipeline would go on with.
                forget_fit(self)
                raise
        self.net_.module_.eval()
        return self

    def _set_layout(self, layout):
        self.layout_ = layout
        self.modalities_ = tuple(layout["modalities"])
        self.wavelengths_ = layout["wavelengths"]
        self.metadata_columns_ = layout["metadata_columns"]
        self.metadata_mean_ = layout["metadata_mean"]
        self.metadata_scale_ = layout["metadata_scale"]

    def _architecture(self, saved):
        if saved is not None:
            architecture = saved_architecture(saved[0])
        else:
            published = PUBLISHED_SIZES[self.photometry_encoder]
            # ASTROMER's encoder variant and time-encoding base; AstroM3's tower has neither.
            astromer = ({"variant": "corrected", "pe_base": 10000.0}
                        if self.photometry_encoder == "astromer" else {})
            architecture = {
                **{key: published[key] if getattr(self, key) is None else getattr(self, key)
                   for key in published},
                "photometry_encoder": self.photometry_encoder, **astromer,
                "max_obs": self.max_obs, "embed_dim": self.embed_dim,
                "spectrum_channels": [int(c) for c in self.spectrum_channels],
                "metadata_hidden": self.metadata_hidden,
            }
            init_architecture, _ = photometry_weights(self.photometry_init)
            architecture.update(init_architecture or {})
        return {
            **architecture, "modalities": list(self.modalities_),
            "kinds": list(self.layout_["kinds"]),
            "n_wavelengths": 0 if self.wavelengths_ is None else len(self.wavelengths_),
            "n_metadata": len(self.metadata_columns_), "dropout": self.dropout,
        }

    def _initialize_net(self, saved, data, seed):
        """Build ``net_`` (with training loaders when ``data`` is given) and load weights."""
        self.config_ = self._architecture(saved)
        self.device_ = resolve_device(self.device)
        n_modalities = len(self.modalities_)
        self.net_ = MultimodalCLIPNet(
            ConfiguredCLIPModel, module__architecture=self.config_,
            criterion=ContrastiveLoss, criterion__n_modalities=max(n_modalities, 2),
            criterion__init_scale=INIT_SCALE, optimizer=torch.optim.Adam,
            optimizer__weight_decay=self.weight_decay, lr=self.lr, max_epochs=self.max_epochs,
            batch_size=self.batch_size, iterator_train__shuffle=True, device=self.device_,
            verbose=self.verbose, autocast_dtype=self._autocast_dtype(),
            callbacks__print_log__sink=print_plain_off_terminal if self.verbose else print,
            **self._training_params(data, seed, self.callbacks, "clip"),
        )
        self.net_.initialize()
        if saved is not None:
            self._load_clip_weights(saved)
        else:
            _, encoder = photometry_weights(self.photometry_init)
            for name, kind in zip(self.modalities_, self.layout_["kinds"]):
                if encoder is not None and kind == PHOTOMETRY:
                    self.net_.module_.towers[name].encoder.load_state_dict(encoder, strict=True)
        n_out = self.config_["embed_dim"] * (n_modalities if self.output == "concat" else 1)
        self._n_features_out = n_out

    def _load_clip_weights(self, saved):
        config, state_dict = saved
        prefixes = tuple(f"model.{part}.{name}." for name in self.modalities_
                         for part in ("towers", "projections"))
        model = {key[len("model."):]: value for key, value in state_dict.items()
                 if key.startswith(prefixes)}
        try:
            self.net_.module_.load_state_dict(model, strict=True)
        except RuntimeError as error:
            raise ValueError(f"{model_files(self.pretrained)[1]}: the weights do not fit the "
                             f"architecture of their config: {error}") from None
        if len(self.modalities_) >= 2:
            scales = remap_logit_scales(config["modalities"], self.modalities_,
                                        state_dict["loss.logit_scales"])
            with torch.no_grad():
                self.net_.criterion_.logit_scales.copy_(scales)

    def _training_params(self, data, seed, extra_callbacks, stage, labels=None):
        """Loaders, validation split, early stopping, LR schedule and gradient clipping."""
        if data is None:
            return {"train_split": None, "callbacks": list(extra_callbacks or [])}
        n_samples = len(data)
        n_valid = int(n_samples * (self.validation_fraction or 0))
        collate = dict(data=data, max_obs=self.config_["max_obs"], labels=labels,
                       pad_to_max_obs=self.config_.get("variant") == "paper")
        n_train = n_samples - n_valid if n_valid >= 2 else n_samples
        params = {
            "iterator_train__collate_fn": MultimodalCollate(**collate, seed=seed),
            "iterator_train__drop_last": n_train > self.batch_size,
            "train_split": None,
        }
        monitor = "train_loss"
        callbacks = [(f"{stage}_clip", GradientNormClipping(GRADIENT_CLIP))]
        if n_valid >= 2 and n_samples - n_valid >= 2:
            params["train_split"] = ValidSplit(n_valid / n_samples, random_state=seed)
            params["iterator_valid__collate_fn"] = MultimodalCollate(**collate, seed=seed + 1,
                                                                     fixed=True)
            monitor = "valid_loss"
            callbacks.append((f"{stage}_early_stopping", EarlyStoppingAfterWarmup(
                self.warmup_epochs, patience=self.patience, load_best=True,
                sink=print if self.verbose else silent)))
        elif self.validation_fraction:
            warnings.warn(f"{n_samples} objects are too few for validation_fraction="
                          f"{self.validation_fraction}; training on all without early stopping.",
                          UserWarning)
        callbacks.append((f"{stage}_lr", WarmupThenPlateau(
            self.warmup_epochs, monitor=monitor, factor=LR_FACTOR,
            patience=max(1, self.patience // 2))))
        params["callbacks"] = callbacks + list(extra_callbacks or [])
        return params

    def _fine_tune(self, data, y, saved, seed):
        """Train a linear head on the fused embedding and every tower (cross-entropy)."""
        y = column_or_1d(y, warn=True)
        if len(y) != len(data):
            raise ValueError(f"y has {len(y)} labels for {len(data)} objects.")
        self.classes_, labels = np.unique(y, return_inverse=True)
        train = self.fine_tune_epochs > 0
        net = self._classifier_net(saved, data if train else None, labels.astype(np.int64), seed)
        if train:
            net.partial_fit(LightCurveIndexDataset(len(data)), None)
            _release_training_data(net)
            self.net_.module_.load_state_dict(net.module_.model.state_dict())
        self.classifier_net_ = net
        net.module_.eval()

    def _classifier_net(self, saved, data=None, labels=None, seed=0):
        """The fine-tuning net: the current towers, and the saved head when the classes match."""
        net = MultimodalClassifierNet(
            ConfiguredClassifier, module__architecture=self.config_,
            module__n_classes=len(self.classes_), criterion=torch.nn.CrossEntropyLoss,
            optimizer=torch.optim.Adam, optimizer__weight_decay=self.weight_decay,
            lr=self.fine_tune_lr or self.lr, max_epochs=self.fine_tune_epochs,
            batch_size=self.batch_size, iterator_train__shuffle=True, device=self.device_,
            verbose=self.verbose, autocast_dtype=self._autocast_dtype(),
            callbacks__print_log__sink=print_plain_off_terminal if self.verbose else print,
            **self._training_params(data, seed, None, "fine_tune", labels),
        )
        net.initialize()
        net.module_.model.load_state_dict(self.net_.module_.state_dict())
        saved_classes = None if saved is None else saved[0].get("classes")
        if saved_classes is not None and np.array_equal(np.asarray(saved_classes), self.classes_):
            net.module_.head.load_state_dict({key[len("head."):]: value for key, value
                                              in saved[1].items() if key.startswith("head.")})
        return net

    # ------------------------------------------------------------ inference
    def transform_modalities(self, X):
        """Every modality's normalised embedding.

        Parameters
        ----------
        X : DataFrame or light curves

        Returns
        -------
        dict of str to float32 ndarray of shape (n_samples, embed_dim)
            One entry per modality in ``modalities_``; unit vectors, NaN rows
            where the object lacks the modality.
        """
        check_is_fitted(self, "net_")
        data = prepare_inputs(X, self.layout_)
        with self._inference_context():
            return embed_modalities(
                self.net_.module_.eval(), data, max_obs=self.config_["max_obs"],
                batch_size=self.inference_batch_size,
                pad_to_max_obs=self.config_.get("variant") == "paper",
                device=self.net_.device,
            )

    def transform(self, X):
        """Embed each object.

        Returns
        -------
        ndarray of shape (n_samples, n_features), float32
            ``output="fused"``: the mean of the available modality embeddings
            (``embed_dim`` features, finite). ``output="concat"``: the
            modalities side by side, in the order of ``modalities_``, NaN
            where an object lacks one.
        """
        embeddings = self.transform_modalities(X)
        if self.output == "concat":
            return np.concatenate(list(embeddings.values()), axis=1)
        return fuse(embeddings)

    def get_feature_names_out(self, input_features=None):
        """``multimodalclipembedder0, ...``; with ``output="concat"``, ``..._<modality>0, ...``."""
        check_is_fitted(self, "_n_features_out")
        if self.output != "concat":
            return super().get_feature_names_out(input_features)
        prefix = type(self).__name__.lower()
        dim = self.config_["embed_dim"]
        return np.asarray([f"{prefix}_{name}{i}" for name in self.modalities_
                           for i in range(dim)], dtype=object)

    @available_if(_has_classifier)
    def predict_proba(self, X):
        """Class probabilities of the fine-tuned head, ``(n_samples, n_classes)`` float32."""
        check_is_fitted(self, "classifier_net_")
        fused = torch.tensor(fuse(self.transform_modalities(X)), device=self.net_.device)
        with self._inference_context():
            logits = self.classifier_net_.module_.head(fused)
        return torch.softmax(logits.float(), dim=1).cpu().numpy()

    @available_if(_has_classifier)
    def predict(self, X):
        """Class labels of the fine-tuned head."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def _autocast_dtype(self):
        return torch.bfloat16 if self.precision == "bfloat16" else None

    def _inference_context(self):
        """No autograd; autocast with ``precision="bfloat16"``."""
        dtype = self._autocast_dtype()
        return _no_grad_autocast(torch.device(self.net_.device).type, dtype)

    # ---------------------------------------------------------- persistence
    def save_pretrained(self, directory):
        """Save as ``config.json`` (architecture and fitted preprocessing) + ``model.safetensors``.

        The directory loads with :meth:`from_pretrained`, or as
        ``MultimodalCLIPEmbedder(pretrained=directory)`` to fine-tune, on any
        device and without unpickling code.
        """
        check_is_fitted(self, "net_")
        config = {**self.config_, **layout_to_json(self.layout_), "estimator": ESTIMATOR_NAME,
                  **{key: getattr(self, key) for key in SAVED_PARAMS}}
        state = {f"model.{k}": v for k, v in self.net_.module_.state_dict().items()}
        state.update({f"loss.{k}": v for k, v in self.net_.criterion_.state_dict().items()})
        if hasattr(self, "classifier_net_"):
            config["classes"] = self.classes_.tolist()
            head = self.classifier_net_.module_.head.state_dict()
            state.update({f"head.{k}": v for k, v in head.items()})
        save_model(directory, config, state)

    @classmethod
    def from_pretrained(cls, source, **params):
        """A ready-to-use embedder with the weights and preprocessing saved in ``source``.

        Parameters
        ----------
        source : str or path-like
            A directory written by :meth:`save_pretrained`.
        **params
            Other constructor parameters (``device``, ``output``, ...). The
            saved column names and settings are restored unless given here.

        Returns
        -------
        MultimodalCLIPEmbedder
            Fitted (with ``predict`` when the saved model was fine-tuned).
        """
        config, state_dict = load_saved(source)
        columns = dict(zip(config["kinds"], config["columns"]))
        restored = {
            "light_curve_column": [column for column, kind in zip(config["columns"],
                                                                  config["kinds"])
                                   if kind == PHOTOMETRY] or None,
            "spectrum_column": columns.get(SPECTRUM),
            "metadata_columns": columns.get(METADATA, []),
            **{key: config[key] for key in SAVED_PARAMS},
            "photometry_encoder": config.get("photometry_encoder", "astromer"),
            "metadata_transform": config.get("metadata_transform"),
        }
        if config.get("classes") is not None:
            restored.update(fine_tune="supervised", fine_tune_epochs=0)
        estimator = cls(pretrained=source, max_epochs=0, **{**restored, **params})
        saved = (config, state_dict)
        estimator._set_layout(fit_layout(None, saved_requested(config), config))
        with torch.random.fork_rng(devices=[]):
            estimator._initialize_net(saved, None, seed=0)
            if estimator.fine_tune == "supervised":
                estimator.classes_ = np.asarray(config["classes"])
                estimator.classifier_net_ = estimator._classifier_net(saved)
                estimator.classifier_net_.module_.eval()
        estimator.net_.module_.eval()
        return estimator

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.two_d_array = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        tags.non_deterministic = self.random_state is None
        return tags


@contextlib.contextmanager
def _no_grad_autocast(device_type, dtype):
    with torch.inference_mode(), torch.autocast(device_type, dtype=dtype,
                                                enabled=dtype is not None):
        yield
