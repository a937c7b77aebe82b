"""Training-stage settings shared by pre-training and supervised fine-tuning.

Both stages are skorch nets over light-curve indices; what they share is
how a stage is set up around the net: the validation split, early stopping
with best-weights restore, the learning-rate schedule and gradient clipping,
all as skorch callbacks.
"""

import math
import warnings

import numpy as np
import torch
from skorch.callbacks import Callback, EarlyStopping, GradientNormClipping, LRScheduler
from skorch.dataset import ValidSplit

LR_SCHEDULES = ("constant", "warmup_cosine")
#: Share of a stage's steps spent warming the learning rate up from 0.
WARMUP_SHARE = 0.1


class WarmupCosine:
    """Learning-rate factor per step: linear warm-up, then cosine decay to 0.

    A class rather than a closure, so that fitted estimators pickle. Steps
    past ``total_steps`` (a data-parallel rank may take a few more) keep the
    final factor.

    Parameters
    ----------
    total_steps : int
    warmup_share : float, default=WARMUP_SHARE
    offset : int, default=0
        Steps already taken (a resumed run continues the schedule).
    """

    def __init__(self, total_steps, warmup_share=WARMUP_SHARE, offset=0):
        self.warmup = max(1, int(total_steps * warmup_share))
        self.decay = max(1, total_steps - self.warmup)
        self.offset = offset

    def __call__(self, step):
        step += self.offset
        if step < self.warmup:
            return (step + 1) / self.warmup
        progress = min(1.0, (step - self.warmup) / self.decay)
        return 0.5 * (1.0 + math.cos(math.pi * progress))


class EpochSeeding(Callback):
    """Start every epoch's random draws from ``(seed, epoch)`` alone.

    torch's generator (shuffling, dropout) and the training collate's window
    and mask generator are reseeded at the start of each epoch, so an epoch
    draws the same whatever came before it: a run resumed from a checkpoint
    after epoch ``k`` trains epochs ``k + 1, ...`` exactly as the
    uninterrupted run did.

    Parameters
    ----------
    seed : int
    """

    def __init__(self, seed):
        self.seed = seed

    def on_epoch_begin(self, net, **kwargs):
        epoch = len(net.history)
        torch.manual_seed(int(np.random.SeedSequence([self.seed, epoch]).generate_state(1)[0]))
        collate = getattr(net, "iterator_train__collate_fn", None)
        if hasattr(collate, "reseed"):
            collate.reseed(epoch)


def validation_size(n_samples, fraction, labels=None):
    """Samples held out for early stopping, or 0 when too few to split.

    With ``labels`` the split is stratified, which needs every class at least
    twice and a validation part with a member of each class.
    """
    n_valid = int(n_samples * (fraction or 0))
    if labels is not None:
        counts = np.bincount(labels)
        if counts[counts > 0].min() < 2 or n_valid < len(counts[counts > 0]):
            return 0
        return n_valid if n_samples - n_valid >= len(counts[counts > 0]) else 0
    return n_valid if n_valid >= 1 and n_samples - n_valid >= 1 else 0


def stage_params(*, n_samples, validation_fraction, patience, lr_schedule, max_epochs,
                 batch_size, seed, train_collate, valid_collate, sink, stage, labels=None,
                 gradient_clip=None, extra_callbacks=()):
    """skorch parameters of one training stage.

    Parameters
    ----------
    n_samples : int
        Light curves in the stage's dataset.
    validation_fraction : float or None
        Share held out (stratified by ``labels`` when given) for early
        stopping with best-weights restore.
    patience : int
    lr_schedule : {"constant", "warmup_cosine"}
    max_epochs, batch_size : int
        Epochs and light curves per batch (to count the schedule's steps).
    seed : int
        Seed of the split.
    train_collate, valid_collate : callable
    sink : callable
        Where early stopping reports.
    stage : str
        Prefix of the callbacks' names.
    labels : int ndarray, optional
    gradient_clip : float or None, default=None
        Clip the gradient norm to this value.
    extra_callbacks : sequence
        The user's own callbacks, appended.

    Returns
    -------
    dict
    """
    n_valid = validation_size(n_samples, validation_fraction, labels)
    params = {"iterator_train__collate_fn": train_collate, "train_split": None}
    callbacks = []
    if gradient_clip is not None:
        callbacks.append((f"{stage}_gradient_clipping", GradientNormClipping(gradient_clip)))
    if n_valid:
        params["train_split"] = ValidSplit(n_valid / n_samples, stratified=labels is not None,
                                           random_state=seed)
        params["iterator_valid__collate_fn"] = valid_collate
        callbacks.append((f"{stage}_early_stopping",
                          EarlyStopping(patience=patience, load_best=True, sink=sink)))
    elif validation_fraction:
        warnings.warn(
            f"{n_samples} light curve(s) are too few for validation_fraction="
            f"{validation_fraction}{' (stratified)' if labels is not None else ''}; training "
            "on all without early stopping.", UserWarning)
    if lr_schedule == "warmup_cosine":
        steps = max_epochs * math.ceil((n_samples - n_valid) / batch_size)
        callbacks.append((f"{stage}_lr_schedule", LRScheduler(
            torch.optim.lr_scheduler.LambdaLR, lr_lambda=WarmupCosine(steps),
            step_every="batch")))
    callbacks.append((f"{stage}_epoch_seeding", EpochSeeding(seed)))
    params["callbacks"] = callbacks + list(extra_callbacks)
    return params
