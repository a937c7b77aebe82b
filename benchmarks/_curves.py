"""Synthetic light curves for the speed benchmarks (numpy only, shared with the TF probe)."""

import numpy as np


def make_curves(n_curves, n_obs, seed=0):
    """Irregular sinusoids of exactly ``n_obs`` points: (time in days, magnitude, error)."""
    rng = np.random.default_rng(seed)
    times = np.sort(rng.uniform(0, 1000, (n_curves, n_obs)), axis=1) + 50000
    magnitudes = 15 + np.sin(times / rng.uniform(0.3, 30, (n_curves, 1))) + rng.normal(
        0, 0.05, (n_curves, n_obs))
    return list(np.stack([times, magnitudes, np.full_like(times, 0.05)], axis=-1))
