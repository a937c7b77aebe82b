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
