"""AstroM3's learning-rate schedule as skorch callbacks: linear warm-up, then reduce on plateau.

Early stopping waits for the end of the warm-up, whose first epochs barely
move the weights.
"""

import torch
from skorch.callbacks import Callback, EarlyStopping

#: Learning rate of the first epoch, relative to ``lr`` (AstroM3's ``LinearLR`` start).
WARMUP_START = 1e-5


class WarmupThenPlateau(Callback):
    """Linear warm-up over ``warmup_epochs`` epochs, then ``ReduceLROnPlateau``.

    Epoch ``e < warmup_epochs`` (0-based) runs at
    ``lr * (s + (1 - s) e / warmup_epochs)`` with ``s = 1e-5``; from then on
    the plateau scheduler watches ``monitor`` at the end of every epoch, as
    AstroM3's trainer steps one or the other.

    Parameters
    ----------
    warmup_epochs : int
        0 starts at ``lr`` with the plateau scheduler from the first epoch.
    monitor : str
        History key the plateau scheduler watches (``"valid_loss"``).
    factor : float
        Multiplier of the learning rate on a plateau.
    patience : int
        Epochs without improvement before it acts.
    """

    def __init__(self, warmup_epochs, monitor, factor, patience):
        self.warmup_epochs = warmup_epochs
        self.monitor = monitor
        self.factor = factor
        self.patience = patience

    def _set_warmup_lr(self, optimizer, epoch):
        fraction = WARMUP_START + (1 - WARMUP_START) * epoch / self.warmup_epochs
        for group, base in zip(optimizer.param_groups, self.base_lrs_):
            group["lr"] = base * fraction

    def on_train_begin(self, net, **kwargs):
        optimizer = net.optimizer_
        self.base_lrs_ = [group["lr"] for group in optimizer.param_groups]
        self.plateau_ = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, factor=self.factor, patience=self.patience)
        if self.warmup_epochs > 0:
            self._set_warmup_lr(optimizer, 0)

    def on_epoch_begin(self, net, **kwargs):
        net.history.record("lr", net.optimizer_.param_groups[0]["lr"])

    def on_epoch_end(self, net, **kwargs):
        done = len(net.history)
        if done <= self.warmup_epochs:
            if self.warmup_epochs > 0:
                self._set_warmup_lr(net.optimizer_, done)
        else:
            self.plateau_.step(net.history[-1, self.monitor])


class EarlyStoppingAfterWarmup(EarlyStopping):
    """skorch's :class:`~skorch.callbacks.EarlyStopping`, counting misses only after the warm-up.

    During the first ``warmup_epochs`` epochs the best score and weights are
    tracked as usual, but an epoch without improvement is not a miss: at
    ``1e-5 * lr`` the first epochs cannot improve, and on a small data set
    (one or two steps per epoch) the patience would run out before the
    learning rate has ramped up, leaving the initial weights.

    Parameters
    ----------
    warmup_epochs : int, default=0
    **kwargs
        Those of :class:`~skorch.callbacks.EarlyStopping`.
    """

    def __init__(self, warmup_epochs=0, **kwargs):
        super().__init__(**kwargs)
        self.warmup_epochs = warmup_epochs

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) > self.warmup_epochs:
            return super().on_epoch_end(net, **kwargs)
        patience, self.patience = self.patience, float("inf")
        try:
            super().on_epoch_end(net, **kwargs)
        finally:
            self.patience = patience
        self.misses_ = 0
        return None
