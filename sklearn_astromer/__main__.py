"""Command line: ``python -m sklearn_astromer COMMAND`` (also ``sklearn-astromer COMMAND``).

Commands: ``demo`` (the README's main job), ``embed`` (embeddings of light
curves in files), ``pretrain`` (self-supervised training on files, resumable)
and ``info`` (describe a model). Exit codes: 0 success, 1 an error (the
message names the file or row at fault), 2 a usage error, 130 interrupted.
"""

import argparse
import os
import sys
import warnings

from .cli import _demo, _embed, _info, _pretrain

COMMANDS = (_demo, _embed, _pretrain, _info)


def build_parser():
    """The argument parser of the ``sklearn-astromer`` command."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="sklearn-astromer",
        description="Light-curve embeddings (ASTROMER, AstroM3) for scikit-learn.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"warning: {message}", file=sys.stderr)


def main(argv=None):
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            return args.run(args)
        except BrokenPipeError:  # e.g. `sklearn-astromer info DIR | head`
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 1
        except (ValueError, OSError, ImportError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130


if __name__ == "__main__":
    sys.exit(main())
