"""``sklearn-astromer demo``: the README's main job (see :mod:`sklearn_astromer.demo`)."""

from pathlib import Path


def add_parser(commands):
    """Register ``demo`` on the sub-parsers ``commands``."""
    parser = commands.add_parser(
        "demo", help="fine-tune the published MACHO model on simulated light curves, embed, "
                     "classify",
        description="Embed a simulated survey with the published MACHO model, frozen and "
                    "fine-tuned (self-supervised on unlabelled light curves, then supervised "
                    "on labelled ones), train random forests and print macro F1 next to a "
                    "hand-crafted-features baseline and features + embeddings.")
    parser.add_argument("--survey", default="ogle",
                        choices=["ogle", "macho", "asassn", "atlas", "ztf"])
    parser.add_argument("--epochs", type=int, default=3,
                        help="self-supervised fine-tuning epochs")
    parser.add_argument("--fine-tune-epochs", type=int, default=30,
                        help="supervised fine-tuning epochs (early stopping)")
    parser.add_argument("--pretrain-per-class", type=int, default=60)
    parser.add_argument("--labelled-per-class", type=int, default=40)
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--figures", type=Path, metavar="DIR",
                        help="also save PNG figures (training curves, a reconstruction, an "
                             "attention map, the embedding map) to DIR (needs matplotlib)")
    parser.set_defaults(run=run)
    return parser


def run(args):
    """Run the demo; return the exit code."""
    from ..demo import run_demo

    if args.figures is not None:  # fail now, not after minutes of training
        check_figures_possible(args.figures)

    run_demo(survey=args.survey, max_epochs=args.epochs,
             fine_tune_epochs=args.fine_tune_epochs,
             n_pretrain_per_class=args.pretrain_per_class,
             n_labelled_per_class=args.labelled_per_class,
             random_state=args.random_state, figures_dir=args.figures)
    return 0


def check_figures_possible(figures_dir):
    """Raise when matplotlib is missing or ``figures_dir`` cannot be created."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ImportError('--figures needs matplotlib: pip install "sklearn-astromer[plot]"'
                          ) from None
    Path(figures_dir).mkdir(parents=True, exist_ok=True)
