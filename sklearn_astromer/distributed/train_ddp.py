"""Pre-train ASTROMER data-parallel on Parquet long tables: one process per GPU (or CPU share).

Run under ``torchrun`` (or ``srun``, which sets ``SLURM_PROCID``/``SLURM_NTASKS``)::

    torchrun --nproc_per_node=4 -m sklearn_astromer.distributed.train_ddp \\
        --data catalogue/ --out model/ --max-epochs 20

Rank 0 writes ``model/`` with ``save_pretrained``; it loads with
``AstromerEmbedder.from_pretrained("model/")``.
"""

import argparse
import glob
import os
import sys


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
    parser.add_argument("--device", default="auto")
    parser.add_argument("--verbose", type=int, default=1)
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
    """Train on this rank and, on rank 0, save the model; return the exit code."""
    import torch.distributed as dist

    from .. import AstromerEmbedder
    from ._ddp import fit_ddp, init_process_group, leave_process_group

    args = build_parser().parse_args(argv)
    # With --pretrained, the architecture comes from the weights and these are ignored.
    estimator = AstromerEmbedder(
        d_model=args.d_model, n_layers=args.n_layers, n_heads=args.n_heads, d_ff=args.d_ff,
        max_obs=args.max_obs, variant=args.variant, pretrained=args.pretrained,
        max_epochs=args.max_epochs, batch_size=args.batch_size, lr=args.lr,
        validation_fraction=args.validation_fraction or None, patience=args.patience,
        random_state=args.random_state, device=args.device, verbose=args.verbose,
    )
    init_process_group(estimator)
    rank, world_size = dist.get_rank(), dist.get_world_size()
    files = parquet_files(args.data)
    if args.sharded:
        if len(files) < world_size:
            raise ValueError(f"--sharded needs at least {world_size} files, found {len(files)}.")
        files = files[rank::world_size]
    fit_ddp(estimator, read_light_curves(files, args), sharded=args.sharded)
    if rank == 0:
        estimator.save_pretrained(args.out)
    leave_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
