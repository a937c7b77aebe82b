"""Command line: ``python -m sklearn_astromer demo`` (also ``sklearn-astromer demo``)."""

import argparse
import sys


def build_parser():
    """The argument parser of the ``sklearn-astromer`` command."""
    parser = argparse.ArgumentParser(
        prog="sklearn-astromer",
        description="Light-curve embeddings (ASTROMER, AstroM3) for scikit-learn.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="pre-train a small ASTROMER on simulated light curves, embed, classify")
    demo.add_argument("--survey", default="ogle",
                      choices=["ogle", "macho", "asassn", "atlas", "ztf"])
    demo.add_argument("--epochs", type=int, default=15, help="pre-training epochs")
    demo.add_argument("--pretrain-per-class", type=int, default=100)
    demo.add_argument("--labelled-per-class", type=int, default=40)
    demo.add_argument("--random-state", type=int, default=0)
    return parser


def main(argv=None):
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        from .demo import run_demo

        run_demo(survey=args.survey, max_epochs=args.epochs,
                 n_pretrain_per_class=args.pretrain_per_class,
                 n_labelled_per_class=args.labelled_per_class,
                 random_state=args.random_state)
    return 0


if __name__ == "__main__":
    sys.exit(main())
