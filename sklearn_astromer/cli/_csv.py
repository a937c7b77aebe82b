"""Read a long CSV/TSV table (optionally ``.gz``); every error names the file and the line."""

import csv
import gzip
import re
import warnings
import zlib
from contextlib import contextmanager

import numpy as np

from .._readers import import_pandas
from ..io import light_curves_from_table
from ._errors import one_line
from ._tables import check_table_values, read_columns

# Rows parsed at a time: columns that are not needed are dropped chunk by chunk.
CHUNK_ROWS = 1_000_000
# pandas' default missing-value words, for the value columns only: an object id such
# as "NA" or "null" is a name (only an empty id cell is missing).
MISSING_WORDS = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
                 "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"]
_FIELD_COUNT = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def read_long_csv(path, columns):
    """Light curves of a long CSV/TSV table, objects in order of first appearance.

    Parameters
    ----------
    path : Path
        ``.csv``/``.tsv``, optionally ``.gz``; UTF-8 with a header line.
    columns : TableColumns

    Returns
    -------
    ids : ndarray of shape (n_objects,), object
    light_curves : list of ndarray of shape (L_i, 3)
    per_object : pandas.DataFrame or None
        The ``columns.keep`` columns, one row per object (None without them).

    Raises
    ------
    ValueError
        Naming the file (and the line where there is one): an empty file, text
        that is not UTF-8, a damaged gzip file, a row with more fields than the
        header, a missing column, a missing id or a value that is not a number.
    ImportError
        Without pandas, naming the extra to install.
    """
    pd = import_pandas()
    sep = "\t" if ".tsv" in path.name.lower() else ","
    with _reading(path):
        header = pd.read_csv(path, sep=sep, nrows=0, index_col=False).columns
    io_columns = columns.io_columns(header, path)
    kept = columns.kept(header, path)
    used = read_columns(io_columns) + kept
    missing = {name: MISSING_WORDS for name in used}
    missing[columns.object_id] = [""]
    # Every column is parsed (no usecols), so that pandas refuses a row with more
    # fields than the header instead of silently cutting it.
    with _reading(path, sep), pd.read_csv(path, sep=sep, index_col=False, chunksize=CHUNK_ROWS,
                                     dtype={columns.object_id: object}, keep_default_na=False,
                                     na_values=missing) as chunks:
        pieces = [chunk[used] for chunk in chunks]
    frame = pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame(columns=used)
    frame = check_table_values(frame, io_columns, lambda row: _locate(path, sep, row))
    if not kept:
        light_curves, ids = light_curves_from_table(frame, **io_columns)
        return np.asarray(ids, dtype=object), light_curves, None
    try:
        light_curves, ids, per_object = light_curves_from_table(frame, **io_columns,
                                                                columns=kept)
    except ValueError as error:  # a kept column that varies within an object
        raise ValueError(f"{path}: {error}") from None
    return np.asarray(ids, dtype=object), light_curves, per_object


@contextmanager
def _reading(path, sep=","):
    """Turn the errors of pandas' CSV reader and of gzip into ValueErrors naming ``path``."""
    pd = import_pandas()
    try:
        with warnings.catch_warnings():
            # When every data row has more fields than the header, pandas only warns,
            # and drops the fields.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            yield
    except pd.errors.ParserWarning as exc:
        raise ValueError(_first_long_record(path, sep) or f"{path}: {one_line(exc)}") from None
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path}: the file is empty (expected a header line naming the "
                         "columns).") from None
    except UnicodeDecodeError as exc:
        where = _first_line_not_utf8(path)
        raise ValueError(f"{path}{where}: not UTF-8 text (byte {exc.object[exc.start]:#04x}); "
                         "save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8).") from None
    except pd.errors.ParserError as exc:
        counts = _FIELD_COUNT.search(str(exc))
        if counts:
            expected, line, seen = counts.groups()
            raise ValueError(f"{path}, line {line}: {seen} fields where the header has "
                             f"{expected}.") from None
        raise ValueError(f"{path}: cannot be read as a table ({one_line(exc)}).") from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise ValueError(f"{path}: not a readable gzip file ({one_line(exc)}).") from None


def _open(path, mode):
    text = dict(encoding="utf-8", newline="") if "t" in mode else {}
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    return opener(path, mode, **text)


def _first_line_not_utf8(path):
    """``", line N"`` for the first line of ``path`` that is not UTF-8, or ``""``."""
    try:
        with _open(path, "rb") as handle:
            for number, line in enumerate(handle, start=1):
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError:
                    return f", line {number}"
    except (OSError, EOFError, zlib.error):
        pass
    return ""


def _records(path, sep):
    """Yield ``(index, first line, fields)`` of the non-blank records; index -1 is the header."""
    # pandas skips blank lines and lets quoted fields span lines, so count records, not lines.
    with _open(path, "rt") as handle:
        reader = csv.reader(handle, delimiter=sep)
        first_line, index = 1, -1
        for fields in reader:
            if fields:
                yield index, first_line, fields
                index += 1
            first_line = reader.line_num + 1


def _locate(path, sep, row):
    """``"path, line N"`` for data row ``row`` (0: the first after the header)."""
    try:
        for index, line, _ in _records(path, sep):
            if index == row:
                return f"{path}, line {line}"
    except (OSError, ValueError, EOFError, zlib.error, csv.Error):
        pass
    return f"{path}, data row {row + 1}"


def _first_long_record(path, sep):
    """The message naming the first record with more fields than the header, or None."""
    try:
        n_header = None
        for index, line, fields in _records(path, sep):
            if index < 0:
                n_header = len(fields)
            elif len(fields) > n_header:
                return (f"{path}, line {line}: {len(fields)} fields where the header has "
                        f"{n_header}.")
    except (OSError, ValueError, EOFError, zlib.error, csv.Error):
        pass
    return None
