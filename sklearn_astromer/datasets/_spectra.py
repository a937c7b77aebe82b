"""Low-resolution stellar spectra from the SDSS templates.

The 13 SDSS stellar templates from B to late M (shipped from RVSAO, see
``data/COPYRIGHT.rvsao``) carry the absorption lines and molecular bands of
each spectral type. Their continua are not on one consistent flux scale, so
each template is divided by a Planck curve at its temperature and by a
smooth (quadratic) residual: what is left is a line/band pattern around 1.
A star of temperature ``T`` gets the pattern interpolated between the two
neighbouring templates, times a Planck curve at ``T``; then rotational
broadening, emission lines, a radial-velocity shift, interstellar reddening
(Cardelli, Clayton & Mathis 1989), a flux-calibration wobble and noise.
:func:`class_spectrum` adds what marks each variable-star class: the second
star of a binary, rotation, Balmer emission of Miras, chromospheric emission
of spotted stars.
"""

from functools import lru_cache

import numpy as np

from ._variability import DATA_DIR

#: Wavelength grid of the simulated spectra (Angstrom): 3850-8998 in steps of
#: 2, 2575 points, the grid on which AstroM3 resamples LAMOST spectra.
SPECTRUM_WAVELENGTHS = np.arange(3850.0, 9000.0, 2.0)
SPECTRUM_WAVELENGTHS.flags.writeable = False

SPEED_OF_LIGHT = 299792.458  # km/s
_LOG_STEP = 1e-4  # log10(Angstrom) per pixel of the templates (about 69 km/s)
_LOG_GRID = np.arange(np.log10(3830.0), np.log10(9190.0), _LOG_STEP)

# template -> effective temperature (K), hottest first
TEMPLATE_TEFF = {
    "Bstar": 15000.0, "Astar": 9800.0, "Astar2": 8800.0, "FAstar": 7700.0,
    "Fstar": 6800.0, "Fstar2": 6300.0, "Gstar": 5900.0, "Gstar2": 5600.0,
    "Kstar": 4700.0, "M1star": 3700.0, "M3star": 3400.0, "M5star": 3100.0,
    "M8star": 2650.0,
}
EMISSION_LINES = {  # Angstrom, vacuum
    "H_alpha": 6564.6, "H_beta": 4862.7, "H_gamma": 4341.7, "H_delta": 4102.9,
    "CaII_K": 3934.8, "CaII_H": 3969.6,
}


def planck(wavelengths, teff):
    """Planck spectrum B_lambda (arbitrary scale) at ``wavelengths`` (Angstrom)."""
    x = 1.4387769e8 / (np.asarray(wavelengths) * teff)
    return 1.0 / (np.asarray(wavelengths) / 5000.0) ** 5 / np.expm1(np.minimum(x, 700.0))


@lru_cache(maxsize=1)
def _template_patterns():
    """Line/band patterns of the templates on ``_LOG_GRID``: (teffs, patterns)."""
    wavelengths = 10 ** _LOG_GRID
    teffs, patterns = [], []
    with np.load(DATA_DIR / "sdss_stellar_templates.npz") as data:
        for name, teff in sorted(TEMPLATE_TEFF.items(), key=lambda item: item[1]):
            w, f = data[name].astype(np.float64)
            # the [O I] 5577 sky line leaves a residual in some templates
            sky = np.abs(w - 5578.5) < 8.0
            f[sky] = np.interp(w[sky], w[~sky], f[~sky])
            flux = np.interp(_LOG_GRID, np.log10(w), f)
            ratio = flux / planck(wavelengths, teff)
            good = ratio > 0.02 * np.median(ratio)
            coef = np.polyfit(_LOG_GRID[good], np.log(ratio[good]), 2)
            pattern = np.clip(ratio / np.exp(np.polyval(coef, _LOG_GRID)), 0.0, None)
            teffs.append(teff)
            patterns.append(pattern)
    return np.array(teffs), np.array(patterns)


def stellar_pattern(teff):
    """Line/band pattern at ``teff`` (K), interpolated in log temperature."""
    teffs, patterns = _template_patterns()
    teff = float(np.clip(teff, teffs[0], teffs[-1]))
    upper = int(np.clip(np.searchsorted(teffs, teff), 1, len(teffs) - 1))
    lower = upper - 1
    weight = np.log(teff / teffs[lower]) / np.log(teffs[upper] / teffs[lower])
    return (1 - weight) * patterns[lower] + weight * patterns[upper]


def rest_frame_flux(teff, line_strength=1.0):
    """Rest-frame spectrum of a star on ``_LOG_GRID`` (arbitrary units).

    ``line_strength`` < 1 weakens all features (metal-poor stars).
    """
    pattern = 1.0 - line_strength * (1.0 - stellar_pattern(teff))
    return pattern * planck(10 ** _LOG_GRID, teff)


def broaden(flux, velocity):
    """Convolve with a Gaussian of FWHM ``velocity`` (km/s) in log-wavelength."""
    sigma = velocity / 2.3548 / (SPEED_OF_LIGHT * np.log(10) * _LOG_STEP)
    if sigma < 0.3:
        return flux
    half = int(np.ceil(4 * sigma))
    kernel = np.exp(-0.5 * (np.arange(-half, half + 1) / sigma) ** 2)
    padded = np.pad(flux, half, mode="edge")
    return np.convolve(padded, kernel / kernel.sum(), mode="valid")


def add_emission(flux, strengths, width=2.5):
    """Add Gaussian emission lines; ``strengths`` in units of the local flux."""
    wavelengths = 10 ** _LOG_GRID
    continuum = broaden(flux, 3000.0)
    for line, strength in strengths.items():
        if strength > 0:
            centre = EMISSION_LINES[line]
            local = np.interp(centre, wavelengths, continuum)
            flux = flux + strength * local * np.exp(-0.5 * ((wavelengths - centre) / width) ** 2)
    return flux


def ccm_extinction(wavelengths, a_v, r_v=3.1):
    """Extinction A_lambda (mag) of Cardelli, Clayton & Mathis (1989), optical/IR."""
    x = 1e4 / np.asarray(wavelengths, dtype=np.float64)  # inverse micron
    y = x - 1.82
    a = 1 + y * (0.17699 + y * (-0.50447 + y * (-0.02427 + y * (0.72085 + y * (
        0.01979 + y * (-0.77530 + y * 0.32999))))))
    b = y * (1.41338 + y * (2.28305 + y * (1.07233 + y * (-5.38434 + y * (
        -0.62251 + y * (5.30260 - y * 2.09002))))))
    infrared = x < 1.1
    a = np.where(infrared, 0.574 * x ** 1.61, a)
    b = np.where(infrared, -0.527 * x ** 1.61, b)
    return a_v * (a + b / r_v)


def observe_spectrum(rest_flux, radial_velocity, a_v, snr, rng):
    """Shift, redden, resample onto ``SPECTRUM_WAVELENGTHS`` and add noise.

    Returns float32 flux normalised to a median of 1 (LAMOST-like relative
    flux calibration, with a smooth calibration error of a few per cent).
    """
    wavelengths = SPECTRUM_WAVELENGTHS
    rest = wavelengths / (1 + radial_velocity / SPEED_OF_LIGHT)
    flux = np.interp(np.log10(rest), _LOG_GRID, rest_flux)
    flux = flux * 10 ** (-0.4 * ccm_extinction(wavelengths, a_v))
    flux = flux / np.median(flux)
    u = (wavelengths - 6425.0) / 2575.0
    flux = flux * (1 + rng.normal(0, 0.03) * u + rng.normal(0, 0.02) * (u * u - 1 / 3))
    # photon noise grows with flux; a floor keeps the faint blue end of M stars noisy
    sigma = np.sqrt(np.clip(flux, 0.0, None) + 0.05) / snr
    flux = flux + sigma * rng.standard_normal(len(flux))
    return flux.astype(np.float32)


def _emission(name, teff, rng):
    """Emission-line strengths (in units of the local continuum) of one star."""
    if name == "Mira":  # shock-excited Balmer emission, strongest in H delta / H gamma
        return {"H_delta": rng.uniform(1.0, 4.0), "H_gamma": rng.uniform(0.5, 3.0),
                "H_beta": rng.uniform(0.0, 1.0), "H_alpha": rng.uniform(0.0, 1.0)}
    if name == "ROT":  # chromospheric activity
        h_alpha = rng.uniform(0.1, 1.0) if teff < 4500 else rng.uniform(0.05, 0.4)
        calcium = rng.uniform(0.3, 2.0)
        return {"CaII_K": calcium, "CaII_H": 0.8 * calcium, "H_alpha": h_alpha}
    if name == "EW":
        calcium = rng.uniform(0.0, 0.3)
        return {"CaII_K": calcium, "CaII_H": 0.8 * calcium}
    return {}


def class_spectrum(name, star, teff, metals, broadening, radial_velocity, a_v, snr, rng):
    """Observed spectrum (float32 on ``SPECTRUM_WAVELENGTHS``) of one star of class ``name``.

    ``star`` holds the class parameters of :mod:`._variability` (binary
    radii and brightness ratio, rotation period); ``teff`` in K,
    ``broadening`` FWHM and ``radial_velocity`` in km/s, ``a_v`` in mag.
    """
    flux = rest_frame_flux(teff, metals)
    if name in ("EA", "EW"):  # both stars of the pair contribute
        teff_2 = teff * star["brightness_ratio"] ** 0.25
        flux = flux + (star["r2"] / star["r1"]) ** 2 * rest_frame_flux(teff_2, metals)
        radial_velocity += rng.uniform(20, 150) * np.sin(rng.uniform(0, 2 * np.pi))
    elif name == "ROT":  # equatorial velocity of a star of radius ~ (Teff/5800)**1.5 R_sun
        broadening = np.clip(2 * 50.6 * (teff / 5800.0) ** 1.5 / star["period"], 10, 200)
    elif name != "CONST":  # pulsation velocity at a random phase
        radial_velocity += rng.uniform(5, 30) * np.sin(rng.uniform(0, 2 * np.pi))
    flux = add_emission(broaden(flux, broadening), _emission(name, teff, rng))
    return observe_spectrum(flux, radial_velocity, a_v, snr, rng)
