"""Supervised fine-tuning: the encoder and a layer-weighted classification head on labels."""

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import EarlyStopping
from skorch.dataset import Dataset, ValidSplit
from skorch.helper import predefined_split
from sklearn.utils.class_weight import compute_class_weight

from .._interrupt import PropagateInterruptMixin
from .._torch_common import AutocastMixin, LightCurveIndexDataset
from ..nn import AstromerClassifierModel, LayerWeightedClassifier
from .._finite_training import FiniteTrainingMixin
from .._encoder_inference import pool_layers, windows_to_tensors
from .._training import validation_size
from ._net import WindowCollate

#: The classification head: ASTROMER 2 uses an MLP of 1024-512-256 units on
#: 500 labels per class and more; one hidden layer of 256 overfits less when
#: labels are few.
HEAD_HIDDEN = (256,)
HEAD_DROPOUT = 0.2
CLASS_WEIGHTS = ("balanced", None)


class LabelledWindowCollate(WindowCollate):
    """Collate light-curve indices into (unmasked) windows and their class labels.

    The targets are a dict: ``"labels"`` (class index of each window) and
    ``"sample_index"`` (its light curve, for error messages).

    Parameters
    ----------
    sampler : WindowSampler
    labels : int ndarray of shape (n_samples,)
        Class index of every light curve.
    seed : int
    fixed : bool, default=False
        Same windows for the same batch every epoch (validation).
    """

    def __init__(self, sampler, labels, seed, fixed=False):
        super().__init__(sampler, seed, fixed)
        self.labels = labels

    def __call__(self, indices):
        windows, _ = self._windows(indices)
        labels = self.labels[windows.sample_index]
        return windows_to_tensors(windows, "cpu"), {
            "labels": torch.from_numpy(labels),
            "sample_index": torch.from_numpy(windows.sample_index),
        }


def class_weights(labels, n_classes, mode):
    """Cross-entropy weights: ``"balanced"`` (inverse class frequency) or None (equal)."""
    if mode is None:
        return None
    weights = compute_class_weight("balanced", classes=np.arange(n_classes), y=labels)
    return torch.as_tensor(weights, dtype=torch.float32)


def split_labelled(n_samples, labels, validation_fraction, seed):
    """Training and validation indices of supervised fine-tuning (validation may be empty).

    The very split the fine-tuning net's :class:`skorch.dataset.ValidSplit`
    draws (see :func:`~sklearn_astromer._training.stage_params`): stratified, seeded.
    """
    n_valid = validation_size(n_samples, validation_fraction, labels)
    if not n_valid:
        return np.arange(n_samples), np.arange(0)
    train, valid = ValidSplit(n_valid / n_samples, stratified=True, random_state=seed)(
        LightCurveIndexDataset(n_samples), labels)
    return np.asarray(train.indices), np.asarray(valid.indices)


def train_head(classifier, pooled, labels, train, valid, *, epochs, lr, batch_size, patience,
               weights, device):
    """Train ``classifier`` alone on fixed pooled layer outputs (linear probing, with an MLP).

    The encoder's outputs are computed once, so hundreds of epochs cost less
    than one epoch through the encoder. Early stopping on the ``valid`` rows
    keeps the best epoch.

    Parameters
    ----------
    classifier : LayerWeightedClassifier
    pooled : Tensor of shape (n_samples, n_layers, d_model)
        Pooled layer outputs of the frozen encoder.
    labels : int ndarray of shape (n_samples,)
    train, valid : int ndarray
        Rows to train on and to stop on (``valid`` may be empty).
    epochs, batch_size, patience : int
    lr : float
    weights : Tensor or None
        Class weights of the cross-entropy.
    device : str or torch.device

    Returns
    -------
    int
        Epochs trained.
    """
    inputs = pooled.float()
    labels = torch.as_tensor(labels, dtype=torch.int64)
    params = {"train_split": None, "callbacks": []}
    if len(valid):
        params = {"train_split": predefined_split(Dataset(inputs[valid], labels[valid])),
                  "callbacks": [("head_early_stopping",
                                 EarlyStopping(patience=patience, load_best=True))]}
    net = HeadNet(classifier, criterion=torch.nn.CrossEntropyLoss, criterion__weight=weights,
                  optimizer=torch.optim.Adam, optimizer__betas=(0.9, 0.98),
                  optimizer__eps=1e-9, lr=lr, max_epochs=epochs, batch_size=batch_size,
                  iterator_train__shuffle=True, device=device, verbose=0, **params)
    net.fit(inputs[train], labels[train])
    classifier.eval()
    return len(net.history)


class HeadNet(PropagateInterruptMixin, NeuralNet):
    """The skorch net of :func:`train_head` (Ctrl-C propagates)."""


def validation_loss(logits, labels, weights):
    """Weighted cross-entropy of ``logits`` (float, on the CPU) against ``labels``."""
    return torch.nn.functional.cross_entropy(
        logits.float(), torch.as_tensor(labels, dtype=torch.int64), weight=weights).item()


def load_head(classifier, tensors, source):
    """Load a saved head's ``tensors`` into ``classifier``, or say what is wrong with them.

    Parameters
    ----------
    classifier : LayerWeightedClassifier
        Built for the saved classes.
    tensors : dict of str to Tensor
        The saved ``classifier.*`` tensors, without that prefix.
    source : str or path-like
        The weights file, named in errors.

    Raises
    ------
    ValueError
        Naming the file and the key, for missing or unexpected head tensors,
        and for tensors that are not floating point or whose shape does not
        fit the saved classes and architecture.
    """
    expected = classifier.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        raise ValueError(f"{source}: the classification head's tensors do not fit its "
                         f"architecture: missing {['classifier.' + key for key in missing]}, "
                         f"unexpected {['classifier.' + key for key in unexpected]}.")
    for key, value in tensors.items():
        if not value.is_floating_point():
            raise ValueError(f"{source}: head tensor 'classifier.{key}' has dtype {value.dtype}; "
                             "a floating-point tensor is expected.")
        if value.shape != expected[key].shape:
            raise ValueError(
                f"{source}: head tensor 'classifier.{key}' has shape {tuple(value.shape)}; "
                f"{tuple(expected[key].shape)} is expected for the saved "
                f"{classifier.mlp[-1].out_features} classes and this encoder.")
    classifier.load_state_dict(tensors)


def make_classifier_model(encoder, n_classes):
    """An :class:`~sklearn_astromer.nn.AstromerClassifierModel` sharing ``encoder``."""
    head = LayerWeightedClassifier(len(encoder.blocks) + 1,
                                   encoder.input_projection.out_features, n_classes,
                                   hidden=HEAD_HIDDEN, dropout=HEAD_DROPOUT)
    return AstromerClassifierModel(encoder, head).to(encoder.input_projection.weight.device)


class AstromerClassifierNet(PropagateInterruptMixin, FiniteTrainingMixin, AutocastMixin,
                            NeuralNet):
    """A :class:`skorch.NeuralNet` on :class:`LabelledWindowCollate` batches.

    The criterion sees the labels and float32 logits (also when the forward
    pass is autocast); a non-finite loss or gradient stops training with a
    ValueError naming the light curves.

    Parameters
    ----------
    module, *args, **kwargs
        As for :class:`skorch.NeuralNet`.
    autocast_dtype : torch.dtype or None, default=None
        Mixed-precision training (see :class:`~sklearn_astromer._torch_common.AutocastMixin`).
    """

    def __init__(self, module, *args, autocast_dtype=None, **kwargs):
        super().__init__(module, *args, **kwargs)
        self.autocast_dtype = autocast_dtype

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """The criterion on the window labels, in float32."""
        return super().get_loss(y_pred.float(), y_true["labels"], X=X, training=training)


def make_classifier_net(model, *, weights, **params):
    """A skorch net training ``model`` with (weighted) cross-entropy.

    Parameters
    ----------
    model : AstromerClassifierModel
    weights : Tensor or None
        Class weights of the cross-entropy.
    **params
        Further :class:`AstromerClassifierNet` parameters (loaders, epochs, ...).
    """
    net = AstromerClassifierNet(model, criterion=torch.nn.CrossEntropyLoss,
                                criterion__weight=weights, optimizer=torch.optim.Adam,
                                optimizer__betas=(0.9, 0.98), optimizer__eps=1e-9,
                                iterator_train__shuffle=True, **params)
    return net.initialize()


def predict_logits(model, light_curves, *, device, **window_args):
    """Class logits ``(n_samples, n_classes)`` of whole light curves (all their windows pooled)."""
    pooled = pool_layers(model.encoder, light_curves, device=device, **window_args)
    return model.classifier(pooled.float().to(device)).float().cpu()
