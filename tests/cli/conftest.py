"""Fixtures and helpers of the command-line tests."""

import pytest

from tests.conftest import TINY_ASTROMER, make_sinusoids


@pytest.fixture
def table(tmp_path):
    """``(path, light_curves)``: a long CSV table of 6 objects ``s00`` to ``s05``."""
    light_curves, _ = make_sinusoids(n_samples=6, max_obs=30)
    path = tmp_path / "table.csv"
    long_table(light_curves, prefix="s")[0].to_csv(path, index=False)
    return path, light_curves


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """Directory of a tiny saved ASTROMER (d_model 16, one epoch), shared by the session."""
    from sklearn_astromer import AstromerEmbedder

    light_curves, _ = make_sinusoids(n_samples=12, max_obs=40)
    path = tmp_path_factory.mktemp("tiny_model") / "model"
    AstromerEmbedder(**TINY_ASTROMER, max_epochs=1).fit(light_curves).save_pretrained(path)
    return path


def long_table(light_curves, prefix="star"):
    """``(table, ids)``: a long table of ``light_curves``, one row per observation."""
    import pandas as pd

    ids = [f"{prefix}{index:02d}" for index in range(len(light_curves))]
    return pd.DataFrame(
        [(object_id, *row) for object_id, curve in zip(ids, light_curves) for row in curve],
        columns=["object_id", "time", "mag", "err"],
    ), ids
