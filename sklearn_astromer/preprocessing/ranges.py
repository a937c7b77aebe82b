"""Which observation times the windows can carry to a float32 model.

Windows reach the model in float32, times in days centred on each window's
mean. Centred in float64 (every variant but ``"paper"``), only the time span
matters: the time encodings multiply centred times by their frequencies in
float32. The ``"paper"`` variant centres in float32, as the original code
does (its published weights need it): there, large times lose precision
before they are centred, and times beyond float32 cannot be centred at all.
Magnitudes need no such check: they are centred (and scaled) in float64, and
a model whose float32 arithmetic overflows on them is caught by its outputs.
"""

import warnings

import numpy as np

from .._validation import format_indices

#: Longest time span of a light curve, days. Centred times, multiplied by
#: the time encodings' frequencies (up to ~50 rad/day, more once learned),
#: must stay far inside float32's 3.4e38.
MAX_TIME_SPAN = 1e30
#: Times (days) from which float32 centring rounds to 1/64 day (22 minutes)
#: or coarser: MJD (~60,000) stays below it, JD (~2.46e6, rounded to 1/4
#: day) does not.
FLOAT32_TIME_WARNING = 2.0**17
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_time_ranges(light_curves, *, float32_mean, max_obs, first_index=0):
    """Refuse times that the windows cannot carry; warn where float32 centring loses precision.

    Parameters
    ----------
    light_curves : RaggedLightCurves
        Validated light curves (finite, sorted by time).
    float32_mean : bool
        Whether windows are centred in float32 (the ``"paper"`` variant).
    max_obs : int
        Window size (a float32 centring sums up to this many times).
    first_index : int, default=0
        Index of the first light curve in the caller's data, for messages.

    Raises
    ------
    ValueError
        Naming the light curves: a time span over :data:`MAX_TIME_SPAN`
        days; with ``float32_mean``, times whose float32 sum overflows, or
        that float32 rounds more coarsely than the light curve's span.

    Warns
    -----
    UserWarning
        With ``float32_mean``, naming the light curves with times of
        :data:`FLOAT32_TIME_WARNING` days or more.
    """
    first = light_curves.values[light_curves.offsets[:-1], 0]
    last = light_curves.values[light_curves.offsets[1:] - 1, 0]
    with np.errstate(over="ignore"):
        spans = last - first
    _refuse(~(spans <= MAX_TIME_SPAN), first_index,
            f"span more than {MAX_TIME_SPAN:.0e} days (up to {np.max(spans):.3g}), more than "
            "the model can hold in float32 once centred. Are the times in days?")
    if not float32_mean:
        return
    largest = np.maximum(np.abs(first), np.abs(last))
    _refuse(largest * np.minimum(light_curves.lengths, max_obs) > _FLOAT32_MAX, first_index,
            f"have times (up to {np.max(largest):.3g} days) whose float32 sum overflows: the "
            "'paper' variant centres times in float32, as the original code does. Subtract a "
            "constant from the times.")
    spacing = np.spacing(largest.astype(np.float32)).astype(np.float64)
    _refuse((spans > 0) & (spacing > spans), first_index,
            "have times so large that float32, in which the 'paper' variant centres them (as "
            "the original code does), rounds them more coarsely than the light curve's time "
            f"span (to multiples of up to {np.max(spacing):.3g} days). Subtract a constant from "
            "the times.")
    coarse = largest >= FLOAT32_TIME_WARNING
    if coarse.any():
        warnings.warn(
            f"Light curve(s) {format_indices(np.flatnonzero(coarse) + first_index)} have times "
            f"of {FLOAT32_TIME_WARNING:.0f} days or more: the 'paper' variant centres times in "
            "float32, as the original code does, which rounds them to "
            f"{np.max(spacing[coarse]):.3g} days, and the embeddings change with that rounding "
            "(JD instead of MJD moves them by up to ~1). Subtract a constant (e.g. 2400000.5 "
            "from JD) to keep the precision the published weights were trained with.",
            UserWarning, stacklevel=5)


def _refuse(bad, first_index, problem):
    """Raise a ValueError naming the light curves ``bad`` (a boolean mask) and the problem."""
    if bad.any():
        names = format_indices(np.flatnonzero(bad) + first_index)
        raise ValueError(f"Light curve(s) {names} {problem}")
