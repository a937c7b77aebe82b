"""How an AstromerEmbedder's nets are built, loaded and trained (a mixin of the estimator).

Kept apart from the estimator's public methods: the architecture (from the
parameters or from pretrained weights), the skorch nets of pre-training and
supervised fine-tuning with their loaders and callbacks, the period search
they share, and the output components fitted after training.
"""

import copy

import numpy as np
import torch
from skorch.callbacks import EarlyStopping
from sklearn.utils.validation import check_is_fitted

from . import _output, _supervised
from ._memory import check_memory
from ._net import AstromerNet, MaskedWindowCollate, WindowSampler
from .. import _encoder_inference as _inference
from .._window_batches import window_args
from .._finite import check_finite
from .._prepared import PreparedLightCurves
from .._training import stage_params, warmup_cosine_schedule
from .._torch_common import (LightCurveIndexDataset, release_training_data, resolve_device,
                             silent)
from ..nn import AstromerModel
from ..preprocessing.ranges import check_time_ranges
from ..pretrained import check_state_dict, expected_shapes, load_pretrained, model_files

ARCHITECTURE_KEYS = ("d_model", "n_layers", "n_heads", "d_ff", "variant", "pe_base", "max_obs",
                     "time_encoding", "period_input", "n_harmonics", "magnitude_scaling",
                     "n_bands")
# What a config written before a key existed means by it (the published weights' values).
ARCHITECTURE_DEFAULTS = {"time_encoding": "paper", "period_input": False, "n_harmonics": 4,
                         "magnitude_scaling": "none", "n_bands": 0}
MODULE_KEYS = ("d_model", "n_layers", "n_heads", "d_ff", "variant", "pe_base", "time_encoding",
               "period_input", "n_harmonics", "n_bands")
#: Most bands a joint multi-band model may embed (Rubin has six).
MAX_BANDS = 64
# The period input of new models: its phase harmonics, and whether it is on by default.
N_HARMONICS = 4
DEFAULT_PERIOD_INPUT = True
PERIOD_INPUT_KEYS = "encoder.period_embedding."
# Saved beside the weights by save_pretrained: the head's classes, the pooling
# the output components were fitted for.
SAVED_WITH_WEIGHTS = ("classes", "output_pooling", "bands")
# Gradient-norm clip of supervised fine-tuning: a fresh head's first large
# gradients would otherwise throw a pre-trained encoder far from its start.
FINE_TUNE_GRADIENT_CLIP = 1.0


class ModelBuildingMixin:
    """Building, loading and training the nets of :class:`AstromerEmbedder`."""

    def _fit_output_projection(self, prepared, seed):
        """With ``n_components``: the principal components of the fitted model's embeddings."""
        self.__dict__.pop("output_projection_", None)
        if self.n_components is None:
            return
        embeddings = self._pool_validated(prepared)
        self.output_projection_ = _output.fit_projection(embeddings, self.n_components, seed)
        self.output_pooling_ = self.pooling

    # --------------------------------------------------------------- inputs
    def _check_times(self, prepared):
        """Refuse (or warn about) times that this model's windows cannot carry."""
        check_time_ranges(prepared.light_curves, float32_mean=self.config_["variant"] == "paper",
                          max_obs=self.config_["max_obs"], first_index=prepared.first_index)

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

    def _prepare(self, X, first_index=0, allow_bands=False):
        """``X`` (or a chunk of it starting at ``first_index``) validated, periods to come;
        ``allow_bands``: multi-band light curves are welcome."""
        return PreparedLightCurves.from_input(X, first_index, n_jobs=torch.get_num_threads(),
                                              allow_bands=allow_bands,
                                              device=resolve_device(self.device))

    def _validated(self, X, first_index=0, allow_bands=False):
        """``X`` (or a chunk of it) prepared and checked for this model."""
        prepared = self._prepare(X, first_index, allow_bands)
        if allow_bands:
            self._check_bands(prepared)
        self._check_times(prepared)
        self._check_memory(prepared.light_curves)
        return prepared

    def _window_args(self, prepared):
        """How inference cuts ``prepared`` into batches of windows (periods included)."""
        check_is_fitted(self, "net_")
        return window_args(self.config_, self.inference_batch_size,
                                      self.net_.device, self._periods(prepared))

    # --------------------------------------------------------- architecture
    def _architecture(self):
        """``(config, state_dict)``: from ``pretrained`` (the weights' own), else the parameters."""
        if self.pretrained is None:
            config = {key: getattr(self, key) for key in ARCHITECTURE_KEYS
                      if key not in ("n_harmonics", "n_bands")}
            config["period_input"] = (DEFAULT_PERIOD_INPUT if self.period_input == "auto"
                                      else bool(self.period_input))
            config["n_harmonics"] = N_HARMONICS
            config["n_bands"] = (len(self.bands_) if hasattr(self, "bands_")
                                 and self.multiband != "per_band" else 0)
            return config, None
        config, state_dict = load_pretrained(self.pretrained)
        config_file, weights_file = model_files(self.pretrained)
        missing = [key for key in ARCHITECTURE_KEYS
                   if key not in config and key not in ARCHITECTURE_DEFAULTS]
        if missing:
            raise ValueError(f"{config_file}: the config lacks {missing}.")
        config = {key: config.get(key, ARCHITECTURE_DEFAULTS.get(key)) for key in
                  (*ARCHITECTURE_KEYS, *SAVED_WITH_WEIGHTS)}
        if self.period_input is False and config["period_input"]:
            raise ValueError(f"{config_file}: these weights were trained with a period input; "
                             "period_input=False cannot remove it.")
        if self.period_input is True:
            config["period_input"] = True
        self._check_saved_bands(config, config_file)
        # Before the model is built: weights that do not fit fail here, naming
        # the file, rather than after allocating the model their config describes.
        shapes = expected_shapes(AstromerModel, **{key: config[key] for key in MODULE_KEYS})
        check_state_dict(shapes, state_dict, weights_file,
                         optional=[name for name in shapes if name.startswith(PERIOD_INPUT_KEYS)],
                         ignored_prefixes=("classifier.", "output_projection."))
        return config, state_dict

    def _resolve_architecture(self):
        """Set ``config_`` and ``device_``; return the starting weights (or None) and what
        else was saved with them (``{"classes": ..., "output_pooling": ...}``)."""
        config, state_dict = self._architecture()
        saved = {key: config.pop(key, None) for key in SAVED_WITH_WEIGHTS}
        self.config_ = config
        self._resolve_device()
        return state_dict, saved

    def _initialize_net(self, seed, weights, pretraining=None):
        """Build ``net_`` (and ``classifier_net_`` for weights saved with a head).

        Parameters
        ----------
        seed : int
        weights : tuple
            ``(state_dict or None, saved)`` from :meth:`_resolve_architecture`.
        pretraining : tuple or None
            ``(light_curves, periods)`` to pre-train on: adds the loaders,
            validation split and callbacks.
        """
        config = self.config_
        training_params = ({"train_split": None, "callbacks": list(self.callbacks or [])}
                           if pretraining is None
                           else self._pretraining_params(*pretraining, seed))
        self.net_ = AstromerNet(
            AstromerModel,
            **{f"module__{key}": config[key] for key in MODULE_KEYS},
            module__dropout=self.dropout,
            optimizer=torch.optim.Adam,
            optimizer__betas=(0.9, 0.98),
            optimizer__eps=1e-9,
            lr=self.lr,
            max_epochs=self.max_epochs,
            iterator_train__shuffle=True,
            device=self.device_,
            verbose=self.verbose,
            callbacks__print_log__sink=self._log_sink(),
            autocast_dtype=self._training_dtype(),
            **{"batch_size": self.batch_size, **training_params},
        )
        self.net_.initialize()
        state_dict, saved = weights
        if state_dict is not None:
            self._load_weights(state_dict, saved)

    def _load_weights(self, state_dict, saved):
        """Load pre-trained weights; a period input the weights lack starts at zero.

        A classification head saved with the weights is restored unless this
        estimator fine-tunes a new one; saved output components are restored
        when ``n_components`` asks for them (``fit`` fits them anew).
        """
        model_weights = {key: value for key, value in state_dict.items()
                         if not key.startswith(("classifier.", "output_projection."))}
        missing, unexpected = self.net_.module_.load_state_dict(model_weights, strict=False)
        added = [key for key in missing if key.startswith("encoder.period_embedding.")]
        if unexpected or set(missing) - set(added):
            raise ValueError(f"The weights of {self.pretrained!r} do not fit the architecture "
                             f"of their config: missing {sorted(set(missing) - set(added))}, "
                             f"unexpected {sorted(unexpected)}.")
        if added:
            self.net_.module_.encoder.period_embedding.zero_()
        if saved["bands"] is not None:
            self.bands_ = saved_bands(saved["bands"], model_files(self.pretrained)[0])
        projection = _output.projection_from(state_dict)
        if self.n_components is not None and projection is not None:
            self.output_projection_, self.output_pooling_ = projection, saved["output_pooling"]
        saved_classes = saved["classes"]
        if saved_classes is not None and self.fine_tune != "supervised":
            self.classes_ = np.asarray(saved_classes)
            model = _supervised.make_classifier_model(self.net_.module_.encoder, len(self.classes_))
            _supervised.load_head(model.classifier,
                                  {key[len("classifier."):]: value for key, value
                                   in state_dict.items() if key.startswith("classifier.")},
                                  model_files(self.pretrained)[1])
            self.classifier_net_ = self._classifier_net(model, None, 0)

    def _periods(self, prepared):
        """``(frequencies, powers)`` of ``prepared`` for a period input, else None."""
        return prepared.periods if self.config_["period_input"] else None

    def _sampler(self, light_curves, periods, windows_per_curve=1):
        return WindowSampler(light_curves, self.config_["max_obs"],
                             pad_to_max_obs=self.config_["variant"] == "paper",
                             scale_magnitudes=self.config_["magnitude_scaling"] == "std",
                             periods=periods, windows_per_curve=windows_per_curve)

    def _pretraining_params(self, light_curves, periods, seed):
        """Loaders, validation split, early stopping and LR schedule of pre-training."""
        masking = dict(mask_frac=self.mask_frac, same_frac=self.same_frac,
                       random_frac=self.random_frac,
                       uncertainty_weights=self.loss_weighting == "uncertainty")
        params = self._stage_params(
            len(light_curves), self.max_epochs, seed, stage="pretraining",
            train_collate=MaskedWindowCollate(
                self._sampler(light_curves, periods, self.windows_per_curve), **masking,
                seed=seed),
            valid_collate=MaskedWindowCollate(self._sampler(light_curves, periods), **masking,
                                              seed=seed + 1, fixed=True),
            extra_callbacks=self.callbacks or [])
        return {**params, "batch_size": self._curves_per_batch()}

    def _curves_per_batch(self):
        return max(1, self.batch_size // self.windows_per_curve)

    def _stage_params(self, n_samples, max_epochs, seed, **params):
        """:func:`~sklearn_astromer._training.stage_params` with this estimator's early
        stopping and learning-rate schedule."""
        sink = print if self.verbose else silent
        schedule = (warmup_cosine_schedule(max_epochs, self._curves_per_batch())
                    if self.lr_schedule == "warmup_cosine" else None)
        return stage_params(
            n_samples=n_samples, validation_fraction=self.validation_fraction, seed=seed,
            early_stopping=lambda: EarlyStopping(patience=self.patience, load_best=True,
                                                 sink=sink),
            lr_schedule=schedule, **params)

    def _fit_supervised(self, prepared, labels, seed):
        """Train a classification head on ``labels``, then the encoder with it.

        Linear probing, then fine-tuning (Kumar et al. 2022): the head first
        learns alone on the frozen encoder's pooled layers (``head_epochs``),
        so that training the encoder starts from a head that already
        classifies; the encoder then trains with it (``fine_tune_epochs``).
        On the validation curves, the fine-tuned model is kept only if its
        loss is lower than the probed head's on the frozen encoder; otherwise
        the encoder comes back as it was (``encoder_fine_tuned_`` says which).
        """
        model = _supervised.make_classifier_model(self.net_.module_.encoder, len(self.classes_))
        if self.fine_tune_epochs == 0 and self.head_epochs == 0:
            self.classifier_net_ = self._classifier_net(model, None, seed)
            self.encoder_fine_tuned_ = False
            return
        light_curves, periods = prepared.light_curves, self._periods(prepared)
        train, valid = _supervised.split_labelled(len(light_curves), labels,
                                                  self.validation_fraction, seed)
        window_args = self._window_args(prepared)
        with self._inference_context():
            pooled = _inference.pool_layers(model.encoder.eval(), light_curves,
                                            device=self.device_, **window_args)
        # One light curve that overflows the encoder would spoil every curve's statistics.
        check_finite(pooled.float().numpy(), light_curves, "pooled layers for the head")
        model.classifier.set_input_statistics(pooled[train])
        weights = _supervised.class_weights(labels[train], len(self.classes_), self.class_weight)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            probe_epochs = 0
            if self.head_epochs:
                probe_epochs = _supervised.train_head(
                    model.classifier, pooled, labels, train, valid, epochs=self.head_epochs,
                    lr=self.fine_tune_lr or self.lr, batch_size=self.batch_size,
                    patience=self.patience, weights=weights, device=self.device_)
            probed = copy.deepcopy(model.state_dict()) if len(valid) else None
            if probed is not None:
                with torch.no_grad():
                    logits = model.classifier(pooled[valid].float().to(self.device_)).cpu()
                probed_loss = _supervised.validation_loss(logits, labels[valid], weights)
                self._say(f"head probed on the frozen encoder for {probe_epochs} epoch(s): "
                          f"validation loss {probed_loss:.4f}")
            net = self._classifier_net(
                model, (light_curves, periods, labels) if self.fine_tune_epochs else None, seed)
            if self.fine_tune_epochs:
                net.partial_fit(LightCurveIndexDataset(len(light_curves)), labels)
                release_training_data(net)
        self.encoder_fine_tuned_ = self.fine_tune_epochs > 0
        if probed is not None and self.fine_tune_epochs:
            validation = prepared.subset(valid)
            with self._inference_context():
                logits = _supervised.predict_logits(
                    model.eval(), validation.light_curves, device=self.device_,
                    **self._window_args(validation))
            fine_tuned_loss = _supervised.validation_loss(logits, labels[valid], weights)
            if fine_tuned_loss >= probed_loss:
                model.load_state_dict(probed)
                self.encoder_fine_tuned_ = False
            self._say(f"fine-tuned encoder {'kept' if self.encoder_fine_tuned_ else 'dropped'}"
                      f": validation loss {fine_tuned_loss:.4f} against the probe's "
                      f"{probed_loss:.4f}")
        net.module_.eval()
        self.classifier_net_ = net

    def _classifier_net(self, model, data, seed):
        """The supervised fine-tuning net (with its loaders when ``data`` is given)."""
        params = {"train_split": None, "callbacks": []}
        weights = None
        if data is not None:
            light_curves, periods, labels = data
            weights = _supervised.class_weights(labels, len(self.classes_), self.class_weight)
            params = self._stage_params(
                len(light_curves), self.fine_tune_epochs, seed, stage="fine_tuning",
                labels=labels, gradient_clip=FINE_TUNE_GRADIENT_CLIP,
                train_collate=_supervised.LabelledWindowCollate(
                    self._sampler(light_curves, periods, self.windows_per_curve), labels,
                    seed=seed),
                valid_collate=_supervised.LabelledWindowCollate(
                    self._sampler(light_curves, periods), labels, seed=seed + 1, fixed=True))
        return _supervised.make_classifier_net(
            model, weights=weights, lr=self.fine_tune_lr or self.lr,
            max_epochs=self.fine_tune_epochs, batch_size=self._curves_per_batch(),
            device=self.device_,
            verbose=self.verbose, callbacks__print_log__sink=self._log_sink(),
            autocast_dtype=self._training_dtype(), **params)


def check_n_bands(n_bands, origin):
    """Refuse a saved ``n_bands`` that is no integer in [0, MAX_BANDS]."""
    if not isinstance(n_bands, int) or isinstance(n_bands, bool) or not 0 <= n_bands <= MAX_BANDS:
        raise ValueError(f"{origin}: 'n_bands' must be an integer from 0 to {MAX_BANDS}, not "
                         f"{n_bands!r}.")


def saved_bands(bands, origin):
    """The band codes saved with a model, checked."""
    codes = np.asarray(bands)
    if (codes.ndim != 1 or not len(codes) or codes.dtype.kind not in "iu" or (codes < 0).any()
            or (np.diff(codes) <= 0).any()):
        raise ValueError(f"{origin}: 'bands' must be increasing non-negative integer band "
                         f"codes, not {bands!r}.")
    return codes.astype(np.int64)
