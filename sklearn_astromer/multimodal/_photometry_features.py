"""AstroM3's photometry inputs: normalised flux sequences and six auxiliary values per curve.

AstroM3 (``src/dataset.py``) feeds its Informer nine channels per
observation: time scaled to [0, 1] over the light curve, flux as
``(flux - mean) / MAD`` and its error ``/ MAD``, then six values of the whole
light curve tiled along time: amplitude, log10 period, Lafler-Kinman string
length, the ASAS-SN random-forest score (catalogue values, z-scored with the
training set), ``log10(MAD)`` and the time span in years.

Here everything is computed from the light curves themselves, once per
light curve and call, on flat arrays of all observations (no loop over
observations; the period search loops over light curves in
:func:`~sklearn_astromer._periods.lomb_scargle_periods`):

* magnitudes become flux in mJy, ``10 ** (-0.4 (m - 16.4))`` (16.4 is the AB
  magnitude of 1 mJy; errors ``0.4 ln(10) flux sigma_m``), as AstroM3 reads
  ASAS-SN's flux in mJy. The flux is computed relative to the median
  magnitude and ``log10(MAD)`` in log space, so that no magnitude overflows;
  the normalised channels do not depend on the zero point, only
  ``log10(MAD)`` does (it carries brightness and variability, as AstroM3's);
* amplitude: 95th minus 5th percentile of the magnitudes;
* period: the highest Lomb-Scargle peak (the project's period search);
* Lafler-Kinman statistic of the magnitudes folded at that period
  (Clarke 2002 normalisation: about 1 for noise, near 0 for a clean curve);
* score: the Lomb-Scargle power of that peak, in place of the ASAS-SN
  classifier's score, which no light curve can give.
"""

from dataclasses import dataclass

import numpy as np

from .._periods import lomb_scargle_periods
from .._validation import format_indices

#: The auxiliary values, in channel order (3..8 of the Informer's input).
AUXILIARY_NAMES = ("amplitude", "log10_period", "lafler_kinman", "period_power",
                   "log10_mad", "time_span_years")
#: The first ones are catalogue values in AstroM3, z-scored with the training set.
N_STANDARDISED = 4
N_CHANNELS = 3 + len(AUXILIARY_NAMES)
# AB magnitude of a flux of 1 mJy: magnitudes are read as AB-like ones.
FLUX_ZERO_POINT = 16.4
# Brighter than the light curve's median by more than this (magnitudes), the
# relative flux (10**20) would overflow the float32 channels once divided by a MAD.
MAX_BRIGHTENING = 50.0
# Spread assigned to a light curve without any variation (relative flux: 1 ppm).
FLAT_SPREAD = 1e-6


def _segment_ids(offsets):
    return np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))


def _segment_quantiles(values, ids, offsets, quantiles):
    """Per-segment quantiles (linear interpolation, as ``np.quantile``); ``(n, len(q))``."""
    ordered = values[np.lexsort((values, ids))]
    lengths = np.diff(offsets)
    position = offsets[:-1, None] + np.asarray(quantiles)[None] * (lengths[:, None] - 1)
    below = np.floor(position).astype(np.int64)
    above = np.minimum(below + 1, offsets[1:, None] - 1)
    weight = position - below
    return ordered[below] * (1 - weight) + ordered[above] * weight


def _segment_median(values, ids, offsets):
    return _segment_quantiles(values, ids, offsets, [0.5])[:, 0]


def _segment_mean(values, offsets):
    return np.add.reduceat(values, offsets[:-1]) / np.diff(offsets)


def _relative_flux(magnitudes, errors, ids, offsets):
    """Flux relative to the median magnitude's, its error, and that median magnitude.

    Raises a ValueError naming the light curves where the flux would overflow.
    """
    median = _segment_median(magnitudes, ids, offsets)
    brightening = magnitudes - median[ids]
    too_bright = brightening < -MAX_BRIGHTENING
    if too_bright.any():
        raise ValueError(
            f"Light curve(s) {format_indices(np.unique(ids[too_bright]))} hold observations "
            f"more than {MAX_BRIGHTENING:g} magnitudes brighter than their median; their "
            "flux cannot be represented. Remove those observations."
        )
    flux = 10.0 ** (-0.4 * brightening)
    return flux, (0.4 * np.log(10.0)) * flux * errors, median


def _lafler_kinman(times, magnitudes, frequencies, ids, offsets):
    """Lafler-Kinman string length of each light curve folded at its frequency.

    ``T = sum_i (m_{i+1} - m_i)**2 / sum_i (m_i - mean)**2 * (N - 1) / (2 N)``
    over the phase-ordered magnitudes, cyclically (Clarke 2002). NaN where no
    period was found or the light curve is constant.
    """
    lengths = np.diff(offsets)
    starts = np.repeat(times[offsets[:-1]], lengths)
    phases = np.mod((times - starts) * frequencies[ids], 1.0)
    ordered = magnitudes[np.lexsort((phases, ids))]
    following = np.roll(ordered, -1)
    last = offsets[1:] - 1
    following[last] = ordered[offsets[:-1]]  # wrap around within each light curve
    string = np.add.reduceat((following - ordered) ** 2, offsets[:-1])
    deviations = np.add.reduceat((ordered - _segment_mean(ordered, offsets)[ids]) ** 2,
                                 offsets[:-1])
    valid = (frequencies > 0) & (deviations > 0) & (lengths > 1)
    ratio = np.divide(string, deviations, out=np.full(len(lengths), np.nan), where=valid)
    return ratio * (lengths - 1) / (2 * lengths)


@dataclass
class AstroM3LightCurves:
    """AstroM3's per-observation channels and per-curve auxiliary values.

    Attributes
    ----------
    values : float32 ndarray of shape (n_points, 3)
        Scaled time in [0, 1], ``(flux - mean) / MAD`` and ``error / MAD``,
        light curve after light curve.
    offsets : int64 ndarray of shape (n_samples + 1,)
    auxiliary : float64 ndarray of shape (n_samples, 6)
        :data:`AUXILIARY_NAMES`; the first :data:`N_STANDARDISED` columns are
        raw until :meth:`standardised` z-scores them (NaN -> 0, the mean).
    """

    values: np.ndarray
    offsets: np.ndarray
    auxiliary: np.ndarray

    @property
    def lengths(self):
        """Observations per light curve."""
        return np.diff(self.offsets)

    def standardised(self, mean, scale):
        """A copy whose first auxiliary values are z-scores with ``mean`` and ``scale``."""
        auxiliary = self.auxiliary.copy()
        scores = (auxiliary[:, :N_STANDARDISED] - mean) / scale
        auxiliary[:, :N_STANDARDISED] = np.nan_to_num(scores, nan=0.0)
        return AstroM3LightCurves(self.values, self.offsets, auxiliary)

    def windows(self, rows, starts, max_obs, present):
        """Padded ``(len(rows), max_obs, 9)`` float32 inputs and ``mask_in`` (True on padding).

        Window ``b`` holds observations ``starts[b] .. starts[b] + max_obs``
        of light curve ``rows[b]``; its auxiliary values fill every step,
        padding included (as AstroM3 tiles them). Rows not ``present`` are
        all zeros and all padding.
        """
        lengths = np.where(present, np.minimum(self.lengths[rows] - starts, max_obs), 0)
        valid = np.arange(max_obs) < lengths[:, None]
        points = np.where(valid, (self.offsets[rows] + starts)[:, None] + np.arange(max_obs), 0)
        series = np.zeros((len(rows), max_obs, N_CHANNELS), np.float32)
        series[..., :3] = np.where(valid[..., None], self.values[points], 0.0)
        series[..., 3:] = np.where(present[:, None], self.auxiliary[rows], 0.0)[:, None]
        return series, ~valid


def centre_starts(lengths, max_obs):
    """First observation of the centred window of ``max_obs`` observations (AstroM3's)."""
    return np.maximum(np.asarray(lengths) - max_obs, 0) // 2


def astrom3_light_curves(light_curves, present=None, n_jobs=None, device="cpu"):
    """Compute AstroM3's inputs for every light curve (see the module docstring).

    Parameters
    ----------
    light_curves : RaggedLightCurves
        Validated light curves (time in days, magnitude, error in magnitudes).
    present : bool ndarray of shape (n_samples,), optional
        Only these light curves are computed (the others are placeholders of
        absent cells); their rows of the result are zeros.
    n_jobs : int or None, default=None
        Threads of the period search.
    device : str or torch.device, default="cpu"
        Where the period search's coarse pass runs.

    Returns
    -------
    AstroM3LightCurves
        Auxiliary values raw (not yet z-scored).

    Raises
    ------
    ValueError
        Naming the light curves whose flux or auxiliary values would not be
        finite in float32.
    """
    n_samples = len(light_curves)
    present = np.ones(n_samples, bool) if present is None else np.asarray(present, bool)
    rows = np.flatnonzero(present)
    values = np.zeros((len(light_curves.values), 3), np.float32)
    auxiliary = np.zeros((n_samples, len(AUXILIARY_NAMES)))
    if not len(rows):
        return AstroM3LightCurves(values, light_curves.offsets, auxiliary)
    subset = light_curves.subset(rows)
    offsets, ids = subset.offsets, _segment_ids(subset.offsets)
    times, magnitudes, errors = subset.values.T
    flux, flux_errors, median_magnitudes = _relative_flux(magnitudes, errors, ids, offsets)
    mean = _segment_mean(flux, offsets)
    spread = _segment_median(np.abs(flux - _segment_median(flux, ids, offsets)[ids]), ids,
                             offsets)
    deviation = np.sqrt(_segment_mean((flux - mean[ids]) ** 2, offsets))
    spread = np.where(spread > 0, spread, np.where(deviation > 0, deviation, FLAT_SPREAD))
    first, span = times[offsets[:-1]], times[offsets[1:] - 1] - times[offsets[:-1]]
    scaled_times = np.divide(times - first[ids], span[ids], out=np.zeros_like(times),
                             where=span[ids] > 0)
    frequencies, powers = lomb_scargle_periods(subset, n_jobs=n_jobs, device=device)
    low, high = _segment_quantiles(magnitudes, ids, offsets, [0.05, 0.95]).T
    with np.errstate(divide="ignore"):
        log_period = np.where(frequencies > 0, -np.log10(frequencies), np.nan)
    auxiliary[rows] = np.column_stack([
        high - low, log_period, _lafler_kinman(times, magnitudes, frequencies, ids, offsets),
        powers, np.log10(spread) - 0.4 * (median_magnitudes - FLUX_ZERO_POINT), span / 365.0,
    ])
    sequences = np.column_stack([scaled_times, (flux - mean[ids]) / spread[ids],
                                 flux_errors / spread[ids]])
    _check_float32(sequences, auxiliary, rows, ids)
    values[_positions(light_curves.offsets, rows)] = sequences
    return AstroM3LightCurves(values, light_curves.offsets, auxiliary)


def _positions(offsets, rows):
    """Indices into the flat observations of light curves ``rows``, in order."""
    lengths = np.diff(offsets)[rows]
    return np.repeat(offsets[rows], lengths) + np.arange(lengths.sum()) - np.repeat(
        np.cumsum(lengths) - lengths, lengths)


def _check_float32(sequences, auxiliary, rows, ids):
    limit = np.finfo(np.float32).max
    bad_points = ~(np.abs(sequences) <= limit).all(axis=1)
    bad_curves = ~(np.abs(np.nan_to_num(auxiliary[rows], nan=0.0)) <= limit).all(axis=1)
    bad = np.union1d(rows[np.unique(ids[bad_points])], rows[bad_curves])
    if len(bad):
        raise ValueError(
            f"Light curve(s) {format_indices(bad)} give non-finite or float32-overflowing "
            "AstroM3 inputs (normalised flux, time span or amplitude); check their times "
            "and magnitudes."
        )
