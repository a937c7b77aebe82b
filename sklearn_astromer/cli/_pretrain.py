"""``sklearn-astromer pretrain``: self-supervised training on files, with resumable checkpoints.

Every finished epoch is checkpointed in ``OUT/checkpoints`` by skorch's
:class:`~skorch.callbacks.Checkpoint` (weights, optimizer state, history);
``--resume`` puts them back with :class:`~skorch.callbacks.LoadInitState` and
trains the epochs still missing, so an interruption loses at most the epoch
in progress. The run's settings are kept in ``OUT/checkpoints/pretrain.json``
so that a resumed run trains the same model on the same validation split.
"""

import json
import sys
from pathlib import Path

import numpy as np

from ._common import add_runtime_arguments, check_device, check_model_source, objects_named
from ._inputs import add_input_arguments, open_collection

STATE_FILE = "pretrain.json"
HISTORY_FILE = "history.json"
# Settings of a run, with their defaults; a resumed run takes them from STATE_FILE.
SETTINGS = {
    "d_model": 256, "n_layers": 2, "n_heads": 4, "d_ff": 128, "dropout": 0.1, "max_obs": 200,
    "variant": "corrected", "pretrained": None, "lr": 1e-3, "batch_size": 256,
    "validation_fraction": 0.2, "patience": 10, "random_state": None,
}


def add_parser(commands):
    """Register ``pretrain`` on the sub-parsers ``commands``."""
    parser = commands.add_parser(
        "pretrain", help="pre-train (or fine-tune) ASTROMER on a light-curve collection",
        description="Masked-magnitude pre-training on light curves read from files. The model "
                    "is saved to --out (config.json + model.safetensors); every epoch is "
                    "checkpointed in OUT/checkpoints, and --resume continues an interrupted "
                    "run up to --epochs.")
    add_input_arguments(parser)
    parser.add_argument("--out", type=Path, required=True, help="directory of the trained model")
    parser.add_argument("--epochs", type=int, default=20,
                        help="total training epochs (default: %(default)s)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run checkpointed in OUT/checkpoints")
    parser.add_argument("--model", dest="pretrained", metavar="MODEL",
                        help="start from these weights (fine-tuning): 'macho', 'atlas', a zip "
                             "or a saved model directory; the architecture options are then "
                             "ignored")
    model = parser.add_argument_group("architecture (new models)")
    model.add_argument("--d-model", type=int, help="embedding width (default: 256)")
    model.add_argument("--n-layers", type=int, help="encoder blocks (default: 2)")
    model.add_argument("--n-heads", type=int, help="attention heads (default: 4)")
    model.add_argument("--d-ff", type=int, help="feed-forward size (default: 128)")
    model.add_argument("--max-obs", type=int, help="observations per window (default: 200)")
    model.add_argument("--dropout", type=float, help="dropout rate (default: 0.1)")
    model.add_argument("--variant", choices=["corrected", "paper"],
                       help="encoder variant (default: corrected)")
    training = parser.add_argument_group("training")
    training.add_argument("--lr", type=float, help="Adam learning rate (default: 1e-3)")
    training.add_argument("--validation-fraction", type=float,
                          help="share held out for early stopping (default: 0.2)")
    training.add_argument("--patience", type=int, help="early-stopping patience (default: 10)")
    training.add_argument("--random-state", type=int,
                          help="seed (default: drawn at random and recorded for --resume)")
    add_runtime_arguments(training)
    parser.add_argument("-q", "--quiet", action="store_true", help="no per-epoch log")
    parser.set_defaults(run=run)
    return parser


def run(args):
    """Train on ``args.input`` and save to ``args.out``; return the exit code."""
    from skorch.callbacks import Checkpoint, LoadInitState

    from ..astromer import AstromerEmbedder

    if args.epochs < 0:
        raise ValueError(f"--epochs must be at least 0, got {args.epochs}.")
    check_device(args.device)
    if args.pretrained is not None:
        check_model_source(args.pretrained)
    say = (lambda message: None) if args.quiet else (
        lambda message: print(message, file=sys.stderr, flush=True))
    checkpoints = args.out / "checkpoints"
    settings, n_done = _settings(args, checkpoints, say)
    ids, light_curves = open_collection(args).read_all()
    say(f"{len(light_curves):,} light curves from {args.input}")

    checkpoint = Checkpoint(monitor=None, dirname=str(checkpoints), f_params="params.pt",
                            f_optimizer="optimizer.pt", f_criterion=None,
                            f_history=HISTORY_FILE, f_pickle=None)
    callbacks = [("checkpoint", checkpoint)]
    if n_done:
        callbacks.append(("resume", LoadInitState(checkpoint)))
    remaining = max(args.epochs - n_done, 0)
    embedder = AstromerEmbedder(**settings, max_epochs=remaining, callbacks=callbacks,
                                device=args.device, verbose=0 if args.quiet else 1)
    with objects_named(ids, args.input):
        embedder.fit(light_curves)
    if remaining == 0 and n_done:
        say(f"all {args.epochs} epochs were already trained; saving the last checkpoint")
        embedder.net_.load_params(checkpoint=checkpoint)

    embedder.save_pretrained(args.out)
    finished = _finished_epochs(checkpoints)
    say(f"saved the model to {args.out} ({finished} epoch(s) trained; checkpoints in "
        f"{checkpoints})")
    if finished < args.epochs and not _stopped_early(embedder):
        print(f"interrupted after {finished} of {args.epochs} epochs: run the same command with "
              "--resume to continue", file=sys.stderr)
        return 130
    return 0


def _settings(args, checkpoints, say):
    """Settings of this run and the number of epochs already checkpointed."""
    state = checkpoints / STATE_FILE
    given = {key: getattr(args, key) for key in SETTINGS if getattr(args, key) is not None}
    if args.resume:
        if not state.is_file() or not (checkpoints / HISTORY_FILE).is_file():
            raise FileNotFoundError(f"{checkpoints}: no checkpoint to resume from (run without "
                                    "--resume to start training).")
        settings = json.loads(state.read_text())
        ignored = sorted(key for key, value in given.items() if settings.get(key) != value)
        if ignored:
            say(f"--resume: keeping the checkpointed run's settings; ignoring {ignored}")
        n_done = _finished_epochs(checkpoints)
        say(f"resuming after epoch {n_done} of {args.epochs}")
        return settings, n_done
    if (checkpoints / HISTORY_FILE).exists():
        raise ValueError(f"{checkpoints} holds the checkpoints of an earlier run: pass --resume "
                         "to continue it, or choose another --out.")
    settings = {**SETTINGS, **given}
    if settings["random_state"] is None:
        settings["random_state"] = int(np.random.SeedSequence().entropy % (2**31 - 1))
    checkpoints.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps(settings, indent=2, sort_keys=True))
    return settings, 0


def _finished_epochs(checkpoints):
    """Epochs recorded in the checkpointed history (each saved only once finished)."""
    path = checkpoints / HISTORY_FILE
    if not path.is_file():
        return 0
    return sum(1 for row in json.loads(path.read_text()) if "train_loss" in row)


def _stopped_early(embedder):
    callbacks = dict(embedder.net_.callbacks_)
    early_stopping = callbacks.get("early_stopping")
    return early_stopping is not None and early_stopping.misses_ >= early_stopping.patience
