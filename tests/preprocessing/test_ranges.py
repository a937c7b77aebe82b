import warnings

import numpy as np
import pytest

from sklearn_astromer._validation import check_light_curves
from sklearn_astromer.preprocessing.ranges import (
    FLOAT32_TIME_WARNING,
    MAX_TIME_SPAN,
    check_time_ranges,
)


def _curves(*time_arrays):
    return check_light_curves([np.column_stack([times, np.sin(np.arange(len(times)))])
                               for times in map(np.asarray, time_arrays)])


def _check(light_curves, float32_mean, first_index=0):
    check_time_ranges(light_curves, float32_mean=float32_mean, max_obs=200,
                      first_index=first_index)


@pytest.mark.parametrize("float32_mean", [False, True])
def test_spans_beyond_the_limit_are_refused_naming_the_light_curve(float32_mean):
    light_curves = _curves(np.arange(5.0), [0.0, 2 * MAX_TIME_SPAN], [-1e308, 1e308])
    with pytest.raises(ValueError, match=r"Light curve\(s\) \[11, 12\] span more than 1e\+30"):
        _check(light_curves, float32_mean, first_index=10)


def test_float64_centring_takes_huge_times_with_a_short_span():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _check(_curves(1e300 + np.arange(5.0), 2.4e6 + np.arange(5.0)), float32_mean=False)


def test_float32_centring_refuses_times_whose_sum_overflows():
    with pytest.raises(ValueError, match=r"\[1\] have times .* float32 sum overflows"):
        _check(_curves(np.arange(5.0), 1e38 + np.arange(5.0) * 1e29), float32_mean=True)


def test_float32_centring_refuses_times_rounded_beyond_the_span():
    # float32 spacing at 1e12 is 65536 days: 100 days of observations collapse.
    with pytest.raises(ValueError, match=r"\[0\] .* more coarsely than the light curve's time "
                                         r"span \(to multiples of up to 6\.55e\+04 days\)"):
        _check(_curves(1e12 + np.arange(100.0)), float32_mean=True)


def test_float32_centring_warns_about_jd_but_not_mjd():
    mjd = 50000 + np.linspace(0, 1000, 50)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _check(_curves(mjd, mjd), float32_mean=True)
    with pytest.warns(UserWarning, match=r"\[1\] have times of 131072 days or more.*0\.25 days"):
        _check(_curves(mjd, mjd + 2400000.5), float32_mean=True)
    assert FLOAT32_TIME_WARNING == 2**17
