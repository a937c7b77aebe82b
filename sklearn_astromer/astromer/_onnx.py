"""Export of a fitted :class:`AstromerEmbedder` to ONNX (a mixin of the estimator).

The exported graph is the encoder followed by its pooling's per-window
statistics (:class:`~sklearn_astromer.nn.pooling.WindowPooling`): batches of
model-ready windows in, one row of statistics per window out. What surrounds
it in ``transform`` (validation, the period search, windowing, combining a
light curve's windows, the output components, the descriptors) is numpy, and
:class:`sklearn_astromer.onnx_runtime.OnnxEmbedder` runs it with ONNX Runtime
from the settings written into the model's metadata.
"""

import contextlib
import copy
import io
import json
import logging
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from .. import __version__
from .._validation import RaggedLightCurves
from .._window_batches import model_inputs
from ..nn.pooling import WindowPooling
from ..onnx_runtime import METADATA_KEY, METADATA_VERSION, OUTPUT_NAME
from ..preprocessing import gather_windows

#: The architecture settings an exported model's runtime needs.
RUNTIME_CONFIG_KEYS = ("max_obs", "variant", "magnitude_scaling", "period_input", "n_bands")


def _import_onnx_exporter():
    try:
        import onnx  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError as error:
        raise ImportError(
            "to_onnx needs the onnx and onnxscript packages: pip install "
            "'sklearn-astromer[onnx]'.") from error


@contextlib.contextmanager
def _quiet_exporter():
    """Keep the exporter's progress and its warnings about absent optional packages
    (torchvision) out of the user's log."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            # Both dynamic dimensions named "width" are one: the exporter says so.
            warnings.filterwarnings("ignore", message=".*axis name", category=UserWarning)
            warnings.filterwarnings("ignore", message=".*LeafSpec", category=FutureWarning)
            yield
    finally:
        logger.setLevel(level)


class OnnxExportMixin:
    """``to_onnx`` of :class:`AstromerEmbedder`."""

    def to_onnx(self, path, *, opset_version=None):
        """Write the fitted encoder and its pooling as an ONNX model.

        The model takes a batch of padded windows (``times``, ``magnitudes``,
        ``valid``; ``phases`` and ``descriptors`` with a period input;
        ``bands`` for a joint multi-band model) and returns each window's
        pooling statistics. Load it with
        :class:`~sklearn_astromer.onnx_runtime.OnnxEmbedder`, which needs only
        numpy and ONNX Runtime and gives what :meth:`transform` gives (output
        components and descriptors included), or with ONNX Runtime directly:
        the settings are in the model's metadata under ``"sklearn_astromer"``.

        Parameters
        ----------
        path : str or path-like
            Where to write the ``.onnx`` file (its folder must exist).
        opset_version : int or None, default=None
            ONNX opset; None: the exporter's default.

        Returns
        -------
        pathlib.Path
            The written file.

        Raises
        ------
        ImportError
            Without the ``onnx`` and ``onnxscript`` packages (the ``onnx`` extra).
        ValueError
            For a model that embeds the bands of multi-band light curves one at
            a time (``multiband="per_band"``): export the single-band model and
            embed each band with it.

        Notes
        -----
        The graph computes in float32 whatever the estimator's ``precision``.
        """
        check_is_fitted(self, "net_")
        _import_onnx_exporter()
        if hasattr(self, "bands_") and not self._joint():
            raise ValueError("to_onnx exports single-band and joint multi-band models; this one "
                             "embeds each band separately (multiband='per_band'). Export the "
                             "model fitted without bands and embed each band with it.")
        if hasattr(self, "output_projection_"):
            self._check_output_pooling()
        path = Path(path)
        encoder = copy.deepcopy(self.net_.module_.encoder).to("cpu", torch.float32).eval()
        model = WindowPooling(encoder, self.pooling).eval()
        inputs = {name: torch.from_numpy(np.ascontiguousarray(array))
                  for name, array in model_inputs(self._example_windows()).items()}
        batch, width = torch.export.Dim("batch"), torch.export.Dim("width")
        dynamic_shapes = {name: ({0: batch} if name == "descriptors" else {0: batch, 1: width})
                          for name in inputs}
        log = io.StringIO()
        with torch.no_grad(), contextlib.redirect_stdout(log), _quiet_exporter():
            program = torch.onnx.export(model, (), kwargs=inputs, dynamo=True,
                                        input_names=list(inputs), output_names=[OUTPUT_NAME],
                                        dynamic_shapes=dynamic_shapes,
                                        opset_version=opset_version, verbose=False)
        self._say(log.getvalue().strip())
        program.model.metadata_props[METADATA_KEY] = json.dumps(self._runtime_metadata(inputs))
        program.save(str(path))
        return path

    def _example_windows(self):
        """Two padded windows (three and two observations), shaped as this model reads them."""
        times = np.array([0.0, 1.0, 2.5, 0.0, 0.7])
        light_curves = RaggedLightCurves(
            values=np.column_stack([times, np.sin(times), np.full(5, 0.05)]),
            offsets=np.array([0, 3, 5]),
            bands=np.array([0, 1, 0, 1, 0]) % self.config_["n_bands"] if self._joint() else None)
        periods = None
        if self.config_["period_input"]:
            periods = (np.array([0.4, 0.3]), np.array([0.5, 0.6]))
        return gather_windows(light_curves, np.array([0, 1]), np.array([0, 0]),
                              light_curves.lengths, 3,
                              scale_magnitudes=self.config_["magnitude_scaling"] == "std",
                              periods=periods)

    def _runtime_metadata(self, inputs):
        """What :class:`~sklearn_astromer.onnx_runtime.OnnxEmbedder` needs besides the graph."""
        encoder = self.net_.module_.encoder
        combine = None
        if self.pooling == "weighted_layers" and hasattr(self, "classifier_net_"):
            head = self.classifier_net_.module_.classifier
            combine = {"input_mean": head.input_mean.detach().cpu().tolist(),
                       "input_scale": head.input_scale.detach().cpu().tolist(),
                       "weights": torch.softmax(head.layer_logits.detach().cpu(), 0).tolist()}
        projection = getattr(self, "output_projection_", None)
        return {
            "format_version": METADATA_VERSION,
            "library_version": __version__,
            "config": {key: self.config_.get(key, 0) for key in RUNTIME_CONFIG_KEYS},
            "bands": self.bands_.tolist() if hasattr(self, "bands_") else None,
            "pooling": self.pooling,
            "n_layers": len(encoder.blocks),
            "d_model": encoder.input_projection.out_features,
            "inputs": list(inputs),
            "combine_layers": combine,
            "projection": None if projection is None else {
                key: value.tolist() for key, value in projection.items()},
            "include_descriptors": bool(self.include_descriptors),
            "feature_names": self.get_feature_names_out().tolist(),
        }
