"""Optional readers' plumbing shared by :mod:`sklearn_astromer.io`, the command line and Dask.

Imports of the optional dependencies (pandas, pyarrow) with an install hint,
Parquet access whose errors name the file, and the checks of a long table's
rows: the library's readers, the CLI's streaming inputs and the Dask
partitions read through these, so a corrupt file or a bad row gets the same
message on every path.
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


def needed_columns(id_col, time_col, mag_col, err_col, columns=None, band_col=None):
    """The columns to read of a long table, and those of ``columns`` beyond the observations'."""
    needed = ([id_col, time_col, mag_col] + ([err_col] if err_col is not None else [])
              + ([band_col] if band_col is not None else []))
    extra = [name for name in (columns or ()) if name not in needed]
    return needed + extra, extra


def check_present(available, needed, where):
    """Refuse a table (``where`` names it in the message) that lacks one of ``needed``."""
    missing = [name for name in needed if name not in available]
    if missing:
        raise ValueError(
            f"{where} has no column(s) {missing}; its columns are {list(available)}. "
            "Name yours with id_col, time_col, mag_col and err_col (err_col=None when "
            "there is no error column)."
        )


def _numeric_column(frame, name, role):
    pd = import_pandas()
    column = frame[name]
    if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        hint = (" Convert times to days first (e.g. MJD)."
                if pd.api.types.is_datetime64_any_dtype(column) else "")
        raise ValueError(
            f"Column {name!r} ({role}) must be numeric; it has dtype {column.dtype}.{hint}"
        )
    return column.to_numpy(dtype=np.float64, na_value=np.nan)


def observations(frame, id_col, time_col, mag_col, err_col, band_col=None, bands=None):
    """The rows of a long table as numbers, checked.

    Returns
    -------
    codes : int ndarray of shape (n_rows,)
        The object of each row, numbered in order of first appearance.
    ids : ndarray of shape (n_objects,)
        Object ``codes == i`` is ``ids[i]``.
    values : float64 ndarray of shape (n_rows, 3), or (n_rows, 4) with ``band_col``
        Time, magnitude, error (0.0 when ``err_col`` is None) and band code.

    Raises
    ------
    ValueError
        When an object id is missing, or the time, magnitude, error or band
        column is not numeric (or a band not among ``bands``).
    """
    pd = import_pandas()
    codes, ids = pd.factorize(frame[id_col], sort=False, use_na_sentinel=True)
    if np.any(codes < 0):
        rows = np.flatnonzero(codes < 0)
        raise ValueError(
            f"Column {id_col!r} (object id) is missing in {len(rows)} row(s), "
            f"first at row {rows[0]}; every observation needs an object id."
        )
    values = np.empty((len(frame), 3 if band_col is None else 4))
    if band_col is not None:
        values[:, 3] = band_codes(frame, band_col, bands)
    values[:, 0] = _numeric_column(frame, time_col, "time, days")
    values[:, 1] = _numeric_column(frame, mag_col, "magnitude")
    values[:, 2] = 0.0 if err_col is None else _numeric_column(frame, err_col, "magnitude error")
    return codes, np.asarray(ids), values


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
