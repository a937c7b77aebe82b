"""How a training stage is set up around a skorch net, for every net of both estimators.

ASTROMER's pre-training and supervised fine-tuning, and AstroM3's CLIP
training and fine-tuning, are skorch nets over sample indices; what they
share is the stage around the net: the validation split, early stopping
with best-weights restore, the learning-rate schedule, gradient clipping
and per-epoch seeding, all as skorch callbacks.
"""

import math
import warnings

import numpy as np
import torch
from skorch.callbacks import Callback, GradientNormClipping, LRScheduler
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

    def scaled(self, factor):
        """The same schedule over ``factor`` times as many steps (e.g. a data-parallel
        rank's share of an epoch)."""
        scaled = object.__new__(type(self))
        scaled.warmup = max(1, round(self.warmup * factor))
        scaled.decay = max(1, round(self.decay * factor))
        scaled.offset = round(self.offset * factor)
        return scaled

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


def validation_size(n_samples, fraction, labels=None, min_size=1):
    """Samples held out for early stopping, or 0 when too few to split.

    With ``labels`` the split is stratified, which needs every class at least
    twice and a validation part with a member of each class. Otherwise both
    parts need ``min_size`` samples (a contrastive loss needs two).
    """
    n_valid = int(n_samples * (fraction or 0))
    if labels is not None:
        counts = np.bincount(labels)
        if counts[counts > 0].min() < 2 or n_valid < len(counts[counts > 0]):
            return 0
        return n_valid if n_samples - n_valid >= len(counts[counts > 0]) else 0
    return n_valid if n_valid >= min_size and n_samples - n_valid >= min_size else 0


def warmup_cosine_schedule(max_epochs, batch_size, finished_epochs=0):
    """``lr_schedule`` of :func:`stage_params`: :class:`WarmupCosine` over the stage's steps,
    stepped every batch.

    Parameters
    ----------
    max_epochs : int
        Epochs the schedule spans (a resumed run's included).
    batch_size : int
        Samples per batch, to count the steps of an epoch.
    finished_epochs : int, default=0
        Epochs already trained: a resumed run continues the schedule there.

    Returns
    -------
    callable
        ``schedule(n_train, monitor)`` returning the
        :class:`~skorch.callbacks.LRScheduler`.
    """

    def schedule(n_train, monitor):
        steps_per_epoch = math.ceil(n_train / batch_size)
        lr_lambda = WarmupCosine(max_epochs * steps_per_epoch,
                                 offset=finished_epochs * steps_per_epoch)
        # last_epoch=-1: a resumed net's history would otherwise shift the start by
        # its number of epochs, beyond ``offset``.
        return LRScheduler(torch.optim.lr_scheduler.LambdaLR, lr_lambda=lr_lambda,
                           step_every="batch", last_epoch=-1)

    return schedule


def resumable_schedule(lr_schedule, *, n_samples, validation_fraction, batch_size, epochs,
                       finished_epochs):
    """A checkpointed run's learning-rate schedule, continuing across resumed fits.

    An estimator's own schedule starts again at every ``fit``; a run resumed
    after ``finished_epochs`` fits for the remaining epochs only. Give the
    estimator ``lr_schedule="constant"`` and these callbacks, which span the
    run's ``epochs`` and start after the finished ones.

    Parameters
    ----------
    lr_schedule : {"constant", "warmup_cosine"}
    n_samples : int
        Light curves the run trains and validates on.
    validation_fraction : float or None
    batch_size : int
        Light curves per batch.
    epochs : int
        Epochs of the whole run.
    finished_epochs : int

    Returns
    -------
    list of (str, Callback)
        Empty for a constant learning rate.
    """
    if lr_schedule != "warmup_cosine":
        return []
    n_train = n_samples - validation_size(n_samples, validation_fraction)
    schedule = warmup_cosine_schedule(epochs, batch_size, finished_epochs=finished_epochs)
    return [("lr_schedule", schedule(n_train, "valid_loss"))]


def stage_params(*, n_samples, validation_fraction, seed, train_collate, valid_collate, stage,
                 early_stopping, lr_schedule=None, labels=None, stratify=True, min_valid=1,
                 gradient_clip=None, drop_last_above=None, extra_callbacks=(),
                 what="light curve(s)"):
    """skorch parameters of one training stage, for both estimators.

    Parameters
    ----------
    n_samples : int
        Samples in the stage's dataset.
    validation_fraction : float or None
        Share held out for early stopping with best-weights restore (see
        :func:`validation_size`).
    seed : int
        Seed of the split and of every epoch's draws (:class:`EpochSeeding`).
    train_collate, valid_collate : callable
    stage : str
        Prefix of the callbacks' names.
    early_stopping : callable
        Returns the early-stopping callback (used when there is a validation split).
    lr_schedule : callable or None, default=None
        ``lr_schedule(n_train, monitor)`` returns the learning-rate callback.
    labels : int ndarray or None, default=None
        Class indices, for a stratified split when ``stratify``.
    stratify : bool, default=True
    min_valid : int, default=1
        Fewest samples in each part of an unstratified split.
    gradient_clip : float or None, default=None
        Clip the gradient norm to this value.
    drop_last_above : int or None, default=None
        Drop the last, incomplete training batch when more than this many
        samples train (the batch size of a contrastive loss).
    extra_callbacks : sequence
        The user's own callbacks, appended.
    what : str, default="light curve(s)"
        What the samples are, for the warning.

    Returns
    -------
    dict
    """
    split_labels = labels if stratify else None
    n_valid = validation_size(n_samples, validation_fraction, split_labels, min_valid)
    params = {"iterator_train__collate_fn": train_collate, "train_split": None}
    if drop_last_above is not None:
        params["iterator_train__drop_last"] = n_samples - n_valid > drop_last_above
    callbacks = []
    if gradient_clip is not None:
        callbacks.append((f"{stage}_gradient_clipping", GradientNormClipping(gradient_clip)))
    monitor = "train_loss"
    if n_valid:
        params["train_split"] = ValidSplit(n_valid / n_samples,
                                           stratified=split_labels is not None,
                                           random_state=seed)
        params["iterator_valid__collate_fn"] = valid_collate
        callbacks.append((f"{stage}_early_stopping", early_stopping()))
        monitor = "valid_loss"
    elif validation_fraction:
        warnings.warn(
            f"{n_samples} {what} are too few for validation_fraction="
            f"{validation_fraction}{' (stratified)' if split_labels is not None else ''}; "
            "training on all without early stopping.", UserWarning)
    if lr_schedule is not None:
        callbacks.append((f"{stage}_lr_schedule", lr_schedule(n_samples - n_valid, monitor)))
    callbacks.append((f"{stage}_epoch_seeding", EpochSeeding(seed)))
    params["callbacks"] = callbacks + list(extra_callbacks)
    return params
