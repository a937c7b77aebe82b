"""Training logs on the console: skorch's epoch table, coloured only on a terminal.

skorch's :class:`~skorch.callbacks.PrintLog` marks each epoch's best scores
with ANSI colour codes, which become raw ``\\x1b[36m`` sequences in log files
and pipes. :func:`epoch_log` prints the same table, with the codes removed
unless standard output is a terminal.
"""

import re
import sys

_ANSI_CODE = re.compile(r"\x1b\[[0-9;]*m")


def print_plain_off_terminal(text):
    """Print ``text`` to stdout, without ANSI colour codes unless stdout is a terminal."""
    stream = sys.stdout
    if not (hasattr(stream, "isatty") and stream.isatty()):
        text = _ANSI_CODE.sub("", text)
    print(text, file=stream, flush=True)


def epoch_log():
    """A skorch ``PrintLog`` (one table row per epoch) that colours only on a terminal.

    It prints whatever the net's ``verbose``: give it to an estimator built
    with ``verbose=0``, as ``callbacks=[("epoch_log", epoch_log())]``, so that
    skorch's own ``PrintLog`` stays silent.

    Returns
    -------
    skorch.callbacks.PrintLog
    """
    from skorch.callbacks import PrintLog

    return PrintLog(sink=print_plain_off_terminal)
