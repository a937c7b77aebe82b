"""Survey cadences, photometric errors and outliers for simulated light curves.

A survey is described by a small frozen record (:class:`Survey`): its band,
time span, observing season, visits per night, typical epoch counts, the
magnitudes it reaches and an error model. The functions below turn such a
record and the true magnitudes of a star into observed ``(L, 3)`` light
curves (time in days, magnitude, error).
"""

from dataclasses import dataclass

import numpy as np

DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class Survey:
    """What a simulator needs to know about one photometric survey.

    Times are MJD (days); magnitudes in the survey's own band (MACHO:
    instrumental R magnitudes as in the public MACHO light curves).
    """

    name: str
    band: str
    #: effective wavelength of the band, Angstrom
    wavelength: float
    #: first night of the survey (MJD) and its length (days)
    start: float
    baseline: float
    #: days per year a typical field can be observed
    season_length: float
    #: inclusive range of visits to a field in one night
    visits_per_night: tuple
    #: days between two visits of the same night
    visit_spacing: float
    #: fraction of a day (UT) at which the site's night begins, and its length
    night_start: float
    night_length: float
    #: median and inclusive range of the number of epochs per light curve
    n_obs_median: int
    n_obs_range: tuple
    #: bright and faint ends of the mean magnitudes simulated
    magnitude_range: tuple
    #: error floor (mag) and the magnitude at which photon + sky noise reach 0.1 mag
    error_floor: float
    reference_magnitude: float
    #: fraction of epochs that are outliers
    outlier_fraction: float


SURVEYS = {
    # MACHO (1992-1999, LMC/bulge, Mt Stromlo): instrumental R magnitudes
    "macho": Survey("macho", "R", 6900.0, 48823.0, 2723.0, 330.0, (1, 2), 0.08,
                    0.40, 0.35, 600, (100, 1300), (-9.5, -4.5), 0.012, -5.2, 0.006),
    # OGLE-III (2001-2009, Las Campanas): I band, hundreds to 1000+ epochs
    "ogle": Survey("ogle", "I", 8000.0, 52000.0, 2950.0, 240.0, (1, 2), 0.05,
                   0.00, 0.38, 500, (150, 1200), (13.0, 20.0), 0.006, 19.3, 0.004),
    # ASAS-SN V band (2012-2018, two hemispheres): a few hundred epochs
    "asassn": Survey("asassn", "V", 5500.0, 56000.0, 2400.0, 270.0, (1, 1), 0.02,
                     0.05, 0.40, 300, (100, 700), (10.0, 17.0), 0.02, 16.5, 0.008),
    # ATLAS o band (2015-2019, Hawaii): 4 visits within about an hour
    "atlas": Survey("atlas", "o", 6750.0, 57230.0, 1470.0, 210.0, (2, 4), 0.012,
                    0.25, 0.40, 200, (60, 500), (12.0, 18.5), 0.01, 18.0, 0.006),
    # ZTF r band (2018-2022, Palomar): 100-600 epochs
    "ztf": Survey("ztf", "r", 6400.0, 58200.0, 1500.0, 200.0, (1, 2), 0.03,
                  0.12, 0.40, 250, (80, 600), (13.0, 20.5), 0.01, 19.8, 0.004),
    # Rubin LSST wide-fast-deep (10 years from 2025, Cerro Pachon): r band as the
    # reference; ~800 visits over six bands (see datasets._bands for the split)
    "rubin": Survey("rubin", "r", 6200.0, 60800.0, 3650.0, 180.0, (1, 2), 0.02,
                    0.0, 0.38, 800, (300, 1200), (16.0, 24.0), 0.005, 23.9, 0.003),
}


def get_survey(survey):
    """Return the :class:`Survey` named ``survey`` (or ``survey`` itself)."""
    if isinstance(survey, Survey):
        return survey
    try:
        return SURVEYS[str(survey).lower()]
    except KeyError:
        raise ValueError(
            f"Unknown survey {survey!r}; choose one of {sorted(SURVEYS)}."
        ) from None


def sample_n_obs(survey, n_obs, size, rng):
    """Number of epochs of ``size`` light curves.

    ``n_obs`` None: log-normal around the survey's median, clipped to its
    range; an int: that many for every curve; a pair ``(low, high)``: uniform
    integers in that inclusive range.
    """
    if n_obs is None:
        low, high = survey.n_obs_range
        counts = survey.n_obs_median * rng.lognormal(0.0, 0.45, size)
        return np.clip(np.round(counts), low, high).astype(int)
    if np.ndim(n_obs) == 0:
        if int(n_obs) < 1:
            raise ValueError(f"n_obs must be at least 1, got {n_obs!r}.")
        return np.full(size, int(n_obs))
    low, high = (int(v) for v in n_obs)
    if not 1 <= low <= high:
        raise ValueError(f"n_obs=(low, high) needs 1 <= low <= high, got {n_obs!r}.")
    return rng.integers(low, high + 1, size)


def sample_times(survey, n, rng):
    """Observation times (MJD, sorted, shape ``(n,)``) of one star.

    Nights fall inside a yearly observing season whose phase depends on the
    star's position; the density of nights varies from season to season (and
    weather removes runs of nights), and each chosen night has one to a few
    visits a short interval apart.
    """
    nights = survey.start + np.arange(int(survey.baseline))
    season_centre = rng.uniform(0.0, DAYS_PER_YEAR)
    offset = np.mod(nights - season_centre + DAYS_PER_YEAR / 2, DAYS_PER_YEAR)
    # season length varies a little with the field's declination
    half_season = 0.5 * survey.season_length * rng.uniform(0.85, 1.1)
    visible = np.abs(offset - DAYS_PER_YEAR / 2) < half_season
    nights = nights[visible]
    # uneven coverage: each season and each ~10-night run gets its own weight
    season = np.floor((nights - season_centre) / DAYS_PER_YEAR).astype(int)
    season_weight = rng.gamma(2.0, 1.0, season.max() - season.min() + 1)
    run = ((nights - nights[0]) // 10).astype(int)
    run_weight = rng.gamma(1.5, 1.0, run.max() + 1)
    weight = season_weight[season - season.min()] * run_weight[run]
    low, high = survey.visits_per_night
    visits = rng.integers(low, high + 1)
    n_nights = min(len(nights), max(1, int(np.ceil(n / visits))))
    if n_nights * visits < n:
        visits = int(np.ceil(n / n_nights))
    chosen = rng.choice(len(nights), n_nights, replace=False, p=weight / weight.sum())
    night_times = nights[chosen] + survey.night_start + rng.uniform(
        0.0, survey.night_length, n_nights
    )
    spacing = survey.visit_spacing * rng.uniform(0.8, 1.2, (n_nights, visits))
    spacing[:, 0] = 0.0
    times = (night_times[:, None] + np.cumsum(spacing, axis=1)).ravel()
    if len(times) > n:
        times = rng.choice(times, n, replace=False)
    return np.sort(times)


def sample_times_from(cadences, n, rng):
    """Times of one star taken from a random real cadence (at most ``n`` of them)."""
    times = cadences[rng.integers(len(cadences))]
    if n is not None and len(times) > n:
        start = rng.integers(0, len(times) - n + 1)
        times = times[start:start + n]
    return np.array(times, dtype=np.float64)


def limiting_magnitude(survey):
    """Magnitude at which the typical error reaches 0.3 mag (a ~3.5-sigma detection)."""
    # solve 0.01 (x + x**2) / 2 = 0.3**2 - floor**2 for x = 10**(0.4 (m - m_ref))
    c = 2 * (0.09 - survey.error_floor ** 2) / 0.01
    x = 0.5 * (-1 + np.sqrt(1 + 4 * c))
    return survey.reference_magnitude + 2.5 * np.log10(x)


def sample_mean_magnitudes(survey, size, rng, amplitudes=None):
    """Mean magnitudes drawn from star counts rising towards the faint limit.

    With ``amplitudes`` (peak-to-peak, mag), a star is kept bright enough for
    its faint phases to stay detected, as in a survey's variable-star
    catalogue.
    """
    bright, faint = survey.magnitude_range
    # p(m) ~ 10**(0.2 m) between the limits (fainter stars are more numerous)
    slope = 0.2 * np.log(10.0)
    u = rng.uniform(0.0, 1.0, size)
    magnitudes = bright + np.log1p(u * np.expm1(slope * (faint - bright))) / slope
    if amplitudes is not None:
        faintest = limiting_magnitude(survey) - 0.75 * np.asarray(amplitudes)
        magnitudes = np.minimum(magnitudes, np.maximum(faintest, bright))
    return magnitudes


def photometric_errors(survey, magnitudes):
    """Typical 1-sigma error (mag) at each magnitude.

    ``err**2 = floor**2 + 0.01 * (x + x**2) / 2`` with
    ``x = 10**(0.4 (m - m_ref))``: a systematic floor, then source photon
    noise (error ~ flux**-1/2), then sky noise (error ~ flux**-1) for the
    faintest stars; the noise reaches 0.1 mag at ``m_ref``.
    """
    x = 10.0 ** (0.4 * (np.asarray(magnitudes) - survey.reference_magnitude))
    return np.sqrt(survey.error_floor ** 2 + 0.01 * 0.5 * (x + x * x))


def observe(survey, times, magnitudes, rng, outlier_fraction=None):
    """Add noise and outliers to true magnitudes; return an ``(L, 3)`` curve.

    Each epoch's error is the survey's error at that magnitude times a
    seeing/transparency factor; the observed magnitude scatters by that error.
    A small fraction of epochs are outliers (cosmic rays, blends, bad
    frames) with offsets of a few tenths of a magnitude. Epochs whose true
    magnitude is 0.5 mag fainter than the detection limit are dropped.
    """
    # epochs fainter than the detection limit are non-detections: dropped
    detected = magnitudes < limiting_magnitude(survey) + 0.5
    times, magnitudes = times[detected], magnitudes[detected]
    n = len(times)
    errors = photometric_errors(survey, magnitudes) * rng.lognormal(0.0, 0.25, n)
    observed = magnitudes + errors * rng.standard_normal(n)
    fraction = survey.outlier_fraction if outlier_fraction is None else outlier_fraction
    outliers = rng.random(n) < fraction
    n_out = int(outliers.sum())
    if n_out:
        size = np.minimum((0.1 + 5.0 * errors[outliers]) * rng.uniform(1.0, 3.0, n_out), 1.5)
        observed[outliers] += rng.choice([-1.0, 1.0], n_out, p=[0.3, 0.7]) * size
    return np.column_stack([times, observed, errors])
