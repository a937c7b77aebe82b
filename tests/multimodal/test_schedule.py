"""Learning-rate warm-up and the early stopping that waits for it."""

import pytest
import torch
from skorch.callbacks import EarlyStopping
from skorch.history import History

from sklearn_astromer.multimodal._schedule import EarlyStoppingAfterWarmup


class _Net:
    verbose = 0

    def __init__(self):
        self.module_ = torch.nn.Linear(1, 1)
        self.history = History()


def _stopping_epoch(callback, losses):
    net = _Net()
    callback.initialize()
    callback.on_train_begin(net)
    for epoch, loss in enumerate(losses, start=1):
        net.history.new_epoch()
        net.history.record("epoch", epoch)
        net.history.record("valid_loss", loss)
        try:
            callback.on_epoch_end(net)
        except KeyboardInterrupt:
            return epoch, callback
    return None, callback


@pytest.mark.parametrize("warmup, expected", [(0, 2), (3, 4), (5, 6)])
def test_misses_count_only_after_the_warm_up(warmup, expected):
    losses = [1.0] + [2.0] * 8  # never better than the first epoch
    epoch, callback = _stopping_epoch(
        EarlyStoppingAfterWarmup(warmup, patience=1, monitor="valid_loss"), losses)
    assert epoch == expected
    assert callback.best_epoch_ == 1


def test_best_weights_are_tracked_during_the_warm_up():
    losses = [3.0, 2.0, 1.0, 1.5, 1.5, 1.5]
    epoch, callback = _stopping_epoch(
        EarlyStoppingAfterWarmup(4, patience=2, monitor="valid_loss", load_best=True), losses)
    assert epoch == 6 and callback.best_epoch_ == 3
    assert callback.best_model_weights_ is not None
    plain, _ = _stopping_epoch(EarlyStopping(patience=2, monitor="valid_loss"), losses)
    assert plain == 5
