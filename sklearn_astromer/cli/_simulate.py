"""``sklearn-astromer simulate``: a simulated survey as a long table, to try the other commands on."""

import sys
from pathlib import Path

SURVEYS = ("ogle", "macho", "asassn", "atlas", "ztf")
OUTPUTS = (".parquet", ".csv", ".csv.gz", ".tsv", ".tsv.gz")


def add_parser(commands):
    """Register ``simulate`` on the sub-parsers ``commands``."""
    parser = commands.add_parser(
        "simulate", help="write a simulated survey (light curves of ten classes) to a table",
        description="Simulate light curves of variable stars as a survey sees them "
                    "(sklearn_astromer.datasets.make_light_curves) and write them as a long "
                    "table: object_id, time, mag, err and the class of each object, ready "
                    "for `pretrain` and `embed`.")
    parser.add_argument("output", type=Path, help=f"table to write ({', '.join(OUTPUTS)})")
    parser.add_argument("--survey", default="ogle", choices=SURVEYS)
    parser.add_argument("--per-class", type=int, default=100,
                        help="light curves per class (default: %(default)s)")
    parser.add_argument("--random-state", type=int, default=0)
    parser.set_defaults(run=run)
    return parser


def run(args):
    """Write the simulated survey; return the exit code."""
    from ..datasets import make_light_curves
    from ..io import light_curves_to_table

    name = args.output.name.lower()
    if not name.endswith(OUTPUTS):
        raise ValueError(f"{args.output}: unknown format; use {'/'.join(OUTPUTS)}.")
    if args.per_class < 1:
        raise ValueError(f"--per-class must be at least 1, got {args.per_class}.")
    curves, labels = make_light_curves(args.per_class, survey=args.survey,
                                       random_state=args.random_state)
    ids = [f"{args.survey}-{index:06d}" for index in range(len(curves))]
    table = light_curves_to_table(curves, ids)
    table["class"] = table["object_id"].map(dict(zip(ids, labels)))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    if name.endswith(".parquet"):
        table.to_parquet(args.output, index=False)
    else:
        table.to_csv(args.output, index=False, sep="\t" if ".tsv" in name else ",")
    print(f"wrote {len(curves):,} {args.survey} light curves ({len(table):,} observations, "
          f"{len(set(labels))} classes) to {args.output}", file=sys.stderr)
    return 0
