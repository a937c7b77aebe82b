"""Saving and loading fitted AstromerEmbedders (a mixin of the estimator).

The model format is the library's own (``config.json`` + ``model.safetensors``,
see :mod:`sklearn_astromer.pretrained`): weights load without unpickling code.
"""

import torch
from sklearn.utils._param_validation import InvalidParameterError, validate_parameter_constraints

from . import _output
from ..pretrained import load_pretrained, model_files

# Estimator settings saved beside the weights so that from_pretrained restores them.
SAVED_PARAMS = ("dropout", "mask_frac", "random_frac", "same_frac", "pooling", "band_pooling",
                "batch_size", "include_descriptors")


class PersistenceMixin:
    """What :class:`AstromerEmbedder` saves, and ``from_pretrained``."""

    def _saved_model(self):
        """``(config, state_dict)`` that :meth:`save_pretrained` writes."""
        config = {**self.config_, **{key: getattr(self, key) for key in SAVED_PARAMS}}
        state_dict = dict(self.net_.module_.state_dict())
        if hasattr(self, "output_projection_"):
            config.update(n_components=len(self.output_projection_["components"]),
                          output_pooling=self.output_pooling_)
            state_dict.update({key: torch.from_numpy(value) for key, value in
                               _output.projection_tensors(self.output_projection_).items()})
        if hasattr(self, "bands_"):
            config["bands"] = self.bands_.tolist()
        if hasattr(self, "classifier_net_"):
            config["classes"] = self.classes_.tolist()
            state_dict.update({f"classifier.{key}": value for key, value in
                               self.classifier_net_.module_.classifier.state_dict().items()})
        return config, state_dict

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
            Fitted: ``transform`` works at once (and ``predict`` for a model
            saved after supervised fine-tuning).

        Raises
        ------
        ValueError
            Naming the file, when the model's files are malformed or a saved
            setting is out of range.
        """
        config, _ = load_pretrained(source)
        saved = {key: config[key] for key in (*SAVED_PARAMS, "n_components")
                 if key in config and key not in params}
        try:
            validate_parameter_constraints(
                {key: cls._parameter_constraints[key] for key in saved}, saved,
                caller_name=cls.__name__)
        except InvalidParameterError as error:
            raise ValueError(f"{model_files(source)[0]}: saved setting: {error}") from None
        estimator = cls(pretrained=source, **{"max_epochs": 0, **saved, **params})
        estimator._validate_params()
        with torch.random.fork_rng(devices=[]):
            estimator._initialize_net(0, estimator._resolve_architecture())
        estimator._bands_from_parameter()
        if estimator.n_components is not None and not hasattr(estimator, "output_projection_"):
            raise ValueError(f"{source} was saved without output components: fit an "
                             f"AstromerEmbedder(pretrained=..., n_components="
                             f"{estimator.n_components}) to get them.")
        estimator.net_.module_.eval()
        return estimator
