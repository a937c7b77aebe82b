"""How the command line reports an exception: one line on stderr and an exit code.

Errors that a user causes and can fix (a bad file, a bad option, a missing
optional dependency, too little memory) are documented as ``ValueError``,
``TypeError``, ``OSError`` or ``ImportError`` (``MemoryError`` and PyTorch's
out-of-memory error count too): they become ``error: <message>``. Anything
else is a bug in sklearn-astromer: it also becomes one line, which says so
and how to see the traceback (``--traceback``, or the environment variable
``SKLEARN_ASTROMER_TRACEBACK=1``), so that it is neither hidden nor
mistaken for a problem with the input.
"""

import os
import sys

TRACEBACK_OPTION = "--traceback"
TRACEBACK_ENV = "SKLEARN_ASTROMER_TRACEBACK"
USER_ERRORS = (ValueError, TypeError, OSError, ImportError, MemoryError)


def add_traceback_argument(parser, default=False):
    """Add ``--traceback`` to ``parser``.

    Sub-parsers get ``default=argparse.SUPPRESS``, so that their default does
    not overwrite ``--traceback`` given before the command name.
    """
    parser.add_argument(TRACEBACK_OPTION, action="store_true", default=default,
                        help="show the full Python traceback of an error (also: "
                             f"{TRACEBACK_ENV}=1)")


def wants_traceback(args):
    """Whether errors should propagate with their traceback."""
    return bool(getattr(args, "traceback", False)) or os.environ.get(
        TRACEBACK_ENV, "") not in ("", "0")


def one_line(exc):
    """The message of ``exc`` on one line (parsers' messages may hold newlines)."""
    message = " ".join(str(exc).split())
    return message or type(exc).__name__


def is_user_error(exc):
    """Whether ``exc`` is one of the documented errors (see the module docstring)."""
    torch = sys.modules.get("torch")  # imported by then if it can have raised
    out_of_memory = (torch.OutOfMemoryError,) if hasattr(torch, "OutOfMemoryError") else ()
    return isinstance(exc, USER_ERRORS + out_of_memory)


def report(exc, stream=None):
    """Print ``exc`` as one ``error:`` line on ``stream`` (stderr); return the exit code 1."""
    stream = stream or sys.stderr
    if isinstance(exc, MemoryError) and not str(exc):
        print("error: out of memory (try a smaller --batch-size or --chunk-size)", file=stream)
    elif is_user_error(exc):
        print(f"error: {one_line(exc)}", file=stream)
    else:
        print(f"error: internal error ({type(exc).__name__}: {one_line(exc)}). This is a bug in "
              f"sklearn-astromer: run the command again with {TRACEBACK_OPTION} and report what "
              "it prints.", file=stream)
    return 1
