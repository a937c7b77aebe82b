"""Embedding catalogues partition by partition with Dask.

A catalogue is a long table, one row per observation (object id, time,
magnitude, error), split into partitions: its Parquet files, one partition
per file, or a Dask frame's partitions. Once every object's rows lie in one
partition, embedding is embarrassingly parallel: each task turns its
partition into light curves and calls the fitted estimator's ``transform``.
Tasks are pure (same partition in, same rows out), so a task that Dask
re-runs after a worker failure neither loses nor duplicates objects.
"""

import os
import threading
from contextlib import contextmanager

import numpy as np

from .._object_names import objects_named
from .._readers import band_codes
from ._output import finish_output, prepare_output, write_partition
from ._partitions import (
    RECEIVED,
    SHUFFLED,
    catalogue_files,
    checked_partition,
    errors_from,
    partition_name,
    read_file,
)

# Tasks of one worker process share torch's thread pool: they embed one at a
# time, each with all of the worker's threads, rather than oversubscribing.
_TORCH_LOCK = threading.Lock()


def _worker_threads():
    """Threads of the Dask worker running this task, or None outside a worker."""
    try:
        from distributed import get_worker

        return get_worker().state.nthreads
    except (ImportError, ValueError):
        return None


@contextmanager
def _thread_limit(n_threads):
    """Run torch (and numpy's BLAS) on ``n_threads`` threads; unchanged when None."""
    if n_threads is None:
        yield
        return
    import torch
    from threadpoolctl import threadpool_limits

    previous = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        with threadpool_limits(n_threads):
            yield
    finally:
        torch.set_num_threads(previous)


def _transform(estimator, light_curves, ids):
    """``estimator.transform`` as float32, its errors and repair warnings naming ``ids``."""
    with _TORCH_LOCK, _thread_limit(_worker_threads()), objects_named(ids):
        return np.asarray(estimator.transform(light_curves), dtype=np.float32)


def embed_frame(frame, estimator, *, id_col="object_id", time_col="time", mag_col="mag",
                err_col="err", band_col=None, bands=None):
    """Embed every object of a long table held in memory.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per observation; every row of an object must be here.
    estimator : fitted transformer of light curves (e.g. AstromerEmbedder)
    id_col, time_col, mag_col, err_col : str
        As in :func:`sklearn_astromer.io.light_curves_from_table`.
    band_col : str or None, default=None
        As in :func:`sklearn_astromer.io.light_curves_from_table` (multi-band).
    bands : sequence or None, default=None
        As in :func:`sklearn_astromer.io.light_curves_from_table`.

    Returns
    -------
    pandas.DataFrame
        One row per object, in order of first appearance: ``id_col``, then
        the float32 embedding columns named by
        ``estimator.get_feature_names_out()``.
    """
    import pandas as pd

    from ..io import light_curves_from_table

    names = list(estimator.get_feature_names_out())
    if len(frame) == 0:  # shuffles leave partitions empty; transform refuses zero curves
        ids, embeddings = frame[id_col].to_numpy(), np.empty((0, len(names)), np.float32)
    else:
        light_curves, ids = light_curves_from_table(
            frame, id_col=id_col, time_col=time_col, mag_col=mag_col, err_col=err_col,
            band_col=band_col, bands=bands)
        embeddings = _transform(estimator, light_curves, ids)
    result = pd.DataFrame(embeddings, columns=names)
    result.insert(0, id_col, pd.Series(ids, dtype=frame[id_col].dtype))
    return result


def _embed_partition(frame, estimator, *, embed, origin, partition_info=None, **columns):
    """``embed`` one partition; errors name it (Dask passes its number in ``partition_info``)."""
    where = None if partition_info is None else partition_name(partition_info["number"], origin)
    with errors_from(where):
        return embed(frame, estimator, **columns)


def _embed_file(file, where, estimator, **columns):
    """Read one Parquet file and embed its objects; errors start with ``where``."""
    frame = read_file(file, where, **columns)
    with errors_from(where):
        return embed_frame(frame, estimator, **columns)


def nested_light_curves(frame, nested_col, *, time_col="time", mag_col="mag", err_col="err",
                        band_col=None, bands=None):
    """Light curves of a nested-pandas frame, one per row, from its nested column.

    Parameters
    ----------
    frame : nested_pandas.NestedFrame (or a DataFrame with a nested column)
        One row per object (as LSDB catalogues and nested-dask partitions
        hold them).
    nested_col : str
        The nested column holding each object's observations.
    time_col, mag_col, err_col : str
        Fields of the nested column; ``err_col`` may be None.
    band_col : str or None, default=None
        Field of each observation's band (multi-band), numbered as
        :func:`sklearn_astromer.io.light_curves_from_table` numbers them.
    bands : sequence or None, default=None
        The band names in order, for a band field of names.

    Returns
    -------
    list of float64 ndarray of shape (L_i, 2, 3 or 4)
        Item ``i`` belongs to row ``i`` of ``frame``; the last column is the
        band code with ``band_col``.
    """
    column = frame[nested_col]
    fields = [time_col, mag_col] + ([err_col] if err_col is not None else [])
    flat = column.nest.to_flat(fields + ([band_col] if band_col is not None else []))
    values = flat[fields].to_numpy(dtype=np.float64)
    if band_col is not None:
        if err_col is None:
            values = np.column_stack([values, np.zeros(len(values))])
        values = np.column_stack([values, band_codes(flat, band_col, bands)])
    lengths = np.asarray(column.array.list_lengths, dtype=np.int64)
    return np.split(values, np.cumsum(lengths)[:-1])


def embed_nested_frame(frame, estimator, *, nested_col, id_col=None, time_col="time",
                       mag_col="mag", err_col="err", band_col=None, bands=None):
    """Embed every object (row) of a nested-pandas frame: a ``map_partitions``-ready function.

    Parameters
    ----------
    frame : nested_pandas.NestedFrame
        One row per object; ``nested_col`` holds its observations.
    estimator : fitted transformer of light curves (e.g. AstromerEmbedder)
    nested_col : str
        Nested column of the observations (e.g. ``"lc"`` or ``"diaSource"``).
    id_col : str or None, default=None
        A base column copied into the result as the object id; the result
        keeps ``frame``'s index either way, so it joins back to the catalogue.
    time_col, mag_col, err_col : str
        Fields of ``nested_col``; ``err_col`` may be None.
    band_col : str or None, default=None
        Field of each observation's band (see :func:`nested_light_curves`).
    bands : sequence or None, default=None
        The band names in order, for a band field of names.

    Returns
    -------
    pandas.DataFrame
        One row per object, ``frame``'s index, ``id_col`` (when given) then the
        float32 columns of ``estimator.get_feature_names_out()``.

    Examples
    --------
    With LSDB (``catalog`` holds a nested column ``"lc"``):

    >>> embeddings = catalog.map_partitions(  # doctest: +SKIP
    ...     embed_nested_frame, embedder, nested_col="lc", id_col="objectid")
    """
    import pandas as pd

    names = list(estimator.get_feature_names_out())
    if len(frame) == 0:
        embeddings = np.empty((0, len(names)), np.float32)
    else:
        light_curves = nested_light_curves(frame, nested_col, time_col=time_col,
                                           mag_col=mag_col, err_col=err_col, band_col=band_col,
                                           bands=bands)
        ids = frame[id_col].to_numpy() if id_col is not None else frame.index.to_numpy()
        embeddings = _transform(estimator, light_curves, ids)
    result = pd.DataFrame(embeddings, columns=names, index=frame.index)
    if id_col is not None:
        result.insert(0, id_col, frame[id_col])
    return result


def _map_embed(ddf, estimator, shipped, embed, origin, columns):
    """``embed`` every partition of ``ddf`` (of ``origin``, for the errors) with ``shipped``."""
    # The partition function on the empty meta frame gives the result's columns and dtypes.
    return ddf.map_partitions(_embed_partition, shipped, embed=embed, origin=origin,
                              meta=embed(ddf._meta, estimator, **columns), **columns)


def _embed_table(ddf, estimator, shipped, partitioned_by_id, columns):
    """Embeddings of a Dask frame of observations; rows checked before any shuffle."""
    id_col = columns["id_col"]
    if id_col not in ddf.columns and ddf.index.name == id_col:
        partitioned_by_id = partitioned_by_id or ddf.known_divisions
        ddf = ddf.reset_index()
    if partitioned_by_id:
        return _map_embed(ddf, estimator, shipped, embed_frame, RECEIVED, columns)
    checked = ddf.map_partitions(checked_partition, origin=RECEIVED, meta=ddf._meta, **columns)
    return _map_embed(checked.shuffle(on=id_col), estimator, shipped, embed_frame, SHUFFLED,
                      columns)


def _embed_files(path, estimator, shipped, partitioned_by_id, columns):
    """Embeddings of the Parquet files of ``path``, one partition per file."""
    import dask
    import dask.dataframe as dd

    files, names = catalogue_files(path)
    meta = read_file(files[0], names[0], rows=False, **columns)
    if not partitioned_by_id:
        table = dd.from_map(read_file, files, names, meta=meta, **columns)
        return _map_embed(table.shuffle(on=columns["id_col"]), estimator, shipped, embed_frame,
                          SHUFFLED, columns)
    # One task reads and embeds each file, so that all its errors can name the file.
    tasks = [dask.delayed(_embed_file)(file, name, shipped, **columns)
             for file, name in zip(files, names)]
    return dd.from_delayed(tasks, meta=embed_frame(meta, estimator, **columns))


def embed_partitions(catalogue, estimator, *, id_col="object_id", time_col="time", mag_col="mag",
                     err_col="err", partitioned_by_id=False, nested_col=None, output=None,
                     band_col=None, bands=None, if_exists="error"):
    """Embed a partitioned catalogue of observations with Dask, one task per partition.

    Parameters
    ----------
    catalogue : str, path-like or dask.dataframe.DataFrame
        A long table: one row per observation, with the columns below. A
        Parquet file or a folder of them (``*.parquet``, ``*.parq``, searched
        recursively, in sorted path order) is read one partition per file,
        only the needed columns, through the readers of
        :mod:`sklearn_astromer.io`, so that errors name the file. A Dask
        DataFrame is taken as it is (the id may instead be the index, as
        after ``ddf.set_index(id_col)``).
    estimator : fitted AstromerEmbedder (or any fitted transformer of light curves)
        Shipped to the workers once, as one task of the graph, not pickled
        into every partition's task; put it on ``device="cuda"`` for GPU
        workers (one worker per GPU).
    id_col, time_col, mag_col : str, default="object_id", "time", "mag"
        Columns of the object id, the time (days) and the magnitude.
    err_col : str or None, default="err"
        Column of the magnitude error; None when there is none.
    partitioned_by_id : bool, default=False
        True promises that every object's rows already lie in one partition
        (files written object group by object group, HATS/LSDB sky pixels),
        which skips the shuffle. Otherwise rows are first shuffled on
        ``id_col`` (``ddf.shuffle(on=id_col)``), a full pass over the data.
        An index that is ``id_col`` with known divisions (after
        ``set_index``) is used as is.
    nested_col : str or None, default=None
        For nested frames (nested-pandas partitions, as nested-dask and LSDB
        hold catalogues): the nested column of each object's observations.
        Every row is then one object, nothing is shuffled, ``id_col`` is a
        base column (or None: the index identifies objects) and the result
        keeps the partitions' index (see :func:`embed_nested_frame`).
    output : str, path-like or None, default=None
        Write the embeddings to this Parquet directory (one file per
        partition, ids included, no index) and return its path. Each file
        appears only once complete; ``_SUCCESS`` marks a finished run, and
        :func:`~sklearn_astromer.distributed.read_embeddings` reads only such folders.
    band_col : str or None, default=None
        Column (or nested field) of each observation's band, for multi-band
        catalogues (see :func:`sklearn_astromer.io.light_curves_from_table`);
        the estimator must know the bands (``bands_``).
    bands : sequence or None, default=None
        The band names in order, for a band column of names.
    if_exists : {"error", "overwrite", "resume"}, default="error"
        When ``output`` already holds files: refuse (runs never mix), delete
        the embeddings written there before (a folder holding other files is
        refused), or finish an interrupted run of the same catalogue,
        partitioning and columns, embedding only the partitions it did not
        complete.

    Returns
    -------
    dask.dataframe.DataFrame or str
        Lazy embeddings, one row per object: ``id_col`` then the float32
        columns of ``estimator.get_feature_names_out()``; or ``output`` once
        written.

    Raises
    ------
    ValueError
        When a partition cannot be embedded (a file that is not readable
        Parquet or lacks a column, a non-numeric column, a missing id, light
        curves that ``transform`` refuses): when the result is computed, or
        before ``_SUCCESS`` is written with ``output`` (at once for the first
        file, whose schema gives the result's types). The message is that of
        :mod:`sklearn_astromer.io`'s readers or of ``transform``, objects
        named by id, after the partition: ``Partition 2 (file
        cat/part-2.parquet): ...`` for a catalogue read from files,
        ``Partition 2 (of the catalogue as embed_partitions received it):
        ...`` for a Dask DataFrame. Rows are checked before the shuffle, so
        their errors name the partition (and file) they came from;
        ``transform``'s errors after a shuffle name ``Partition 2 (of the
        catalogue shuffled by object id)`` and the objects.

    Notes
    -----
    Inside a ``distributed`` worker, torch and BLAS use the worker's
    ``nthreads`` and the worker's tasks embed one at a time; start workers
    with as many threads as the cores you give them (e.g. ``dask worker
    --nworkers 4 --nthreads 8`` on 32 cores).

    Examples
    --------
    >>> from distributed import Client
    >>> client = Client(n_workers=2, threads_per_worker=1)  # doctest: +SKIP
    >>> embedder = AstromerEmbedder.from_pretrained("macho")  # doctest: +SKIP
    >>> embed_partitions("catalogue/", embedder, output="embeddings/")  # doctest: +SKIP
    'embeddings/'
    >>> read_embeddings("embeddings/")  # doctest: +SKIP

    A Dask DataFrame, e.g. one read with Dask's reader:

    >>> import dask.dataframe as dd
    >>> catalogue = dd.read_parquet("catalogue/")  # doctest: +SKIP
    >>> embeddings = embed_partitions(catalogue, embedder)  # doctest: +SKIP
    """
    import dask

    shipped = dask.delayed(estimator, pure=True)  # one graph key, recomputable if a worker dies
    columns = dict(id_col=id_col, time_col=time_col, mag_col=mag_col, err_col=err_col,
                   band_col=band_col, bands=bands)
    from_files = isinstance(catalogue, (str, os.PathLike))
    if nested_col is not None:
        if from_files:
            raise ValueError("nested_col needs a Dask frame of nested partitions (nested-dask, "
                             "LSDB); a path is read as a long table, one row per observation.")
        columns.update(nested_col=nested_col,
                       id_col=id_col if id_col in catalogue.columns else None)
        embeddings = _map_embed(catalogue, estimator, shipped, embed_nested_frame, RECEIVED,
                                columns)
    elif from_files:
        embeddings = _embed_files(catalogue, estimator, shipped, partitioned_by_id, columns)
    else:
        embeddings = _embed_table(catalogue, estimator, shipped, partitioned_by_id, columns)
    if output is None:
        return embeddings
    layout = {"n_partitions": embeddings.npartitions, "columns": list(embeddings.columns)}
    done = prepare_output(output, if_exists, layout)
    write_index = nested_col is not None
    writes = {index: dask.delayed(write_partition)(part, str(output), index, write_index)
              for index, part in enumerate(embeddings.to_delayed()) if index not in done}
    rows = dict(zip(writes, dask.compute(*writes.values())))
    finish_output(output, [rows.get(index) for index in range(embeddings.npartitions)])
    return str(output)
