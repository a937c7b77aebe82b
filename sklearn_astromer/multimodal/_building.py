"""How a MultimodalCLIPEmbedder's nets are built, loaded and trained (a mixin of the estimator).

The architecture (from the parameters, ``photometry_init`` or saved
weights), the CLIP net and the fine-tuning net with their training stages
(:func:`~sklearn_astromer._training.stage_params`: AstroM3's gradient clip,
warm-up then reduce-on-plateau schedule and early stopping after the
warm-up).
"""

import numpy as np
import torch

from ._config import saved_architecture
from ._collate import MultimodalCollate
from ._data import PHOTOMETRY
from ._layout import photometry_weights
from ._net import (
    ConfiguredClassifier,
    ConfiguredCLIPModel,
    MultimodalClassifierNet,
    MultimodalCLIPNet,
    TOWER_INPUT_DEFAULTS,
    remap_logit_scales,
    tower_inputs,
)
from ._schedule import EarlyStoppingAfterWarmup, WarmupThenPlateau
from .._torch_common import LightCurveIndexDataset, release_training_data, silent
from .._training import stage_params
from ..nn import ContrastiveLoss
from ..pretrained import model_files

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


class ModelBuildingMixin:
    """Building, loading and training the nets of :class:`MultimodalCLIPEmbedder`."""

    def _architecture(self, saved):
        if saved is not None:
            architecture = saved_architecture(saved[0])
        else:
            published = PUBLISHED_SIZES[self.photometry_encoder]
            # ASTROMER's encoder variant and time-encoding base; AstroM3's tower has neither.
            astromer = ({"variant": "corrected", "pe_base": 10000.0, **TOWER_INPUT_DEFAULTS}
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
        self._resolve_device()
        n_modalities = len(self.modalities_)
        self.net_ = MultimodalCLIPNet(
            ConfiguredCLIPModel, module__architecture=self.config_,
            criterion=ContrastiveLoss, criterion__n_modalities=max(n_modalities, 2),
            criterion__init_scale=INIT_SCALE, optimizer=torch.optim.Adam,
            optimizer__weight_decay=self.weight_decay, lr=self.lr, max_epochs=self.max_epochs,
            batch_size=self.batch_size, iterator_train__shuffle=True, device=self.device_,
            verbose=self.verbose, autocast_dtype=self._training_dtype(),
            callbacks__print_log__sink=self._log_sink(),
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
        inputs = tower_inputs(self.config_)
        collate = dict(data=data, max_obs=self.config_["max_obs"], labels=labels,
                       pad_to_max_obs=self.config_.get("variant") == "paper",
                       scale_magnitudes=inputs["magnitude_scaling"] == "std",
                       period_input=inputs["period_input"])
        sink = print if self.verbose else silent
        return stage_params(
            n_samples=len(data), validation_fraction=self.validation_fraction, seed=seed,
            train_collate=MultimodalCollate(**collate, seed=seed),
            valid_collate=MultimodalCollate(**collate, seed=seed + 1, fixed=True),
            stage=stage, labels=labels, stratify=False, min_valid=2,
            gradient_clip=GRADIENT_CLIP, drop_last_above=self.batch_size,
            early_stopping=lambda: EarlyStoppingAfterWarmup(
                self.warmup_epochs, patience=self.patience, load_best=True, sink=sink),
            lr_schedule=lambda n_train, monitor: WarmupThenPlateau(
                self.warmup_epochs, monitor=monitor, factor=LR_FACTOR,
                patience=max(1, self.patience // 2)),
            extra_callbacks=extra_callbacks or [], what="objects")

    def _fine_tune(self, data, labels, saved, seed):
        """Train a linear head on the fused embedding and every tower (cross-entropy)."""
        train = self.fine_tune_epochs > 0
        net = self._classifier_net(saved, data if train else None, labels, seed)
        if train:
            net.partial_fit(LightCurveIndexDataset(len(data)), None)
            release_training_data(net)
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
            verbose=self.verbose, autocast_dtype=self._training_dtype(),
            callbacks__print_log__sink=self._log_sink(),
            **self._training_params(data, seed, None, "fine_tune", labels),
        )
        net.initialize()
        net.module_.model.load_state_dict(self.net_.module_.state_dict())
        saved_classes = None if saved is None else saved[0].get("classes")
        if saved_classes is not None and np.array_equal(np.asarray(saved_classes), self.classes_):
            net.module_.head.load_state_dict({key[len("head."):]: value for key, value
                                              in saved[1].items() if key.startswith("head.")})
        return net
