import numpy as np
import pytest
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


def test_several_windows_per_curve_and_uncertainty_weights():
    sampler = WindowSampler(_curves(), max_obs=50, pad_to_max_obs=False, windows_per_curve=3)
    collate = MaskedWindowCollate(sampler, mask_frac=0.5, same_frac=0.2, random_frac=0.2,
                                  seed=0, uncertainty_weights=True)
    inputs, targets = collate([0, 1])
    assert inputs["times"].shape == (6, 50)
    weights = targets["weights"]
    assert weights.shape == (6, 50) and (weights > 0).all() and (weights <= 1.001 + 1e-6).all()


def test_scaled_windows_and_period_inputs():
    curves = _curves()
    frequencies = np.array([0.5, 0.0, 2.0, 0.0])
    powers = np.array([0.9, 0.0, 0.3, 0.0])
    sampler = WindowSampler(curves, max_obs=200, pad_to_max_obs=False, scale_magnitudes=True,
                            periods=(frequencies, powers))
    windows = sampler.sample([0, 2], np.random.default_rng(0))
    valid = windows.valid
    spread = np.sqrt((windows.magnitudes**2 * valid).sum(1) / valid.sum(1))
    np.testing.assert_allclose(spread, 1.0, rtol=1e-5)
    times = curves.values[windows.point_index[1, :30], 0]
    np.testing.assert_allclose(windows.phases[1, :30], (times * 2.0) % 1.0, atol=1e-5)
    assert (windows.phases[1, 30:] == 0).all()
    log_period, power, has_period, log_std, log_error = windows.descriptors[1]
    assert log_period == pytest.approx(np.log10(0.5)) and power == pytest.approx(0.3)
    assert has_period == 1 and log_std == pytest.approx(np.log10(windows.magnitude_scales[1]))
    errors = curves.values[curves.offsets[2]:curves.offsets[3], 2]
    assert log_error == pytest.approx(np.log10(np.median(errors)), rel=1e-5)
    collate = MaskedWindowCollate(sampler, mask_frac=0.5, same_frac=0.2, random_frac=0.2, seed=0)
    inputs, _ = collate([0, 1])
    assert set(inputs) == {"times", "magnitudes", "mask_in", "phases", "descriptors"}
    assert inputs["descriptors"][1, 2] == 0  # light curve 1 has no period
