import numpy as np
import torch

from sklearn_astromer.astromer._net import MaskedWindowCollate, WindowSampler
from sklearn_astromer._validation import check_light_curves


def _curves():
    rng = np.random.default_rng(0)
    return check_light_curves([
        np.column_stack([np.sort(rng.uniform(0, 500, n)), rng.normal(15, 1, n),
                         rng.uniform(0.05, 0.2, n)]) for n in (250, 200, 30, 1)])


def _collate(fixed, seed=0, pad=False, **sampler_params):
    sampler = WindowSampler(_curves(), max_obs=200, pad_to_max_obs=pad, **sampler_params)
    return MaskedWindowCollate(sampler, mask_frac=0.5, same_frac=0.2, random_frac=0.2,
                               seed=seed, fixed=fixed)


def test_batch_holds_masked_zero_mean_windows():
    inputs, targets = _collate(fixed=False)([0, 1, 2, 3])
    assert inputs["times"].shape == (4, 200)
    assert targets["mask_out"].sum(1).tolist() == [100, 100, 15, 0]
    hidden = inputs["mask_in"][:, :200].sum(1)
    assert hidden[:2].tolist() == [64, 64]
    valid = ~inputs["mask_in"] | targets["mask_out"]
    assert torch.allclose((targets["magnitudes"] * valid).sum(1), torch.zeros(4), atol=1e-4)


def test_width_follows_longest_window_unless_padding_to_max_obs():
    assert _collate(fixed=False)([2, 3])[0]["times"].shape == (2, 30)
    assert _collate(fixed=False, pad=True)([2, 3])[0]["times"].shape == (2, 200)


def test_training_draws_change_validation_draws_repeat():
    training = _collate(fixed=False)
    first, second = training([0, 1]), training([0, 1])
    assert not torch.equal(first[1]["mask_out"], second[1]["mask_out"])
    validation = _collate(fixed=True)
    first, second = validation([0, 1]), validation([0, 1])
    assert torch.equal(first[1]["mask_out"], second[1]["mask_out"])
    assert torch.equal(first[0]["times"], second[0]["times"])
