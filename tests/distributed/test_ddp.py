"""Data-parallel training, for real: two gloo processes on the loopback interface."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp

from sklearn_astromer import AstromerEmbedder
from sklearn_astromer.distributed import fit_ddp
from sklearn_astromer.distributed._ddp import _free_port

REPO = Path(__file__).resolve().parents[2]
TINY = dict(d_model=16, n_layers=1, n_heads=2, d_ff=16, max_obs=32, batch_size=8,
            random_state=0, device="cpu")

pytestmark = pytest.mark.slow


def _train_rank(rank, port, X, out_dir):
    """One rank, as torchrun or srun would start it: join the group, fit, save."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE="2", LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    estimator = fit_ddp(AstromerEmbedder(**TINY, max_epochs=2), X)
    torch.save(estimator.net_.module_.state_dict(), Path(out_dir) / f"rank{rank}.pt")
    if rank == 0:
        estimator.save_pretrained(Path(out_dir) / "model")
        np.save(Path(out_dir) / "history.npy", estimator.net_.history[:, "train_loss"])


def test_two_ranks_end_identical_and_the_saved_model_loads(sinusoids, tmp_path):
    X, _ = sinusoids
    mp.spawn(_train_rank, args=(_free_port(), X, str(tmp_path)), nprocs=2, join=True)

    rank0 = torch.load(tmp_path / "rank0.pt")
    rank1 = torch.load(tmp_path / "rank1.pt")
    assert rank0.keys() == rank1.keys()
    for name in rank0:
        assert torch.equal(rank0[name], rank1[name]), name
    assert len(np.load(tmp_path / "history.npy")) == 2

    loaded = AstromerEmbedder.from_pretrained(tmp_path / "model")
    for name, value in loaded.net_.module_.state_dict().items():
        assert torch.equal(value, rank0[name]), name
    initial = AstromerEmbedder(**TINY, max_epochs=0).fit(X).net_.module_.state_dict()
    assert not all(torch.equal(initial[name], rank0[name]) for name in rank0)  # it trained
    embeddings = loaded.transform(X)
    assert embeddings.shape == (len(X), 16) and np.isfinite(embeddings).all()


def test_torchrun_entry_point_trains_sharded_files(sinusoids, tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    X, _ = sinusoids
    for part in range(2):  # one file per rank, of unequal sizes (14 and 26 light curves)
        rows = [pd.DataFrame({"object_id": index, "time": curve[:, 0], "mag": curve[:, 1],
                              "err": curve[:, 2]})
                for index, curve in enumerate(X) if (index % 3 == 0) == (part == 0)]
        pd.concat(rows).to_parquet(tmp_path / f"part{part}.parquet")
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nnodes=1", "--nproc_per_node=2",
        "--master_addr=127.0.0.1", f"--master_port={_free_port()}",
        "-m", "sklearn_astromer.distributed.train_ddp",
        "--data", str(tmp_path), "--out", str(tmp_path / "model"), "--sharded",
        "--d-model", "16", "--n-layers", "1", "--n-heads", "2", "--d-ff", "16",
        "--max-obs", "32", "--batch-size", "8", "--max-epochs", "2", "--device", "cpu",
        "--verbose", "0",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]

    loaded = AstromerEmbedder.from_pretrained(tmp_path / "model")
    assert loaded.config_["d_model"] == 16
    assert np.isfinite(loaded.transform(X)).all()


def test_fit_ddp_spawns_local_ranks_and_fits_in_place(sinusoids):
    X, _ = sinusoids
    estimator = AstromerEmbedder(**TINY, max_epochs=2)
    assert fit_ddp(estimator, X, world_size=2) is estimator
    assert len(estimator.net_.history) == 2
    embeddings = estimator.transform(X)
    assert embeddings.shape == (len(X), 16) and np.isfinite(embeddings).all()


def test_without_process_group_or_world_size_it_is_plain_fit(sinusoids):
    X, _ = sinusoids
    plain = AstromerEmbedder(**TINY, max_epochs=1).fit(X)
    via_ddp = fit_ddp(AstromerEmbedder(**TINY, max_epochs=1), X)
    np.testing.assert_array_equal(plain.transform(X), via_ddp.transform(X))
