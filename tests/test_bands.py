"""Multi-band light curves: validation of the band column, the shared period, colours."""

import warnings

import numpy as np
import pytest

from sklearn_astromer._bands import (
    band_subset,
    colour_names,
    colour_summaries,
    multiband_periods,
    per_band_curves,
)
from sklearn_astromer._validation import LightCurveRepairWarning, check_light_curves


def _two_band_curves(periods, seed=0, offsets=(0.4, 0.0), amplitudes=(1.4, 1.0), n=100):
    """Band 0 fainter by 0.4 mag and with 1.4x the amplitude of band 1; bands in blocks."""
    rng = np.random.default_rng(seed)
    curves = []
    for period in periods:
        blocks = []
        for code, (offset, ratio) in enumerate(zip(offsets, amplitudes)):
            times = np.sort(rng.uniform(0, 500, n))
            magnitudes = 15 + offset + 0.3 * ratio * np.sin(2 * np.pi * times / period)
            blocks.append(np.column_stack([times, magnitudes, np.full(n, 0.01),
                                           np.full(n, code)]))
        curves.append(np.concatenate(blocks))
    return curves


def test_band_column_is_kept_and_sorted_silently():
    curves = _two_band_curves([0.7, 5.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", LightCurveRepairWarning)
        light_curves = check_light_curves(curves, allow_bands=True)
    assert light_curves.bands is not None and len(light_curves.bands) == 400
    assert (np.diff(light_curves.values[:200, 0]) >= 0).all()
    # Every observation keeps its band through the sort.
    restored = light_curves.split_to_inputs(light_curves.bands.astype(float))
    np.testing.assert_array_equal(restored[0], curves[0][:, 3])


@pytest.mark.parametrize("bad, message", [
    (1.5, "not non-negative integers"),
    (-1.0, "not non-negative integers"),
])
def test_bad_band_codes_name_the_light_curve(bad, message):
    curves = _two_band_curves([0.7, 5.0, 2.0])
    curves[2][3, 3] = bad
    with pytest.raises(ValueError, match=rf"Light curve\(s\) \[2\] have band codes .*{message}"):
        check_light_curves(curves, allow_bands=True)


def test_band_column_everywhere_or_nowhere_and_refused_where_not_taken():
    curves = _two_band_curves([0.7, 5.0])
    with pytest.raises(ValueError, match=r"Light curve\(s\) \[1\] have no band column"):
        check_light_curves([curves[0], curves[1][:, :3]], allow_bands=True)
    with pytest.raises(ValueError, match="Light curve 0 has a fourth column"):
        check_light_curves(curves)


def test_a_nan_band_drops_its_observation_with_a_warning():
    curves = _two_band_curves([0.7])
    curves[0][5, 3] = np.nan
    with pytest.warns(LightCurveRepairWarning, match=r"Dropped .* light curve\(s\) \[0\]"):
        light_curves = check_light_curves(curves, allow_bands=True)
    assert len(light_curves.bands) == 199 and (light_curves.bands >= 0).all()


def test_the_bands_share_one_period_found_over_all_of_them():
    periods = [0.37, 2.9, 41.0]
    light_curves = check_light_curves(_two_band_curves(periods, n=40), allow_bands=True)
    frequencies, powers = multiband_periods(light_curves)
    np.testing.assert_allclose(1 / frequencies, periods, rtol=2e-3)
    assert (powers > 0.9).all()


def test_colours_and_amplitude_ratios_of_neighbouring_bands():
    light_curves = check_light_curves(_two_band_curves([0.7, 5.0]), allow_bands=True)
    summaries = colour_summaries(light_curves, np.array([0, 1]))
    assert colour_names([0, 1]) == ["colour_0_1", "amplitude_ratio_0_1"]
    np.testing.assert_allclose(summaries[:, 0], 0.4, atol=0.03)
    np.testing.assert_allclose(summaries[:, 1], 1.4, rtol=0.05)
    only_one = check_light_curves([_two_band_curves([1.0])[0][:100]], allow_bands=True)
    assert np.isnan(colour_summaries(only_one, np.array([0, 1]))).all()


def test_band_subsets_and_per_band_curves():
    curves = _two_band_curves([0.7, 5.0])
    curves[1] = curves[1][curves[1][:, 3] == 0]  # the second star lacks band 1
    light_curves = check_light_curves(curves, allow_bands=True)
    subset, rows = band_subset(light_curves, 1)
    np.testing.assert_array_equal(rows, [0])
    assert subset.lengths.tolist() == [100]
    flat, curve_index = per_band_curves(light_curves)
    assert curve_index.tolist() == [0, 0, 1] and flat.lengths.tolist() == [100, 100, 100]
    assert flat.bands is None
