"""The scalars a period input gives the model: per window, and per whole light curve."""

import numpy as np

#: Floor of the amplitudes and errors whose logarithms are descriptors, mag.
_LOG_FLOOR = 1e-4


def descriptors(frequencies, powers, spreads, median_errors):
    """Stack the descriptors (see :data:`sklearn_astromer.nn.period.DESCRIPTOR_NAMES`).

    Parameters
    ----------
    frequencies, powers : float ndarrays of shape (n,)
        Lomb-Scargle frequency (cycles/day, 0 if none) and its power.
    spreads, median_errors : float ndarrays of shape (n,)
        Standard deviation of the magnitudes and median magnitude error, mag.

    Returns
    -------
    float32 ndarray of shape (n, 5)
        ``log10`` period (days; 0 when unknown), the period's power, 1 when
        a period is known, ``log10`` of the spread and of the median error
        (both floored at 1e-4 mag).
    """
    has_period = frequencies > 0
    log_period = np.where(has_period, -np.log10(np.where(has_period, frequencies, 1.0)), 0.0)
    return np.column_stack([
        log_period,
        powers,
        has_period.astype(np.float64),
        np.log10(np.maximum(spreads, _LOG_FLOOR)),
        np.log10(np.maximum(np.nan_to_num(median_errors), _LOG_FLOOR)),
    ]).astype(np.float32)


def window_descriptors(frequencies, powers, spreads, errors, valid):
    """Per-window descriptors: the light curve's period, the window's spread and noise.

    Parameters
    ----------
    frequencies, powers : float ndarrays of shape (n_windows,)
        The light curve's Lomb-Scargle frequency (cycles/day, 0 if none)
        and its power.
    spreads : float ndarray of shape (n_windows,)
        Standard deviation of the window's magnitudes, mag.
    errors : float ndarray of shape (n_windows, width)
    valid : bool ndarray of shape (n_windows, width)

    Returns
    -------
    float32 ndarray of shape (n_windows, 5)
        See :func:`descriptors`.
    """
    median_errors = np.nanmedian(np.where(valid, np.abs(errors), np.nan), axis=1)
    return descriptors(frequencies, powers, spreads, median_errors)


def curve_descriptors(light_curves, frequencies, powers):
    """Descriptors of whole light curves (spread and median error over all observations).

    Parameters
    ----------
    light_curves : RaggedLightCurves
    frequencies, powers : float ndarrays of shape (n_samples,)
        From :func:`sklearn_astromer._periods.lomb_scargle_periods`.

    Returns
    -------
    float32 ndarray of shape (n_samples, 5)
        See :func:`descriptors`.
    """
    lengths = light_curves.lengths
    samples = np.repeat(np.arange(len(lengths)), lengths)
    magnitudes = light_curves.values[:, 1]
    means = np.bincount(samples, magnitudes, minlength=len(lengths)) / lengths
    deviations = magnitudes - means[samples]
    # Scaled by each light curve's largest deviation: squares of huge
    # magnitudes would overflow.
    scales = np.zeros(len(lengths))
    np.maximum.at(scales, samples, np.abs(deviations))
    scales = np.where(scales > 0, scales, 1.0)
    spreads = scales * np.sqrt(np.bincount(samples, (deviations / scales[samples]) ** 2,
                                           minlength=len(lengths)) / lengths)
    order = np.lexsort((np.abs(light_curves.values[:, 2]), samples))
    errors = np.abs(light_curves.values[order, 2])
    starts = light_curves.offsets[:-1]
    median_errors = 0.5 * (errors[starts + (lengths - 1) // 2] + errors[starts + lengths // 2])
    return descriptors(np.asarray(frequencies, dtype=np.float64),
                       np.asarray(powers, dtype=np.float64), spreads, median_errors)
