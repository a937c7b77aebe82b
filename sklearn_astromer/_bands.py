"""Multi-band light curves: one shared period, colours, and the light curves of one band.

A multi-band light curve (``RaggedLightCurves.bands`` set) holds every
band's observations in one sequence. The bands of a variable star share its
period while their mean magnitudes (colours) and amplitudes differ, so:

* :func:`multiband_periods` searches one period per object over all bands,
  each band's magnitudes taken relative to that band's mean (so a colour
  offset is not mistaken for variability) and scaled to a common amplitude
  (so the bands with the larger amplitude do not drown the others);
* :func:`colour_summaries` gives the colours of neighbouring bands (band
  codes in order, bluest first by convention: ``g - r``, ``r - i``) and
  their amplitude ratios;
* :func:`band_subset` keeps one band's observations.
"""

import numpy as np

from ._periods import lomb_scargle_periods

#: Robust amplitude of a band: the spread between these quantiles of its magnitudes.
AMPLITUDE_QUANTILES = (0.05, 0.95)


def _segments(light_curves, bands_):
    """Segment id (curve * n_bands + band position) of every observation, and the count."""
    positions = np.searchsorted(bands_, light_curves.bands)
    samples = np.repeat(np.arange(len(light_curves)), light_curves.lengths)
    return samples * len(bands_) + positions, len(light_curves) * len(bands_)


def _segment_mean(values, segments, n_segments):
    """Mean of every segment (NaN where it is empty)."""
    counts = np.bincount(segments, minlength=n_segments)
    sums = np.bincount(segments, values, minlength=n_segments)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts


def _band_statistics(light_curves, bands_):
    """``(segments, means, amplitudes)``: the (curve, band) segment of every observation, and
    every segment's mean magnitude and robust amplitude (NaN where undefined)."""
    segments, n_segments = _segments(light_curves, bands_)
    magnitudes = light_curves.values[:, 1]
    return (segments, _segment_mean(magnitudes, segments, n_segments),
            _segment_amplitudes(magnitudes, segments, n_segments))


def _segment_amplitudes(magnitudes, segments, n_segments):
    """Robust amplitude of every segment (NaN for segments with fewer than two points)."""
    sorted_magnitudes = magnitudes[np.lexsort((magnitudes, segments))]
    counts = np.bincount(segments, minlength=n_segments)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    low, high = AMPLITUDE_QUANTILES
    amplitudes = np.full(n_segments, np.nan)
    has = counts >= 2
    lower = starts[has] + np.floor(low * (counts[has] - 1)).astype(int)
    upper = starts[has] + np.ceil(high * (counts[has] - 1)).astype(int)
    amplitudes[has] = sorted_magnitudes[upper] - sorted_magnitudes[lower]
    return amplitudes


def multiband_periods(light_curves, n_jobs=None, device="cpu", **search):
    """One ``(frequency, power)`` per multi-band light curve, shared by its bands.

    Parameters
    ----------
    light_curves : RaggedLightCurves
        With ``bands``.
    n_jobs : int or None, default=None
        Threads of the search.
    device : str or torch.device, default="cpu"
        Where the search's coarse pass runs.
    **search
        Overrides of :data:`~sklearn_astromer._periods.PERIOD_SEARCH`, as for
        :func:`~sklearn_astromer._periods.lomb_scargle_periods`.

    Returns
    -------
    frequencies, powers : float64 ndarrays of shape (n_samples,)
        As :func:`~sklearn_astromer._periods.lomb_scargle_periods`.
    """
    segments, means, amplitudes = _band_statistics(light_curves,
                                                   np.unique(light_curves.bands))
    scale = np.where(np.isfinite(amplitudes) & (amplitudes > 0), amplitudes, 1.0)
    merged = light_curves.values.copy()
    merged[:, 1] = (merged[:, 1] - means[segments]) / scale[segments]
    merged[:, 2] = merged[:, 2] / scale[segments]
    return lomb_scargle_periods(type(light_curves)(merged, light_curves.offsets), n_jobs=n_jobs,
                                device=device, **search)


def colour_names(bands_):
    """Names of :func:`colour_summaries`' columns for the band codes ``bands_``."""
    pairs = list(zip(bands_[:-1], bands_[1:]))
    return ([f"colour_{a}_{b}" for a, b in pairs]
            + [f"amplitude_ratio_{a}_{b}" for a, b in pairs])


def colour_summaries(light_curves, bands_):
    """Colours and amplitude ratios of neighbouring bands of every light curve.

    Parameters
    ----------
    light_curves : RaggedLightCurves
        With ``bands`` (codes among ``bands_``).
    bands_ : int ndarray
        The band codes, in order.

    Returns
    -------
    float32 ndarray of shape (n_samples, 2 * (n_bands - 1))
        Mean magnitude of each band minus the next band's (``g - r`` for
        codes g, r), then each band's robust amplitude (5-95 % spread) over
        the next band's; NaN where a band has no observation (or, for a
        ratio, fewer than two or no spread).
    """
    n_bands = len(bands_)
    _, means, amplitudes = _band_statistics(light_curves, np.asarray(bands_))
    means = means.reshape(-1, n_bands)
    amplitudes = amplitudes.reshape(-1, n_bands)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratios = amplitudes[:, :-1] / np.where(amplitudes[:, 1:] > 0, amplitudes[:, 1:], np.nan)
    colours = means[:, :-1] - means[:, 1:]
    return np.hstack([colours, ratios]).astype(np.float32)


def band_subset(light_curves, band):
    """``(light_curves, rows)``: the observations of ``band`` of the light curves that have
    any, and which light curves those are."""
    kept = light_curves.select(light_curves.bands == band)
    rows = np.flatnonzero(kept.lengths > 0)
    subset = kept.subset(rows)
    subset.bands = None  # one band: a single-band light curve
    return subset, rows


def per_band_curves(light_curves):
    """Every (light curve, band) pair with observations as a single-band light curve.

    Returns
    -------
    light_curves : RaggedLightCurves
        Without ``bands``: curve after curve, band after band (in code
        order), each sorted by time.
    curve_index : int64 ndarray
        The multi-band light curve each one comes from.
    """
    samples = np.repeat(np.arange(len(light_curves)), light_curves.lengths)
    order = np.lexsort((light_curves.values[:, 0], light_curves.bands, samples))
    keys = samples[order] * (int(light_curves.bands.max()) + 1) + light_curves.bands[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    offsets = np.r_[starts, len(order)]
    return (type(light_curves)(light_curves.values[order], offsets),
            samples[order][starts].astype(np.int64))
