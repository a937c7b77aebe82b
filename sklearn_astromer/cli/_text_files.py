"""Read one light curve from a text file (columns time, magnitude[, error])."""

from pathlib import Path

import numpy as np

from ._common import excerpt


def read_light_curve_file(path):
    """Read one light curve from a text file: columns time, magnitude[, error].

    Lines starting with ``#`` are comments; one header line of column names
    (no field a number) is allowed; columns are separated by commas or whitespace; columns after
    the third are ignored. Bytes that are not UTF-8 never stop the reading
    by themselves: they only make their line unreadable, and the error then
    names it.

    Parameters
    ----------
    path : path-like

    Returns
    -------
    ndarray of shape (L, 2|3)
        Times (days), magnitudes[, errors] in the file's order.

    Raises
    ------
    ValueError
        When the file has no observation or a line is not read as numbers;
        the message names the file and the line.
    """
    path = Path(path)
    with open(path, encoding="utf-8", errors="replace") as handle:
        lines = handle.read().splitlines()
    data_lines = [(number, line) for number, line in enumerate(lines)
                  if line.strip() and not line.lstrip().startswith("#")]
    if not data_lines:
        raise ValueError(f"{path}: no observations.")
    first_line = data_lines[0][1]
    delimiter = "," if "," in first_line else None
    # A first line with some numbers is a (damaged) observation, not a header.
    header = not any(_all_numbers([field]) for field in _fields(first_line, delimiter))
    data_lines = data_lines[int(header):]
    if not data_lines:
        raise ValueError(f"{path}: no observations.")
    number, line = data_lines[0]
    n_columns = len(_fields(line, delimiter))
    if n_columns < 2:
        raise ValueError(f"{path}, line {number + 1}: expected at least two columns "
                         "(time, magnitude[, error]).")
    try:
        values = np.loadtxt([line for _, line in data_lines], delimiter=delimiter,
                            comments="#", usecols=range(min(n_columns, 3)), ndmin=2)
    except ValueError as exc:
        for number, line in data_lines:
            fields = _fields(line, delimiter)
            if len(fields) < n_columns or not _all_numbers(fields[:3]):
                raise ValueError(f"{path}, line {number + 1}: cannot read "
                                 f"{excerpt(repr(line.strip()))} as {min(n_columns, 3)} "
                                 "numbers.") from None
        raise ValueError(f"{path}: {exc}") from None
    return values


def _fields(line, delimiter):
    return [token for token in line.split(delimiter) if token.strip()]


def _all_numbers(tokens):
    try:
        [float(token) for token in tokens]
    except ValueError:
        return False
    return True
