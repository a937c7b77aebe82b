"""``sklearn-astromer pretrain``: self-supervised training on files, with resumable checkpoints.

Every finished epoch is checkpointed in ``OUT/checkpoints`` by skorch's
:class:`~skorch.callbacks.Checkpoint` (weights, optimizer state, history),
and so are the weights of the best validation epoch; ``--resume`` puts them
back with :class:`~skorch.callbacks.LoadInitState`, continues the best-epoch
tracking (see :mod:`sklearn_astromer._checkpoints`) and trains the epochs still missing, so
an interruption loses at most the epoch in progress. The run's settings are
kept in ``OUT/checkpoints/pretrain.json`` so that a resumed run trains the
same model on the same validation split.

A new run that fails or is interrupted before its first epoch is finished
leaves nothing behind; a run whose loss or weights stop being finite fails
without saving that epoch.
"""

import inspect
import json
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .._checkpoints import (
    BEST_PARAMS,
    HISTORY_FILE,
    LAST_PARAMS,
    OPTIMIZER,
    check_resumable,
    checkpoint_callbacks,
    early_stopping_of,
    finished_rows,
    read_json,
    replay_early_stopping,
)
from .._console import epoch_log
from .._object_names import objects_named
from ._common import add_runtime_arguments, check_device, check_model_source
from ._inputs import add_input_arguments, open_collection

STATE_FILE = "pretrain.json"
# Settings whose default is the library's own for new models (AstromerEmbedder's).
LIBRARY_DEFAULTS = ("time_encoding", "period_input", "magnitude_scaling", "lr_schedule")
# Settings a resumed run may change: they decide when to stop, not what is trained.
RESUMABLE_CHANGES = ("patience",)
# Settings of a run, with their defaults; a resumed run takes them from STATE_FILE.
SETTINGS = {
    "d_model": 256, "n_layers": 2, "n_heads": 4, "d_ff": 128, "dropout": 0.1, "max_obs": 200,
    "variant": "corrected", **dict.fromkeys(LIBRARY_DEFAULTS),
    "pretrained": None, "lr": 1e-3, "batch_size": 64,
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
    model.add_argument("--time-encoding", choices=["paper", "log_periods", "learnable"],
                       help="how times enter (default: the library's for new models)")
    model.add_argument("--period-input", dest="period_input", action="store_true",
                       default=None, help="give the model each light curve's Lomb-Scargle "
                                          "phase and descriptors (default for new models)")
    model.add_argument("--no-period-input", dest="period_input", action="store_false")
    model.add_argument("--magnitude-scaling", choices=["std", "none"],
                       help="per-window scaling (default: the library's for new models)")
    training = parser.add_argument_group("training")
    training.add_argument("--lr", type=float, help="Adam learning rate (default: 1e-3)")
    training.add_argument("--lr-schedule", choices=["warmup_cosine", "constant"],
                          help="over the --epochs of the whole run, resumed runs included "
                               "(default: the library's for new models)")
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
    from skorch.callbacks import EarlyStopping

    from .._training import resumable_schedule
    from ..astromer import AstromerEmbedder

    if args.epochs < 0:
        raise ValueError(f"--epochs must be at least 0, got {args.epochs}.")
    check_device(args.device)
    if args.pretrained is not None:
        check_model_source(args.pretrained)
    say = (lambda message: None) if args.quiet else (
        lambda message: print(message, file=sys.stderr, flush=True))
    checkpoints = args.out / "checkpoints"
    settings, history = _settings(args, checkpoints, say)
    collection = open_collection(args)  # fails before anything is written
    ids, light_curves = collection.read_all()
    say(f"{len(light_curves):,} light curves from {args.input}")
    stopped = replay_early_stopping(EarlyStopping(patience=settings["patience"]), history)
    if history and stopped.misses_ >= stopped.patience:
        say(f"early stopping ended this run after epoch {len(history)}; nothing to resume")
    remaining = 0 if stopped.misses_ >= stopped.patience else max(args.epochs - len(history), 0)

    callbacks, last = checkpoint_callbacks(checkpoints, resume=bool(history))
    if not args.quiet:
        callbacks.append(("epoch_log", epoch_log()))
    callbacks += resumable_schedule(
        settings.get("lr_schedule", "constant"), n_samples=len(light_curves),
        validation_fraction=settings["validation_fraction"], batch_size=settings["batch_size"],
        epochs=args.epochs, finished_epochs=len(history))
    embedder = AstromerEmbedder(**{**settings, "lr_schedule": "constant"},
                                max_epochs=remaining,
                                callbacks=callbacks, device=args.device,
                                precision=args.precision, verbose=0)
    interrupted = False
    with _discarded_unless_an_epoch_finishes(args.out, checkpoints, new=not history):
        if not history:
            checkpoints.mkdir(parents=True, exist_ok=True)
            (checkpoints / STATE_FILE).write_text(json.dumps(settings, indent=2, sort_keys=True))
        try:
            with objects_named(ids, args.input):
                embedder.fit(light_curves)
        except KeyboardInterrupt:
            if not _finished_epochs(checkpoints):
                raise
            # Ctrl-C after a checkpointed epoch: save the best weights so far.
            interrupted = True
            embedder.set_params(max_epochs=0, callbacks=[]).fit(light_curves)
    if interrupted or (remaining == 0 and history):
        if not interrupted:
            say(f"all {len(history)} epochs were already trained; saving the best epoch's "
                "weights")
        best = checkpoints / BEST_PARAMS
        embedder.net_.load_params(f_params=str(best if best.is_file() else
                                               checkpoints / LAST_PARAMS))
    embedder.save_pretrained(args.out)  # refuses non-finite weights, saving nothing
    return _report(embedder, args, checkpoints, stopped, say)


def _library_defaults():
    """AstromerEmbedder's defaults for the settings of :data:`LIBRARY_DEFAULTS`."""
    from ..astromer import AstromerEmbedder

    parameters = inspect.signature(AstromerEmbedder.__init__).parameters
    return {key: parameters[key].default for key in LIBRARY_DEFAULTS}


def _report(embedder, args, checkpoints, stopped, say):
    """Say what was saved; return 0, or 130 when epochs are left to train."""
    early_stopping = early_stopping_of(embedder.net_) or stopped
    finished = _finished_epochs(checkpoints)
    best = f", weights of the best validation epoch {early_stopping.best_epoch_}" if getattr(
        early_stopping, "best_epoch_", 0) else ""
    say(f"saved the model to {args.out} ({finished} epoch(s) trained{best}; checkpoints in "
        f"{checkpoints})")
    if early_stopping.misses_ >= early_stopping.patience:
        say(f"early stopping: no improvement in the last {early_stopping.patience} epochs")
    elif finished < args.epochs:
        print(f"interrupted after {finished} of {args.epochs} epochs: run the same command with "
              "--resume to continue", file=sys.stderr)
        return 130
    return 0


@contextmanager
def _discarded_unless_an_epoch_finishes(out, checkpoints, new):
    """On any failure of a ``new`` run before a checkpoint exists, remove what it created."""
    created = [path for path in (out, checkpoints) if not path.exists()]
    try:
        yield
    except BaseException:
        if new and not (checkpoints / HISTORY_FILE).exists():
            for name in (STATE_FILE, LAST_PARAMS, OPTIMIZER, BEST_PARAMS):
                (checkpoints / name).unlink(missing_ok=True)
            for path in reversed(created):
                if path.is_dir() and not any(path.iterdir()):
                    path.rmdir()
        raise


def _settings(args, checkpoints, say):
    """Settings of this run and the history rows already checkpointed (nothing is written)."""
    state = checkpoints / STATE_FILE
    given = {key: getattr(args, key) for key in SETTINGS if getattr(args, key) is not None}
    if args.resume:
        if not state.is_file() or not (checkpoints / HISTORY_FILE).is_file():
            raise FileNotFoundError(f"{checkpoints}: no checkpoint to resume from (run without "
                                    "--resume to start training).")
        settings = read_json(state)
        changed = {key: (settings.get(key), value) for key, value in given.items()
                   if settings.get(key) != value and key not in RESUMABLE_CHANGES}
        if changed:
            listed = ", ".join(f"--{key.replace('_', '-')} {new} (the run has {old})"
                               for key, (old, new) in sorted(changed.items()))
            raise ValueError(f"--resume continues the checkpointed run with its own settings; "
                             f"these differ: {listed}. Drop them, or start a new run with "
                             "another --out.")
        check_resumable(checkpoints)
        history = finished_rows(checkpoints)
        say(f"resuming after epoch {len(history)} of {args.epochs}")
        return settings, history
    if (checkpoints / HISTORY_FILE).exists():
        raise ValueError(f"{checkpoints} holds the checkpoints of an earlier run: pass --resume "
                         "to continue it, or choose another --out.")
    settings = {**SETTINGS, **_library_defaults(), **given}
    if settings["random_state"] is None:
        settings["random_state"] = int(np.random.SeedSequence().entropy % (2**31 - 1))
    return settings, []


def _finished_epochs(checkpoints):
    return len(finished_rows(checkpoints))
