"""Optional readers' plumbing shared by :mod:`sklearn_astromer.io`, the command line and Dask.

Imports of the optional dependencies (pandas, pyarrow) with an install hint,
and Parquet access whose errors name the file: the library's readers and the
CLI's streaming inputs read Parquet through these, so a corrupt file gets
the same message on every path.
"""

from contextlib import contextmanager
from pathlib import Path

import numpy as np


def import_pandas():
    try:
        import pandas as pd
    except ImportError as error:
        raise ImportError(
            'Reading light-curve tables needs pandas: pip install "sklearn-astromer[pandas]" '
            '(or "sklearn-astromer[parquet]" for Parquet files).'
        ) from error
    return pd


def import_pyarrow_parquet():
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as error:
        raise ImportError(
            "Reading Parquet light curves needs pyarrow and pandas: "
            'pip install "sklearn-astromer[parquet]"'
        ) from error
    import_pandas()
    return pa, pq


def parquet_files(path):
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*")
                       if p.is_file() and p.suffix in (".parquet", ".parq"))
        if not files:
            raise FileNotFoundError(f"No .parquet file under {path}.")
        return files
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist.")
    return [path]


@contextmanager
def parquet_errors(file):
    """Turn pyarrow's errors on a corrupt or truncated file into a ValueError naming it."""
    pa, _ = import_pyarrow_parquet()
    try:
        yield
    # ValueError and TypeError too: text (ids) in a damaged file may not decode.
    except (OSError, ValueError, TypeError, pa.ArrowException) as error:
        message = " ".join(str(error).split()) or type(error).__name__
        raise ValueError(f"{file}: not a readable Parquet file ({message}).") from None


def to_pandas(table):
    """A pyarrow Table or RecordBatch as a DataFrame; damaged content raises here."""
    # Full validation finds invalid UTF-8 in string columns, which pandas would only
    # meet later, outside parquet_errors; the pandas metadata (index, dtypes) is not
    # needed and may itself be damaged.
    table.validate(full=True)
    return table.to_pandas(ignore_metadata=True)


def parquet_frames(files, batch_rows, columns):
    """Yield ``(file, DataFrame)`` per record batch of ``columns``, file after file."""
    _, pq = import_pyarrow_parquet()
    for file in files:
        with parquet_errors(file):
            batches = pq.ParquetFile(file).iter_batches(batch_size=batch_rows, columns=columns)
        while True:
            with parquet_errors(file):
                batch = next(batches, None)
                frame = None if batch is None else to_pandas(batch)
            if frame is None:
                break
            yield file, frame


def parquet_columns(file):
    """The column names of a Parquet file (a ValueError naming it when it is unreadable)."""
    _, pq = import_pyarrow_parquet()
    with parquet_errors(file):
        return pq.read_schema(file).names


def band_codes(frame, band_col, bands):
    """Band codes of every row: numeric bands as they are, names by position in ``bands``."""
    pd = import_pandas()
    column = frame[band_col]
    if bands is None:
        if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            raise ValueError(f"Column {band_col!r} (band) holds names ({column.dtype}): give "
                             "bands=[...] (e.g. ['g', 'r', 'i']) to number them, so that "
                             "every table and chunk numbers them alike.")
        return column.to_numpy(dtype=np.float64, na_value=np.nan)
    positions = {name: code for code, name in enumerate(bands)}
    codes = column.map(positions)
    unknown = codes.isna() & column.notna()
    if unknown.any():
        row = int(np.flatnonzero(unknown.to_numpy())[0])
        raise ValueError(f"Column {band_col!r} (band) holds {column.iloc[row]!r} at row {row}, "
                         f"which is not among bands={list(bands)}.")
    return codes.to_numpy(dtype=np.float64, na_value=np.nan)
