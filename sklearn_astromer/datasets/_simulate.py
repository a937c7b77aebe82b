"""Simulated light curves of variable stars as different surveys see them."""

from dataclasses import replace
from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state

from ._cadence import (
    get_survey,
    observe,
    sample_mean_magnitudes,
    sample_n_obs,
    sample_times,
    sample_times_from,
)
from ._bands import colour_offsets, survey_bands
from ._variability import CLASSES, band_factor, sample_parameters, variation

__all__ = ["make_light_curves"]


def _check_classes(n_per_class, classes):
    """Resolve ``n_per_class`` / ``classes`` into ``{class: count}`` (catalogue order)."""
    lookup = {name.lower(): name for name in CLASSES}

    def canonical(name):
        try:
            return lookup[str(name).lower()]
        except KeyError:
            raise ValueError(
                f"Unknown class {name!r}; choose among {list(CLASSES)}."
            ) from None

    if isinstance(n_per_class, dict):
        if classes is not None:
            raise ValueError("Pass the classes either in n_per_class (a dict) or in classes.")
        counts = {canonical(name): n for name, n in n_per_class.items()}
    else:
        if classes is None:
            classes = CLASSES
        elif isinstance(classes, str):
            classes = [classes]
        counts = {canonical(name): n_per_class for name in classes}
    for name, n in counts.items():
        if not isinstance(n, Integral) or isinstance(n, bool) or n < 0:
            raise ValueError(f"n_per_class must be a non-negative int, got {n!r} for {name}.")
    if sum(counts.values()) == 0:
        raise ValueError("Nothing to simulate: name at least one class with n_per_class >= 1.")
    return counts


def _random_generator(random_state):
    """A numpy Generator seeded from scikit-learn's ``random_state`` convention."""
    return np.random.default_rng(check_random_state(random_state).randint(2**31 - 1))


def _cadences_from(times_from):
    """Observation-time arrays to sample cadences from (None: the survey model)."""
    if times_from is None:
        return None
    if isinstance(times_from, str):
        if times_from.lower() != "macho":
            raise ValueError(
                f"times_from={times_from!r}: use 'macho' or a sequence of light curves."
            )
        from ._real import load_macho_sample  # lazy: reads the shipped MACHO sample

        curves, _ = load_macho_sample()
    else:
        curves = times_from
    cadences = []
    for index, curve in enumerate(curves):
        curve = np.asarray(curve, dtype=np.float64)
        times = curve if curve.ndim == 1 else curve[:, 0]
        times = np.unique(times[np.isfinite(times)])
        if len(times) == 0:
            raise ValueError(f"times_from[{index}] has no finite times.")
        cadences.append(times)
    if not cadences:
        raise ValueError("times_from holds no light curves.")
    return cadences


def sample_stars(labels, survey, rng):
    """Class parameters of every star: (list of per-star dicts, period, amplitude).

    ``period`` (days) and ``amplitude`` (peak-to-peak in the survey band,
    mag) are arrays aligned with ``labels``.
    """
    labels = np.asarray(labels)
    stars = [None] * len(labels)
    period = np.full(len(labels), np.nan)
    amplitude = np.zeros(len(labels))
    for name in dict.fromkeys(labels.tolist()):
        members = np.flatnonzero(labels == name)
        params = sample_parameters(name, len(members), rng, band=survey.band)
        period[members] = params["period"]
        amplitude[members] = params["amplitude"]
        for j, i in enumerate(members):
            stars[i] = {key: values[j] for key, values in params.items()}
    return stars, period, amplitude


def simulate_light_curves(labels, stars, mean_magnitudes, survey, rng, *, n_obs=None,
                          cadences=None, outlier_fraction=None):
    """Observed ``(L, 3)`` light curves of stars with known class parameters."""
    counts = sample_n_obs(survey, n_obs, len(labels), rng)
    curves = []
    for name, star, mean, count in zip(labels, stars, mean_magnitudes, counts):
        if cadences is None:
            times = sample_times(survey, count, rng)
        else:
            times = sample_times_from(cadences, None if n_obs is None else count, rng)
        true_magnitudes = mean + variation(name, times, star, rng)
        curves.append(observe(survey, times, true_magnitudes, rng, outlier_fraction))
    return curves


def make_light_curves(n_per_class=100, classes=None, survey="ogle", random_state=None, *,
                      n_obs=None, times_from=None, outlier_fraction=None, shuffle=True,
                      return_params=False, bands=None):
    """Simulate labelled light curves of variable stars for one survey.

    Pulsating stars (RR Lyrae, Cepheids, delta Scuti) follow Fourier series
    whose periods, amplitudes and shape parameters (R21, phi21, R31, phi31)
    are drawn from the real OGLE-III catalogue of variable stars; Miras and
    semi-regular variables are quasi-periodic with several periods, period
    jitter and amplitude modulation; eclipsing binaries are two overlapping
    disks on a circular orbit (with ellipsoidal variation for contact
    systems); rotational variables carry evolving spots on a differentially
    rotating star. The survey sets the band, cadence (observing seasons,
    nights, visits per night), epoch counts, magnitude range, an error that
    grows with magnitude, and occasional outliers.

    Parameters
    ----------
    n_per_class : int or dict, default=100
        Light curves per class, or ``{class: count}`` for unequal classes.
    classes : sequence of str, default=None
        Classes to simulate; None means all of ``"RRab"`` (fundamental-mode
        RR Lyrae), ``"RRc"`` (first-overtone RR Lyrae), ``"Cep"`` (classical
        Cepheid), ``"DSCT"`` (delta Scuti), ``"Mira"``, ``"SRV"``
        (semi-regular variable), ``"EA"`` (detached eclipsing binary),
        ``"EW"`` (contact binary), ``"ROT"`` (spotted rotator) and
        ``"CONST"`` (non-variable). Names are case-insensitive.
    survey : {"ogle", "macho", "asassn", "atlas", "ztf"}, default="ogle"
        Survey whose band, cadence and noise are imitated: OGLE-III I band,
        MACHO R band (instrumental magnitudes, about -9.5 to -4.5, as in the
        public MACHO light curves), ASAS-SN V, ATLAS o, ZTF r.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.
    n_obs : int or (int, int), default=None
        Epochs per light curve: None for the survey's typical distribution
        (e.g. OGLE 150-1200, median 500; ZTF 80-600, median 250), an int
        for exactly that many, or ``(low, high)`` for a uniform range. With
        ``times_from`` it caps the epochs taken from each real cadence.
    times_from : "macho" or sequence of arrays, default=None
        Take observation times from real light curves instead of the
        survey's cadence model: ``"macho"`` uses the MACHO sample shipped
        with the package; a sequence of ``(L, 2|3)`` arrays (or 1-D time
        arrays, days) uses those. Errors and magnitudes still follow
        ``survey``.
    outlier_fraction : float, default=None
        Fraction of epochs that are outliers; None for the survey's default
        (0.4-0.8 %).
    shuffle : bool, default=True
        Shuffle the stars; otherwise they come grouped by class.
    return_params : bool, default=False
        Also return the true parameters of every star.
    bands : sequence of str or None, default=None
        Observe in several filters: ``"ztf"`` has ``"g"``, ``"r"``, ``"i"``
        and ``"rubin"`` ``"u"`` ... ``"y"``. The survey's epochs are shared
        among the bands (ZTF: g and r alike, i rarer; Rubin: its
        wide-fast-deep split), each band has its own depth, and a star keeps
        its period and shape in every band while its mean magnitude follows
        its class's colour and its amplitude the class's amplitude ratio
        (see ``datasets._bands``). Light curves are then ``(L_i, 4)``: the
        fourth column is the band's position in ``bands``.

    Returns
    -------
    X : list of ndarray of shape (L_i, 3), or (L_i, 4) with ``bands``
        Light curves, float64, sorted by time: time (MJD, days), magnitude
        (mag) and its 1-sigma error (mag)[, band code].
    y : ndarray of shape (n_samples,)
        Class labels (str).
    params : dict of ndarray, optional
        Only with ``return_params=True``: ``period`` (days; the primary
        pulsation, orbital or rotation period; NaN for ``"CONST"``),
        ``amplitude`` (nominal peak-to-peak amplitude in the survey band,
        mag), ``mean_magnitude`` (mag) and ``n_obs`` (epochs), row i for
        star i.

    See Also
    --------
    make_multimodal : Light curves with spectra and catalogue metadata.

    Notes
    -----
    Period, amplitude and Fourier-shape distributions of the pulsators come
    from the OGLE-III catalogue (Udalski et al. 2008; Soszynski et al.
    2008-2011); I-band amplitudes are scaled to the survey band with
    typical amplitude ratios (e.g. V/I = 1.6 for pulsators, 2.3 for
    long-period variables).

    Examples
    --------
    >>> from sklearn_astromer.datasets import make_light_curves
    >>> X, y = make_light_curves(n_per_class=5, survey="ztf", random_state=0)
    >>> len(X), len(set(y))
    (50, 10)
    >>> X[0].shape[1], X[0].dtype
    (3, dtype('float64'))
    >>> X, y = make_light_curves(2, classes=["RRab", "EW"], n_obs=200, random_state=0)
    >>> [curve.shape for curve in X]
    [(200, 3), (200, 3), (200, 3), (200, 3)]
    """
    counts = _check_classes(n_per_class, classes)
    survey = get_survey(survey)
    rng = _random_generator(random_state)
    cadences = _cadences_from(times_from)
    labels = np.concatenate(
        [np.full(n, name, dtype=object) for name, n in counts.items()]
    ).astype(str)
    stars, period, amplitude = sample_stars(labels, survey, rng)
    mean_magnitudes = sample_mean_magnitudes(survey, len(labels), rng, amplitude)
    if bands is None:
        curves = simulate_light_curves(
            labels, stars, mean_magnitudes, survey, rng, n_obs=n_obs, cadences=cadences,
            outlier_fraction=outlier_fraction,
        )
    else:
        curves = simulate_multiband_curves(labels, stars, mean_magnitudes, survey, bands, rng,
                                           n_obs=n_obs, outlier_fraction=outlier_fraction)
    params = {
        "period": period,
        "amplitude": amplitude,
        "mean_magnitude": mean_magnitudes,
        "n_obs": np.array([len(curve) for curve in curves]),
    }
    order = rng.permutation(len(labels)) if shuffle else np.arange(len(labels))
    X = [curves[i] for i in order]
    y = labels[order]
    if return_params:
        return X, y, {key: values[order] for key, values in params.items()}
    return X, y


def simulate_multiband_curves(labels, stars, mean_magnitudes, survey, bands, rng, *,
                              n_obs=None, outlier_fraction=None):
    """Observed ``(L, 4)`` light curves (the last column: position in ``bands``).

    ``mean_magnitudes`` are in the survey's reference band; each band adds
    the star's colour, scales the shared variation by the class's amplitude
    ratio and observes it at the band's own epochs and depth.
    """
    table = survey_bands(survey, list(bands))
    colours = colour_offsets(labels, [table[band][0] for band in bands], survey.wavelength, rng)
    shares = np.array([table[band][1] for band in bands])
    band_surveys = [replace(survey, reference_magnitude=survey.reference_magnitude
                            + table[band][2]) for band in bands]
    curves = []
    counts = sample_n_obs(survey, n_obs, len(labels), rng)
    for star_index, (name, star, mean, count) in enumerate(
            zip(labels, stars, mean_magnitudes, counts)):
        per_band = rng.multinomial(count, shares)
        times = [sample_times(survey, n, rng) if n else np.empty(0) for n in per_band]
        every_time = np.concatenate(times)
        order = np.argsort(every_time, kind="stable")
        shared = np.empty(len(every_time))
        shared[order] = variation(name, every_time[order], star, rng)
        pieces = np.split(shared, np.cumsum(per_band)[:-1])
        observed = []
        for code, band in enumerate(bands):
            ratio = band_factor(name, band) / band_factor(name, survey.band)
            true = mean + colours[star_index, code] + ratio * pieces[code]
            curve = observe(band_surveys[code], times[code], true, rng, outlier_fraction)
            observed.append(np.column_stack([curve, np.full(len(curve), float(code))]))
        curve = np.concatenate(observed)
        curves.append(curve[np.argsort(curve[:, 0], kind="stable")])
    return curves
