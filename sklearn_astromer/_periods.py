"""Lomb-Scargle periods of many light curves at once (one pass per light curve, threaded).

The estimators call :func:`lomb_scargle_periods` through
:class:`~sklearn_astromer._prepared.PreparedLightCurves`, once per light
curve and call, before any batching: the period search never runs inside
the training or inference loops.
"""

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs

from ._lomb_scargle import best_frequency

#: Period search of the models' period input: the defaults of
#: :class:`~sklearn_astromer.features.LightCurveFeatures`. A coarser grid cap
#: (20,000) was measured to lose a quarter of the delta Scuti and contact
#: binary periods on OGLE-like cadences.
PERIOD_SEARCH = dict(min_period=0.05, max_period=1000.0, oversampling=2.0,
                     max_n_frequencies=100_000, n_peaks=5)


#: Phases of float64 cycle counts beyond 2**52 have no fractional digit.
_MAX_PHASE_CYCLES = 2.0**52


def _weights(errors):
    """Normalised inverse-variance weights; equal weights unless every error is positive."""
    if np.all(errors > 0):
        inverse = errors.min() / errors  # relative to the smallest: no overflow
        weights = inverse**2
    else:
        weights = np.ones_like(errors)
    return weights / weights.sum()


def _searchable(times, magnitudes, min_period):
    """Whether a period search makes sense: three points, a time span, a magnitude spread.

    Also refuses spans so long that the fastest trial frequency's phases
    have no fractional digit left in float64 (or that overflow).
    """
    with np.errstate(over="ignore", invalid="ignore"):
        span = times[-1] - times[0]
        spread = np.max(magnitudes) - np.min(magnitudes)
    return (len(times) >= 3 and 0 < span <= _MAX_PHASE_CYCLES * min_period and spread > 0)


def _periods_of_range(values, offsets, search):
    """``(frequency, power)`` of light curves ``values[offsets[i]:offsets[i + 1]]``."""
    result = np.zeros((len(offsets) - 1, 2))
    for i, (start, stop) in enumerate(zip(offsets[:-1], offsets[1:])):
        times, magnitudes, errors = values[start:stop].T
        if not _searchable(times, magnitudes, search["min_period"]):
            continue
        # The power does not depend on the magnitudes' scale; a power of two
        # near their largest value (exact) keeps their squares finite.
        magnitudes = np.ldexp(magnitudes, -np.frexp(np.abs(magnitudes).max())[1])
        result[i] = best_frequency(times, magnitudes, _weights(errors), search["min_period"],
                                   search["max_period"], search["oversampling"],
                                   search["max_n_frequencies"], search["n_peaks"])
    return result


def lomb_scargle_periods(light_curves, *, n_jobs=None, **search):
    """Best Lomb-Scargle frequency and its power for every light curve.

    Parameters
    ----------
    light_curves : RaggedLightCurves
        Validated light curves (sorted, finite).
    n_jobs : int or None, default=None
        joblib threads over chunks of light curves (the FFTs release the
        GIL); None means 1 outside a :func:`joblib.parallel_config` context.
    **search
        Overrides of :data:`PERIOD_SEARCH` (``min_period``, ``max_period``
        in days, ``oversampling``, ``max_n_frequencies``, ``n_peaks``).

    Returns
    -------
    frequencies : float64 ndarray of shape (n_samples,)
        Cycles per day; 0 where no period can be searched (fewer than three
        observations, a single epoch, or a constant light curve).
    powers : float64 ndarray of shape (n_samples,)
        Generalised Lomb-Scargle power of that peak, in [0, 1].
    """
    search = {**PERIOD_SEARCH, **search}
    n_samples = len(light_curves)
    n_jobs = effective_n_jobs(n_jobs)
    n_chunks = min(n_samples, 4 * n_jobs) if n_jobs > 1 else 1
    bounds = np.linspace(0, n_samples, n_chunks + 1).astype(int)
    offsets = light_curves.offsets
    chunks = Parallel(n_jobs=n_jobs, prefer="threads")(
        delayed(_periods_of_range)(light_curves.values, offsets[start:stop + 1], search)
        for start, stop in zip(bounds[:-1], bounds[1:])
    ) if n_samples else [np.zeros((0, 2))]
    result = np.concatenate(chunks)
    return result[:, 0], result[:, 1]
