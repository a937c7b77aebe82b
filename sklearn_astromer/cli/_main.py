"""Command line: ``python -m sklearn_astromer COMMAND`` (also ``sklearn-astromer COMMAND``).

Commands: ``demo`` (the README's main job), ``embed`` (embeddings of light
curves in files), ``pretrain`` (self-supervised training on files, resumable),
``info`` (describe a model), ``export`` (a model as ONNX) and ``simulate``
(write a simulated survey). Exit codes: 0 success, 1 an error (one line on
stderr, naming the file or row at fault; see :mod:`sklearn_astromer.cli._errors`),
2 a usage error, 130 interrupted, 143 terminated (SIGTERM unwinds like Ctrl-C:
partial outputs are removed, and ``embed`` keeps its saved chunks for
``--resume``).
``--traceback`` (or ``SKLEARN_ASTROMER_TRACEBACK=1``) shows the Python
traceback of an error instead.
"""

import argparse
import contextlib
import os
import signal
import sys
import threading
import warnings

from . import _demo, _embed, _errors, _export, _info, _pretrain, _simulate

COMMANDS = (_demo, _embed, _pretrain, _info, _export, _simulate)


def build_parser():
    """The argument parser of the ``sklearn-astromer`` command."""
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="sklearn-astromer",
        description="Light-curve embeddings (ASTROMER, AstroM3) for scikit-learn.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _errors.add_traceback_argument(parser)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        _errors.add_traceback_argument(command.add_parser(commands), default=argparse.SUPPRESS)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"warning: {message}", file=sys.stderr)


def _terminated(signum, frame):
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def _sigterm_unwinds():
    """SIGTERM exits through Python's unwinding (exit code 143), so ``with`` blocks clean up
    (no partial output is left behind), instead of killing the process on the spot."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv=None):
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings(), _sigterm_unwinds():
        warnings.showwarning = _show_warning
        try:
            return args.run(args)
        except BrokenPipeError:  # e.g. `sklearn-astromer info DIR | head`
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 1
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130
        except Exception as exc:
            if _errors.wants_traceback(args):
                raise
            return _errors.report(exc)
