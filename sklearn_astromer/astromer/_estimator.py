"""AstromerEmbedder: ASTROMER as a scikit-learn transformer."""

import functools
import os
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .. import _encoder_inference as _inference
from . import _output
from ._building import ModelBuildingMixin
from ._multiband import BAND_POOLINGS, MULTIBAND_MODES, MultibandMixin
from ._observations import ObservationOutputsMixin
from ._onnx import OnnxExportMixin
from ._persistence import PersistenceMixin
from ._predicting import PredictingMixin
from .._base import PRECISIONS, BaseEmbedder, n_samples_of
from .._curve_pooling import POOLINGS
from .._finite import check_finite
from .._training import LR_SCHEDULES
from .._torch_common import LightCurveIndexDataset, release_training_data
from .._validation import TRANSFORM_CHUNK_SIZE, iter_light_curve_chunks
from ..pretrained import ARCHITECTURE_CONSTRAINTS

LOSS_WEIGHTINGS = ("none", "uncertainty")


class AstromerEmbedder(PersistenceMixin, OnnxExportMixin, PredictingMixin,
                       ObservationOutputsMixin, MultibandMixin, ModelBuildingMixin,
                       BaseEmbedder):
    """Embed light curves with ASTROMER, a transformer pre-trained on masked magnitudes.

    ``fit`` trains (or, from ``pretrained`` weights, fine-tunes) the encoder by
    masked-magnitude reconstruction, self-supervised; with
    ``fine_tune="supervised"`` it then trains the encoder and a
    classification head on the labels ``y``. ``transform`` returns one
    fixed-size vector per light curve, pooled over its observations; light
    curves longer than ``max_obs`` are covered by consecutive windows.

    Parameters
    ----------
    d_model : int, default=256
        Width of the embeddings (the paper's ``head_dim``).
    n_layers : int, default=2
        Encoder blocks (``layers``).
    n_heads : int, default=4
        Attention heads (``heads``).
    d_ff : int, default=128
        Hidden size of the feed-forward networks (``dff``).
    dropout : float, default=0.1
        Dropout rate (``dropout``).
    max_obs : int, default=200
        Observations per window (``max_obs``).
    mask_frac : float, default=0.5
        Fraction of each window's observations that enter the loss (``msk_frac``).
    random_frac : float, default=0.2
        Share of the masked observations replaced by a random magnitude of the
        same window and left visible (``rnd_frac``).
    same_frac : float, default=0.2
        Share of the masked observations left visible with their true value
        (``same_frac``).
    variant : {"corrected", "paper"}, default="corrected"
        Encoder computation; see :class:`sklearn_astromer.nn.AstromerEncoder`.
        ``"paper"`` is what the published weights need; ``"corrected"`` adds
        residual connections, truly hides masked and padded observations, and
        learns a [MASK] value.
    pe_base : float, default=10000.0
        Base of the paper time encoding's frequencies.
    time_encoding : {"paper", "log_periods", "learnable"}, default="paper"
        How observation times enter: the published sine ladder (fastest
        frequency 1 rad/day), sine/cosine pairs at periods log-spaced from 3
        hours to 3 years, or the same trained. See the user guide's
        ablation for why ``"paper"`` is the default.
    period_input : "auto" or bool, default="auto"
        Give the model each light curve's Lomb-Scargle period (phases per
        observation; log period, power, amplitude and noise per window),
        searched once per light curve and call. ``"auto"``: on for new
        models, as trained for ``pretrained`` ones; ``True`` with weights
        trained without it adds the input with zero weights.
    magnitude_scaling : {"std", "none"}, default="std"
        Divide each window's zero-mean magnitudes by their standard deviation
        (the amplitude then reaches the model as a descriptor of the period
        input); reconstructions are scaled back. ``"none"`` is the paper's.
    pretrained : str, path-like or None, default=None
        Start from these weights: ``"macho"``, ``"atlas"``, a published zip
        or folder, or a :meth:`save_pretrained` directory. The architecture
        (``d_model`` ... ``magnitude_scaling``) then comes from the weights;
        every other setting stays this estimator's parameter (use
        :meth:`from_pretrained` to restore saved settings). ``fit``
        fine-tunes; with ``max_epochs=0`` the weights stay frozen.
    max_epochs : int, default=20
        Self-supervised training epochs.
    batch_size : int, default=64
        Windows per training batch (the paper's 5000 suits millions of light
        curves; smaller batches learn better on thousands).
    windows_per_curve : int, default=1
        Random windows drawn from each light curve per epoch.
    loss_weighting : {"none", "uncertainty"}, default="none"
        ``"uncertainty"``: weight each masked observation's squared error by
        its inverse error, min-max scaled within the window (ASTROMER 2).
    lr_schedule : {"warmup_cosine", "constant"}, default="warmup_cosine"
        ``"warmup_cosine"``: the learning rate rises linearly over the first
        10 % of a stage's steps, then decays to 0 along a cosine.
    fine_tune : {"none", "supervised"}, default="none"
        ``"supervised"``: after the self-supervised epochs, ``fit(X, y)``
        trains a classification head (a softmax-weighted mean of every
        layer's pooled output, then an MLP, as ASTROMER 2), then the encoder
        with it, by cross-entropy with a stratified validation split;
        :meth:`predict` and :meth:`predict_proba` become available.
    fine_tune_epochs : int, default=20
        Epochs of supervised fine-tuning.
    fine_tune_lr : float or None, default=None
        Learning rate of supervised fine-tuning (None: ``lr``).
    head_epochs : int, default=100
        Epochs of training the head alone on the frozen encoder's pooled
        layers, standardised column by column (linear probing, early
        stopped), before ``fine_tune_epochs`` of training the encoder with
        it. The fine-tuned encoder is kept only if it lowers the validation
        loss below the probe's (``encoder_fine_tuned_``); 0 skips probing.
    class_weight : {"balanced"} or None, default="balanced"
        Cross-entropy class weights of supervised fine-tuning: inverse class
        frequencies, or equal.
    inference_batch_size : int or "auto", default="auto"
        Windows per inference batch; ``"auto"`` fills each batch with about
        8192 padded observations on a CPU and 262,144 on a GPU.
    lr : float, default=1e-3
        Adam learning rate (betas 0.9, 0.98, eps 1e-9, as in the paper).
    validation_fraction : float or None, default=0.2
        Share of light curves held out for early stopping; ``None`` or 0
        trains on all and stops after ``max_epochs``.
    patience : int, default=10
        Epochs without validation improvement before stopping; the best
        weights are restored.
    pooling : {"mean", "max", "mean_std", "layers", "weighted_layers"}, default="mean"
        How ``transform`` pools observations: the last layer's mean (the
        paper's), maximum, or mean and standard deviation; every layer's mean
        concatenated; or their weighted mean (after supervised fine-tuning,
        the head's standardised, learned combination).
    n_components : int or None, default=None
        Reduce the pooled embedding to its first principal components,
        fitted in ``fit`` (at most ``min(n_samples, n_features)``).
    include_descriptors : bool, default=False
        Append the five light-curve descriptors: ``log10`` period, its power,
        a period flag, ``log10`` spread and ``log10`` median error (and the
        colours and amplitude ratios of neighbouring bands).
    multiband : {"auto", "joint", "per_band"}, default="auto"
        Multi-band light curves (a fourth column: band code): ``"joint"``
        embeds every band in one sequence with learned band embeddings;
        ``"per_band"`` embeds each band on its own (``band_pooling``).
        ``"auto"``: joint for new models, as trained for ``pretrained`` ones.
        See the user guide's multi-band page.
    band_pooling : {"concat", "mean"}, default="concat"
        Per-band embeddings concatenated in the order of ``bands_`` (NaN for
        a missing band) or averaged over the bands present.
    bands : array-like of int or None, default=None
        Band codes; None: those of the training light curves (or saved).
        With :meth:`from_pretrained`, no ``fit`` is needed.
    callbacks : list of skorch callbacks or None, default=None
        Extra callbacks for the self-supervised :class:`skorch.NeuralNet`
        (e.g. ``skorch.callbacks.LRScheduler``, ``GradientNormClipping``).
    device : {"auto", "cpu", "cuda"} or str, default="auto"
        Torch device; ``"auto"`` takes a GPU when one is visible. With the
        period input, the period search's coarse pass (its FFTs and peak
        finding) runs there too; its exact refinement runs on the CPU.
    precision : {"float32", "bfloat16", "float16"}, default="float32"
        Arithmetic of inference (and, for ``"bfloat16"``, mixed-precision
        training): reduced precisions autocast matrix multiplies, about
        twice as fast on GPUs and AVX512-BF16 CPUs, within ~1e-2 of float32.
        The paper-exact parity holds in float32 only.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, window starts, masks, dropout and
        shuffling: the same value gives the same embeddings on the CPU.
    verbose : int, default=0
        0 silent; 1 prints one line per epoch (skorch's log).

    Attributes
    ----------
    net_ : AstromerNet
        The fitted skorch net; ``net_.module_`` is the
        :class:`~sklearn_astromer.nn.AstromerModel`, ``net_.history`` the losses.
    classifier_net_ : skorch.NeuralNet
        With ``fine_tune="supervised"``: the fine-tuning net, whose module is
        an :class:`~sklearn_astromer.nn.AstromerClassifierModel` sharing
        ``net_.module_.encoder``.
    classes_ : ndarray
        With ``fine_tune="supervised"``: the class labels.
    encoder_fine_tuned_ : bool
        Set by ``fit`` with ``fine_tune="supervised"``: whether the encoder's
        weights were changed by the labels (False when training the encoder
        did not lower the validation loss below the probed head's, or with
        ``fine_tune_epochs=0``).
    bands_ : int ndarray
        With multi-band training light curves: their band codes, in order.
    config_ : dict
        Architecture actually used (from the parameters or the weights).
    device_ : str
        Resolved device.

    See Also
    --------
    sklearn_astromer.MultimodalCLIPEmbedder : Contrastive embeddings of light
        curves, spectra and metadata (AstroM3).

    References
    ----------
    .. [1] Donoso-Oliva, C. et al. (2023). "ASTROMER: A transformer-based
       embedding for the representation of light curves". A&A 670, A54.

    Examples
    --------
    >>> from sklearn_astromer import AstromerEmbedder
    >>> from sklearn_astromer.datasets import make_light_curves
    >>> X, y = make_light_curves(n_per_class=3, random_state=0)
    >>> embedder = AstromerEmbedder(d_model=16, n_layers=1, n_heads=2, d_ff=16,
    ...                             max_epochs=1, random_state=0).fit(X)
    >>> embedder.transform(X).shape
    (30, 16)
    """

    _samples_name = "light curves"
    _parameter_constraints = {
        # The architecture (d_model, n_layers, n_heads, d_ff, dropout, max_obs,
        # variant, pe_base, time_encoding, magnitude_scaling): shared with the
        # model-file checks, so saved models always load.
        **ARCHITECTURE_CONSTRAINTS,
        "period_input": ["boolean", StrOptions({"auto"})],
        "mask_frac": [Interval(Real, 0, 1, closed="both")],
        "random_frac": [Interval(Real, 0, 1, closed="both")],
        "same_frac": [Interval(Real, 0, 1, closed="both")],
        "pretrained": [str, os.PathLike, None],
        "max_epochs": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "windows_per_curve": [Interval(Integral, 1, None, closed="left")],
        "loss_weighting": [StrOptions(set(LOSS_WEIGHTINGS))],
        "lr_schedule": [StrOptions(set(LR_SCHEDULES))],
        "fine_tune": [StrOptions({"none", "supervised"})],
        "fine_tune_epochs": [Interval(Integral, 0, None, closed="left")],
        "fine_tune_lr": [Interval(Real, 0, None, closed="neither"), None],
        "head_epochs": [Interval(Integral, 0, None, closed="left")],
        "class_weight": [StrOptions({"balanced"}), None],
        "inference_batch_size": [Interval(Integral, 1, None, closed="left"),
                                 StrOptions({"auto"})],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left"), None],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "pooling": [StrOptions(set(POOLINGS))],
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "include_descriptors": ["boolean"],
        "band_pooling": [StrOptions(set(BAND_POOLINGS))],
        "multiband": [StrOptions(set(MULTIBAND_MODES))],
        "bands": ["array-like", None],
        "callbacks": [list, None],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "precision": [StrOptions(set(PRECISIONS))],
    }

    def __init__(self, d_model=256, n_layers=2, n_heads=4, d_ff=128, dropout=0.1, max_obs=200,
                 mask_frac=0.5, random_frac=0.2, same_frac=0.2, *, variant="corrected",
                 pe_base=10000.0, time_encoding="paper", period_input="auto",
                 magnitude_scaling="std", pretrained=None, max_epochs=20, batch_size=64,
                 windows_per_curve=1, loss_weighting="none", lr_schedule="warmup_cosine",
                 fine_tune="none", fine_tune_epochs=20, fine_tune_lr=None, head_epochs=100,
                 class_weight="balanced", inference_batch_size="auto", lr=1e-3,
                 validation_fraction=0.2, patience=10, pooling="mean", n_components=None,
                 include_descriptors=False, multiband="auto", band_pooling="concat",
                 bands=None, callbacks=None,
                 device="auto", precision="float32", random_state=None, verbose=0):
        self.d_model = d_model
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.d_ff = d_ff
        self.dropout = dropout
        self.max_obs = max_obs
        self.mask_frac = mask_frac
        self.random_frac = random_frac
        self.same_frac = same_frac
        self.variant = variant
        self.pe_base = pe_base
        self.time_encoding = time_encoding
        self.period_input = period_input
        self.magnitude_scaling = magnitude_scaling
        self.pretrained = pretrained
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.windows_per_curve = windows_per_curve
        self.loss_weighting = loss_weighting
        self.lr_schedule = lr_schedule
        self.fine_tune = fine_tune
        self.fine_tune_epochs = fine_tune_epochs
        self.fine_tune_lr = fine_tune_lr
        self.head_epochs = head_epochs
        self.class_weight = class_weight
        self.inference_batch_size = inference_batch_size
        self.lr = lr
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.pooling = pooling
        self.n_components = n_components
        self.include_descriptors = include_descriptors
        self.multiband = multiband
        self.band_pooling = band_pooling
        self.bands = bands
        super().__init__(callbacks=callbacks, device=device, precision=precision,
                         random_state=random_state, verbose=verbose)

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None):
        """Pre-train (or fine-tune) the encoder; with ``fine_tune="supervised"``, also on ``y``.

        Parameters
        ----------
        X : list, object ndarray or Series of (L_i, 2|3) arrays, or ndarray (n_samples, n_steps)
            Light curves: time (days), magnitude[, error]; see
            :func:`sklearn_astromer._validation.check_light_curves` for the
            repairs and errors.
        y : array-like of shape (n_samples,) or None
            Class labels: required with ``fine_tune="supervised"``, ignored
            otherwise (self-supervised).

        Returns
        -------
        self : AstromerEmbedder
        """
        self._validate_params()
        labels = None
        if self.fine_tune == "supervised":
            labels = self._encode_labels(y, n_samples_of(X))
        prepared = self._prepare(X, allow_bands=True)
        seed = self._draw_seed()
        with self._fitting(seed):
            return self._fit_prepared(prepared, seed, _train_in_process, labels)

    def _fit_prepared(self, prepared, seed, train, labels=None):
        """Build ``net_`` from ``seed`` and let ``train(net, n_samples, seed)`` run the epochs.

        Runs inside :meth:`_fitting`. ``fit`` trains in this process;
        :func:`sklearn_astromer.distributed.fit_ddp` passes a data-parallel
        ``train``. Supervised fine-tuning (``labels``) always runs in this
        process.
        """
        self._fit_bands(prepared)
        weights = self._resolve_architecture()
        if prepared.multiband and labels is not None and not self._joint():
            raise ValueError('fine_tune="supervised" of a model that embeds one band at a time '
                             "takes single-band light curves: embed multi-band ones "
                             "(band_pooling) and train a classifier after, or train a joint "
                             "multi-band model (multiband='joint').")
        self._check_times(prepared)
        training = self.max_epochs > 0 or labels is not None
        self._check_memory(prepared.light_curves, training)
        curves = self._training_curves(prepared) if self.max_epochs > 0 else None
        pretraining = None if curves is None else (curves.light_curves, self._periods(curves))
        self._initialize_net(seed, weights, pretraining)
        if pretraining is not None:
            train(self.net_, len(prepared), seed)
            release_training_data(self.net_)
        if labels is not None:
            self._fit_supervised(self._model_input(prepared), labels, seed + 2)
        self.net_.module_.eval()
        self._fit_output_projection(prepared, seed)
        self.net_.module_.eval()
        return self

    # ------------------------------------------------------------ inference
    def transform(self, X):
        """Embed each light curve as one vector.

        Parameters
        ----------
        X : list of (L_i, 2|3) arrays or ndarray (n_samples, n_steps)

        Returns
        -------
        ndarray of shape (n_samples, n_features), float32
            Row ``i`` embeds light curve ``i``; ``n_features`` is ``d_model``
            (``2 * d_model`` for ``pooling="mean_std"``, ``(n_layers + 1) *
            d_model`` for ``pooling="layers"``).

        Raises
        ------
        ValueError
            Naming the light curves, for the input errors of
            :func:`~sklearn_astromer._validation.check_light_curves`, times
            the windows cannot carry
            (:func:`~sklearn_astromer.preprocessing.ranges.check_time_ranges`),
            and light curves whose numbers overflow the model's float32
            arithmetic: no method returns NaN or infinity for a kept
            observation.
        """
        check_is_fitted(self, "net_")
        rows = []
        for first_index, chunk in iter_light_curve_chunks(X, TRANSFORM_CHUNK_SIZE):
            prepared = self._validated(chunk, first_index, allow_bands=True)
            columns = [self._pool_validated(prepared)]
            if hasattr(self, "output_projection_"):
                self._check_output_pooling()
                columns[0] = _output.project(columns[0], self.output_projection_)
            if self.include_descriptors:
                columns.append(prepared.descriptors)
                if prepared.multiband:
                    columns.append(prepared.colours(self.bands_))
            rows.append(np.hstack(columns))
        return np.concatenate(rows)

    def _pool_validated(self, prepared):
        """Pooled embeddings (``pooling``; ``band_pooling`` of multi-band light curves) of
        prepared light curves, checked finite."""
        if prepared.multiband and not self._joint():
            return self._pool_bands(prepared)
        pooled = self._pooled(self._model_input(prepared))
        check_finite(pooled, prepared.light_curves, "embeddings", prepared.first_index)
        return pooled

    def _pooled(self, prepared):
        """Pooled embeddings of prepared single-band light curves (not checked)."""
        combine_layers = None
        if self.pooling == "weighted_layers" and hasattr(self, "classifier_net_"):
            combine_layers = functools.partial(_combine_with_head,
                                               self.classifier_net_.module_.classifier)
        args = self._window_args(prepared)
        with self._inference_context():
            pooled = _inference.pool_light_curves(
                self.net_.module_.eval().encoder, prepared.light_curves, pooling=self.pooling,
                device=self.net_.device, combine_layers=combine_layers, **args)
        return pooled

    def _check_output_pooling(self):
        if self.output_pooling_ != self.pooling:
            raise ValueError(
                f"The {self.n_components or len(self.output_projection_['components'])} output "
                f"components were fitted for pooling={self.output_pooling_!r}, not "
                f"pooling={self.pooling!r}: fit again, or set pooling back.")

    def _n_pooled_features(self):
        d_model, n_layers = self.config_["d_model"], self.config_["n_layers"]
        return {"mean_std": 2 * d_model, "layers": (n_layers + 1) * d_model}.get(
            self.pooling, d_model)

    def _output_names(self):
        """``astromerembedder0``, ... then the descriptors' names."""
        n_embedding = (len(self.output_projection_["components"])
                       if hasattr(self, "output_projection_") else self._n_pooled_features())
        prefix = self.__class__.__name__.lower()
        names = [f"{prefix}{index}" for index in range(n_embedding)]
        if not hasattr(self, "output_projection_"):
            names = self._band_feature_names(names)
        if self.include_descriptors:
            names += list(_output.DESCRIPTOR_NAMES) + self._colour_names()
        return names



def _combine_with_head(classifier, means):
    """The supervised head's combination of ``(n, n_layers + 1, d_model)`` layer means."""
    return classifier.combine(means.to(classifier.layer_logits.device))


def _train_in_process(net, n_samples, seed):
    """Run ``net``'s training epochs over light curves ``0..n_samples-1``."""
    net.partial_fit(LightCurveIndexDataset(n_samples), None)
