"""AstromerEmbedder: ASTROMER as a scikit-learn transformer."""

import contextlib
import functools
import os
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, column_or_1d

from . import _inference, _output, _supervised
from ._building import MODULE_KEYS, ModelBuildingMixin, release_training_data
from ._finite import check_finite
from ._memory import check_memory
from ._persistence import PersistenceMixin
from ._training import LR_SCHEDULES
from .._fit_lock import FIT_LOCK
from .._interrupt import forget_fit
from .._torch_common import LightCurveIndexDataset
from .._validation import check_light_curves, iter_light_curve_chunks
from ..preprocessing.ranges import check_time_ranges
from ..nn import AstromerModel
from ..pretrained import ARCHITECTURE_CONSTRAINTS, expected_shapes

LOSS_WEIGHTINGS = ("none", "uncertainty")
SCORE_MASK_SEED = 0
# Light curves validated and embedded at a time by transform: memory stays
# bounded however many light curves are passed.
TRANSFORM_CHUNK_SIZE = 8192
PRECISIONS = {"float32": None, "bfloat16": torch.bfloat16, "float16": torch.float16}


class AstromerEmbedder(PersistenceMixin, ModelBuildingMixin, ClassNamePrefixFeaturesOutMixin,
                       TransformerMixin, BaseEstimator):
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
        How observation times enter. ``"paper"``: the published ladder, whose
        fastest frequency is 1 rad/day (periods under ~6 days alias: the
        period input is what resolves them); ``"log_periods"``: sine/cosine
        pairs at periods log-spaced from 3 hours to 3 years (ASTROMER's own
        unused ladder); ``"learnable"``: the same, trained. With the period
        input, the paper's ladder gave the best embeddings and
        reconstructions (ablation in ``benchmarks/README.md``).
    period_input : "auto" or bool, default="auto"
        Give the model each light curve's Lomb-Scargle period: every
        observation gets its phase (a few harmonics) and every window its log
        period, periodogram power, amplitude and noise level. The period is
        searched once per light curve in ``fit`` and in ``transform``.
        ``"auto"``: on for new models, as the weights were trained for
        ``pretrained`` ones. ``True`` with weights trained without it adds
        the input with zero weights (outputs unchanged until fine-tuning
        teaches the model to use it).
    magnitude_scaling : {"std", "none"}, default="std"
        Divide each window's zero-mean magnitudes by their standard deviation
        (the amplitude then reaches the model as a descriptor of the period
        input); reconstructions are scaled back. ``"none"`` is the paper's.
    pretrained : str, path-like or None, default=None
        Start from these weights: ``"macho"`` or ``"atlas"`` (the published
        ASTROMER models), a published zip or its folder, or a directory
        written by :meth:`save_pretrained`. The architecture (``d_model``,
        ``n_layers``, ``n_heads``, ``d_ff``, ``variant``, ``pe_base``,
        ``max_obs``, ``time_encoding``, ``magnitude_scaling``) then comes
        from the weights and the corresponding parameters here are ignored.
        Every other setting is this estimator's own parameter, including
        those saved with the model (``pooling``, ``dropout``, the masking
        fractions, ``batch_size``): parameters are what you set, so
        ``clone`` and grid searches behave. :meth:`from_pretrained` is the
        way to restore the saved settings.
        ``fit`` fine-tunes; with ``max_epochs=0`` the weights stay frozen.
    max_epochs : int, default=20
        Self-supervised training epochs.
    batch_size : int, default=64
        Windows per training batch (the paper's 5000 suits millions of light
        curves; on thousands, smaller batches take the steps that learning
        needs: see the ablation in ``benchmarks/README.md``).
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
        trains the encoder together with a classification head (a
        softmax-weighted mean of every layer's pooled output, input embedding
        included, then an MLP, as ASTROMER 2) by cross-entropy, with a
        stratified validation split for early stopping. ``transform`` then
        gives the fine-tuned encoder's embeddings, and :meth:`predict` /
        :meth:`predict_proba` the head's classes.
    fine_tune_epochs : int, default=20
        Epochs of supervised fine-tuning.
    fine_tune_lr : float or None, default=None
        Learning rate of supervised fine-tuning (None: ``lr``).
    head_epochs : int, default=100
        Epochs of supervised fine-tuning's first phase, which trains the head
        alone on the frozen encoder's pooled layers, each column
        standardised with the training curves' statistics (linear probing;
        the pooled layers are computed once, so these epochs cost little),
        with early stopping on the validation curves. The encoder then
        trains with the head for ``fine_tune_epochs``, and is kept only if
        that lowers the validation loss of whole light curves below the
        probed head's: otherwise ``transform`` gives the encoder's
        embeddings as they were (``encoder_fine_tuned_`` says which). 0 skips
        the probing: the encoder trains with a new head from the start.
    class_weight : {"balanced"} or None, default="balanced"
        Cross-entropy class weights of supervised fine-tuning: inverse class
        frequencies, or equal.
    inference_batch_size : int or "auto", default="auto"
        Windows per batch in ``transform``, ``embed_observations``,
        ``reconstruct`` and ``score``. ``"auto"`` fills each batch with about
        8192 padded observations on a CPU (about 40 windows of 200 points,
        more of shorter ones: small enough for the activations to stay in
        cache) and 262,144 on a GPU.
    lr : float, default=1e-3
        Adam learning rate (betas 0.9, 0.98, eps 1e-9, as in the paper).
    validation_fraction : float or None, default=0.2
        Share of light curves held out for early stopping; ``None`` or 0
        trains on all and stops after ``max_epochs``.
    patience : int, default=10
        Epochs without validation improvement before stopping; the best
        weights are restored.
    pooling : {"mean", "max", "mean_std", "layers", "weighted_layers"}, default="mean"
        How ``transform`` pools observations: mean of the last layer (the
        paper's classifier input), element-wise maximum, mean and standard
        deviation, the mean of every layer (input embedding first)
        concatenated, or their weighted mean (after ``fine_tune="supervised"``
        the supervised head's input: every layer standardised with the
        training light curves' statistics, then weighted by the learned
        weights; otherwise the plain mean of the layers).
    n_components : int or None, default=None
        Reduce the pooled embedding to its first principal components, fitted
        in ``fit`` on the embeddings of the light curves given (after
        training; at most ``min(n_samples, n_features)``). A few components
        sit better beside other features in a random forest than hundreds
        of columns.
    include_descriptors : bool, default=False
        Append the light curve's five descriptors to every row: ``log10``
        period (days), its periodogram power, a period flag, ``log10`` spread
        and ``log10`` median error (mag), computed over the whole light curve
        (the scalars a period input conditions the model on).
    callbacks : list of skorch callbacks or None, default=None
        Extra callbacks for the self-supervised :class:`skorch.NeuralNet`
        (e.g. ``skorch.callbacks.LRScheduler``, ``GradientNormClipping``).
    device : {"auto", "cpu", "cuda"} or str, default="auto"
        Torch device; ``"auto"`` takes a GPU when one is visible.
    precision : {"float32", "bfloat16", "float16"}, default="float32"
        Arithmetic of ``transform``, ``embed_observations``, ``reconstruct``,
        ``score`` and ``predict``: reduced precisions run under
        :func:`torch.autocast` (matrix multiplies in 16 bits, reductions and
        layer norms in float32), about twice as fast on GPUs with tensor cores
        and on CPUs with AVX512-BF16; embeddings then differ from float32 by
        ~1e-2. ``"bfloat16"`` also trains in mixed precision (``fit``: float32
        weights, optimizer and loss, bfloat16 products); ``"float16"``, which
        would need loss scaling, trains in float32. The paper-exact parity
        holds in float32 only.
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
        "pooling": [StrOptions(set(_inference.POOLINGS))],
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "include_descriptors": ["boolean"],
        "callbacks": [list, None],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "precision": [StrOptions(set(PRECISIONS))],
    }

    def __init__(
        self,
        d_model=256,
        n_layers=2,
        n_heads=4,
        d_ff=128,
        dropout=0.1,
        max_obs=200,
        mask_frac=0.5,
        random_frac=0.2,
        same_frac=0.2,
        *,
        variant="corrected",
        pe_base=10000.0,
        time_encoding="paper",
        period_input="auto",
        magnitude_scaling="std",
        pretrained=None,
        max_epochs=20,
        batch_size=64,
        windows_per_curve=1,
        loss_weighting="none",
        lr_schedule="warmup_cosine",
        fine_tune="none",
        fine_tune_epochs=20,
        fine_tune_lr=None,
        head_epochs=100,
        class_weight="balanced",
        inference_batch_size="auto",
        lr=1e-3,
        validation_fraction=0.2,
        patience=10,
        pooling="mean",
        n_components=None,
        include_descriptors=False,
        callbacks=None,
        device="auto",
        precision="float32",
        random_state=None,
        verbose=0,
    ):
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
        self.callbacks = callbacks
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose

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
            labels = self._encode_labels(y, _n_samples(X))
        light_curves = check_light_curves(X)
        with FIT_LOCK:  # torch's random state is global: one fit at a time (see _fit_lock)
            return self._fit(light_curves, self._draw_seed(), _train_in_process, labels)

    def _encode_labels(self, y, n_samples):
        """Set ``classes_`` and return ``y`` as class indices, or say what is wrong with it."""
        if y is None:
            raise ValueError('fine_tune="supervised" needs the class labels: call fit(X, y).')
        y = column_or_1d(y, warn=True)
        if n_samples is not None and len(y) != n_samples:
            raise ValueError(f"y has {len(y)} labels for {n_samples} light curves.")
        self.classes_, labels = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f'fine_tune="supervised" needs two classes or more; y holds '
                             f"{len(self.classes_)}.")
        return labels.astype(np.int64)

    def _draw_seed(self):
        """One integer seed from ``random_state`` for everything ``fit`` draws."""
        return check_random_state(self.random_state).randint(np.iinfo(np.int32).max)

    def _fit(self, light_curves, seed, train, labels=None):
        """Build ``net_`` from ``seed`` and let ``train(net, n_samples, seed)`` run the epochs.

        ``fit`` trains in this process; :func:`sklearn_astromer.distributed.fit_ddp`
        passes a data-parallel ``train``. Supervised fine-tuning (``labels``)
        always runs in this process.
        """
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            weights = self._resolve_architecture()
            try:
                self._check_times(light_curves)
                training = self.max_epochs > 0 or labels is not None
                self._check_memory(light_curves, training)
                periods = self._periods(light_curves) if training else None
                pretraining = (light_curves, periods) if self.max_epochs > 0 else None
                self._initialize_net(seed, weights, pretraining)
                if pretraining is not None:
                    train(self.net_, len(light_curves), seed)
                    release_training_data(self.net_)
                if labels is not None:
                    self._fit_supervised(light_curves, periods, labels, seed + 2)
                self.net_.module_.eval()
                self._fit_output_projection(light_curves, seed)
            except (ValueError, KeyboardInterrupt):
                # Light curves the model cannot take, a non-finite loss or
                # Ctrl-C: leave no half-trained model behind.
                forget_fit(self)
                raise
        self.net_.module_.eval()
        return self

    # ------------------------------------------------------------ inference
    def _check_times(self, light_curves, first_index=0):
        """Refuse (or warn about) times that this model's windows cannot carry."""
        check_time_ranges(light_curves, float32_mean=self.config_["variant"] == "paper",
                          max_obs=self.config_["max_obs"], first_index=first_index)

    def _check_memory(self, light_curves, training=False):
        """Refuse light curves this model cannot take in the device's memory (see _memory)."""
        if len(light_curves) == 0:
            return
        if training or not hasattr(self, "net_"):
            shapes = expected_shapes(AstromerModel, **{key: self.config_[key]
                                                       for key in MODULE_KEYS})
        else:
            shapes = {name: tuple(value.shape)
                      for name, value in self.net_.module_.state_dict().items()}
        check_memory(self.config_, shapes, light_curves.lengths.max(), self.device_,
                     n_windows=self.batch_size if training else 1, training=training)

    def _validated(self, X, first_index=0):
        """``X`` (or a chunk of it starting at ``first_index``) validated for this model."""
        light_curves = check_light_curves(X, first_index=first_index)
        self._check_times(light_curves, first_index)
        self._check_memory(light_curves)
        return light_curves

    @contextlib.contextmanager
    def _inference_context(self):
        """No autograd, and autocast when a reduced ``precision`` is asked for."""
        dtype = PRECISIONS[self.precision]
        device_type = torch.device(self.net_.device).type
        with torch.inference_mode(), torch.autocast(device_type, dtype=dtype,
                                                    enabled=dtype is not None):
            yield

    def _window_args(self, light_curves, periods=None):
        """How inference cuts ``light_curves`` into batches of windows (periods included).

        ``periods``: those of ``light_curves`` when already computed.
        """
        check_is_fitted(self, "net_")
        batch_size, max_tokens = _inference.inference_batching(self.inference_batch_size,
                                                               self.net_.device)
        return dict(
            max_obs=self.config_["max_obs"],
            batch_size=batch_size,
            max_tokens=max_tokens,
            pad_to_max_obs=self.config_["variant"] == "paper",
            scale_magnitudes=self.config_["magnitude_scaling"] == "std",
            periods=self._periods(light_curves) if periods is None else periods,
        )

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
            light_curves = self._validated(chunk, first_index)
            columns = [self._pool_validated(light_curves, first_index)]
            if hasattr(self, "output_projection_"):
                self._check_output_pooling()
                columns[0] = _output.project(columns[0], self.output_projection_)
            if self.include_descriptors:
                columns.append(_output.descriptor_columns(light_curves,
                                                          n_jobs=torch.get_num_threads()))
            rows.append(np.hstack(columns))
        return np.concatenate(rows)

    def _pool_validated(self, light_curves, first_index=0):
        """Pooled embeddings (``pooling``) of validated light curves."""
        combine_layers = None
        if self.pooling == "weighted_layers" and hasattr(self, "classifier_net_"):
            combine_layers = functools.partial(_combine_with_head,
                                               self.classifier_net_.module_.classifier)
        args = self._window_args(light_curves)
        with self._inference_context():
            pooled = _inference.pool_light_curves(
                self.net_.module_.eval().encoder, light_curves, pooling=self.pooling,
                device=self.net_.device, combine_layers=combine_layers, **args)
        check_finite(pooled, light_curves, "embeddings", first_index)
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

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns: ``astromerembedder0``, ... then the descriptors.

        Parameters
        ----------
        input_features : None
            Ignored (the embedding does not depend on the input's columns).

        Returns
        -------
        ndarray of str objects
        """
        check_is_fitted(self, "net_")
        n_embedding = (len(self.output_projection_["components"])
                       if hasattr(self, "output_projection_") else self._n_pooled_features())
        prefix = self.__class__.__name__.lower()
        names = [f"{prefix}{index}" for index in range(n_embedding)]
        if self.include_descriptors:
            names += list(_output.DESCRIPTOR_NAMES)
        return np.asarray(names, dtype=object)

    def embed_observations(self, X):
        """Per-observation embeddings (the paper's "attention vectors").

        Parameters
        ----------
        X : list of (L_i, 2|3) arrays or ndarray (n_samples, n_steps)

        Returns
        -------
        list of float32 ndarray of shape (L_i, d_model)
            Item ``i`` belongs to light curve ``i``, row ``j`` to its input
            row ``j``: one row per input observation, in the input's order
            (the model sees them sorted by time). Rows of dropped
            observations (NaN or infinite values, announced by a warning)
            are NaN; observations at the same time each get their own row.
        """
        check_is_fitted(self, "net_")
        light_curves = self._validated(X)
        args = self._window_args(light_curves)
        with self._inference_context():
            embeddings, _ = _inference.per_observation_outputs(
                self.net_.module_.eval(), light_curves, reconstruction=False,
                device=self.net_.device, **args)
        check_finite(embeddings, light_curves, "embeddings", per_observation=True)
        return light_curves.split_to_inputs(embeddings)

    def reconstruct(self, X):
        """Reconstructed magnitudes of every observation, nothing masked.

        Parameters
        ----------
        X : list of (L_i, 2|3) arrays or ndarray (n_samples, n_steps)

        Returns
        -------
        list of float64 ndarray of shape (L_i,)
            Magnitudes in the input's scale (each window's scale and mean
            added back), one per input observation in the input's order; NaN
            for dropped observations (as :meth:`embed_observations`).
        """
        check_is_fitted(self, "net_")
        light_curves = self._validated(X)
        args = self._window_args(light_curves)
        with self._inference_context():
            _, reconstruction = _inference.per_observation_outputs(
                self.net_.module_.eval(), light_curves, embeddings=False,
                device=self.net_.device, **args)
        check_finite(reconstruction, light_curves, "reconstructions", per_observation=True)
        return light_curves.split_to_inputs(reconstruction)

    def score(self, X, y=None):
        """Negative masked-reconstruction RMSE (magnitudes), with a fixed mask seed.

        Higher is better, so model selection can use it directly. Also with
        ``fine_tune="supervised"``: a classifier after the embedder is scored
        by the pipeline, not by this method.

        Parameters
        ----------
        X : light curves
        y : None
            Ignored.

        Returns
        -------
        float
            Finite: light curves whose reconstruction errors overflow raise a
            ValueError naming them (see :meth:`transform`).
        """
        check_is_fitted(self, "net_")
        light_curves = self._validated(X)
        args = self._window_args(light_curves)
        with self._inference_context():
            rmse = _inference.masked_rmse_score(
                self.net_.module_.eval(), light_curves, seed=SCORE_MASK_SEED,
                mask_frac=self.mask_frac, same_frac=self.same_frac,
                random_frac=self.random_frac, device=self.net_.device, **args,
            )
        return -rmse

    @available_if(lambda self: hasattr(self, "classifier_net_"))
    def predict_proba(self, X):
        """Class probabilities from the supervised head (``fine_tune="supervised"``).

        Parameters
        ----------
        X : light curves

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        model = self.classifier_net_.module_.eval()
        probabilities = []
        for first_index, chunk in iter_light_curve_chunks(X, TRANSFORM_CHUNK_SIZE):
            light_curves = self._validated(chunk, first_index)
            args = self._window_args(light_curves)
            with self._inference_context():
                logits = _supervised.predict_logits(model, light_curves,
                                                    device=self.net_.device, **args)
            check_finite(logits.numpy(), light_curves, "class logits", first_index)
            probabilities.append(torch.softmax(logits.double(), dim=1).numpy())
        return np.concatenate(probabilities)

    @available_if(lambda self: hasattr(self, "classifier_net_"))
    def predict(self, X):
        """Most probable class of each light curve (``fine_tune="supervised"``).

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.two_d_array = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        tags.non_deterministic = self.random_state is None
        return tags


def _n_samples(X):
    """Number of light curves in ``X`` when it can be told without validating it."""
    try:
        return len(X)
    except TypeError:
        return None


def _combine_with_head(classifier, means):
    """The supervised head's combination of ``(n, n_layers + 1, d_model)`` layer means."""
    return classifier.combine(means.to(classifier.layer_logits.device))


def _train_in_process(net, n_samples, seed):
    """Run ``net``'s training epochs over light curves ``0..n_samples-1``."""
    net.partial_fit(LightCurveIndexDataset(n_samples), None)
