"""The base both embedders share: seeding, device, precision, labels, the fit guard, saving, tags.

:class:`BaseEmbedder` holds what :class:`~sklearn_astromer.AstromerEmbedder`
and :class:`~sklearn_astromer.MultimodalCLIPEmbedder` would otherwise each
write: one seed drawn from ``random_state``, the resolved ``device_``, the
autocast dtypes of ``precision``, class labels encoded for a supervised
head, one fit at a time with torch's generator forked and seeded (a failed
or interrupted fit leaves the estimator unfitted), the epoch log,
``save_pretrained`` and the scikit-learn tags. Each estimator then holds
only what is its own: its architecture, nets and outputs.
"""

import contextlib
import warnings

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ._console import print_plain_off_terminal
from ._fit_lock import FIT_LOCK
from ._interrupt import forget_fit
from ._torch_common import resolve_device
from .pretrained import save_model

#: Autocast dtype of each ``precision`` (None: float32, no autocast).
PRECISIONS = {"float32": None, "bfloat16": torch.bfloat16, "float16": torch.float16}


class BaseEmbedder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Base of the embedders (not for direct use).

    Subclasses set ``random_state``, ``device``, ``precision`` and
    ``verbose`` parameters, a fitted ``net_`` (a :class:`skorch.NeuralNet`),
    and implement ``_saved_model()`` returning the ``(config, state_dict)``
    that :meth:`save_pretrained` writes and ``_output_names()`` listing
    ``transform``'s columns.
    """

    #: What a sample is, in messages.
    _samples_name = "samples"

    def __init__(self, *, callbacks, device, precision, random_state, verbose):
        # The parameters every embedder has; each subclass's signature lists them
        # (scikit-learn reads parameters from the subclass's __init__).
        self.callbacks = callbacks
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------- fitting
    def _draw_seed(self):
        """One integer seed from ``random_state`` for everything ``fit`` draws."""
        return check_random_state(self.random_state).randint(np.iinfo(np.int32).max)

    def _resolve_device(self):
        """Set and return ``device_``: ``device``, with ``"auto"`` resolved."""
        self.device_ = resolve_device(self.device)
        return self.device_

    @contextlib.contextmanager
    def _fitting(self, seed):
        """Run a fit's body: one fit at a time, torch's generator forked and seeded with ``seed``.

        torch's random state is global, so fits in threads take turns (see
        :mod:`sklearn_astromer._fit_lock`). Light curves the model cannot
        take, a non-finite loss or Ctrl-C leave no half-trained model behind:
        every fitted attribute is removed before the error propagates.
        """
        with FIT_LOCK, torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            try:
                yield
            except (ValueError, KeyboardInterrupt):
                forget_fit(self)
                raise

    def _encode_labels(self, y, n_samples):
        """Set ``classes_`` and return ``y`` as int64 class indices, or say what is wrong."""
        if y is None:
            raise ValueError('fine_tune="supervised" needs the class labels: call fit(X, y).')
        y = column_or_1d(y, warn=True)
        if n_samples is not None and len(y) != n_samples:
            raise ValueError(f"y has {len(y)} labels for {n_samples} {self._samples_name}.")
        self.classes_, labels = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f'fine_tune="supervised" needs two classes or more; y holds '
                             f"{len(self.classes_)}.")
        return labels.astype(np.int64)

    # ----------------------------------------------------------- precision
    def _training_dtype(self):
        """Autocast dtype of training: bfloat16 when asked for (float16 would need loss
        scaling, so it trains in float32)."""
        if self.precision != "bfloat16":
            return None
        warn_if_emulated(self.precision, self.device_)
        return torch.bfloat16

    @contextlib.contextmanager
    def _inference_context(self):
        """No autograd, and autocast when a reduced ``precision`` is asked for."""
        dtype = PRECISIONS[self.precision]
        if dtype is not None:
            warn_if_emulated(self.precision, self.device_)
        with torch.inference_mode(), torch.autocast(torch.device(self.device_).type,
                                                    dtype=dtype, enabled=dtype is not None):
            yield

    # ----------------------------------------------------------------- log
    def _log_sink(self):
        """Where the epoch log goes: skorch's PrintLog prints to any sink but ``print``
        whatever ``verbose`` says, so a silent estimator keeps ``print``."""
        return print_plain_off_terminal if self.verbose else print

    def _say(self, message):
        """One line of the training log (``verbose`` >= 1)."""
        if self.verbose:
            self._log_sink()(message)

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns (see each estimator's ``transform``).

        Parameters
        ----------
        input_features : None
            Ignored (the embedding does not depend on the input's columns).

        Returns
        -------
        ndarray of str objects
        """
        check_is_fitted(self, "net_")
        return np.asarray(self._output_names(), dtype=object)

    # --------------------------------------------------------- persistence
    def save_pretrained(self, directory):
        """Save the fitted model as ``config.json`` + ``model.safetensors`` in ``directory``.

        The directory loads with :meth:`from_pretrained`, or as the
        ``pretrained`` parameter of a new estimator to fine-tune it, on any
        device and without unpickling code. A supervised head is saved with
        its classes, so a reloaded model predicts. A failed save leaves no
        partial file and keeps a model already there.

        Parameters
        ----------
        directory : str or path-like
            Created if needed.
        """
        check_is_fitted(self, "net_")
        save_model(directory, *self._saved_model())

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.two_d_array = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        tags.non_deterministic = self.random_state is None
        return tags


def warn_if_emulated(precision, device):
    """Warn that ``precision`` runs emulated, and slowly, on a CPU without its instructions.

    oneDNN multiplies bfloat16 (float16) matrices natively only with
    AVX512-BF16 or AMX (AVX512-FP16 or AMX-FP16); elsewhere they are
    converted from float32 and back, several times slower than float32
    (0.18x for ``transform`` on an AVX2 AMD EPYC: ``benchmarks/results/steady_state.json``).
    """
    if torch.device(device).type != "cpu":
        return
    supported = (torch.ops.mkldnn._is_mkldnn_bf16_supported() if precision == "bfloat16"
                 else torch.ops.mkldnn._is_mkldnn_fp16_supported())
    if not supported:
        warnings.warn(
            f"precision={precision!r} on this CPU (no native {precision} matrix instructions: "
            f"PyTorch reports {torch.backends.cpu.get_cpu_capability()}) is emulated and runs "
            "several times slower than float32; use precision='float32' here.",
            RuntimeWarning, stacklevel=3)


def n_samples_of(X):
    """Number of samples in ``X`` when it can be told without validating it, else None."""
    try:
        return len(X)
    except TypeError:
        return None


def fit_seed(estimator):
    """Validate ``estimator``'s parameters and draw the seed its ``fit`` would use."""
    estimator._validate_params()
    return estimator._draw_seed()


def fit_with_training_loop(estimator, X, *, seed, train, prepared_as=None):
    """``estimator.fit(X)`` (self-supervised), its epochs run by ``train(net, n_samples, seed)``.

    The extension point of training loops other than the in-process one
    (:func:`sklearn_astromer.distributed.fit_ddp`'s data-parallel ranks):
    input preparation, the fit guard and everything around the epochs stay
    the estimator's own.

    Parameters
    ----------
    estimator : BaseEmbedder
        An estimator whose ``_fit_prepared`` accepts a training loop.
    X : light curves
    seed : int
        From :func:`fit_seed` (the same on every rank).
    train : callable
        ``train(net, n_samples, seed)`` runs ``net``'s epochs over samples
        ``0..n_samples-1``.
    prepared_as : callable or None, default=None
        Turns the validated light curves (a
        :class:`~sklearn_astromer._prepared.PreparedLightCurves`) into the
        object training reads, e.g. one whose period search is shared out
        among data-parallel ranks.

    Returns
    -------
    estimator
    """
    estimator._validate_params()
    prepared = estimator._prepare(X)
    if prepared_as is not None:
        prepared = prepared_as(prepared)
    with estimator._fitting(seed):
        return estimator._fit_prepared(prepared, seed, train)
