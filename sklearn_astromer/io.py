"""Light curves from the tables astronomers hold: long tables and Parquet files.

A *long table* has one row per observation: an object identifier, a time,
a magnitude and optionally its error (plus per-object columns such as a label,
repeated on each row). :func:`light_curves_from_table` turns it into the list
of ``(L_i, 3)`` arrays that the estimators take, :func:`light_curves_to_table`
goes back, :func:`read_parquet_light_curves` reads Parquet files at once and
:func:`iter_parquet_light_curves` streams them in chunks of whole light
curves, so catalogues larger than memory can be embedded chunk by chunk.

pandas (and pyarrow for Parquet) are imported when these functions run:
``pip install "sklearn-astromer[parquet]"``.
"""

from numbers import Integral

import numpy as np

from ._readers import (
    check_present,
    import_pandas,
    import_pyarrow_parquet,
    needed_columns,
    observations,
    parquet_columns,
    parquet_errors,
    parquet_files,
    parquet_frames,
    to_pandas,
)
from ._validation import as_list_of_arrays


def _split_frame(frame, id_col, time_col, mag_col, err_col, extra, band_col=None, bands=None):
    """The core of :func:`light_curves_from_table` on a DataFrame with the columns present."""
    pd = import_pandas()
    codes, ids, values = observations(frame, id_col, time_col, mag_col, err_col, band_col, bands)
    order = np.lexsort((values[:, 0], codes))  # stable: equal times keep table order
    counts = np.bincount(codes, minlength=len(ids))
    # np.split of an empty array would still give one (empty) piece.
    light_curves = np.split(values[order], np.cumsum(counts)[:-1]) if len(counts) else []
    if not extra:
        return light_curves, ids
    rows = frame[extra].iloc[order].reset_index(drop=True)
    # Each object's first value that is not missing (groupby's first skips NaN/None).
    metadata = rows.groupby(np.repeat(np.arange(len(ids)), counts), sort=True).first()
    metadata = metadata.set_axis(pd.Index(ids, name=id_col))
    _check_per_object(rows, metadata, counts, ids)
    return light_curves, ids, metadata


def _check_per_object(rows, metadata, counts, ids):
    """Refuse an extra column whose value changes within an object (it is not per object)."""
    for column in rows.columns:
        values = rows[column].to_numpy()
        first = np.repeat(metadata[column].to_numpy(), counts)
        same = (values == first) | rows[column].isna().to_numpy()
        if not same.all():
            where = np.flatnonzero(~same)[0]
            owner = ids[np.searchsorted(np.cumsum(counts), where, side="right")]
            raise ValueError(
                f"Column {column!r} varies within object {owner!r} ({first[where]!r}, then "
                f"{values[where]!r}): only columns with one value per object can be kept.")


def light_curves_from_table(table, *, id_col="object_id", time_col="time", mag_col="mag",
                            err_col="err", columns=None, band_col=None, bands=None):
    """Split a long table (one row per observation) into one light curve per object.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per observation (a dict of columns or a pyarrow Table is
        converted to a DataFrame first).
    id_col, time_col, mag_col : str, default="object_id", "time", "mag"
        Columns of the object identifier (any hashable values), the time
        (days, numeric) and the magnitude.
    err_col : str or None, default="err"
        Column of the magnitude error; ``None`` when the table has none: the
        errors are then 0.0 (the estimators' convention for unknown errors).
    columns : list of str, optional
        Per-object columns (labels, coordinates, ...) to return as well: one
        value per object, taken from its rows where it is not missing (a
        column whose value changes within an object is a ValueError naming it
        and the object).
    band_col : str or None, default=None
        Column of each observation's band (multi-band tables): numeric codes
        (e.g. ZTF's filter id) are kept as they are; names need ``bands``.
    bands : sequence or None, default=None
        Band names in order (e.g. ``["g", "r", "i"]``): a band's code is its
        position here, the same in every table and chunk.

    Returns
    -------
    light_curves : list of ndarray of shape (L_i, 3), or (L_i, 4) with ``band_col``
        Time, magnitude, error, each sorted by time (stable: observations at
        the same time keep their table order). Objects come in order of first
        appearance in the table. Rows with NaN are kept (the estimators drop
        them with a warning).
    ids : ndarray of shape (n_objects,)
        ``light_curves[i]`` is the object ``ids[i]``.
    metadata : pandas.DataFrame
        Only when ``columns`` is given: one row per object, indexed by id.

    Raises
    ------
    ValueError
        When a column is missing (all missing ones are named), when the time,
        magnitude or error column is not numeric, or when an object id is
        missing.

    See Also
    --------
    light_curves_to_table : the inverse.
    read_parquet_light_curves : the same from Parquet files.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_astromer.io import light_curves_from_table
    >>> table = pd.DataFrame({"object_id": ["b", "a", "b", "a"],
    ...                       "time": [2.0, 1.0, 1.0, 5.0],
    ...                       "mag": [15.2, 17.0, 15.1, 17.3],
    ...                       "err": [0.02, 0.05, 0.02, 0.05]})
    >>> light_curves, ids = light_curves_from_table(table)
    >>> ids.tolist()
    ['b', 'a']
    >>> light_curves[0]
    array([[ 1.  , 15.1 ,  0.02],
           [ 2.  , 15.2 ,  0.02]])
    """
    pd = import_pandas()
    if not isinstance(table, pd.DataFrame):
        table = table.to_pandas() if hasattr(table, "to_pandas") else pd.DataFrame(table)
    needed, extra = needed_columns(id_col, time_col, mag_col, err_col, columns, band_col)
    check_present(table.columns, needed, "The table")
    return _split_frame(table, id_col, time_col, mag_col, err_col, extra, band_col, bands)


def light_curves_to_table(light_curves, ids=None, *, id_col="object_id", time_col="time",
                          mag_col="mag", err_col="err"):
    """Stack light curves into a long table, one row per observation.

    Parameters
    ----------
    light_curves : list, object ndarray or Series of (L_i, 2|3) arrays, or ndarray (n, n_steps)
        The estimators' input format (errors are 0 when absent).
    ids : array-like of shape (n_samples,), optional
        Object identifiers; ``0 .. n_samples - 1`` when omitted.
    id_col, time_col, mag_col : str, default="object_id", "time", "mag"
        Names of the output columns.
    err_col : str or None, default="err"
        Name of the error column; ``None`` leaves it out.

    Returns
    -------
    table : pandas.DataFrame
        Light curve after light curve, rows in their given order; reading it
        back with :func:`light_curves_from_table` gives the same light
        curves (sorted by time) and ids.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_astromer.io import light_curves_to_table
    >>> table = light_curves_to_table([np.array([[0.0, 15.0, 0.1], [1.0, 15.5, 0.1]])], ["star"])
    >>> table.shape, table.columns.tolist()
    ((2, 4), ['object_id', 'time', 'mag', 'err'])
    """
    pd = import_pandas()
    arrays = as_list_of_arrays(light_curves)
    ids = np.arange(len(arrays)) if ids is None else np.asarray(ids)
    if ids.shape != (len(arrays),):
        raise ValueError(f"Got {len(arrays)} light curves but ids of shape {ids.shape}.")
    lengths = np.array([len(array) for array in arrays], dtype=np.int64)
    values = np.concatenate(arrays) if len(arrays) else np.empty((0, 3))
    table = {id_col: np.repeat(ids, lengths), time_col: values[:, 0], mag_col: values[:, 1]}
    if err_col is not None:
        table[err_col] = values[:, 2]
    return pd.DataFrame(table)


def _check_parquet_columns(files, needed):
    for file in files:
        check_present(parquet_columns(file), needed, f"Parquet file {file}")


def read_parquet_light_curves(path, *, id_col="object_id", time_col="time", mag_col="mag",
                              err_col="err", columns=None, band_col=None, bands=None):
    """Read light curves from a long table in one Parquet file or a directory of them.

    Only the needed columns are read. Files of a directory (``*.parquet``,
    ``*.parq``, searched recursively) are read in sorted path order;
    partition keys that live only in directory names are not columns here.

    Parameters
    ----------
    path : str or path-like
        A Parquet file or a directory.
    id_col, time_col, mag_col : str, default="object_id", "time", "mag"
        As in :func:`light_curves_from_table`.
    err_col : str or None, default="err"
        As in :func:`light_curves_from_table`.
    columns : list of str, optional
        As in :func:`light_curves_from_table`.
    band_col : str or None, default=None
        As in :func:`light_curves_from_table` (multi-band tables).
    bands : sequence or None, default=None
        As in :func:`light_curves_from_table`.

    Returns
    -------
    light_curves, ids[, metadata]
        As in :func:`light_curves_from_table`.

    Raises
    ------
    ValueError
        On missing or non-numeric columns, a missing object id, or a file
        that is not readable Parquet (corrupt or truncated: the message
        names it).

    See Also
    --------
    iter_parquet_light_curves : the same in chunks, for catalogues larger than memory.

    Examples
    --------
    >>> from sklearn_astromer.io import light_curves_to_table, read_parquet_light_curves
    >>> light_curves_to_table(curves, ids).to_parquet("curves.parquet")  # doctest: +SKIP
    >>> light_curves, ids = read_parquet_light_curves("curves.parquet")  # doctest: +SKIP
    """
    _, pq = import_pyarrow_parquet()
    pd = import_pandas()
    files = parquet_files(path)
    needed, extra = needed_columns(id_col, time_col, mag_col, err_col, columns, band_col)
    _check_parquet_columns(files, needed)
    frames = []
    for file in files:
        with parquet_errors(file):
            frames.append(to_pandas(pq.read_table(file, columns=needed)))
    return _split_frame(pd.concat(frames, ignore_index=True), id_col, time_col, mag_col,
                        err_col, extra, band_col, bands)


def _last_object_start(ids):
    """Index of the first row of the last run of equal ids (0 for no rows)."""
    changes = np.flatnonzero(ids[1:] != ids[:-1])
    return int(changes[-1]) + 1 if len(changes) else 0


def iter_parquet_light_curves(path, *, batch_rows=1_000_000, id_col="object_id", time_col="time",
                              mag_col="mag", err_col="err", columns=None, band_col=None,
                              bands=None):
    """Stream light curves from Parquet, a chunk of whole light curves at a time.

    Reads ``batch_rows`` rows at a time (:meth:`pyarrow.parquet.ParquetFile.iter_batches`,
    only the needed columns) and yields the objects complete so far; the rows
    of the object still being read are carried into the next chunk, so no
    light curve is ever split between chunks, also across row groups and
    files. Memory stays about two batches plus the longest light curve,
    whatever the size of the catalogue.

    The rows of one object must be contiguous (the table grouped by object,
    as in LSDB / nested-pandas exports or :func:`light_curves_to_table`);
    within one object any time order is fine.

    Parameters
    ----------
    path : str or path-like
        A Parquet file or a directory of them (read in sorted path order).
    batch_rows : int, default=1_000_000
        Rows read per step.
    id_col, time_col, mag_col : str, default="object_id", "time", "mag"
        As in :func:`light_curves_from_table`.
    err_col : str or None, default="err"
        As in :func:`light_curves_from_table`.
    columns : list of str, optional
        As in :func:`light_curves_from_table`.
    band_col : str or None, default=None
        As in :func:`light_curves_from_table` (multi-band tables).
    bands : sequence or None, default=None
        As in :func:`light_curves_from_table`.

    Yields
    ------
    light_curves, ids[, metadata]
        As in :func:`light_curves_from_table`, for the objects of the chunk.
        Concatenated over the chunks they equal the one-shot
        :func:`read_parquet_light_curves`.

    Raises
    ------
    ValueError
        On missing or non-numeric columns, when a batch shows that an
        object's rows are not contiguous, or when a file is not readable
        Parquet (corrupt or truncated: the message names it).

    Examples
    --------
    >>> from sklearn_astromer.io import iter_parquet_light_curves
    >>> for light_curves, ids in iter_parquet_light_curves("catalog/"):  # doctest: +SKIP
    ...     embeddings = embedder.transform(light_curves)
    """
    if not isinstance(batch_rows, Integral) or batch_rows < 1:
        raise ValueError(f"batch_rows must be a positive integer; got {batch_rows!r}.")
    pd = import_pandas()
    files = parquet_files(path)
    needed, extra = needed_columns(id_col, time_col, mag_col, err_col, columns, band_col)
    _check_parquet_columns(files, needed)
    batches = (frame for _, frame in parquet_frames(files, batch_rows, needed))
    carry, batch = None, next(batches, None)
    while batch is not None:
        frame = batch if carry is None else pd.concat([carry, batch], ignore_index=True)
        batch = next(batches, None)
        # The last object may go on in the next batch: hold it back, unless this was the last.
        start = len(frame) if batch is None else _last_object_start(frame[id_col].to_numpy())
        complete, carry = frame.iloc[:start], frame.iloc[start:]
        if len(complete):
            _check_contiguous(complete[id_col], id_col)
            yield _split_frame(complete, id_col, time_col, mag_col, err_col, extra, band_col,
                               bands)


def _check_contiguous(ids, id_col):
    values = ids.to_numpy()
    n_runs = 1 + np.count_nonzero(values[1:] != values[:-1])
    if n_runs != ids.nunique(dropna=False):
        raise ValueError(
            f"The rows of an object are not contiguous in the Parquet data (column "
            f"{id_col!r}): streaming would split it. Sort the table by {id_col!r} "
            "first, or read it at once with read_parquet_light_curves."
        )
