"""Embed light curves with an exported ASTROMER model through ONNX Runtime, without PyTorch.

:meth:`AstromerEmbedder.to_onnx <sklearn_astromer.AstromerEmbedder.to_onnx>`
writes the encoder and its pooling as an ONNX graph, with the settings of
the rest of ``transform`` in the model's metadata. :class:`OnnxEmbedder`
runs that rest with numpy (validation, the period search, windowing,
combining each light curve's windows, output components, descriptors) and
the graph with ONNX Runtime: what an alert broker serving models without
PyTorch needs. This module imports neither torch nor the estimators.
"""

import json
import os

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ._curve_pooling import CurveStatistics, n_statistics, project
from ._finite import check_finite
from ._prepared import PreparedLightCurves
from ._validation import TRANSFORM_CHUNK_SIZE, iter_light_curve_chunks
from ._window_batches import iter_window_batches, model_inputs, window_args
from .preprocessing.ranges import check_time_ranges

#: The model metadata key that holds the runtime settings (JSON).
METADATA_KEY = "sklearn_astromer"
#: Version of that metadata's layout; a runtime reads only the versions it knows.
METADATA_VERSION = 1
#: Name of the graph's output: per-window pooling statistics.
OUTPUT_NAME = "window_statistics"


def _import_onnxruntime():
    try:
        import onnxruntime
    except ImportError as error:
        raise ImportError("OnnxEmbedder needs onnxruntime: pip install "
                          "'sklearn-astromer[onnx]' (or onnxruntime alone).") from error
    return onnxruntime


def read_metadata(session, path):
    """The runtime settings of an exported model, checked.

    Parameters
    ----------
    session : onnxruntime.InferenceSession
    path : path-like
        The model file (for messages).

    Returns
    -------
    dict

    Raises
    ------
    ValueError
        When the model was not written by ``to_onnx`` or by a newer layout.
    """
    metadata = session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
    if metadata is None:
        raise ValueError(f"{path} has no {METADATA_KEY!r} metadata: it was not written by "
                         "AstromerEmbedder.to_onnx.")
    metadata = json.loads(metadata)
    if metadata.get("format_version") != METADATA_VERSION:
        raise ValueError(f"{path} has metadata layout {metadata.get('format_version')!r}; this "
                         f"version of sklearn-astromer reads layout {METADATA_VERSION}.")
    return metadata


class OnnxEmbedder(TransformerMixin, BaseEstimator):
    """Embed light curves with a model exported by ``AstromerEmbedder.to_onnx``.

    ``transform`` gives what the exported estimator's ``transform`` gives, to
    float32 rounding (the inputs are checked the same way, with the same
    errors), using numpy and ONNX Runtime only.

    Parameters
    ----------
    path : str or path-like
        The ``.onnx`` file.
    batch_size : int or "auto", default="auto"
        Windows per ONNX Runtime call; ``"auto"``: a budget of padded
        observations per call, as the estimator's ``inference_batch_size``.
    n_jobs : int, default=-1
        Processes of the period search (models with a period input); -1: all
        cores.
    providers : list of str or None, default=None
        ONNX Runtime execution providers; None: ``["CPUExecutionProvider"]``.
    n_threads : int or None, default=None
        Threads of each ONNX Runtime call; None: ONNX Runtime's default (all
        physical cores).

    Attributes
    ----------
    session_ : onnxruntime.InferenceSession
        The loaded model.
    metadata_ : dict
        Its runtime settings (architecture, pooling, output components,
        feature names).
    bands_ : ndarray of int
        The band codes of a joint multi-band model (absent otherwise).
    n_features_out_ : int
        Columns of ``transform``'s output.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn_astromer import AstromerEmbedder
    >>> from sklearn_astromer.datasets import make_light_curves
    >>> from sklearn_astromer.onnx_runtime import OnnxEmbedder
    >>> X, _ = make_light_curves(2, classes=["RRab", "EA"], random_state=0)
    >>> embedder = AstromerEmbedder(d_model=16, n_layers=1, n_heads=2, d_ff=16,
    ...                             max_epochs=1, random_state=0).fit(X)
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = embedder.to_onnx(Path(folder.name) / "model.onnx")
    >>> runtime = OnnxEmbedder(path).fit()
    >>> runtime.transform(X).shape
    (4, 16)
    >>> bool(abs(runtime.transform(X) - embedder.transform(X)).max() < 1e-4)
    True
    >>> folder.cleanup()
    """

    def __init__(self, path, *, batch_size="auto", n_jobs=-1, providers=None, n_threads=None):
        self.path = path
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.providers = providers
        self.n_threads = n_threads

    def fit(self, X=None, y=None):
        """Load the model (nothing is learned).

        Parameters
        ----------
        X, y : ignored
            Accepted for pipelines.

        Returns
        -------
        self : OnnxEmbedder
        """
        onnxruntime = _import_onnxruntime()
        options = onnxruntime.SessionOptions()
        if self.n_threads is not None:
            options.intra_op_num_threads = int(self.n_threads)
        self.session_ = onnxruntime.InferenceSession(
            os.fspath(self.path), sess_options=options,
            providers=self.providers or ["CPUExecutionProvider"])
        self.metadata_ = read_metadata(self.session_, self.path)
        if self.metadata_["bands"] is not None:
            self.bands_ = np.asarray(self.metadata_["bands"], dtype=np.int64)
        self.n_features_out_ = len(self.metadata_["feature_names"])
        return self

    def transform(self, X):
        """Embed each light curve as one vector.

        Parameters
        ----------
        X : list of (L_i, 2|3) arrays, (L_i, 4) arrays for a multi-band model, or ndarray
            Light curves, as ``AstromerEmbedder.transform`` takes them.

        Returns
        -------
        float32 ndarray of shape (n_samples, n_features)
            ``n_features`` is ``n_features_out_``.

        Raises
        ------
        ValueError
            Naming the light curves, for the input errors the estimator
            refuses, and for embeddings that are not finite.
        """
        check_is_fitted(self, "session_")
        rows = [self._embed_chunk(chunk, first_index)
                for first_index, chunk in iter_light_curve_chunks(X, TRANSFORM_CHUNK_SIZE)]
        return np.concatenate(rows).astype(np.float32, copy=False)

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns, as the exported estimator's.

        Parameters
        ----------
        input_features : ignored

        Returns
        -------
        ndarray of str objects
        """
        check_is_fitted(self, "session_")
        return np.asarray(self.metadata_["feature_names"], dtype=object)

    def _embed_chunk(self, X, first_index):
        metadata, config = self.metadata_, self.metadata_["config"]
        prepared = PreparedLightCurves.from_input(X, first_index, n_jobs=self.n_jobs,
                                                  allow_bands=True)
        prepared.check_bands(getattr(self, "bands_", None))
        check_time_ranges(prepared.light_curves, float32_mean=config["variant"] == "paper",
                          max_obs=config["max_obs"], first_index=first_index)
        model_input = prepared.band_positions(self.bands_) if prepared.multiband else prepared
        pooled = self._pooled(model_input, prepared.periods if config["period_input"] else None)
        check_finite(pooled, prepared.light_curves, "embeddings", first_index)
        columns = [pooled]
        if metadata["projection"] is not None:
            columns[0] = project(pooled, {key: np.asarray(value, np.float32) for key, value
                                          in metadata["projection"].items()})
        if metadata["include_descriptors"]:
            columns.append(prepared.descriptors)
            if prepared.multiband:
                columns.append(prepared.colours(self.bands_))
        return np.hstack(columns)

    def _pooled(self, prepared, periods):
        """Pooled embeddings of the (model-ready) light curves of ``prepared``."""
        metadata = self.metadata_
        light_curves = prepared.light_curves
        providers = self.session_.get_providers()
        device = "cuda" if any("CUDA" in name for name in providers) else "cpu"
        statistics = CurveStatistics(len(light_curves), metadata["pooling"],
                                     n_statistics(metadata["pooling"], metadata["n_layers"]),
                                     metadata["d_model"])
        for windows in iter_window_batches(light_curves, **window_args(
                metadata["config"], self.batch_size, device, periods)):
            inputs = {name: np.ascontiguousarray(array)
                      for name, array in model_inputs(windows).items()}
            statistics.add(self.session_.run([OUTPUT_NAME], inputs)[0], windows.sample_index)
        return statistics.pooled(light_curves.lengths, self._combine_layers())

    def _combine_layers(self):
        """The supervised head's combination of layer means (``weighted_layers``), or None."""
        combine = self.metadata_["combine_layers"]
        if combine is None:
            return None
        mean, scale, weights = (np.asarray(combine[key], np.float32).astype(np.float64)
                                for key in ("input_mean", "input_scale", "weights"))

        def combine_layers(layer_means):
            return np.einsum("bld,l->bd", (layer_means - mean) / scale, weights)
        return combine_layers

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("session_", None)  # not picklable: reloaded from ``path``
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        if "metadata_" in state:
            self.fit()


__all__ = ["METADATA_KEY", "METADATA_VERSION", "OUTPUT_NAME", "OnnxEmbedder", "read_metadata"]
