"""Architectures that cannot fit in memory are refused with the memory they need, before allocating."""

import resource

import numpy as np
import pytest

from sklearn_astromer import AstromerEmbedder
from sklearn_astromer.__main__ import main
from sklearn_astromer.astromer._memory import required_bytes, window_length

CURVE = np.column_stack([np.arange(300.0), np.sin(np.arange(300.0)), np.full(300, 0.1)])


@pytest.mark.parametrize("params", [
    dict(max_obs=100_000, d_model=4096, n_heads=4, variant="paper"),
    dict(d_model=4096, n_layers=64, d_ff=16384, n_heads=4),
])
def test_fit_refuses_a_model_that_cannot_fit_naming_the_memory(params):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ValueError, match=r"cannot run here: .* needs at least [0-9,.]+ GiB, "
                                         r"and cpu has [0-9,.]+ GiB"):
        AstromerEmbedder(**params, max_epochs=1, device="cpu").fit([CURVE])
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 1_000_000  # KiB


def test_long_max_obs_is_fine_when_the_curves_are_short():
    # "corrected" windows are as long as the curves, not max_obs.
    embedder = AstromerEmbedder(max_obs=100_000, d_model=8, n_heads=2, d_ff=8, n_layers=1,
                                max_epochs=1, device="cpu").fit([CURVE, CURVE])
    assert embedder.transform([CURVE]).shape == (1, 8)


def test_transform_of_a_loaded_model_checks_its_windows(tmp_path):
    import json

    AstromerEmbedder(d_model=8, n_heads=2, d_ff=8, n_layers=1, max_epochs=0, variant="paper",
                     device="cpu").fit([CURVE]).save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**config, "max_obs": 100_000,
                                                      "n_heads": 8, "d_model": 8}))
    embedder = AstromerEmbedder.from_pretrained(tmp_path, device="cpu")
    if required_bytes(embedder.config_, 0, 100_000, 1, False) < 2**36:
        pytest.skip("this machine could hold the window")
    with pytest.raises(ValueError, match="one window of 100,000 observations"):
        embedder.transform([CURVE])


def test_window_length_is_max_obs_for_the_padded_paper_variant():
    assert window_length({"variant": "paper", "max_obs": 200}, 50) == 200
    assert window_length({"variant": "corrected", "max_obs": 200}, 50) == 50
    assert window_length({"variant": "corrected", "max_obs": 200}, 500) == 200


def test_cli_pretrain_refuses_it_in_one_line(tmp_path, capsys):
    import pandas as pd

    table = tmp_path / "table.csv"
    pd.DataFrame({"object_id": ["a"] * 300, "time": CURVE[:, 0], "mag": CURVE[:, 1]}).to_csv(
        table, index=False)
    assert main(["pretrain", str(table), "--out", str(tmp_path / "run"), "--d-model", "4096",
                 "--n-layers", "64", "--d-ff", "16384", "--epochs", "1", "-q"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "needs at least" in err[0]
    assert not (tmp_path / "run").exists()
