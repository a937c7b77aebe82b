"""Messages that name objects by their ids rather than by their positions in a call.

The estimators name light curves by position (``Light curve(s) [0, 3]``);
the callers that know which object each light curve is (the command line's
chunks, the partitions of :mod:`sklearn_astromer.distributed`) rewrite those
positions into ids, in errors and in repair warnings alike.
"""

import re
import warnings
from contextlib import contextmanager

import numpy as np

from ._validation import LightCurveRepairWarning

# "light curve(s) [0, 3 and 5 more]" / "Light curve(s) [2]" in the estimators' messages.
_POSITIONS = re.compile(r"[Ll]ight curve(?:\(s\))? \[([0-9, ]+?)(?: and (\d+) more)?\]")


def plain(value):
    """A numpy scalar as the Python value (for messages and output tables)."""
    return value.item() if isinstance(value, np.generic) else value


def name_objects(message, ids):
    """Replace "light curve(s) [0, 3]" (positions) in ``message`` by the object ids."""
    def replace(match):
        positions = [int(text) for text in match.group(1).split(",") if text.strip()]
        named = ", ".join(repr(plain(ids[position])) for position in positions
                          if position < len(ids))
        more = f" and {match.group(2)} more" if match.group(2) else ""
        return f"object(s) [{named}{more}]"

    return _POSITIONS.sub(replace, message)


@contextmanager
def objects_named(ids, source=None):
    """Let the estimators' warnings and errors name object ids, not positions.

    Parameters
    ----------
    ids : sequence
        ``ids[i]`` is the object of light curve ``i`` in the estimator's call.
    source : str or None, default=None
        Where the light curves come from (a file, a partition): prefixed to
        the messages as ``"{source}: "``.

    Raises
    ------
    ValueError
        The block's ValueError, its message rewritten.
    """
    def rewrite(message):
        named = name_objects(message, ids)
        return named if source is None else f"{source}: {named}"

    caught = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", LightCurveRepairWarning)
            yield
    except ValueError as exc:
        raise ValueError(rewrite(str(exc))) from None
    finally:  # outside the recording context, so that the warnings reach the user
        for warning in caught:
            message = str(warning.message)
            if issubclass(warning.category, LightCurveRepairWarning):
                message = rewrite(message)
            warnings.warn_explicit(message, warning.category, warning.filename, warning.lineno)
