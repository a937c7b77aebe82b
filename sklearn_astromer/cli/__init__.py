"""The ``sklearn-astromer`` command line, one module per command.

Each command module has ``add_parser(commands)`` (its argparse sub-parser)
and ``run(args)`` (returns the exit code). ``_inputs`` reads light-curve
collections from files; ``_progress`` prints progress to stderr.
"""
