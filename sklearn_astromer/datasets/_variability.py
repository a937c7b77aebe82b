"""Light-curve models of variable-star classes.

Each class has a parameter sampler (``_sample_<family>``: arrays of
parameters for ``size`` stars) and a model (``_model_<family>``: magnitude
offsets of one star at given times). Pulsators follow Fourier series whose
periods, amplitudes and shapes are drawn from the real OGLE-III catalogue
(``data/ogle3_class_tables.npz``); long-period variables are quasi-periodic;
eclipsing binaries come from two overlapping uniform disks; rotators from
evolving starspots.
"""

from functools import lru_cache
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parent / "data"

CLASSES = ("RRab", "RRc", "Cep", "DSCT", "Mira", "SRV", "EA", "EW", "ROT", "CONST")
CLASS_DESCRIPTIONS = {
    "RRab": "fundamental-mode RR Lyrae star",
    "RRc": "first-overtone RR Lyrae star",
    "Cep": "classical Cepheid (fundamental or first overtone)",
    "DSCT": "delta Scuti star",
    "Mira": "Mira (long-period variable)",
    "SRV": "semi-regular variable (long-period variable)",
    "EA": "detached eclipsing binary (Algol type)",
    "EW": "contact eclipsing binary (W UMa type)",
    "ROT": "rotational variable (spotted star)",
    "CONST": "non-variable star",
}

# Amplitude in a band relative to the OGLE I band (pulsation amplitudes grow
# towards the blue; spot contrast grows to the blue; eclipses are taken as grey).
# The SDSS-like u, i, z, y of the multi-band surveys follow the same trends.
_BAND_FACTORS = {
    "pulsator": {"I": 1.0, "R": 1.25, "o": 1.2, "r": 1.35, "V": 1.6, "g": 1.9, "u": 2.3,
                 "i": 1.05, "z": 0.9, "y": 0.85},
    "lpv": {"I": 1.0, "R": 1.5, "o": 1.4, "r": 1.7, "V": 2.3, "g": 2.6, "u": 3.0, "i": 1.2,
            "z": 0.9, "y": 0.8},
    "binary": {},
    "spot": {"I": 1.0, "R": 1.15, "o": 1.1, "r": 1.2, "V": 1.35, "g": 1.5, "u": 1.8,
             "i": 1.05, "z": 0.95, "y": 0.9},
}
_FAMILY = {
    "RRab": "pulsator", "RRc": "pulsator", "Cep": "pulsator", "DSCT": "pulsator",
    "Mira": "lpv", "SRV": "lpv", "EA": "binary", "EW": "binary",
    "ROT": "spot", "CONST": "binary",
}
_PHASE_GRID = np.linspace(0.0, 1.0, 256, endpoint=False)


@lru_cache(maxsize=1)
def load_ogle_tables():
    """Per-class OGLE-III parameter tables: {class: {column: float64 array}}."""
    with np.load(DATA_DIR / "ogle3_class_tables.npz") as data:
        tables = {}
        for name in ("RRab", "RRc", "Cep", "DSCT", "Mira", "SRV"):
            values = data[name].astype(np.float64)
            tables[name] = dict(zip(data[f"{name}_columns"].tolist(), values.T))
    return tables


def band_factor(name, band):
    """Amplitude in ``band`` relative to the I band for class ``name``."""
    return _BAND_FACTORS[_FAMILY[name]].get(band, 1.0)


def smooth_noise(times, timescale, rng, n_terms=24):
    """Unit-variance smooth random process at ``times`` (random Fourier features).

    Approximates a Gaussian process with a squared-exponential kernel of
    length ``timescale`` (days): vectorised, no sequential recursion.
    """
    omega = rng.standard_normal(n_terms) / timescale
    theta = rng.uniform(0.0, 2 * np.pi, n_terms)
    return np.sqrt(2.0 / n_terms) * np.cos(np.outer(times, omega) + theta).sum(axis=1)


# --------------------------------------------------------------------------
# Pulsators: Fourier series with OGLE-III shapes
# --------------------------------------------------------------------------
def _harmonics(R21, phi21, R31, phi31):
    """Amplitude ratios and phases of harmonics 1..5 (cosine series, magnitudes).

    Harmonics 4 and 5 continue the progression of the first three (ratios
    geometric, phases linear in the order): sharper RRab/Cepheid bumps than a
    three-term series.
    """
    ratios = [1.0, R21, R31, 0.0, 0.0]
    phases = [0.0, phi21, phi31, 0.0, 0.0]
    if R21 > 0.05 and R31 > 0.0:
        q = min(R31 / R21, 0.8)
        ratios[3], ratios[4] = R31 * q, R31 * q * q
        phases[3] = 2 * phi31 - phi21
        phases[4] = 3 * phi31 - 2 * phi21
    return np.array(ratios), np.array(phases)


def fourier_shape(phase, R21, phi21, R31, phi31):
    """Light-curve shape (magnitudes, peak-to-peak 1) at ``phase`` (cycles)."""
    ratios, phases = _harmonics(R21, phi21, R31, phi31)
    k = np.arange(1, 6)

    def series(p):
        return (ratios * np.cos(2 * np.pi * np.multiply.outer(p, k) + phases)).sum(-1)

    grid = series(_PHASE_GRID)
    return (series(phase) - grid.mean()) / np.ptp(grid)


def _sample_pulsator(name, size, rng):
    table = load_ogle_tables()[name]
    rows = rng.integers(0, len(table["log10_period"]), size)
    params = {key: values[rows].copy() for key, values in table.items()}
    # small jitter so that repeated catalogue rows give distinct stars
    params["period"] = 10 ** (params.pop("log10_period") + rng.normal(0, 0.005, size))
    params["amplitude"] *= rng.lognormal(0.0, 0.05, size)
    for ratio, phase in (("R21", "phi21"), ("R31", "phi31")):
        missing = ~np.isfinite(params[phase])
        params[ratio] = np.where(np.isfinite(params[ratio]), params[ratio], 0.0)
        params[ratio] = np.clip(params[ratio], 0.0, 0.9)
        params[phase][missing] = rng.uniform(0, 2 * np.pi, missing.sum())
    # Blazhko modulation (common in RRab, rarer in RRc)
    fraction = {"RRab": 0.35, "RRc": 0.1}.get(name, 0.0)
    blazhko = rng.random(size) < fraction
    params["blazhko_period"] = np.where(blazhko, 10 ** rng.uniform(1.3, 2.7, size), np.inf)
    params["blazhko_depth"] = np.where(blazhko, rng.uniform(0.05, 0.4, size), 0.0)
    # a second radial mode in some delta Scuti stars (period ratio 1O/F = 0.773)
    multimode = (rng.random(size) < 0.25) if name == "DSCT" else np.zeros(size, bool)
    params["second_mode_ratio"] = np.where(multimode, rng.uniform(0.2, 0.7, size), 0.0)
    return params


def _model_pulsator(times, p, rng):
    t0 = rng.uniform(0.0, p["period"])
    phase = (times - t0) / p["period"]
    amplitude = np.full(len(times), p["amplitude"])
    if np.isfinite(p["blazhko_period"]):
        psi = rng.uniform(0, 2 * np.pi)
        wave = np.sin(2 * np.pi * times / p["blazhko_period"] + psi)
        amplitude = amplitude * (1 + p["blazhko_depth"] * wave)
        phase = phase + 0.2 * p["blazhko_depth"] * wave
    magnitudes = amplitude * fourier_shape(phase, p["R21"], p["phi21"], p["R31"], p["phi31"])
    if p["second_mode_ratio"] > 0:
        second = np.cos(2 * np.pi * times / (0.773 * p["period"]) + rng.uniform(0, 2 * np.pi))
        magnitudes = magnitudes + 0.5 * p["second_mode_ratio"] * p["amplitude"] * second
    return magnitudes


# --------------------------------------------------------------------------
# Long-period variables: quasi-periodic, several periods
# --------------------------------------------------------------------------
def _sample_lpv(name, size, rng):
    table = load_ogle_tables()[name]
    rows = rng.integers(0, len(table["log10_period"]), size)
    params = {}
    for suffix in ("", "_2", "_3"):
        params["period" + suffix] = 10 ** table["log10_period" + suffix][rows]
        params["amplitude" + suffix] = np.nan_to_num(table["amplitude" + suffix][rows])
    mira = name == "Mira"
    params["jitter"] = rng.uniform(0.02, 0.05, size) if mira else rng.uniform(0.08, 0.2, size)
    params["modulation"] = rng.uniform(0.05, 0.15, size) if mira else rng.uniform(0.3, 0.6, size)
    params["coherence"] = rng.uniform(1.0, 3.0, size) if mira else rng.uniform(1.0, 4.0, size)
    params["R21"] = rng.uniform(0.05, 0.25, size) if mira else rng.uniform(0.0, 0.1, size)
    params["phi21"] = rng.normal(4.6, 0.3, size)
    return params


def _quasi_periodic(times, period, amplitude, p, rng, R21=0.0, phi21=0.0):
    """Cycle-to-cycle period jitter (Brownian phase) and amplitude modulation."""
    dt = np.diff(times, prepend=times[0])
    walk = np.cumsum(np.sqrt(dt / period) * rng.standard_normal(len(times)))
    phase = (times - times[0]) / period + rng.uniform() + p["jitter"] * walk
    envelope = 1 + p["modulation"] * smooth_noise(times, p["coherence"] * period, rng)
    shape = fourier_shape(phase, R21, phi21, 0.0, 0.0)
    return amplitude * np.clip(envelope, 0.05, None) * shape


def _model_lpv(times, p, rng):
    magnitudes = _quasi_periodic(times, p["period"], p["amplitude"], p, rng, p["R21"], p["phi21"])
    for suffix in ("_2", "_3"):
        period, amplitude = p["period" + suffix], p["amplitude" + suffix]
        if np.isfinite(period) and amplitude > 0:
            # secondary periods are weaker than the primary in the catalogue
            amplitude = min(amplitude, p["amplitude"])
            magnitudes = magnitudes + _quasi_periodic(times, period, amplitude, p, rng)
    return magnitudes


# --------------------------------------------------------------------------
# Eclipsing binaries: two uniform disks on a circular orbit
# --------------------------------------------------------------------------
def overlap_area(d, r1, r2):
    """Area of overlap of two disks (radii ``r1``, ``r2``) at centre distance ``d``."""
    d = np.maximum(np.asarray(d, dtype=np.float64), 1e-12)
    small, big = min(r1, r2), max(r1, r2)
    c1 = np.clip((d * d + r1 * r1 - r2 * r2) / (2 * d * r1), -1, 1)
    c2 = np.clip((d * d + r2 * r2 - r1 * r1) / (2 * d * r2), -1, 1)
    kite = (-d + r1 + r2) * (d + r1 - r2) * (d - r1 + r2) * (d + r1 + r2)
    partial = r1 * r1 * np.arccos(c1) + r2 * r2 * np.arccos(c2) - 0.5 * np.sqrt(
        np.maximum(kite, 0.0)
    )
    area = np.where(d >= r1 + r2, 0.0, partial)
    return np.where(d <= big - small, np.pi * small * small, area)


def _binary_flux(phase, p):
    """Relative flux of the pair at orbital ``phase`` (primary eclipse at 0)."""
    r1, r2, J, cos_i = p["r1"], p["r2"], p["brightness_ratio"], p["cos_i"]
    angle = 2 * np.pi * phase
    secondary_angle = 2 * np.pi * (phase - p["secondary_shift"])
    d_primary = np.sqrt(np.sin(angle) ** 2 + (cos_i * np.cos(angle)) ** 2)
    d_secondary = np.sqrt(np.sin(secondary_angle) ** 2 + (cos_i * np.cos(secondary_angle)) ** 2)
    lost = np.where(
        np.cos(angle) > 0,
        overlap_area(d_primary, r1, r2),  # star 2 in front of star 1
        J * overlap_area(d_secondary, r1, r2) * (np.cos(secondary_angle) < 0),
    )
    total = np.pi * (r1 * r1 + J * r2 * r2)
    sin2_i = 1 - cos_i * cos_i
    ellipsoidal = 1 - p["ellipsoidal"] * sin2_i * np.cos(4 * np.pi * phase)
    oconnell = 1 + p["oconnell"] * np.sin(angle)
    return (total - lost) / total * ellipsoidal * oconnell


def _sample_binary(name, size, rng):
    if name == "EA":
        period = np.clip(10 ** rng.normal(np.log10(3.0), 0.4, size), 0.3, 100.0)
        r_sum = np.clip(0.45 * period ** (-2 / 3) * rng.lognormal(0, 0.25, size), 0.03, 0.6)
        k = rng.uniform(0.4, 1.0, size)
        brightness = rng.uniform(0.1, 1.0, size)
        cos_i = rng.uniform(0.0, 0.95, size) * r_sum
        ellipsoidal = 0.15 * r_sum ** 3
        oconnell = np.zeros(size)
        shift = np.where(period > 3, rng.normal(0, 0.02, size), 0.0)
    else:
        period = np.clip(10 ** rng.normal(np.log10(0.37), 0.12, size), 0.22, 1.2)
        r_sum = rng.uniform(0.72, 0.8, size)
        k = rng.uniform(0.1, 1.0, size) ** 0.46
        brightness = rng.uniform(0.8, 1.0, size)
        cos_i = rng.uniform(0.0, 0.7, size)
        ellipsoidal = rng.uniform(0.06, 0.15, size)
        oconnell = rng.normal(0.0, 0.01, size)
        shift = np.zeros(size)
    params = {
        "period": period, "r1": r_sum / (1 + k), "r2": r_sum * k / (1 + k),
        "brightness_ratio": brightness, "cos_i": cos_i, "ellipsoidal": ellipsoidal,
        "oconnell": oconnell, "secondary_shift": shift,
    }
    params["amplitude"] = np.array([
        np.ptp(-2.5 * np.log10(_binary_flux(_PHASE_GRID, {k: v[i] for k, v in params.items()})))
        for i in range(size)
    ])
    return params


def _model_binary(times, p, rng):
    phase = (times - rng.uniform(0.0, p["period"])) / p["period"]
    return -2.5 * np.log10(_binary_flux(phase, p))


# --------------------------------------------------------------------------
# Rotational variables: evolving spots, differential rotation
# --------------------------------------------------------------------------
def _sample_rotator(name, size, rng):
    return {
        "period": 10 ** rng.uniform(np.log10(0.5), np.log10(40.0), size),
        "amplitude": np.clip(rng.lognormal(np.log(0.04), 0.7, size), 0.005, 0.3),
        "spot_lifetime": 10 ** rng.uniform(1.3, 2.3, size),
        "shear": rng.uniform(0.0, 0.1, size),
        "cos_inclination": rng.uniform(0.0, 1.0, size),
    }


def _model_rotator(times, p, rng):
    start, end = times[0], times[-1]
    lifetime = p["spot_lifetime"]
    n_spots = int(np.clip(2 * (end - start + 2 * lifetime) / lifetime, 2, 60))
    birth = rng.uniform(start - lifetime, end + lifetime, n_spots)
    latitude = np.arcsin(rng.uniform(-0.9, 0.9, n_spots))
    longitude = rng.uniform(0, 2 * np.pi, n_spots)
    size = rng.lognormal(0.0, 0.5, n_spots)
    # differential rotation: spots at high latitude rotate more slowly
    spot_period = p["period"] / (1 - p["shear"] * np.sin(latitude) ** 2)
    cos_i = p["cos_inclination"]
    sin_i = np.sqrt(1 - cos_i * cos_i)
    angle = longitude[:, None] + 2 * np.pi * times[None, :] / spot_period[:, None]
    mu = sin_i * np.cos(latitude)[:, None] * np.cos(angle) + cos_i * np.sin(latitude)[:, None]
    growth = np.exp(-0.5 * ((times[None, :] - birth[:, None]) / (0.5 * lifetime)) ** 2)
    # projected spot area with linear limb darkening (u = 0.6)
    dip = (size[:, None] * growth * np.clip(mu, 0, None) * (0.4 + 0.6 * mu)).sum(axis=0)
    scale = np.ptp(dip) if np.ptp(dip) > 0 else 1.0
    flux = 1 - 0.9 * p["amplitude"] / 1.0857 * dip / scale
    return -2.5 * np.log10(np.clip(flux, 1e-3, None))


def _sample_constant(name, size, rng):
    return {"period": np.full(size, np.nan), "amplitude": np.zeros(size)}


def _model_constant(times, p, rng):
    return np.zeros(len(times))


_FAMILIES = {
    "pulsator": (_sample_pulsator, _model_pulsator),
    "lpv": (_sample_lpv, _model_lpv),
    "binary": (_sample_binary, _model_binary),
    "spot": (_sample_rotator, _model_rotator),
    "constant": (_sample_constant, _model_constant),
}


def _family(name):
    return "constant" if name == "CONST" else _FAMILY[name]


def sample_parameters(name, size, rng, band="I"):
    """Parameters of ``size`` stars of class ``name`` (dict of arrays).

    Always holds ``period`` (days; NaN for non-variables) and ``amplitude``
    (nominal peak-to-peak in ``band``, mag).
    """
    sampler, _ = _FAMILIES[_family(name)]
    params = sampler(name, size, rng)
    factor = band_factor(name, band)
    for key in ("amplitude", "amplitude_2", "amplitude_3"):
        if key in params:
            params[key] = params[key] * factor
    return params


def variation(name, times, params, rng):
    """Magnitude variation of one star at ``times`` (zero mean over the epochs)."""
    _, model = _FAMILIES[_family(name)]
    magnitudes = model(np.asarray(times, dtype=np.float64), params, rng)
    return magnitudes - magnitudes.mean()
