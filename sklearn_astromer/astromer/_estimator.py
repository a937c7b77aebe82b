"""AstromerEmbedder: ASTROMER as a scikit-learn transformer."""

import contextlib
import os
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from skorch.callbacks import EarlyStopping
from skorch.dataset import ValidSplit
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.validation import check_is_fitted

from . import _inference
from ._net import AstromerNet, LightCurveIndexDataset, MaskedWindowCollate
from .._validation import check_light_curves, iter_light_curve_chunks
from ..nn import AstromerModel
from ..pretrained import (
    ARCHITECTURE_CONSTRAINTS,
    check_state_dict,
    expected_shapes,
    load_pretrained,
    model_files,
    save_model,
)

ARCHITECTURE_KEYS = ("d_model", "n_layers", "n_heads", "d_ff", "variant", "pe_base", "max_obs")
# Estimator settings saved beside the weights so that from_pretrained restores them.
SAVED_PARAMS = ("dropout", "mask_frac", "random_frac", "same_frac", "pooling", "batch_size")
SCORE_MASK_SEED = 0
# Light curves validated and embedded at a time by transform: memory stays
# bounded however many light curves are passed.
TRANSFORM_CHUNK_SIZE = 8192
PRECISIONS = {"float32": None, "bfloat16": torch.bfloat16, "float16": torch.float16}


def resolve_device(device):
    """Map ``"auto"`` to ``"cuda"`` when a GPU is visible, else ``"cpu"``."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


class AstromerEmbedder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Embed light curves with ASTROMER, a transformer pre-trained on masked magnitudes.

    ``fit`` trains (or, from ``pretrained`` weights, fine-tunes) the encoder by
    masked-magnitude reconstruction, self-supervised: ``y`` is ignored.
    ``transform`` returns one fixed-size vector per light curve, pooled over
    its observations; light curves longer than ``max_obs`` are covered by
    consecutive windows.

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
        Base of the time encoding's frequencies.
    pretrained : str, path-like or None, default=None
        Start from these weights: ``"macho"`` or ``"atlas"`` (the published
        ASTROMER models), a published zip or its folder, or a directory
        written by :meth:`save_pretrained`. The architecture (``d_model``,
        ``n_layers``, ``n_heads``, ``d_ff``, ``variant``, ``pe_base``,
        ``max_obs``) then comes from the weights and the corresponding
        parameters here are ignored. Every other setting is this
        estimator's own parameter, including those saved with the model
        (``pooling``, ``dropout``, the masking fractions, ``batch_size``):
        parameters are what you set, so ``clone`` and grid searches behave.
        :meth:`from_pretrained` is the way to restore the saved settings.
        ``fit`` fine-tunes; with ``max_epochs=0`` the weights stay frozen.
    max_epochs : int, default=20
        Training epochs (each light curve gives one random window per epoch).
    batch_size : int, default=256
        Windows per training batch.
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
    pooling : {"mean", "max", "mean_std"}, default="mean"
        How ``transform`` pools observations: mean (the paper's classifier
        input), element-wise maximum, or mean and standard deviation.
    callbacks : list of skorch callbacks or None, default=None
        Extra callbacks for the underlying :class:`skorch.NeuralNet`
        (e.g. ``skorch.callbacks.LRScheduler``, ``GradientNormClipping``).
    device : {"auto", "cpu", "cuda"} or str, default="auto"
        Torch device; ``"auto"`` takes a GPU when one is visible.
    precision : {"float32", "bfloat16", "float16"}, default="float32"
        Arithmetic of ``transform``, ``embed_observations``, ``reconstruct``
        and ``score``: reduced precisions run under :func:`torch.autocast`
        (matrix multiplies in 16 bits, reductions and layer norms in float32),
        about twice as fast on GPUs with tensor cores; embeddings then differ
        from float32 by ~1e-2. Training always runs in float32, and the
        paper-exact parity holds in float32 only.
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
        # d_model, n_layers, n_heads, d_ff, dropout, max_obs, variant, pe_base:
        # shared with the model-file checks, so saved models always load.
        **ARCHITECTURE_CONSTRAINTS,
        "mask_frac": [Interval(Real, 0, 1, closed="both")],
        "random_frac": [Interval(Real, 0, 1, closed="both")],
        "same_frac": [Interval(Real, 0, 1, closed="both")],
        "pretrained": [str, os.PathLike, None],
        "max_epochs": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "inference_batch_size": [Interval(Integral, 1, None, closed="left"),
                                 StrOptions({"auto"})],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left"), None],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "pooling": [StrOptions(set(_inference.POOLINGS))],
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
        pretrained=None,
        max_epochs=20,
        batch_size=256,
        inference_batch_size="auto",
        lr=1e-3,
        validation_fraction=0.2,
        patience=10,
        pooling="mean",
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
        self.pretrained = pretrained
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.inference_batch_size = inference_batch_size
        self.lr = lr
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.pooling = pooling
        self.callbacks = callbacks
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None):
        """Pre-train (or fine-tune) the encoder by masked-magnitude reconstruction.

        Parameters
        ----------
        X : list, object ndarray or Series of (L_i, 2|3) arrays, or ndarray (n_samples, n_steps)
            Light curves: time (days), magnitude[, error]; see
            :func:`sklearn_astromer._validation.check_light_curves` for the
            repairs and errors.
        y : None
            Ignored (self-supervised).

        Returns
        -------
        self : AstromerEmbedder
        """
        self._validate_params()
        light_curves = check_light_curves(X)
        return self._fit(light_curves, self._draw_seed(), _train_in_process)

    def _draw_seed(self):
        """One integer seed from ``random_state`` for everything ``fit`` draws."""
        return check_random_state(self.random_state).randint(np.iinfo(np.int32).max)

    def _fit(self, light_curves, seed, train):
        """Build ``net_`` from ``seed`` and let ``train(net, n_samples, seed)`` run the epochs.

        ``fit`` trains in this process; :func:`sklearn_astromer.distributed.fit_ddp`
        passes a data-parallel ``train``.
        """
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self._initialize_net(seed, light_curves if self.max_epochs > 0 else None)
            if self.max_epochs > 0:
                train(self.net_, len(light_curves), seed)
                self._release_training_data()
        self.net_.module_.eval()
        return self

    def _architecture(self):
        """Architecture and starting weights: from ``pretrained``, else the parameters."""
        if self.pretrained is None:
            return {key: getattr(self, key) for key in ARCHITECTURE_KEYS}, None
        config, state_dict = load_pretrained(self.pretrained)
        config_file, weights_file = model_files(self.pretrained)
        missing = [key for key in ARCHITECTURE_KEYS if key not in config]
        if missing:
            raise ValueError(f"{config_file}: the config lacks {missing}.")
        config = {key: config[key] for key in ARCHITECTURE_KEYS}
        # Before the model is built: weights that do not fit fail here, naming
        # the file, rather than after allocating the model their config describes.
        module_params = {key: config[key] for key in ARCHITECTURE_KEYS if key != "max_obs"}
        check_state_dict(expected_shapes(AstromerModel, **module_params), state_dict,
                         weights_file)
        return config, state_dict

    def _initialize_net(self, seed, light_curves=None):
        """Build ``net_`` (with its training data loaders when ``light_curves`` is given)."""
        config, state_dict = self._architecture()
        self.config_ = config
        self.device_ = resolve_device(self.device)
        module_params = {key: config[key] for key in ARCHITECTURE_KEYS if key != "max_obs"}
        training_params = {} if light_curves is None else self._training_params(light_curves, seed)
        self.net_ = AstromerNet(
            AstromerModel,
            **{f"module__{key}": value for key, value in module_params.items()},
            module__dropout=self.dropout,
            optimizer=torch.optim.Adam,
            optimizer__betas=(0.9, 0.98),
            optimizer__eps=1e-9,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_train__shuffle=True,
            device=self.device_,
            verbose=self.verbose,
            **{"train_split": None, "callbacks": list(self.callbacks or []), **training_params},
        )
        self.net_.initialize()
        if state_dict is not None:
            self.net_.module_.load_state_dict(state_dict, strict=True)
        self._n_features_out = config["d_model"] * (2 if self.pooling == "mean_std" else 1)

    def _training_params(self, light_curves, seed):
        """Data loaders, validation split and early stopping for ``fit``."""
        n_samples = len(light_curves)
        n_valid = int(n_samples * (self.validation_fraction or 0))
        collate = dict(
            light_curves=light_curves,
            max_obs=self.config_["max_obs"],
            pad_to_max_obs=self.config_["variant"] == "paper",
            mask_frac=self.mask_frac,
            same_frac=self.same_frac,
            random_frac=self.random_frac,
        )
        params = {"iterator_train__collate_fn": MaskedWindowCollate(**collate, seed=seed)}
        callbacks = list(self.callbacks or [])
        if n_valid >= 1 and n_samples - n_valid >= 1:
            params["train_split"] = ValidSplit(n_valid / n_samples, random_state=seed)
            params["iterator_valid__collate_fn"] = MaskedWindowCollate(
                **collate, seed=seed + 1, fixed=True
            )
            callbacks.append(
                ("early_stopping", EarlyStopping(patience=self.patience, load_best=True,
                                                 sink=print if self.verbose else _silent))
            )
        elif self.validation_fraction:
            warnings.warn(
                f"{n_samples} light curve(s) are too few for validation_fraction="
                f"{self.validation_fraction}; training on all without early stopping.",
                UserWarning,
            )
        params["callbacks"] = callbacks
        return params

    def _release_training_data(self):
        """Drop the training light curves held by the loaders, so pickles stay small."""
        for name in ("iterator_train__collate_fn", "iterator_valid__collate_fn"):
            collate = getattr(self.net_, name, None)
            if isinstance(collate, MaskedWindowCollate):
                collate.light_curves = None

    # ------------------------------------------------------------ inference
    @contextlib.contextmanager
    def _inference_context(self):
        """No autograd, and autocast when a reduced ``precision`` is asked for."""
        dtype = PRECISIONS[self.precision]
        device_type = torch.device(self.net_.device).type
        with torch.inference_mode(), torch.autocast(device_type, dtype=dtype,
                                                    enabled=dtype is not None):
            yield

    def _inference_args(self):
        check_is_fitted(self, "net_")
        batch_size, max_tokens = _inference.inference_batching(self.inference_batch_size,
                                                               self.net_.device)
        return dict(
            max_obs=self.config_["max_obs"],
            batch_size=batch_size,
            max_tokens=max_tokens,
            pad_to_max_obs=self.config_["variant"] == "paper",
            device=self.net_.device,
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
            (``2 * d_model`` for ``pooling="mean_std"``).
        """
        args = self._inference_args()
        module = self.net_.module_.eval()
        pooled = []
        for first_index, chunk in iter_light_curve_chunks(X, TRANSFORM_CHUNK_SIZE):
            light_curves = check_light_curves(chunk, first_index=first_index)
            with self._inference_context():
                pooled.append(_inference.pool_light_curves(
                    module.encoder, light_curves, pooling=self.pooling, **args))
        return np.concatenate(pooled)

    def embed_observations(self, X):
        """Per-observation embeddings (the paper's "attention vectors").

        Returns
        -------
        list of float32 ndarray of shape (L_i, d_model)
            Item ``i`` belongs to light curve ``i``, in the order of its
            validated observations (sorted by time; dropped or merged
            observations are announced by a warning).
        """
        args = self._inference_args()
        light_curves = check_light_curves(X)
        with self._inference_context():
            embeddings, _ = _inference.per_observation_outputs(
                self.net_.module_.eval(), light_curves, reconstruction=False, **args
            )
        return light_curves.split(embeddings)

    def reconstruct(self, X):
        """Reconstructed magnitudes of every observation, nothing masked.

        Returns
        -------
        list of float64 ndarray of shape (L_i,)
            Magnitudes in the input's scale (each window's mean added back).
        """
        args = self._inference_args()
        light_curves = check_light_curves(X)
        with self._inference_context():
            _, reconstruction = _inference.per_observation_outputs(
                self.net_.module_.eval(), light_curves, embeddings=False, **args
            )
        return light_curves.split(reconstruction)

    def score(self, X, y=None):
        """Negative masked-reconstruction RMSE (magnitudes), with a fixed mask seed.

        Higher is better, so model selection can use it directly.

        Parameters
        ----------
        X : light curves
        y : None
            Ignored.

        Returns
        -------
        float
        """
        args = self._inference_args()
        light_curves = check_light_curves(X)
        with self._inference_context():
            rmse = _inference.masked_rmse_score(
                self.net_.module_.eval(), light_curves, seed=SCORE_MASK_SEED,
                mask_frac=self.mask_frac, same_frac=self.same_frac,
                random_frac=self.random_frac, **args,
            )
        return -rmse

    # ---------------------------------------------------------- persistence
    def save_pretrained(self, directory):
        """Save the fitted model as ``config.json`` + ``model.safetensors``.

        The directory loads with :meth:`from_pretrained` or as
        ``AstromerEmbedder(pretrained=directory)``, without unpickling code,
        on any device.
        """
        check_is_fitted(self, "net_")
        config = {**self.config_, **{key: getattr(self, key) for key in SAVED_PARAMS}}
        save_model(directory, config, self.net_.module_.state_dict())

    @classmethod
    def from_pretrained(cls, source, **params):
        """A ready-to-use embedder with the weights of ``source``.

        Parameters
        ----------
        source : str or path-like
            ``"macho"``, ``"atlas"``, a published zip or folder, or a
            directory written by :meth:`save_pretrained`.
        **params
            Other constructor parameters (e.g. ``device``, ``pooling``,
            ``max_epochs`` for a later fine-tuning ``fit``). Settings saved
            with the model (pooling, masking fractions, batch size, dropout)
            are restored unless given here; the returned estimator holds
            them as its parameters, so its clones keep them. (The
            constructor, ``AstromerEmbedder(pretrained=source)``, does not
            restore them: see ``pretrained``.)

        Returns
        -------
        AstromerEmbedder
            Fitted: ``transform`` works at once.

        Raises
        ------
        ValueError
            Naming the file, when the model's files are malformed or a saved
            setting is out of range.
        """
        config, _ = load_pretrained(source)
        saved = {key: config[key] for key in SAVED_PARAMS if key in config and key not in params}
        try:
            validate_parameter_constraints(
                {key: cls._parameter_constraints[key] for key in saved}, saved,
                caller_name=cls.__name__)
        except InvalidParameterError as error:
            raise ValueError(f"{model_files(source)[0]}: saved setting: {error}") from None
        estimator = cls(pretrained=source, **{"max_epochs": 0, **saved, **params})
        estimator._validate_params()
        with torch.random.fork_rng(devices=[]):
            estimator._initialize_net(seed=0)
        estimator.net_.module_.eval()
        return estimator

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.two_d_array = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        tags.non_deterministic = self.random_state is None
        return tags


def _train_in_process(net, n_samples, seed):
    """Run ``net``'s training epochs over light curves ``0..n_samples-1``."""
    net.partial_fit(LightCurveIndexDataset(n_samples), None)


def _silent(*args, **kwargs):
    """A sink that prints nothing."""
