import numpy as np
import pytest
import torch

from sklearn_astromer.astromer._net import uncertainty_weights
from sklearn_astromer._training import WarmupCosine, validation_size


def test_warmup_cosine_rises_then_decays_and_holds_its_end():
    schedule = WarmupCosine(100, warmup_share=0.1)
    factors = [schedule(step) for step in range(120)]
    assert factors[0] == pytest.approx(0.1) and factors[9] == pytest.approx(1.0)
    assert np.all(np.diff(factors[9:100]) <= 1e-12)
    assert factors[100] == factors[119] == pytest.approx(0.0)


def test_warmup_cosine_drives_a_torch_scheduler():
    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([parameter], lr=2.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, WarmupCosine(10))
    lrs = []
    for _ in range(10):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert lrs[0] == pytest.approx(2.0) and lrs[-1] < 0.1  # warm-up of one step


def test_validation_size_needs_two_per_class_when_stratified():
    assert validation_size(100, 0.2) == 20
    assert validation_size(3, 0.2) == 0
    assert validation_size(100, None) == 0
    assert validation_size(40, 0.25, labels=np.repeat([0, 1], 20)) == 10
    assert validation_size(40, 0.25, labels=np.r_[np.zeros(39, int), 1]) == 0


def test_uncertainty_weights_follow_inverse_errors_within_a_window():
    errors = np.array([[0.1, 0.2, 0.4, 0.0], [0.1, 0.0, 0.3, 0.3]], dtype=np.float32)
    valid = np.array([[True, True, True, False], [True, True, True, True]])
    weights = uncertainty_weights(errors, valid)
    # 1/err = 10, 5, 2.5: min-max scaled to 1, 1/3, 0, plus the floor
    np.testing.assert_allclose(weights[0], [1.001, 1 / 3 + 0.001, 0.001, 0.0], rtol=1e-5)
    # an unknown (zero) error in the window: equal weights
    np.testing.assert_allclose(weights[1], np.full(4, 1.001), rtol=1e-6)


def test_a_resumable_schedule_continues_where_the_finished_epochs_left_it():
    from sklearn_astromer._training import WarmupCosine, resumable_schedule

    settings = dict(n_samples=100, validation_fraction=0.2, batch_size=10, epochs=10)
    whole = WarmupCosine(10 * 8)
    (name, callback), = resumable_schedule("warmup_cosine", **settings, finished_epochs=4)
    resumed = callback.kwargs["lr_lambda"]
    assert name == "lr_schedule" and callback.step_every == "batch"
    assert [resumed(step) for step in range(48)] == [whole(32 + step) for step in range(48)]
    assert resumable_schedule("constant", **settings, finished_epochs=0) == []


def test_a_scaled_schedule_spans_the_scaled_steps():
    from sklearn_astromer._training import WarmupCosine

    whole, half = WarmupCosine(100, offset=20), WarmupCosine(100, offset=20).scaled(0.5)
    assert [half(step) for step in range(0, 40)] == pytest.approx(
        [whole(2 * step) for step in range(0, 40)])
