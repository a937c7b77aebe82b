"""Simulated multimodal catalogue: light curve, spectrum and metadata per star.

One physical star underlies all three modalities: its class sets the
temperature, luminosity (period-luminosity relations for Cepheids, RR Lyrae,
delta Scuti stars and long-period variables), population (Galactic latitude,
velocities) and spectral peculiarities; a distance and a line-of-sight
extinction then fix the apparent magnitudes, parallax, proper motions, the
reddening of the spectrum and the mean magnitude of the light curve.
"""

import numpy as np

from ._cadence import get_survey, sample_mean_magnitudes
from ._simulate import _check_classes, _random_generator, sample_stars, simulate_light_curves
from ._spectra import SPECTRUM_WAVELENGTHS, class_spectrum

__all__ = ["make_multimodal", "METADATA_COLUMNS", "SPECTRUM_WAVELENGTHS"]

#: Numeric metadata columns of :func:`make_multimodal`: AstroM3's 34 Gaia, 2MASS
#: and WISE columns, in its order (``mean_mag`` is its ``mean_vmag`` in the
#: survey's band; ``<band>_error`` is its ``e_<band>``; like AstroM3's, W3 and
#: W4 come without errors).
METADATA_COLUMNS = (
    "mean_mag",
    "phot_g_mean_mag", "phot_g_mean_mag_error",
    "phot_bp_mean_mag", "phot_bp_mean_mag_error",
    "phot_rp_mean_mag", "phot_rp_mean_mag_error", "bp_rp",
    "parallax", "parallax_error", "parallax_over_error",
    "pmra", "pmra_error", "pmdec", "pmdec_error",
    "j_mag", "j_mag_error", "h_mag", "h_mag_error", "k_mag", "k_mag_error",
    "w1_mag", "w1_mag_error", "w2_mag", "w2_mag_error", "w3_mag", "w4_mag",
    "j_k", "w1_w2", "w3_w4", "pm", "ruwe", "l", "b",
)

# Intrinsic colours against effective temperature (dwarf sequence, after
# Pecaut & Mamajek 2013): Teff, BP-RP, M_V (main sequence), V-Ks, J-H, H-Ks.
_COLOUR_TABLE = np.array([
    [2400, 5.00, 19.5, 8.50, 0.62, 0.40], [2650, 4.30, 17.5, 7.20, 0.60, 0.36],
    [3000, 3.30, 14.0, 5.80, 0.57, 0.29], [3250, 2.80, 12.3, 5.00, 0.56, 0.25],
    [3550, 2.30, 10.3, 4.35, 0.59, 0.21], [3850, 1.84, 8.9, 3.70, 0.62, 0.17],
    [4100, 1.67, 8.0, 3.40, 0.62, 0.15], [4600, 1.30, 6.9, 2.60, 0.55, 0.12],
    [5100, 1.05, 6.0, 2.05, 0.45, 0.09], [5500, 0.90, 5.3, 1.75, 0.36, 0.07],
    [5770, 0.82, 4.8, 1.55, 0.31, 0.06], [6050, 0.74, 4.2, 1.45, 0.28, 0.06],
    [6640, 0.60, 3.4, 1.20, 0.22, 0.05], [7220, 0.45, 2.7, 0.91, 0.15, 0.04],
    [7800, 0.33, 2.3, 0.70, 0.10, 0.03], [8600, 0.17, 1.8, 0.38, 0.05, 0.02],
    [9700, 0.00, 1.1, 0.00, 0.00, 0.00], [15000, -0.20, -1.0, -0.45, -0.08, -0.04],
])
# A_band / A_V (R_V = 3.1)
_EXTINCTION = {
    "bp": 1.08, "g": 0.84, "rp": 0.63, "j": 0.28, "h": 0.18, "k": 0.12,
    "w1": 0.07, "w2": 0.05, "w3": 0.06, "w4": 0.03,
    "V": 1.0, "R": 0.80, "o": 0.78, "r": 0.87, "I": 0.60,
}
_INSTRUMENTAL_ZERO_POINT = {"macho": -24.0}  # MACHO: instrumental = R - 24

# Per class: Teff range (K), Galactic-latitude scale (deg), velocity
# dispersion and asymmetric drift (km/s), metal-line strength, line
# broadening FWHM range (km/s), fraction with a wide companion (RUWE).
_POPULATION = {
    "RRab": ((6100, 7200), 40.0, 130.0, 180.0, 0.5, (20, 40), 0.05),
    "RRc": ((7000, 7600), 40.0, 130.0, 180.0, 0.5, (20, 40), 0.05),
    "Cep": ((5400, 6600), 3.0, 15.0, 10.0, 1.0, (15, 30), 0.3),
    "DSCT": ((6900, 8500), 15.0, 25.0, 15.0, 1.0, (50, 200), 0.2),
    "Mira": ((2500, 3300), 10.0, 50.0, 40.0, 1.0, (10, 20), 0.1),
    "SRV": ((3100, 3800), 12.0, 40.0, 30.0, 1.0, (10, 20), 0.1),
    "EA": ((5000, 10000), 20.0, 25.0, 15.0, 1.0, (20, 80), 0.3),
    "EW": ((5000, 6800), 25.0, 35.0, 20.0, 1.0, (150, 250), 0.15),
    "ROT": ((3300, 5800), 25.0, 15.0, 5.0, 1.0, (10, 60), 0.2),
    "CONST": ((4000, 9500), 25.0, 30.0, 15.0, 1.0, (5, 40), 0.1),
}


def _population_arrays(labels):
    """Per-star arrays of the ``_POPULATION`` entries of their classes."""
    keys = ("b_scale", "sigma_v", "lag", "metals", "broadening", "companion")
    rows = [_POPULATION[name][1:] for name in labels]
    # "broadening" is a (low, high) pair: that array has shape (n, 2)
    return {key: np.array([row[i] for row in rows], dtype=np.float64)
            for i, key in enumerate(keys)}


def _colours(teff):
    """Intrinsic BP-RP, main-sequence M_V, V-Ks, J-H and H-Ks at ``teff``."""
    return [np.interp(teff, _COLOUR_TABLE[:, 0], _COLOUR_TABLE[:, k]) for k in range(1, 6)]


def _gaia_from_v(v, bp_rp):
    """Gaia G, BP, RP from V and BP-RP (Gaia DR3 photometric relations)."""
    x = np.clip(bp_rp, -0.5, 5.5)
    g = v - 0.02704 + 0.01424 * x - 0.2156 * x**2 + 0.01426 * x**3
    rp = g - (-0.01 + 0.58 * x - 0.055 * x**2)
    return g, rp + bp_rp, rp


def _band_minus_v(band, v, bp, rp, j, wavelength):
    """Survey-band magnitude by interpolation in 1/wavelength between V, BP, RP, J."""
    inverse = np.array([1 / 12350.0, 1 / 7800.0, 1 / 5500.0, 1 / 5100.0])
    mags = np.stack([j, rp, v, bp])
    x = 1.0 / wavelength
    upper = int(np.clip(np.searchsorted(inverse, x), 1, 3))
    w = (x - inverse[upper - 1]) / (inverse[upper] - inverse[upper - 1])
    return (1 - w) * mags[upper - 1] + w * mags[upper] - v


def _physical_stars(labels, period, rng):
    """Teff (K), giant flag, absolute V (mag), intrinsic colours per star."""
    n = len(labels)
    teff, abs_v, v_k, giant = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n, bool)
    log_p = np.log10(np.where(np.isfinite(period), period, 1.0))
    for name in np.unique(labels):
        m = labels == name
        k = int(m.sum())
        low, high = _POPULATION[name][0]
        teff[m] = rng.uniform(low, high, k)
        if name == "Cep":  # longer periods are cooler
            teff[m] = np.clip(6300 - 600 * (log_p[m] - 0.4) + rng.normal(0, 150, k), 4800, 6700)
        if name == "Mira":
            teff[m] = np.clip(3300 - 700 * (log_p[m] - 2.3) + rng.normal(0, 100, k), 2400, 3400)
        ms_v = _colours(teff[m])[1]
        if name in ("RRab", "RRc"):
            abs_v[m] = rng.normal(0.6, 0.12, k)
        elif name == "Cep":  # Benedict et al. (2007)
            abs_v[m] = -2.43 * (log_p[m] - 1) - 4.05 + rng.normal(0, 0.15, k)
        elif name == "DSCT":  # McNamara (2011)
            abs_v[m] = -2.89 * log_p[m] - 1.31 + rng.normal(0, 0.2, k)
        elif name == "EW":  # Rucinski & Duerbeck (1997), B-V from BP-RP
            b_v = 0.98 * _colours(teff[m])[0] - 0.15
            abs_v[m] = -4.44 * log_p[m] + 3.02 * b_v + 0.12 + rng.normal(0, 0.2, k)
        elif name in ("EA", "ROT"):
            abs_v[m] = ms_v - rng.uniform(0.1, 0.75, k)  # companion light, youth
        elif name == "CONST":
            giants = rng.random(k) < 0.25
            teff[np.flatnonzero(m)[giants]] = rng.uniform(4300, 5200, giants.sum())
            abs_v[m] = np.where(giants, rng.normal(0.8, 0.5, k), ms_v + rng.normal(0, 0.3, k))
            giant[np.flatnonzero(m)[giants]] = True
        v_k[m] = _colours(teff[m])[2]
        if name in ("Mira", "SRV"):
            giant[m] = True
            extra = rng.uniform(1.0, 3.0, k) if name == "Mira" else rng.uniform(0.0, 1.0, k)
            v_k[m] += extra  # TiO in cool giants
            # Whitelock et al. (2008) for Miras; a steeper, fainter sequence for SRVs
            abs_k = (-3.51 * (log_p[m] - 2.38) - 7.25 + rng.normal(0, 0.15, k)
                     if name == "Mira" else
                     -3.3 * (log_p[m] - 2.0) - 6.4 + rng.normal(0, 0.35, k))
            abs_v[m] = abs_k + v_k[m]
        if name in ("RRab", "RRc", "Cep"):
            giant[m] = True
    return teff, giant, abs_v, v_k


def _solve_distance(apparent, absolute, a_band_over_v, sin_b, rng):
    """Distance (pc) and A_V (mag) with extinction accumulating along the line of sight."""
    n = len(apparent)
    density = rng.lognormal(0.0, 0.4, n)  # mag/kpc in V in the plane, patchy
    path = 0.12 / np.maximum(np.abs(sin_b), 0.02)  # kpc of dust layer along the sight line

    def extinction(d_pc):
        return density * path * -np.expm1(-d_pc / 1000.0 / path)

    low, high = np.full(n, 0.3), np.full(n, 5.7)  # log10 pc
    for _ in range(40):  # bisection: magnitude grows monotonically with distance
        mid = 0.5 * (low + high)
        d = 10**mid
        too_far = absolute + 5 * mid - 5 + a_band_over_v * extinction(d) > apparent
        high = np.where(too_far, mid, high)
        low = np.where(too_far, low, mid)
    d = 10 ** (0.5 * (low + high))
    return d, extinction(d)


_CATALOGUE_LIMITS = {"g": 21.0, "bp": 21.0, "rp": 20.5, "j": 15.8, "h": 15.1, "k": 14.3,
                     "w1": 16.8, "w2": 15.6, "w3": 11.3, "w4": 8.0}
_CATALOGUE_FLOORS = {"g": 0.0003, "bp": 0.001, "rp": 0.001, "j": 0.02, "h": 0.02, "k": 0.02,
                     "w1": 0.02, "w2": 0.02, "w3": 0.03, "w4": 0.05}
_CATALOGUE_NAMES = {"g": "phot_g_mean_mag", "bp": "phot_bp_mean_mag", "rp": "phot_rp_mean_mag"}


def _absolute_magnitudes(labels, teff, giant, abs_v, v_k, rng):
    """Absolute magnitudes in the Gaia, 2MASS and WISE bands (dict of arrays)."""
    n = len(labels)
    bp_rp, _, _, j_h, h_k = _colours(teff)
    bp_rp = bp_rp + np.where(labels == "Mira", 0.4 * (v_k - _colours(teff)[2]), 0.0)
    j_h = j_h + np.where(giant & (teff < 4500), 0.25, 0.0)  # M giants are redder in J-H
    absolute = {"v": abs_v, "k": abs_v - v_k}
    absolute["h"] = absolute["k"] + h_k
    absolute["j"] = absolute["h"] + j_h
    absolute["g"], absolute["bp"], absolute["rp"] = _gaia_from_v(abs_v, bp_rp)
    # circumstellar dust of long-period variables shines in the mid-infrared
    dust = np.isin(labels, ["Mira", "SRV"]) * np.where(labels == "Mira", 1.0, 0.4)
    absolute["w1"] = absolute["k"] - 0.03 * v_k - dust * rng.uniform(0.3, 1.0, n)
    absolute["w2"] = absolute["w1"] - dust * rng.uniform(0.1, 0.6, n)
    absolute["w3"] = absolute["w2"] - 0.03 - dust * rng.uniform(0.5, 1.5, n)
    absolute["w4"] = absolute["w3"] - 0.02 - dust * rng.uniform(0.3, 0.8, n)
    return absolute


def _catalogue_photometry(absolute, modulus, a_v, amplitude, rng):
    """Observed magnitudes and errors, named as in the catalogues (dict of arrays)."""
    n = len(modulus)
    # 2MASS saw each star once, at a random phase of its variation
    single_epoch = 0.25 * amplitude * np.sin(rng.uniform(0, 2 * np.pi, n))
    columns = {}
    for band, limit in _CATALOGUE_LIMITS.items():
        true = absolute[band] + modulus + _EXTINCTION[band] * a_v
        if band in ("j", "h", "k"):
            true = true + single_epoch
        scale = 0.01 if band in ("g", "bp", "rp") else 0.12
        error = np.hypot(_CATALOGUE_FLOORS[band], scale * 10 ** (0.4 * (true - limit)))
        error = np.minimum(error * rng.lognormal(0, 0.1, n), 0.5)
        observed = true + error * rng.standard_normal(n)
        # beyond the detection limit catalogues report about the limit
        observed = np.minimum(observed, limit + 0.3 * np.abs(rng.standard_normal(n)))
        name = _CATALOGUE_NAMES.get(band, f"{band}_mag")
        columns[name], columns[name + "_error"] = observed, error
    columns["bp_rp"] = columns["phot_bp_mean_mag"] - columns["phot_rp_mean_mag"]
    columns["j_k"] = columns["j_mag"] - columns["k_mag"]
    columns["w1_w2"] = columns["w1_mag"] - columns["w2_mag"]
    columns["w3_w4"] = columns["w3_mag"] - columns["w4_mag"]
    return columns


def _astrometry(labels, pop, distance, g_mag, rng):
    """Gaia-like parallax, proper motions, their errors and RUWE (dict of arrays)."""
    n = len(labels)
    ruwe = rng.lognormal(0.0, 0.07, n) + 0.05
    wide = rng.random(n) < pop["companion"]
    ruwe = np.where(wide, ruwe * rng.uniform(1.2, 3.0, n), ruwe)
    # the photocentres of large, convective LPVs wander
    ruwe = np.where(np.isin(labels, ["Mira", "SRV"]), ruwe * rng.lognormal(0.4, 0.3, n), ruwe)
    z = 10 ** (0.4 * (np.maximum(g_mag, 13.0) - 15.0))
    plx_error = np.sqrt(40 + 800 * z + 30 * z * z) / 1000.0 * ruwe  # mas
    parallax = 1000.0 / distance + plx_error * rng.standard_normal(n)
    velocity = rng.normal(0, 1, (2, n)) * pop["sigma_v"]  # km/s, tangential
    velocity[0] -= pop["lag"]
    angle = rng.uniform(0, 2 * np.pi, n)
    proper = velocity / (4.74047 * distance / 1000.0)  # mas/yr
    pm_error = 1.1 * plx_error
    noise = pm_error * rng.standard_normal((2, n))
    pmra = proper[0] * np.cos(angle) - proper[1] * np.sin(angle) + noise[0]
    pmdec = proper[0] * np.sin(angle) + proper[1] * np.cos(angle) + noise[1]
    return {
        "parallax": parallax, "parallax_error": plx_error,
        "parallax_over_error": parallax / plx_error,
        "pmra": pmra, "pmra_error": pm_error, "pmdec": pmdec, "pmdec_error": pm_error,
        "pm": np.hypot(pmra, pmdec), "ruwe": ruwe,
    }


def _metadata(labels, period, amplitude, mean_mags, survey, rng):
    """Numeric metadata (dict of arrays, ``METADATA_COLUMNS``) and what the spectra need."""
    n = len(labels)
    pop = _population_arrays(labels)
    teff, giant, abs_v, v_k = _physical_stars(labels, period, rng)
    absolute = _absolute_magnitudes(labels, teff, giant, abs_v, v_k, rng)
    abs_band = abs_v + _band_minus_v(survey.band, abs_v, absolute["bp"], absolute["rp"],
                                     absolute["j"], survey.wavelength)
    b = np.clip(np.abs(rng.normal(0, pop["b_scale"])), 0, 89.9) * rng.choice([-1, 1], n)
    calibrated = mean_mags - _INSTRUMENTAL_ZERO_POINT.get(survey.name, 0.0)
    distance, a_v = _solve_distance(calibrated, abs_band, _EXTINCTION.get(survey.band, 0.8),
                                    np.sin(np.radians(b)), rng)
    modulus = 5 * np.log10(distance) - 5
    meta = {"mean_mag": mean_mags + rng.normal(0, 0.01, n), "l": rng.uniform(0, 360, n), "b": b}
    meta.update(_catalogue_photometry(absolute, modulus, a_v, amplitude, rng))
    meta.update(_astrometry(labels, pop, distance, meta["phot_g_mean_mag"], rng))
    radial_velocity = rng.normal(0, 1, n) * pop["sigma_v"] - pop["lag"] * rng.uniform(-1, 1, n)
    physics = {"teff": teff, "a_v": a_v, "v": abs_v + modulus + a_v, "pop": pop,
               "radial_velocity": radial_velocity}
    return {column: meta[column] for column in METADATA_COLUMNS}, physics


def _missing_rows(n, missing_fraction, rng):
    """Rows without light curve, spectrum and metadata; never all three at once."""
    k = int(round(missing_fraction * n))
    no_curve = rng.choice(n, k, replace=False)
    no_spectrum = rng.choice(n, k, replace=False)
    both = np.intersect1d(no_curve, no_spectrum)
    candidates = np.setdiff1d(np.arange(n), both)
    no_metadata = rng.choice(candidates, min(k, len(candidates)), replace=False)
    return no_curve, no_spectrum, no_metadata


def make_multimodal(n_per_class=100, classes=None, survey="asassn", missing_fraction=0.0,
                    random_state=None, *, n_obs=None, shuffle=True):
    """Simulate a catalogue of variable stars with three modalities per star.

    Every row is one physical star seen three ways, as in AstroM3's ASAS-SN +
    LAMOST + Gaia/2MASS/WISE data set: a light curve in the survey's band
    (as :func:`make_light_curves` makes them), a low-resolution optical
    spectrum, and catalogue metadata. The modalities share information (a
    Cepheid's period, luminosity and spectral type agree) and complement
    each other: RRab and RRc stars differ mainly in their light curves;
    spotted rotators show chromospheric emission lines, Miras Balmer
    emission, contact binaries broad lines in their spectra; Cepheids,
    RR Lyrae and delta Scuti stars differ in luminosity (parallax), colours
    and kinematics in the metadata.

    Parameters
    ----------
    n_per_class : int or dict, default=100
        Stars per class, or ``{class: count}``.
    classes : sequence of str, default=None
        Classes, as in :func:`make_light_curves` (None: all ten).
    survey : {"asassn", "ogle", "macho", "atlas", "ztf"}, default="asassn"
        Survey of the light curves (band, cadence, magnitude range, errors).
    missing_fraction : float in [0, 2/3], default=0.0
        Fraction of rows whose light curve is missing (None), the same
        fraction whose spectrum is missing (None) and the same fraction
        whose metadata are missing (NaN in every metadata column). No row
        loses all three; above 1/3 the metadata fraction may fall short.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.
    n_obs : int or (int, int), default=None
        Epochs per light curve, as in :func:`make_light_curves`.
    shuffle : bool, default=True
        Shuffle the rows; otherwise they come grouped by class.

    Returns
    -------
    frame : pandas.DataFrame of shape (n_samples, 2 + len(METADATA_COLUMNS))
        ``"light_curve"``: object cells holding ``(L, 3)`` float64 arrays
        (time in MJD days, magnitude, error in mag) or None;
        ``"spectrum"``: object cells holding float32 flux on
        ``SPECTRUM_WAVELENGTHS`` (3850-8998 Angstrom in steps of 2 Angstrom,
        2575 points; relative flux normalised to a median of 1 before noise)
        or None; then the numeric ``METADATA_COLUMNS``: ``mean_mag``
        (mean magnitude of the light curve, survey band), Gaia G/BP/RP
        magnitudes and errors (mag), ``bp_rp``, ``parallax`` and its error
        (mas), ``parallax_over_error``, ``pmra``/``pmdec`` and errors
        (mas/yr), 2MASS J/H/Ks and WISE W1-W4 magnitudes (mag) and errors
        (not for W3, W4), ``j_k``, ``w1_w2``, ``w3_w4``, ``pm`` (mas/yr),
        ``ruwe`` and Galactic ``l``, ``b`` (degrees): the 34 columns of
        AstroM3, in its order.
    y : ndarray of shape (n_samples,)
        Class labels (str).

    See Also
    --------
    make_light_curves : Light curves only, for any of the surveys.

    Examples
    --------
    >>> from sklearn_astromer.datasets import make_multimodal, SPECTRUM_WAVELENGTHS
    >>> frame, y = make_multimodal(n_per_class=3, random_state=0)
    >>> frame.shape, len(y)
    ((30, 36), 30)
    >>> frame["spectrum"].iloc[0].shape == SPECTRUM_WAVELENGTHS.shape
    True
    >>> frame, y = make_multimodal(5, classes=["RRab", "Mira"], missing_fraction=0.2,
    ...                            random_state=0)
    >>> int(frame["light_curve"].isna().sum()), int(frame["parallax"].isna().sum())
    (2, 2)
    """
    import pandas as pd

    if not 0.0 <= missing_fraction <= 2.0 / 3.0:
        raise ValueError(f"missing_fraction must be in [0, 2/3], got {missing_fraction!r}.")
    counts = _check_classes(n_per_class, classes)
    survey = get_survey(survey)
    rng = _random_generator(random_state)
    labels = np.concatenate([np.full(n, name, dtype=object) for name, n in counts.items()])
    labels = labels.astype(str)
    n = len(labels)
    stars, period, amplitude = sample_stars(labels, survey, rng)
    mean_mags = sample_mean_magnitudes(survey, n, rng, amplitude)
    meta, physics = _metadata(labels, period, amplitude, mean_mags, survey, rng)
    curves = simulate_light_curves(labels, stars, mean_mags, survey, rng, n_obs=n_obs)
    snr = np.clip(10 * 10 ** (0.2 * (17.0 - physics["v"])) * rng.lognormal(0, 0.3, n), 5, 150)
    pop = physics["pop"]
    spectra = [
        class_spectrum(labels[i], stars[i], physics["teff"][i], pop["metals"][i],
                  rng.uniform(*pop["broadening"][i]), physics["radial_velocity"][i],
                  physics["a_v"][i], snr[i], rng)
        for i in range(n)
    ]
    frame = pd.DataFrame({"light_curve": pd.Series(curves, dtype=object),
                          "spectrum": pd.Series(spectra, dtype=object), **meta})
    no_curve, no_spectrum, no_metadata = _missing_rows(n, missing_fraction, rng)
    frame.loc[no_curve, "light_curve"] = None
    frame.loc[no_spectrum, "spectrum"] = None
    frame.loc[no_metadata, list(METADATA_COLUMNS)] = np.nan
    order = rng.permutation(n) if shuffle else np.arange(n)
    return frame.iloc[order].reset_index(drop=True), labels[order]
