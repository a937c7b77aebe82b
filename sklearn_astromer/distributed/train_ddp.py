"""Pre-train ASTROMER data-parallel on Parquet long tables: one process per GPU (or CPU share).

Run under ``torchrun`` (or ``srun``, which sets ``SLURM_PROCID``/``SLURM_NTASKS``)::

    torchrun --nproc_per_node=4 -m sklearn_astromer.distributed.train_ddp \\
        --data catalogue/ --out model/ --max-epochs 20

Rank 0 writes ``model/`` with ``save_pretrained``; it loads with
``AstromerEmbedder.from_pretrained("model/")``. Rank 0 also checkpoints the
run in ``model/checkpoints`` every ``--checkpoint-every`` epochs (weights,
optimizer, history, best weights) and logs; the same command with
``--resume`` continues from the last checkpoint (every rank reads it, so
``--out`` must be on a file system all ranks share). A rank that waits
longer than ``--timeout`` minutes for the others (a rank stopped, hung or
died) exits with an error saying from which epoch ``--resume`` continues.
"""

import argparse
import glob
import json
import os
import sys
from pathlib import Path

#: File in ``OUT/checkpoints`` with the settings of a checkpointed run.
STATE_FILE = "train_ddp.json"
# Options a resumed run may change: they decide when to stop or how to run, not what is trained.
RESUMABLE_CHANGES = ("max_epochs", "patience", "checkpoint_every", "timeout", "device",
                     "verbose", "resume", "out")


def build_parser():
    """The command line's argument parser."""
    parser = argparse.ArgumentParser(
        prog="python -m sklearn_astromer.distributed.train_ddp",
        description="Data-parallel ASTROMER pre-training on Parquet long tables "
                    "(one row per observation). Launch with torchrun or srun.")
    parser.add_argument("--data", nargs="+", required=True,
                        help="Parquet files, directories of them, or glob patterns")
    parser.add_argument("--out", required=True, help="directory for save_pretrained (rank 0)")
    parser.add_argument("--sharded", action="store_true",
                        help="each rank reads only every WORLD_SIZE-th file (for data larger "
                             "than one process's memory); needs at least WORLD_SIZE files")
    parser.add_argument("--id-col", default="object_id")
    parser.add_argument("--time-col", default="time")
    parser.add_argument("--mag-col", default="mag")
    parser.add_argument("--err-col", default="err", help="'none' when there is no error column")
    parser.add_argument("--pretrained", default=None, help="start from these weights")
    for name, kind, default in [("d-model", int, 256), ("n-layers", int, 2), ("n-heads", int, 4),
                                ("d-ff", int, 128), ("max-obs", int, 200),
                                ("max-epochs", int, 20), ("batch-size", int, 256),
                                ("lr", float, 1e-3), ("validation-fraction", float, 0.2),
                                ("patience", int, 10), ("random-state", int, 0)]:
        parser.add_argument(f"--{name}", type=kind, default=default)
    parser.add_argument("--variant", default="corrected", choices=["corrected", "paper"])
    parser.add_argument("--lr-schedule", default="warmup_cosine",
                        choices=["warmup_cosine", "constant"],
                        help="over the --max-epochs of the whole run, resumed runs included")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--verbose", type=int, default=1, help="rank 0's log (other ranks: none)")
    parser.add_argument("--checkpoint-every", type=int, default=1, metavar="N",
                        help="rank 0 checkpoints the run in OUT/checkpoints every N epochs "
                             "(default: %(default)s)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run checkpointed in OUT/checkpoints, up to "
                             "--max-epochs")
    parser.add_argument("--timeout", type=float, default=10.0, metavar="MINUTES",
                        help="a rank that waits longer for the others fails (default: "
                             "%(default)s)")
    return parser


def parquet_files(patterns):
    """Sorted Parquet files named by paths, directories or glob patterns."""
    files = []
    for pattern in patterns:
        if os.path.isdir(pattern):
            pattern = os.path.join(pattern, "**", "*.parquet")
        files.extend(glob.glob(pattern, recursive=True))
    if not files:
        raise FileNotFoundError(f"No Parquet file matches {patterns}.")
    return sorted(set(files))


def read_light_curves(files, args):
    """Light curves of the long tables in ``files`` (an object's rows may span them)."""
    import pandas as pd

    from ..io import light_curves_from_table

    err_col = None if args.err_col.lower() == "none" else args.err_col
    columns = [args.id_col, args.time_col, args.mag_col] + ([err_col] if err_col else [])
    frame = pd.concat([pd.read_parquet(path, columns=columns) for path in files],
                      ignore_index=True)
    light_curves, _ = light_curves_from_table(
        frame, id_col=args.id_col, time_col=args.time_col, mag_col=args.mag_col,
        err_col=err_col)
    return light_curves


def main(argv=None):
    """Train on this rank and, on rank 0, checkpoint and save the model; return the exit code."""
    import torch.distributed as dist

    from .. import AstromerEmbedder
    from ._ddp import init_process_group

    args = build_parser().parse_args(argv)
    if args.checkpoint_every < 1 or args.timeout <= 0:
        raise ValueError("--checkpoint-every must be at least 1 and --timeout positive.")
    # With --pretrained, the architecture comes from the weights and these are ignored.
    estimator = AstromerEmbedder(
        d_model=args.d_model, n_layers=args.n_layers, n_heads=args.n_heads, d_ff=args.d_ff,
        max_obs=args.max_obs, variant=args.variant, pretrained=args.pretrained,
        batch_size=args.batch_size, lr=args.lr,
        validation_fraction=args.validation_fraction or None, patience=args.patience,
        random_state=args.random_state, device=args.device, lr_schedule="constant",
    )
    init_process_group(estimator, timeout=args.timeout * 60)
    rank = dist.get_rank()
    checkpoints = Path(args.out) / "checkpoints"
    try:
        _train(estimator, args, checkpoints)
    except Exception as error:
        if not _lost_other_ranks(error):
            raise
        print(f"train_ddp, rank {rank} of {dist.get_world_size()}: the other ranks stopped "
              f"answering ({_first_line(error)}); a rank stalled longer than --timeout "
              f"{args.timeout:g} min, or died. {_resume_hint(checkpoints)}",
              file=sys.stderr, flush=True)
        os._exit(1)  # leaving the process group would wait on the lost ranks again
    return 0


def _train(estimator, args, checkpoints):
    """Every rank's part of the run (see :func:`main`)."""
    import torch.distributed as dist
    from skorch.callbacks import EarlyStopping

    from .._checkpoints import (
        BEST_PARAMS,
        LAST_PARAMS,
        checkpoint_callbacks,
        replay_early_stopping,
    )
    from .._console import epoch_log
    from .._training import resumable_schedule
    from ._ddp import fit_ddp, leave_process_group

    rank, world_size = dist.get_rank(), dist.get_world_size()
    files = parquet_files(args.data)
    history = _checkpointed_history(args, files, checkpoints)
    dist.barrier()  # every rank has checked the folder before rank 0 writes into it
    if rank == 0 and not history:
        checkpoints.mkdir(parents=True, exist_ok=True)
        (checkpoints / STATE_FILE).write_text(json.dumps(_settings(args, files), indent=2))
    if args.sharded:
        if len(files) < world_size:
            raise ValueError(f"--sharded needs at least {world_size} files, found {len(files)}.")
        files = files[rank::world_size]
    light_curves = read_light_curves(files, args)
    stopping = replay_early_stopping(EarlyStopping(patience=args.patience), history)
    remaining = 0 if history and stopping.misses_ >= stopping.patience else max(
        args.max_epochs - len(history), 0)
    callbacks, _ = checkpoint_callbacks(checkpoints, resume=bool(history),
                                        every=args.checkpoint_every)
    if args.verbose and rank == 0:
        callbacks.append(("epoch_log", epoch_log()))
    callbacks += resumable_schedule(
        args.lr_schedule, n_samples=len(light_curves),
        validation_fraction=args.validation_fraction or None, batch_size=args.batch_size,
        epochs=args.max_epochs, finished_epochs=len(history))
    estimator.set_params(max_epochs=remaining, callbacks=callbacks, verbose=0)
    if remaining:
        fit_ddp(estimator, light_curves, sharded=args.sharded)
    elif rank == 0:
        print(f"train_ddp: the checkpointed run in {checkpoints} has no epoch left to train; "
              "saving its best weights", file=sys.stderr, flush=True)
        best = checkpoints / BEST_PARAMS
        _load_checkpointed_weights(estimator.fit(light_curves),
                                   best if best.is_file() else checkpoints / LAST_PARAMS)
    if rank == 0:
        estimator.save_pretrained(args.out)
    leave_process_group()


def _settings(args, files):
    """What a resumed run must share with the checkpointed one (JSON-ready)."""
    settings = {key: value for key, value in vars(args).items()
                if key not in RESUMABLE_CHANGES and key != "data"}
    return {**settings, "files": [os.path.abspath(path) for path in files]}


def _checkpointed_history(args, files, checkpoints):
    """The finished epochs' history rows to resume from ([] for a new run); nothing is
    written. Refuses a resume that would train another model, and a new run over checkpoints.
    """
    from .._checkpoints import HISTORY_FILE, check_resumable, finished_rows, read_json

    state = checkpoints / STATE_FILE
    if not args.resume:
        if (checkpoints / HISTORY_FILE).exists() or state.exists():
            raise ValueError(f"{checkpoints} holds the checkpoints of an earlier run: pass "
                             "--resume to continue it, or choose another --out.")
        return []
    if not state.is_file() or not (checkpoints / HISTORY_FILE).is_file():
        raise FileNotFoundError(f"{checkpoints}: no checkpoint to resume from (run without "
                                "--resume to start training).")
    recorded, given = read_json(state), _settings(args, files)
    changed = sorted(key for key in set(recorded) | set(given)
                     if recorded.get(key) != given.get(key))
    if changed:
        listed = ", ".join(f"{key} (the run has {recorded.get(key)!r}, this command "
                           f"{given.get(key)!r})" for key in changed)
        raise ValueError(f"--resume continues the checkpointed run in {checkpoints} with its "
                         f"own data and settings; these differ: {listed}.")
    check_resumable(checkpoints)
    return finished_rows(checkpoints)


def _load_checkpointed_weights(estimator, path):
    """Put the weights a data-parallel run checkpointed (``module.``-prefixed) into
    ``estimator``'s model."""
    import torch

    state = torch.load(path, map_location="cpu", weights_only=True)
    estimator.net_.module_.load_state_dict(
        {key.removeprefix("module."): value for key, value in state.items()})


def _lost_other_ranks(error):
    """Whether ``error`` is a collective that failed because a peer stalled or died."""
    import torch.distributed as dist

    text = str(error)
    return isinstance(error, dist.DistError) or (isinstance(error, RuntimeError) and any(
        sign in text for sign in ("Timed out", "timed out", "Connection closed",
                                  "Connection reset", "NCCL", "gloo")))


def _first_line(error):
    lines = [line for line in str(error).splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[0] if lines else 'no message'}"


def _resume_hint(checkpoints):
    from .._checkpoints import finished_rows

    finished = len(finished_rows(checkpoints))
    if not finished:
        return "No epoch was checkpointed: start the run again."
    return (f"{checkpoints} holds the run up to epoch {finished}: run the same command with "
            "--resume to continue from there.")


if __name__ == "__main__":
    sys.exit(main())
