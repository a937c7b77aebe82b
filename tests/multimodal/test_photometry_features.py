"""AstroM3's photometry inputs: normalised flux channels and auxiliary values."""

import numpy as np
import pytest

from sklearn_astromer._validation import check_light_curves
from sklearn_astromer.multimodal._photometry_features import (
    AUXILIARY_NAMES,
    N_CHANNELS,
    astrom3_light_curves,
    centre_starts,
)


def _sinusoid(period, n=300, amplitude=0.5, noise=0.0, seed=0):
    rng = np.random.default_rng(seed)
    times = np.sort(rng.uniform(0, 700, n)) + 55000
    magnitudes = 14 + amplitude * np.sin(2 * np.pi * times / period)
    magnitudes += noise * rng.standard_normal(n)
    return np.column_stack([times, magnitudes, np.full(n, 0.02)])


def test_channels_follow_astrom3_on_flux_in_millijansky():
    curve = _sinusoid(3.7, noise=0.05)
    features = astrom3_light_curves(check_light_curves([curve]))
    times, magnitudes, errors = curve.T
    flux = 10 ** (-0.4 * (magnitudes - 16.4))  # mJy
    mad = np.median(np.abs(flux - np.median(flux)))
    expected = np.column_stack([(times - times[0]) / (times[-1] - times[0]),
                                (flux - flux.mean()) / mad,
                                0.4 * np.log(10) * flux * errors / mad])
    np.testing.assert_allclose(features.values, expected, rtol=1e-5, atol=1e-6)
    amplitude, log_period, _, power, log_mad, span = features.auxiliary[0]
    low, high = np.percentile(magnitudes, [5, 95])
    assert amplitude == pytest.approx(high - low)
    assert log_period == pytest.approx(np.log10(3.7), abs=2e-3)
    assert 0.5 < power <= 1
    assert log_mad == pytest.approx(np.log10(mad))
    assert span == pytest.approx((times[-1] - times[0]) / 365)
    assert len(AUXILIARY_NAMES) == 6 and N_CHANNELS == 9


def test_lafler_kinman_is_small_for_a_clean_period_and_near_one_for_noise():
    rng = np.random.default_rng(1)
    noise = np.column_stack([np.sort(rng.uniform(0, 700, 300)), 14 + rng.normal(0, 0.1, 300),
                             np.full(300, 0.02)])
    clean, noisy = astrom3_light_curves(check_light_curves([_sinusoid(0.61), noise])).auxiliary
    assert clean[2] < 0.05
    assert 0.8 < noisy[2] < 1.2


def test_a_constant_or_single_point_curve_stays_finite():
    constant = np.column_stack([np.arange(10.0), np.full(10, 15.0), np.full(10, 0.01)])
    single = np.array([[5.0, 12.0, 0.1]])
    features = astrom3_light_curves(check_light_curves([constant, single]))
    assert np.isfinite(features.values).all()
    # no period, hence no folded statistic: NaN, which z-scoring turns into the mean
    assert np.isnan(features.auxiliary[:, 1:3]).all()
    assert np.isfinite(features.auxiliary[:, [0, 3, 4, 5]]).all()
    assert np.isfinite(features.standardised(np.zeros(4), np.ones(4)).auxiliary).all()


def test_absent_rows_are_not_computed():
    curves = check_light_curves([_sinusoid(2.0), np.zeros((1, 3)), _sinusoid(5.0)])
    both = astrom3_light_curves(curves, present=np.array([True, False, True]))
    alone = astrom3_light_curves(curves.subset([2]))
    assert (both.auxiliary[1] == 0).all()
    np.testing.assert_allclose(both.auxiliary[2], alone.auxiliary[0])


def test_windows_crop_pad_and_tile_the_auxiliary_values():
    curves = check_light_curves([_sinusoid(2.0, n=50), _sinusoid(5.0, n=8)])
    features = astrom3_light_curves(curves).standardised(np.zeros(4), np.ones(4))
    starts = centre_starts(features.lengths, 20)
    np.testing.assert_array_equal(starts, [15, 0])
    series, mask_in = features.windows(np.array([0, 1]), starts, 20, np.array([True, True]))
    assert series.shape == (2, 20, 9) and series.dtype == np.float32
    np.testing.assert_allclose(series[0, :, :3], features.values[15:35])
    assert not mask_in[0].any() and mask_in[1, 8:].all() and not mask_in[1, :8].any()
    assert (series[1, 8:, :3] == 0).all()
    np.testing.assert_allclose(series[1, :, 3:], np.tile(features.auxiliary[1], (20, 1)),
                               rtol=1e-6)
    absent, absent_mask = features.windows(np.array([1]), np.array([0]), 20, np.array([False]))
    assert (absent == 0).all() and absent_mask.all()


def test_flux_that_would_overflow_names_the_light_curve():
    bright = _sinusoid(2.0)
    bright[7, 1] = -1e3  # 1000 magnitudes brighter than the median
    with pytest.raises(ValueError, match=r"Light curve\(s\) \[1\]"):
        astrom3_light_curves(check_light_curves([_sinusoid(3.0), bright]))
    huge_times = _sinusoid(2.0)
    huge_times[:, 0] *= 1e300
    with pytest.raises(ValueError, match=r"Light curve\(s\) \[0\].*float32"):
        astrom3_light_curves(check_light_curves([huge_times]))
