"""Shared fixtures.

Tests that read the third-party data beside the project (``../shared/data``)
use the ``shared_data`` fixture: on a user's clone without that folder they
are skipped with the reason; where ``SKLEARN_ASTROMER_REQUIRE_SHARED_DATA=1``
(set by ``.ci/run``) its absence is an error.
"""

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(
    os.environ.get(
        "SKLEARN_ASTROMER_SHARED_DATA",
        Path(__file__).resolve().parents[1].parent / "shared" / "data",
    )
)


@pytest.fixture(scope="session")
def shared_data():
    """Path of ``../shared/data``; skip (or fail in CI) when it is absent."""
    if SHARED_DATA.is_dir():
        return SHARED_DATA
    message = (
        f"{SHARED_DATA} not found: these tests read the third-party data that sits "
        "beside the project in ../shared/data (set SKLEARN_ASTROMER_SHARED_DATA to "
        "point elsewhere)."
    )
    if os.environ.get("SKLEARN_ASTROMER_REQUIRE_SHARED_DATA") == "1":
        pytest.fail(message)
    pytest.skip(message)


import numpy as np  # noqa: E402

TINY_ASTROMER = dict(d_model=16, n_layers=1, n_heads=2, d_ff=16, max_obs=32,
                     batch_size=32, random_state=0)


def make_sinusoids(n_samples=40, min_obs=5, max_obs=90, seed=0):
    """Two classes of irregular sinusoids (short vs long period), for fast tests."""
    rng = np.random.default_rng(seed)
    curves, labels = [], []
    for index in range(n_samples):
        n_obs = int(rng.integers(min_obs, max_obs))
        times = np.sort(rng.uniform(0, 100, n_obs)) + 50000.0
        period = 0.7 if index % 2 else 13.0
        magnitudes = 15 + 0.5 * np.sin(2 * np.pi * times / period) + 0.05 * rng.normal(size=n_obs)
        curves.append(np.column_stack([times, magnitudes, np.full(n_obs, 0.05)]))
        labels.append(index % 2)
    return curves, np.array(labels)


@pytest.fixture
def sinusoids():
    """``(light_curves, labels)``: 40 irregular sinusoids of 5-90 points, two classes."""
    return make_sinusoids()


@pytest.fixture
def tiny_params():
    """Constructor parameters of a tiny, fast, seeded ASTROMER."""
    return dict(TINY_ASTROMER)
