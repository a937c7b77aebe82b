"""Data-parallel training, for real: two gloo processes on the loopback interface."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp

from sklearn_astromer import AstromerEmbedder
from sklearn_astromer.distributed import fit_ddp
from sklearn_astromer.distributed._ddp import (
    PeriodsSearchedAcrossRanks,
    RankSampler,
    _free_port,
)
from sklearn_astromer.distributed.train_ddp import build_parser, _checkpointed_history

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


# ------------------------------------------------------- train_ddp under faults
TRAIN_DDP_TINY = ["--d-model", "16", "--n-layers", "1", "--n-heads", "2", "--d-ff", "16",
                  "--max-obs", "32", "--batch-size", "8", "--device", "cpu"]


@pytest.fixture(scope="module")
def long_table(tmp_path_factory):
    """200 light curves of 50-200 points in one Parquet long table (epochs of ~0.1 s)."""
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    from tests.conftest import make_sinusoids

    X, _ = make_sinusoids(200, 50, 200)
    folder = tmp_path_factory.mktemp("ddp_table")
    pd.concat([pd.DataFrame({"object_id": index, "time": curve[:, 0], "mag": curve[:, 1],
                             "err": curve[:, 2]}) for index, curve in enumerate(X)]
              ).to_parquet(folder / "table.parquet")
    return folder


def _launch_ranks(arguments, world_size=2):
    """``world_size`` train_ddp processes joined as torchrun would join them."""
    port = str(_free_port())
    processes = []
    for rank in range(world_size):
        env = {**os.environ, "OMP_NUM_THREADS": "1", "MASTER_ADDR": "127.0.0.1",
               "MASTER_PORT": port, "RANK": str(rank), "WORLD_SIZE": str(world_size),
               "LOCAL_RANK": str(rank),
               "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "sklearn_astromer.distributed.train_ddp", *arguments],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    return processes


def _epochs_checkpointed(out):
    try:
        return len(json.loads((out / "checkpoints" / "history.json").read_text()))
    except (OSError, ValueError):  # not written yet, or being replaced
        return 0


def _wait_for_epochs(out, n_epochs, processes, limit_s=120):
    deadline = time.monotonic() + limit_s
    while _epochs_checkpointed(out) < n_epochs:
        assert all(process.poll() is None for process in processes), "a rank ended early"
        assert time.monotonic() < deadline, "no checkpoint in time"
        time.sleep(0.01)


def test_a_killed_run_resumes_to_the_weights_of_the_uninterrupted_run(long_table, tmp_path):
    from safetensors.torch import load_file

    arguments = ["--data", str(long_table), *TRAIN_DDP_TINY, "--max-epochs", "10",
                 "--validation-fraction", "0.2", "--lr-schedule", "warmup_cosine"]
    whole = tmp_path / "whole"
    processes = _launch_ranks([*arguments, "--out", str(whole)])
    outputs = [process.communicate(timeout=300) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs[0][1][-2000:]
    # Rank 0 alone logs the epochs.
    assert outputs[0][0].count("\n") >= 10 and "valid_loss" in outputs[0][0]
    assert "valid_loss" not in outputs[1][0] + outputs[1][1]

    cut = tmp_path / "cut"
    processes = _launch_ranks([*arguments, "--out", str(cut), "--verbose", "0"])
    _wait_for_epochs(cut, 2, processes)
    for process in processes:  # a hard kill, of every rank
        process.send_signal(signal.SIGKILL)
        process.communicate()
    killed_after = _epochs_checkpointed(cut)
    assert 2 <= killed_after < 10 and not (cut / "model.safetensors").exists()

    processes = _launch_ranks([*arguments, "--out", str(cut), "--verbose", "0", "--resume"])
    outputs = [process.communicate(timeout=300) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs[0][1][-2000:]
    history = json.loads((cut / "checkpoints" / "history.json").read_text())
    assert [row["epoch"] for row in history] == list(range(1, 11))
    resumed, uninterrupted = load_file(cut / "model.safetensors"), load_file(
        whole / "model.safetensors")
    for name, value in uninterrupted.items():
        torch.testing.assert_close(resumed[name], value, rtol=0, atol=1e-6, msg=name)
    # The schedule spans the steps each rank takes: it has decayed by the last epoch.
    rates = [batch["event_lr"] for row in history for batch in row["batches"]
             if "event_lr" in batch]  # training batches
    assert rates[-1] < 0.02 * max(rates)


def test_a_stalled_rank_fails_the_others_within_the_timeout(long_table, tmp_path):
    out = tmp_path / "run"
    processes = _launch_ranks(["--data", str(long_table), "--out", str(out), *TRAIN_DDP_TINY,
                               "--max-epochs", "1000", "--timeout", "0.1", "--verbose", "0"])
    try:
        _wait_for_epochs(out, 1, processes)
        processes[1].send_signal(signal.SIGSTOP)
        stopped_at = time.monotonic()
        _, error = processes[0].communicate(timeout=120)
        waited = time.monotonic() - stopped_at
    finally:
        processes[1].kill()
        processes[1].communicate()
    assert processes[0].returncode == 1
    assert waited < 6 + 30, waited  # the 6 s timeout, and an epoch in progress
    assert "rank 0 of 2: the other ranks stopped answering" in error
    assert "--resume" in error and f"{out / 'checkpoints'}" in error


def test_a_new_run_refuses_checkpoints_and_a_resume_refuses_other_settings(tmp_path):
    from sklearn_astromer._checkpoints import HISTORY_FILE
    from sklearn_astromer.distributed.train_ddp import STATE_FILE, _settings

    checkpoints = tmp_path / "out" / "checkpoints"
    files = [str(tmp_path / "a.parquet")]

    def history(*argv):
        args = build_parser().parse_args(["--data", *files, "--out", str(tmp_path / "out"),
                                          *argv])
        return _checkpointed_history(args, files, checkpoints)

    with pytest.raises(FileNotFoundError, match="no checkpoint to resume from"):
        history("--resume")
    assert history() == []
    checkpoints.mkdir(parents=True)
    args = build_parser().parse_args(["--data", *files, "--out", str(tmp_path / "out")])
    (checkpoints / STATE_FILE).write_text(json.dumps(_settings(args, files)))
    (checkpoints / HISTORY_FILE).write_text("[]")
    with pytest.raises(ValueError, match="pass --resume to continue it"):
        history()
    with pytest.raises(ValueError, match=r"these differ: lr \(the run has 0.001, this command "
                                         r"0.01\)"):
        history("--resume", "--lr", "0.01")
    with pytest.raises(ValueError, match="params.pt is missing"):
        history("--resume", "--max-epochs", "40", "--patience", "3")  # these may change


def _share_periods(rank, port, light_curves, out_dir):
    import torch.distributed as dist

    from sklearn_astromer._prepared import PreparedLightCurves

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=2)
    try:
        shared = PeriodsSearchedAcrossRanks.of(PreparedLightCurves.from_input(light_curves))
        np.save(Path(out_dir) / f"rank{rank}.npy", np.stack(shared.periods))
        sampler = RankSampler(len(light_curves), shuffle=True, seed=3, sharded=False)
        orders = []
        for epoch in (1, 2, 1):
            sampler.set_epoch(epoch)
            orders.append(list(sampler))
        np.save(Path(out_dir) / f"orders{rank}.npy", np.array(orders))
    finally:
        dist.destroy_process_group()


def test_ranks_share_out_the_period_search_and_draw_a_new_order_every_epoch(sinusoids,
                                                                            tmp_path):
    from sklearn_astromer._prepared import PreparedLightCurves

    X, _ = sinusoids
    mp.spawn(_share_periods, args=(_free_port(), X[:25], str(tmp_path)), nprocs=2, join=True)
    expected = np.stack(PreparedLightCurves.from_input(X[:25]).periods)
    for rank in range(2):  # batches of other sizes: the same periods to rounding
        np.testing.assert_allclose(np.load(tmp_path / f"rank{rank}.npy"), expected, rtol=1e-12)
    orders = [np.load(tmp_path / f"orders{rank}.npy") for rank in range(2)]
    for order in orders:
        assert len(order[0]) == 13 and list(order[0]) != list(order[1])
        np.testing.assert_array_equal(order[0], order[2])  # an epoch's order is its own
    visited = np.concatenate([orders[0][0], orders[1][0]])
    assert sorted(set(visited)) == list(range(25))  # the ranks share out every light curve
