"""Lomb-Scargle periods of many light curves at once (batches of similar length, threaded).

The estimators call :func:`lomb_scargle_periods` through
:class:`~sklearn_astromer._prepared.PreparedLightCurves`, once per light
curve and call, before any batching: the period search never runs inside
the training or inference loops.
"""

from functools import cache

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from threadpoolctl import ThreadpoolController

from ._lomb_scargle import best_frequencies

#: Period search of the models' period input: the defaults of
#: :class:`~sklearn_astromer.features.LightCurveFeatures`. A coarser grid cap
#: (20,000) was measured to lose a quarter of the delta Scuti and contact
#: binary periods on OGLE-like cadences.
PERIOD_SEARCH = dict(min_period=0.05, max_period=1000.0, oversampling=2.0,
                     max_n_frequencies=100_000, n_peaks=5)


#: Phases of float64 cycle counts beyond 2**52 have no fractional digit.
_MAX_PHASE_CYCLES = 2.0**52


#: Padded observations per batch of light curves searched at once.
_BATCH_OBSERVATIONS = 1 << 16

#: Fewest light curves per thread's chunk: smaller chunks cost more in
#: thread start-up and short batches than a second thread saves.
_MIN_CHUNK_CURVES = 64


@cache
def _blas_controller():
    """numpy's and scipy's BLAS thread pools, found once (a search takes ~2 ms)."""
    return ThreadpoolController()


def _row_statistics(values, offsets):
    """Per light curve: span, magnitude spread, largest absolute magnitude, smallest error."""
    starts, stops = offsets[:-1], offsets[1:]
    with np.errstate(over="ignore", invalid="ignore"):
        spans = values[stops - 1, 0] - values[starts, 0]
        spreads = (np.maximum.reduceat(values[:, 1], starts)
                   - np.minimum.reduceat(values[:, 1], starts))
    largest = np.maximum.reduceat(np.abs(values[:, 1]), starts)
    smallest_error = np.minimum.reduceat(values[:, 2], starts)
    return spans, spreads, largest, smallest_error


def _searchable(lengths, spans, spreads, min_period):
    """Whether a period search makes sense: three points, a time span, a magnitude spread.

    Also refuses spans so long that the fastest trial frequency's phases
    have no fractional digit left in float64 (or that overflow).
    """
    with np.errstate(invalid="ignore"):
        return ((lengths >= 3) & (spans > 0) & (spans <= _MAX_PHASE_CYCLES * min_period)
                & (spreads > 0))


def _padded_block(values, offsets, rows, largest, smallest_error):
    """Times, scaled magnitudes and normalised weights of light curves ``rows``, padded.

    Padding repeats each light curve's last time and carries zero weight. The
    power does not depend on the magnitudes' scale; a power of two near their
    largest value (exact) keeps their squares finite. Weights are inverse
    variances when every error of a light curve is positive, else equal.
    """
    lengths = offsets[rows + 1] - offsets[rows]
    width = int(lengths.max())
    positions = np.arange(width)
    real = positions < lengths[:, None]
    index = offsets[rows, None] + np.minimum(positions, lengths[:, None] - 1)
    times, magnitudes, errors = (values[index, column] for column in range(3))
    magnitudes = np.ldexp(magnitudes, -np.frexp(largest[rows])[1][:, None])
    all_known = np.logical_and.reduce(np.where(real, errors > 0, True), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):  # 0 / 0: unknown errors
        inverse = smallest_error[rows, None] / errors  # relative to the smallest: no overflow
    weights = np.where(all_known[:, None], inverse**2, 1.0) * real
    return times, magnitudes, weights / weights.sum(axis=1, keepdims=True)


def _periods_of_range(values, offsets, search, device):
    """``(frequency, power)`` of light curves ``values[offsets[i]:offsets[i + 1]]``.

    Light curves are searched in batches of similar length (little padding).
    """
    result = np.zeros((len(offsets) - 1, 2))
    if len(offsets) < 2:
        return result
    values = values[offsets[0]:offsets[-1]]
    offsets = offsets - offsets[0]
    lengths = np.diff(offsets)
    spans, spreads, largest, smallest_error = _row_statistics(values, offsets)
    rows = np.flatnonzero(_searchable(lengths, spans, spreads, search["min_period"]))
    rows = rows[np.argsort(lengths[rows], kind="stable")]
    start = 0
    while start < len(rows):
        per_batch = max(1, _BATCH_OBSERVATIONS // int(lengths[rows[start]]))
        block = rows[start:start + per_batch]
        block = block[lengths[block] <= 2 * lengths[block[0]]]  # similar lengths only
        times, magnitudes, weights = _padded_block(values, offsets, block, largest,
                                                   smallest_error)
        result[block] = np.column_stack(best_frequencies(
            times, magnitudes, weights, search["min_period"], search["max_period"],
            search["oversampling"], search["max_n_frequencies"], search["n_peaks"], device))
        start += len(block)
    return result


def lomb_scargle_periods(light_curves, *, n_jobs=None, device="cpu", **search):
    """Best Lomb-Scargle frequency and its power for every light curve.

    Parameters
    ----------
    light_curves : RaggedLightCurves
        Validated light curves (sorted, finite).
    n_jobs : int or None, default=None
        joblib threads over chunks of light curves (the FFTs release the
        GIL), each calling BLAS single-threaded; None means 1 outside a
        :func:`joblib.parallel_config` context.
    device : str or torch.device, default="cpu"
        Where each batch's coarse pass (frequency grid, FFT, peaks) runs:
        a GPU such as ``"cuda"`` takes the bulk of the work off the CPU.
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
    n_chunks = min(4 * n_jobs, -(-n_samples // _MIN_CHUNK_CURVES)) if n_jobs > 1 else 1
    bounds = np.linspace(0, n_samples, n_chunks + 1).astype(int)
    offsets = light_curves.offsets
    # The search's matrix products are small: OpenBLAS threads under the
    # search's own threads only contend (2 threads measured at half the speed
    # of 1). numpy's and scipy's BLAS only: torch's is not touched.
    with _blas_controller().limit(limits=1, user_api="blas"):
        if n_chunks > 1:
            chunks = Parallel(n_jobs=n_jobs, prefer="threads")(
                delayed(_periods_of_range)(light_curves.values, offsets[start:stop + 1],
                                           search, device)
                for start, stop in zip(bounds[:-1], bounds[1:]))
        else:
            chunks = [_periods_of_range(light_curves.values, offsets, search, device)]
    result = np.concatenate(chunks)
    return result[:, 0], result[:, 1]
