"""Training checkpoints that an interruption cannot spoil (``pretrain`` and ``train_ddp``).

* (A non-finite loss or gradient stops the estimator's own training loop
  before the optimiser steps, naming the light curves, so no such epoch
  reaches the checkpoints; ``save_model`` refuses non-finite weights.)
* Two :class:`~skorch.callbacks.Checkpoint` s: every finished epoch (weights,
  optimizer, history), and the weights of the best validation epoch, as
  early stopping judges it. Checkpointing every ``N`` epochs instead,
  :class:`BestWeightsCheckpoint` saves the best weights at the same epochs
  as the history that names their epoch.
* :class:`StoppingEpochHistory` records the epoch at which early stopping
  ends a run, which early stopping may end before the checkpoints see it.
* :class:`ResumeBestTracking` continues the best-epoch tracking of a resumed
  run. skorch's ``LoadInitState`` puts back the weights, the optimizer and
  the history, but ``PassthroughScoring`` (``valid_loss_best``) and
  ``EarlyStopping`` start from scratch in every ``fit``: after a resume the
  first epoch would count as best however bad it is, and early stopping
  could restore worse weights than those of the best epoch before the
  interruption.
"""

import copy
import json
import os
from types import SimpleNamespace

import torch
from skorch.callbacks import (
    Callback,
    Checkpoint,
    EarlyStopping,
    LoadInitState,
    PassthroughScoring,
)
from skorch.history import History

HISTORY_FILE = "history.json"
LAST_PARAMS = "params.pt"
BEST_PARAMS = "best_params.pt"
OPTIMIZER = "optimizer.pt"


def early_stopping_of(net):
    """The net's :class:`~skorch.callbacks.EarlyStopping` (whatever its name), or None."""
    return next((callback for _, callback in net.callbacks_
                 if isinstance(callback, EarlyStopping)), None)


def improves_on_best(net):
    """``Checkpoint`` monitor: is this epoch early stopping's new best?

    Replays the history on a copy of the net's early stopping, so the answer
    is the same whether early stopping has seen this epoch yet or not;
    without validation there is no best.
    """
    early_stopping = early_stopping_of(net)
    if early_stopping is None or early_stopping.monitor not in net.history[-1]:
        return False
    replayed = replay_early_stopping(copy.copy(early_stopping), net.history)
    return replayed.best_epoch_ == net.history[-1, "epoch"]


def replay_early_stopping(early_stopping, rows):
    """Set ``early_stopping``'s best score, best epoch and misses from history ``rows``.

    Feeds the rows, one epoch at a time, to the callback's own
    ``on_train_begin`` and ``on_epoch_end`` on a stand-in net that holds
    only the history: the same decisions as in training, without stopping
    and without keeping weights.

    Returns
    -------
    EarlyStopping
        ``early_stopping``, updated.
    """
    load_best, early_stopping.load_best = early_stopping.load_best, False
    stand_in = SimpleNamespace(history=History(), verbose=0)
    early_stopping.on_train_begin(stand_in)
    for row in rows:
        if early_stopping.monitor not in row:
            continue
        stand_in.history.append(row)
        try:
            early_stopping.on_epoch_end(stand_in)
        except KeyboardInterrupt:  # out of patience: the run ended here
            pass
    early_stopping.load_best = load_best
    return early_stopping


class StoppingEpochHistory(Callback):
    """Checkpoint the history when early stopping ended the run.

    Early stopping stops by raising in its ``on_epoch_end``; callbacks after
    it (the checkpoints, when the estimator lists its early stopping first)
    never see that epoch. Its history row is complete all the same, and a
    resumed run must know that the run was over.

    Parameters
    ----------
    checkpoint : Checkpoint
        The checkpoint whose history file is written.
    """

    def __init__(self, checkpoint):
        self.checkpoint = checkpoint

    def on_train_end(self, net, **kwargs):
        """Save the history if early stopping stopped the run."""
        early_stopping = early_stopping_of(net)
        if early_stopping is not None and early_stopping.misses_ >= early_stopping.patience:
            net.save_params(f_history=self.checkpoint.f_history_)


class ResumeBestTracking(Callback):
    """Continue the best-score tracking of a resumed run from its checkpointed history.

    Parameters
    ----------
    best_params : path-like
        Weights of the best epoch so far (:data:`BEST_PARAMS`).
    """

    def __init__(self, best_params):
        self.best_params = best_params

    def on_train_begin(self, net, **kwargs):
        """Ask for the restoration at the first epoch (after every ``on_train_begin``)."""
        self.pending_ = True

    def on_epoch_begin(self, net, **kwargs):
        """Restore the scorings' best scores and early stopping's state, once."""
        if not getattr(self, "pending_", False):
            return
        self.pending_ = False
        rows = list(net.history)[:-1]  # the last row is the epoch now beginning
        for _, callback in net.callbacks_:
            if isinstance(callback, PassthroughScoring) and callback.lower_is_better is not None:
                best = [row[callback.name] for row in rows if row.get(f"{callback.name}_best")]
                if best:
                    callback.best_score_ = best[-1]
        early_stopping = early_stopping_of(net)
        if early_stopping is None:
            return
        replay_early_stopping(early_stopping, rows)
        if early_stopping.load_best and early_stopping.best_epoch_:
            early_stopping.best_model_weights_ = torch.load(
                self.best_params, map_location=net.device, weights_only=True)


def read_json(path):
    """The JSON in ``path``, or a ValueError naming the file."""
    try:
        return json.loads(path.read_text())
    except ValueError as error:
        raise ValueError(f"{path} is not valid JSON ({error}): the checkpoint is damaged.") \
            from None


def check_resumable(dirname):
    """Refuse to resume from checkpoints that cannot be read back in full.

    skorch's :class:`~skorch.callbacks.LoadInitState` ignores a checkpoint it
    cannot load, and training would start again from the initial weights as
    if it were resuming.

    Raises
    ------
    ValueError
        Naming the file: the last epoch's weights or optimizer state missing,
        empty or unreadable; the best epoch's weights so, when the history
        records a best validation epoch.
    """
    history = read_json(dirname / HISTORY_FILE)
    needed = [LAST_PARAMS, OPTIMIZER]
    if any(row.get("valid_loss_best") for row in history):
        needed.append(BEST_PARAMS)
    for name in needed:
        path = dirname / name
        if not path.is_file() or path.stat().st_size == 0:
            raise ValueError(f"{path} is {'empty' if path.is_file() else 'missing'}: the "
                             "checkpoint cannot be resumed (start a new run with another --out).")
        try:
            torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # torch raises many types on truncated or foreign files
            raise ValueError(f"{path} cannot be read ({type(error).__name__}: "
                             f"{str(error).splitlines()[0] if str(error) else 'corrupt'}): the "
                             "checkpoint cannot be resumed (start a new run with another "
                             "--out).") from None


def checkpoint_callbacks(dirname, resume, every=1):
    """The callbacks of a training run checkpointed in ``dirname``.

    Parameters
    ----------
    dirname : Path
    resume : bool
        Load the last checkpoint and continue its best-epoch tracking.
    every : int, default=1
        Checkpoint every ``every`` epochs (and when early stopping ends the run).

    Returns
    -------
    callbacks : list of (str, Callback)
    last : Checkpoint
        The checkpoint of the last finished epoch.
    """
    if every < 1:
        raise ValueError(f"Checkpoints must be every 1 or more epochs, got {every}.")
    last = Checkpoint(monitor=None if every == 1 else EveryNEpochs(every), dirname=str(dirname),
                      f_params=LAST_PARAMS, f_optimizer=OPTIMIZER, f_criterion=None,
                      f_history=HISTORY_FILE, f_pickle=None, sink=_report_failed_save)
    if every == 1:
        best = Checkpoint(monitor=improves_on_best, dirname=str(dirname), f_params=BEST_PARAMS,
                          f_optimizer=None, f_criterion=None, f_history=None, f_pickle=None,
                          event_name=None, sink=_report_failed_save)
    else:
        best = BestWeightsCheckpoint(dirname / BEST_PARAMS, every)
    # The best weights are saved before the history that records their epoch: an
    # interruption between the two saves then leaves no history pointing at older weights.
    callbacks = [("best_checkpoint", best), ("checkpoint", last),
                 ("stopping_epoch", StoppingEpochHistory(last))]
    if resume:
        callbacks += [("resume", LoadInitState(last)),
                      ("resume_best", ResumeBestTracking(dirname / BEST_PARAMS))]
    return callbacks, last


def finished_rows(dirname):
    """History rows of the epochs checkpointed in ``dirname`` (each saved once finished)."""
    path = dirname / HISTORY_FILE
    if not path.is_file():
        return []
    return [row for row in read_json(path) if "train_loss" in row]


class EveryNEpochs:
    """``Checkpoint`` monitor: true at epochs ``n, 2n, 3n, ...`` (a class, so nets pickle).

    Parameters
    ----------
    n : int
    """

    def __init__(self, n):
        self.n = n

    def __call__(self, net):
        return len(net.history) % self.n == 0


class BestWeightsCheckpoint(Callback):
    """Save early stopping's best weights at the epochs the history is checkpointed.

    With a checkpoint every ``every`` epochs, saving the best epoch's weights
    when it happens (as :func:`improves_on_best` does) could leave weights of
    a later epoch than the checkpointed history knows of; a resumed run would
    take them as its best. Saved here instead, from the copy early stopping
    keeps in memory, they are those of the best epoch up to the checkpoint.
    List it after the early stopping and before the history's checkpoint.

    Parameters
    ----------
    path : path-like
    every : int
    """

    def __init__(self, path, every):
        self.path = path
        self.every = every

    def on_epoch_end(self, net, **kwargs):
        """At a checkpoint epoch, save the best weights if the best epoch changed."""
        if len(net.history) % self.every == 0:
            self._save(early_stopping_of(net))

    def on_train_end(self, net, **kwargs):
        """When early stopping ended the run, save them with its history
        (:class:`StoppingEpochHistory`, listed after this)."""
        early_stopping = early_stopping_of(net)
        if early_stopping is not None and early_stopping.misses_ >= early_stopping.patience:
            self._save(early_stopping)

    def _save(self, early_stopping):
        if (early_stopping is None
                or getattr(early_stopping, "best_model_weights_", None) is None
                or getattr(self, "saved_epoch_", None) == early_stopping.best_epoch_):
            return
        temporary = f"{self.path}.tmp"
        torch.save(early_stopping.best_model_weights_, temporary)
        os.replace(temporary, self.path)
        self.saved_epoch_ = early_stopping.best_epoch_


def _report_failed_save(message):
    # skorch's Checkpoint catches a failed save (a full disk) and only tells its sink.
    if message.startswith("Unable to save"):
        import warnings

        warnings.warn(f"checkpoint: {message}", RuntimeWarning)
