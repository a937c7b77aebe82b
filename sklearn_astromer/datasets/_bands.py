"""Filters of the multi-band simulated surveys: epochs per band, depths, colours, amplitudes.

A star keeps one period and one light-curve shape in every band; what
changes from band to band is its mean magnitude (a colour per class, drawn
around typical values of the class's g - r and carried to other bands in
proportion to the inverse effective wavelength), its amplitude (the class's
amplitude ratio between bands: pulsation and spot amplitudes grow towards
the blue, eclipses are grey) and the noise (each band's depth).
"""

import numpy as np

#: Bands of each multi-band survey: effective wavelength (Angstrom), share of
#: the epochs and single-visit depth relative to the survey's reference band
#: (mag, positive when deeper). ZTF: g and r alternate, i is rarer; Rubin:
#: the wide-fast-deep visit split and 5-sigma depths (LSST Science Book).
SURVEY_BANDS = {
    "ztf": {"g": (4800.0, 0.45, 0.2), "r": (6400.0, 0.45, 0.0), "i": (7900.0, 0.10, -0.7)},
    "rubin": {"u": (3670.0, 0.07, -0.8), "g": (4830.0, 0.09, 0.3), "r": (6220.0, 0.22, 0.0),
              "i": (7540.0, 0.22, -0.7), "z": (8690.0, 0.20, -1.4), "y": (9710.0, 0.20, -2.6)},
}
#: Typical g - r colour of each class: (mean, standard deviation), mag.
G_MINUS_R = {"RRab": (0.25, 0.10), "RRc": (0.15, 0.08), "Cep": (0.60, 0.15),
             "DSCT": (0.15, 0.08), "Mira": (1.40, 0.20), "SRV": (1.20, 0.20),
             "EA": (0.40, 0.25), "EW": (0.45, 0.15), "ROT": (0.90, 0.25),
             "CONST": (0.60, 0.35)}
_G_WAVELENGTH, _R_WAVELENGTH = 4800.0, 6400.0


def survey_bands(survey, bands):
    """``{band: (wavelength, share, depth)}`` of ``bands`` in ``survey``, shares renormalised."""
    table = SURVEY_BANDS.get(survey.name)
    if table is None:
        raise ValueError(f"Survey {survey.name!r} has no multi-band model; choose one of "
                         f"{sorted(SURVEY_BANDS)} for bands.")
    unknown = [band for band in bands if band not in table]
    if unknown or len(set(bands)) != len(bands) or not bands:
        raise ValueError(f"bands must be distinct bands of {survey.name!r} "
                         f"({list(table)}); got {list(bands)}.")
    total = sum(table[band][1] for band in bands)
    return {band: (table[band][0], table[band][1] / total, table[band][2]) for band in bands}


def colour_offsets(labels, wavelengths, reference_wavelength, rng):
    """Mean magnitude of every star in every band minus its reference-band mean.

    Returns
    -------
    float ndarray of shape (n_stars, n_bands)
    """
    means, deviations = np.array([G_MINUS_R[name] for name in labels]).T
    g_minus_r = rng.normal(means, deviations)
    scale = ((1 / np.asarray(wavelengths) - 1 / reference_wavelength)
             / (1 / _G_WAVELENGTH - 1 / _R_WAVELENGTH))
    return g_minus_r[:, None] * scale[None, :]
