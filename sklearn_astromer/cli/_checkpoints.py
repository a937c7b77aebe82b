"""skorch callbacks of ``pretrain``: checkpoints that an interruption cannot spoil.

* :class:`FiniteTraining` stops a run whose loss or weights stop being
  finite, before anything of that epoch is checkpointed or saved.
* Two :class:`~skorch.callbacks.Checkpoint` s: every finished epoch (weights,
  optimizer, history), and the weights of the best validation epoch, as
  early stopping judges it.
* :class:`ResumeBestTracking` continues the best-epoch tracking of a resumed
  run. skorch's ``LoadInitState`` puts back the weights, the optimizer and
  the history, but ``PassthroughScoring`` (``valid_loss_best``) and
  ``EarlyStopping`` start from scratch in every ``fit``: after a resume the
  first epoch would count as best however bad it is, and early stopping
  could restore worse weights than those of the best epoch before the
  interruption.
"""

import numpy as np
import torch
from skorch.callbacks import Callback, Checkpoint, LoadInitState, PassthroughScoring

HISTORY_FILE = "history.json"
LAST_PARAMS = "params.pt"
BEST_PARAMS = "best_params.pt"
OPTIMIZER = "optimizer.pt"


class FiniteTraining(Callback):
    """Raise a ``ValueError`` at the end of an epoch whose loss or weights are not finite.

    Put it before the checkpoints, so that such an epoch is never saved.
    """

    def on_epoch_end(self, net, **kwargs):
        """Check the epoch's losses and the module's weights."""
        row = net.history[-1]
        problems = [f"{key} {row[key]}" for key in ("train_loss", "valid_loss")
                    if key in row and not np.isfinite(row[key])]
        if not all(torch.isfinite(value).all() for value in net.module_.state_dict().values()):
            problems.append("non-finite weights")
        if problems:
            raise ValueError(
                f"training diverged in epoch {row['epoch']} ({', '.join(problems)}), e.g. from "
                "extreme times or magnitudes or a too large --lr; that epoch was not saved.")


def _early_stopping(net):
    return dict(net.callbacks_).get("early_stopping")


def improves_on_best(net):
    """``Checkpoint`` monitor: does this epoch's score improve on early stopping's best?

    Runs before early stopping's own ``on_epoch_end``, so it asks the same
    question with the same threshold; without validation there is no best.
    """
    early_stopping = _early_stopping(net)
    if early_stopping is None or early_stopping.monitor not in net.history[-1]:
        return False
    return bool(early_stopping._is_score_improved(net.history[-1, early_stopping.monitor]))


def replay_early_stopping(early_stopping, rows):
    """Set ``early_stopping``'s best score, best epoch and misses from history ``rows``.

    The same updates as :meth:`skorch.callbacks.EarlyStopping.on_epoch_end`,
    without stopping.

    Returns
    -------
    EarlyStopping
        ``early_stopping``, updated.
    """
    early_stopping.dynamic_threshold_ = np.inf if early_stopping.lower_is_better else -np.inf
    early_stopping.misses_, early_stopping.best_epoch_ = 0, 0
    for row in rows:
        if early_stopping.monitor not in row:
            continue
        if early_stopping._is_score_improved(row[early_stopping.monitor]):
            early_stopping.misses_ = 0
            early_stopping.dynamic_threshold_ = early_stopping._calc_new_threshold(
                row[early_stopping.monitor])
            early_stopping.best_epoch_ = row["epoch"]
        else:
            early_stopping.misses_ += 1
    return early_stopping


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
        early_stopping = _early_stopping(net)
        if early_stopping is None:
            return
        replay_early_stopping(early_stopping, rows)
        if early_stopping.load_best and early_stopping.best_epoch_:
            early_stopping.best_model_weights_ = torch.load(
                self.best_params, map_location=net.device, weights_only=True)


def pretrain_callbacks(dirname, resume):
    """The callbacks of a ``pretrain`` run checkpointed in ``dirname``.

    Parameters
    ----------
    dirname : Path
    resume : bool
        Load the last checkpoint and continue its best-epoch tracking.

    Returns
    -------
    callbacks : list of (str, Callback)
    last : Checkpoint
        The checkpoint of the last finished epoch.
    """
    last = Checkpoint(monitor=None, dirname=str(dirname), f_params=LAST_PARAMS,
                      f_optimizer=OPTIMIZER, f_criterion=None, f_history=HISTORY_FILE,
                      f_pickle=None, sink=_report_failed_save)
    best = Checkpoint(monitor=improves_on_best, dirname=str(dirname), f_params=BEST_PARAMS,
                      f_optimizer=None, f_criterion=None, f_history=None, f_pickle=None,
                      event_name=None, sink=_report_failed_save)
    # The best weights are saved before the history that records their epoch: an
    # interruption between the two saves then leaves no history pointing at older weights.
    callbacks = [("finite", FiniteTraining()), ("best_checkpoint", best), ("checkpoint", last)]
    if resume:
        callbacks += [("resume", LoadInitState(last)),
                      ("resume_best", ResumeBestTracking(dirname / BEST_PARAMS))]
    return callbacks, last


def _report_failed_save(message):
    # skorch's Checkpoint catches a failed save (a full disk) and only tells its sink.
    if message.startswith("Unable to save"):
        import warnings

        warnings.warn(f"checkpoint: {message}", RuntimeWarning)
