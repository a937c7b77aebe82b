"""The partitions of a catalogue, read and checked where their errors can say where they are.

Every error of a task names its partition; a partition read from a Parquet
file names the file too (``Partition 2 (file cat/part-2.parquet): ...``),
through the library's own readers, so a corrupt file, a missing column, a
non-numeric column or a missing id gets the message of
:func:`sklearn_astromer.io.read_parquet_light_curves` with that place in front.
Rows are checked before a shuffle mixes the partitions: afterwards, only the
objects' ids can say which rows an error is about.
"""

from contextlib import contextmanager

from .._readers import (
    check_present,
    import_pyarrow_parquet,
    needed_columns,
    observations,
    parquet_errors,
    parquet_files,
    to_pandas,
)

#: The origin of a partition of a Dask frame that embed_partitions was given.
RECEIVED = "of the catalogue as embed_partitions received it"
#: The origin of a partition made by shuffling on the object id.
SHUFFLED = "of the catalogue shuffled by object id"


def partition_name(number, origin):
    """How messages name partition ``number`` of ``origin`` (e.g. :data:`RECEIVED`)."""
    return f"Partition {number} ({origin})"


@contextmanager
def errors_from(where):
    """Put ``where`` in front of a ValueError raised inside (nothing when None)."""
    if where is None:
        yield
        return
    try:
        yield
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from error


def checked_partition(frame, *, origin, partition_info=None, **columns):
    """``frame`` itself once its rows are checked: a ``map_partitions`` function.

    Errors name the partition (Dask passes its number in ``partition_info``).
    """
    where = None if partition_info is None else partition_name(partition_info["number"], origin)
    with errors_from(where):
        observations(frame, **columns)  # for its errors; the rows are converted when embedded
    return frame


def read_file(file, where, *, id_col, time_col, mag_col, err_col, band_col, bands, rows=True):
    """The observation columns of one Parquet file, their rows checked.

    Parameters
    ----------
    file : path-like
    where : str
        The partition, put in front of every error (unreadable file,
        missing column, bad rows).
    id_col, time_col, mag_col, err_col, band_col, bands
        As in :func:`sklearn_astromer.io.light_curves_from_table`.
    rows : bool, default=True
        False reads the schema only: an empty frame of the same columns.

    Returns
    -------
    pandas.DataFrame
    """
    _, pq = import_pyarrow_parquet()
    needed, _ = needed_columns(id_col, time_col, mag_col, err_col, band_col=band_col)
    with parquet_errors(where):
        parquet = pq.ParquetFile(file)
    check_present(parquet.schema_arrow.names, needed, where)
    with parquet_errors(where):
        table = (parquet.read(columns=needed) if rows
                 else parquet.schema_arrow.empty_table().select(needed))
        frame = to_pandas(table)
    with errors_from(where):
        observations(frame, id_col, time_col, mag_col, err_col, band_col, bands)
    return frame


def catalogue_files(path):
    """The Parquet files of ``path`` (a file or a folder), one partition each, and their names.

    Returns
    -------
    files : list of pathlib.Path
        In sorted path order.
    names : list of str
        How the messages name each file's partition.
    """
    files = parquet_files(path)
    return files, [partition_name(number, f"file {file}") for number, file in enumerate(files)]
