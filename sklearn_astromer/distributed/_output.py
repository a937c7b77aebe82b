"""Parquet output folders of :func:`embed_partitions` that one run owns, finishes and can resume.

Each partition's embeddings go to ``part.<i>.parquet``, written under a
temporary name (``_part.<i>.parquet.tmp``, which Parquet readers skip) and
renamed when complete, so a file with the final name is always whole. The
run's layout (number of partitions, columns) is recorded in ``_RUN`` before
any partition is written, and ``_SUCCESS`` (the files and their row counts)
after the last one: :func:`read_embeddings` reads only folders with it.
"""

import json
from pathlib import Path

from .._atomic_files import written_atomically

#: Written before the first partition: the run's layout, for resuming.
RUN_FILE = "_RUN"
#: Written after the last partition: the files and their row counts.
SUCCESS_FILE = "_SUCCESS"
IF_EXISTS = ("error", "overwrite", "resume")


def part_name(index):
    """The file name of partition ``index``."""
    return f"part.{index:05d}.parquet"


def _ours(path):
    name = path.name
    return path.is_file() and (name in (RUN_FILE, SUCCESS_FILE)
                               or (name.startswith(("part.", "_part.")) and ".parquet" in name))


def prepare_output(output, if_exists, layout):
    """Make ``output`` ready for a run of ``layout``; return the partitions already written.

    Parameters
    ----------
    output : path-like
        The folder.
    if_exists : {"error", "overwrite", "resume"}
        What to do when it holds files: refuse, delete this library's files
        first (a folder holding anything else is refused), or keep the
        partitions a run of the same layout already completed.
    layout : dict
        ``n_partitions`` and ``columns`` of this run (JSON-serialisable).

    Returns
    -------
    set of int
        Partitions to skip (``"resume"``).
    """
    if if_exists not in IF_EXISTS:
        raise ValueError(f"if_exists must be one of {IF_EXISTS}, got {if_exists!r}.")
    output = Path(output)
    if output.exists() and not output.is_dir():
        raise ValueError(f"{output} is a file, not a folder for Parquet embeddings.")
    entries = sorted(output.iterdir()) if output.exists() else []
    done = set()
    if entries and if_exists == "error":
        raise ValueError(
            f"{output} is not empty ({len(entries)} entries): refusing to mix runs. Pass "
            "if_exists='overwrite' to replace its embeddings, or if_exists='resume' to "
            "finish an interrupted run of the same catalogue and partitions.")
    if entries and if_exists == "overwrite":
        foreign = [entry.name for entry in entries if not _ours(entry)]
        if foreign:
            raise ValueError(f"{output} holds files that are not embeddings written by "
                             f"embed_partitions ({foreign[:3]}): refusing to delete them.")
        for entry in entries:
            entry.unlink()
    if entries and if_exists == "resume":
        done = _completed_partitions(output, layout)
    output.mkdir(parents=True, exist_ok=True)
    (output / SUCCESS_FILE).unlink(missing_ok=True)
    (output / RUN_FILE).write_text(json.dumps(layout))
    return done


def _completed_partitions(output, layout):
    """Partitions of an earlier run of ``layout`` whose files are whole."""
    run_file = output / RUN_FILE
    if not run_file.is_file():
        raise ValueError(f"{output} has no {RUN_FILE} record of an earlier run to resume.")
    earlier = json.loads(run_file.read_text())
    if earlier != layout:
        raise ValueError(
            f"{output} holds a run of {earlier.get('n_partitions')} partitions and columns "
            f"{earlier.get('columns')[:3]}...; this run has {layout['n_partitions']} partitions "
            f"and columns {layout['columns'][:3]}...: resume with the same catalogue, "
            "partitioning and model, or overwrite.")
    return {index for index in range(layout["n_partitions"])
            if (output / part_name(index)).is_file()}


def write_partition(frame, output, index, write_index):
    """Write one partition's embeddings atomically; return its row count."""
    with written_atomically(Path(output) / part_name(index)) as temporary:
        frame.to_parquet(temporary, index=write_index)
    return len(frame)


def finish_output(output, row_counts):
    """Record a finished run: ``row_counts`` maps partition index to rows."""
    import pyarrow.parquet as pq

    output = Path(output)
    files = {}
    for index in range(len(row_counts)):
        name = part_name(index)
        rows = row_counts[index]
        if rows is None:  # written by the run this one resumed
            rows = pq.read_metadata(output / name).num_rows
        files[name] = rows
    success = {"files": files, "rows": sum(files.values())}
    (output / SUCCESS_FILE).write_text(json.dumps(success))


def read_embeddings(path):
    """Read the embeddings a finished :func:`embed_partitions` run wrote to ``path``.

    Parameters
    ----------
    path : str or path-like
        The run's output folder.

    Returns
    -------
    pandas.DataFrame
        The partitions' rows in partition order.

    Raises
    ------
    ValueError
        Naming the folder, when the run did not finish (no ``_SUCCESS``),
        or a file is missing or has other rows than the run wrote.
    """
    import pandas as pd
    import pyarrow.parquet as pq

    path = Path(path)
    success = path / SUCCESS_FILE
    if not success.is_file():
        raise ValueError(f"{path}: no {SUCCESS_FILE} file, so the run that wrote it did not "
                         "finish (or it was not written by embed_partitions); rerun with "
                         "if_exists='resume'.")
    record = json.loads(success.read_text())
    frames = []
    for name, rows in record["files"].items():
        file = path / name
        if not file.is_file():
            raise ValueError(f"{path}: {name} is missing ({rows} rows were written).")
        frame = pq.read_table(file).to_pandas()
        if len(frame) != rows:
            raise ValueError(f"{path}: {name} has {len(frame)} rows, the run wrote {rows}.")
        frames.append(frame)
    if not frames:
        return pd.DataFrame()
    numbered = all(isinstance(frame.index, pd.RangeIndex) for frame in frames)
    return pd.concat(frames, ignore_index=numbered)
