"""The ``sklearn-astromer`` command line, one module per command.

:func:`main` runs it (``python -m sklearn_astromer`` and the
``sklearn-astromer`` script call it). Each command module has
``add_parser(commands)`` (its argparse sub-parser) and ``run(args)``
(returns the exit code). ``_inputs`` reads light-curve collections from
files; ``_progress`` prints progress to stderr.
"""

from ._main import build_parser, main

__all__ = ["build_parser", "main"]
