"""What a MultimodalCLIPEmbedder saves, and how it comes back (a mixin of the estimator).

The model format is the library's own (``config.json`` + ``model.safetensors``,
see :mod:`sklearn_astromer.pretrained`): weights load without unpickling code.
"""

import numpy as np
import torch

from ._data import METADATA, PHOTOMETRY, SPECTRUM
from ._layout import ESTIMATOR_NAME, fit_layout, layout_to_json, load_saved, saved_requested

# Settings saved beside the weights so that from_pretrained restores them.
SAVED_PARAMS = ("dropout", "batch_size", "output")


class PersistenceMixin:
    """What :class:`MultimodalCLIPEmbedder` saves, and ``from_pretrained``."""

    def _saved_model(self):
        """``(config, state_dict)`` that :meth:`save_pretrained` writes: the architecture,
        the fitted preprocessing, the weights, the loss's scales and any head."""
        config = {**self.config_, **layout_to_json(self.layout_), "estimator": ESTIMATOR_NAME,
                  **{key: getattr(self, key) for key in SAVED_PARAMS}}
        state = {f"model.{k}": v for k, v in self.net_.module_.state_dict().items()}
        state.update({f"loss.{k}": v for k, v in self.net_.criterion_.state_dict().items()})
        if hasattr(self, "classifier_net_"):
            config["classes"] = self.classes_.tolist()
            head = self.classifier_net_.module_.head.state_dict()
            state.update({f"head.{k}": v for k, v in head.items()})
        return config, state

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
