"""Read light-curve collections from files for the command line.

Three layouts, one object per light curve:

* a long CSV/TSV table (``.csv``, ``.tsv``, optionally ``.gz``): one row per
  observation with object id, time, magnitude and (optionally) error
  columns, rows in any order; read whole;
* a long Parquet table (``.parquet``/``.pq``, or a directory of them):
  the same columns, streamed in record batches so memory stays flat; each
  object's rows must be consecutive (as in a table sorted by object id);
* a directory of text files, one light curve per file (columns time,
  magnitude[, error], whitespace- or comma-separated, ``#`` comments, an
  optional header line); the object id is the file's stem.

Errors name the file and the row (or line) at fault.
"""

import glob
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._common import plain

PARQUET_SUFFIXES = (".parquet", ".parq", ".pq")
CSV_SUFFIXES = (".csv", ".tsv", ".csv.gz", ".tsv.gz")
DEFAULT_ERR_COLUMN = "err"


@dataclass
class TableColumns:
    """Column names of a long table; ``err=None`` reads no error column."""

    object_id: str = "object_id"
    time: str = "time"
    mag: str = "mag"
    err: str = None
    err_required: bool = False


@dataclass
class Chunk:
    """Consecutive complete objects of a collection.

    Attributes
    ----------
    ids : ndarray of shape (n_objects,)
    light_curves : list of ndarray of shape (L_i, 2|3)
        Time (days), magnitude[, error], sorted by time for tables.
    done : int
        Progress after this chunk, in the collection's ``unit``.
    """

    ids: np.ndarray
    light_curves: list
    done: int


def add_input_arguments(parser):
    """Add the input path and the column options shared by ``embed`` and ``pretrain``."""
    parser.add_argument(
        "input", type=Path,
        help="long table (.csv/.tsv[.gz], .parquet) with one row per observation, or a "
             "directory of light-curve text files (time mag [err]; id = file stem) or of "
             ".parquet tables")
    group = parser.add_argument_group("long-table columns")
    group.add_argument("--id-column", default="object_id", help="object id (default: %(default)s)")
    group.add_argument("--time-column", default="time", help="time in days (default: %(default)s)")
    group.add_argument("--mag-column", default="mag", help="magnitude (default: %(default)s)")
    group.add_argument("--err-column", default=None,
                       help="magnitude error (default: 'err' when the table has it)")
    parser.add_argument("--pattern", default="*",
                        help="file-name pattern inside an input directory (default: %(default)s)")


def open_collection(args):
    """The :class:`LightCurveCollection` named by parsed command-line ``args``."""
    columns = TableColumns(
        object_id=args.id_column, time=args.time_column, mag=args.mag_column,
        err=args.err_column or DEFAULT_ERR_COLUMN, err_required=args.err_column is not None,
    )
    return LightCurveCollection(args.input, columns, pattern=args.pattern)


class LightCurveCollection:
    """Light curves stored in files; see the module docstring for the layouts.

    Tables are read with :mod:`sklearn_astromer.io`; this class adds the
    directory of text files, messages naming the file and line, and the
    check that a streamed object never comes back in a later chunk.

    Parameters
    ----------
    path : path-like
        A long table or a directory.
    columns : TableColumns, optional
    pattern : str, default="*"
        Glob pattern of the files read from a directory.
    batch_rows : int, default=1_000_000
        Parquet rows read at a time.
    """

    def __init__(self, path, columns=None, *, pattern="*", batch_rows=1_000_000):
        self.path = Path(path)
        self.columns = columns or TableColumns(err=DEFAULT_ERR_COLUMN)
        self.batch_rows = batch_rows
        if not self.path.exists():
            raise FileNotFoundError(f"{self.path}: no such file or directory.")
        if self.path.is_dir():
            files = sorted(Path(name) for name in glob.glob(str(self.path / pattern))
                           if Path(name).is_file() and not Path(name).name.startswith("."))
            if not files:
                raise FileNotFoundError(f"{self.path}: no file matches {pattern!r}.")
            parquet = [name.name.endswith(PARQUET_SUFFIXES) for name in files]
            self.kind = "parquet" if all(parquet) else "text"
            self.files = files
        elif self.path.name.endswith(PARQUET_SUFFIXES):
            self.kind, self.files = "parquet", [self.path]
        elif self.path.name.endswith(CSV_SUFFIXES):
            self.kind, self.files = "csv", [self.path]
        else:
            raise ValueError(
                f"{self.path}: unknown input format; expected a {'/'.join(CSV_SUFFIXES)} or "
                f"{'/'.join(PARQUET_SUFFIXES)} table or a directory of light-curve files.")
        self._table = None

    @property
    def id_name(self):
        """Name of the id column in outputs."""
        return "object_id" if self.kind == "text" else self.columns.object_id

    @property
    def unit(self):
        """What :attr:`total` counts: ``"files"``, ``"objects"`` or ``"observations"``."""
        return {"text": "files", "csv": "objects", "parquet": "observations"}[self.kind]

    @property
    def total(self):
        """Size of the collection in :attr:`unit`."""
        if self.kind == "text":
            return len(self.files)
        if self.kind == "csv":
            return len(self._read_csv()[0])
        import pyarrow.parquet as pq

        return sum(pq.ParquetFile(name).metadata.num_rows for name in self.files)

    def read_all(self):
        """Every light curve: ``(ids, light_curves)``, objects in first-appearance order."""
        if self.kind == "csv":
            return self._read_csv()
        if self.kind == "text":
            curves = [read_light_curve_file(name) for name in self.files]
            return np.array([name.stem for name in self.files], dtype=object), curves
        import pandas as pd

        from ..io import light_curves_from_table

        table = pd.concat([frame for _, _, frame in self._parquet_frames()], ignore_index=True)
        curves, ids = light_curves_from_table(table, **self._io_columns(table.columns))
        return np.asarray(ids, dtype=object), curves

    def iter_chunks(self, chunk_size):
        """Yield :class:`Chunk` s of at most ``chunk_size`` objects, in order."""
        if self.kind == "parquet":
            yield from _rebatched(self._stream_parquet(), chunk_size)
            return
        if self.kind == "csv":
            ids, curves = self._read_csv()
        else:  # text files: read one chunk of files at a time
            ids, curves = np.array([name.stem for name in self.files], dtype=object), None
        for start in range(0, len(ids), chunk_size):
            stop = min(start + chunk_size, len(ids))
            if curves is None:
                chunk_curves = [read_light_curve_file(name) for name in self.files[start:stop]]
            else:
                chunk_curves = curves[start:stop]
            yield Chunk(ids[start:stop], chunk_curves, stop)

    # -------------------------------------------------------------- readers
    def _io_columns(self, available, source=None):
        """Keyword arguments of the :mod:`sklearn_astromer.io` readers."""
        check_columns(self.columns, available, source or self.path)
        err = self.columns.err if self.columns.err in available else None
        return dict(id_col=self.columns.object_id, time_col=self.columns.time,
                    mag_col=self.columns.mag, err_col=err)

    def _read_csv(self):
        if self._table is None:
            import pandas as pd

            from ..io import light_curves_from_table

            sep = "\t" if ".tsv" in self.path.name else ","
            header = pd.read_csv(self.path, sep=sep, nrows=0).columns
            io_columns = self._io_columns(header)
            used = [name for name in io_columns.values() if name is not None]
            frame = pd.read_csv(self.path, sep=sep, usecols=used,
                                dtype={self.columns.object_id: object}, low_memory=False)
            # Line numbers: the header is line 1, so data row i is line i + 2.
            frame = check_table_values(frame, io_columns, self.path, 2, "line")
            curves, ids = light_curves_from_table(frame, **io_columns)
            self._table = np.asarray(ids, dtype=object), curves
        return self._table

    def _parquet_frames(self):
        import pyarrow.parquet as pq

        for name in self.files:
            parquet = pq.ParquetFile(name)
            io_columns = self._io_columns(parquet.schema_arrow.names, name)
            used = [column for column in io_columns.values() if column is not None]
            first_row = 0
            for batch in parquet.iter_batches(batch_size=self.batch_rows, columns=used):
                frame = check_table_values(batch.to_pandas(), io_columns, name, first_row,
                                           "row")
                yield name, first_row, frame
                first_row += len(frame)

    def _stream_parquet(self):
        """Yield ``(ids, light_curves, n_observations)`` per batch of complete objects."""
        import pyarrow.parquet as pq

        from ..io import iter_parquet_light_curves

        seen = set()
        for name in self.files:
            io_columns = self._io_columns(pq.ParquetFile(name).schema_arrow.names, name)
            try:
                for curves, ids in iter_parquet_light_curves(name, batch_rows=self.batch_rows,
                                                             **io_columns):
                    again = [object_id for object_id in ids if object_id in seen]
                    if again:
                        raise ValueError(
                            f"object {plain(again[0])!r} appears again after other objects. "
                            "Streaming Parquet needs each object's rows together (in one "
                            "file): sort the table by the object id.")
                    seen.update(ids)
                    yield np.asarray(ids, dtype=object), curves, sum(map(len, curves))
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None


def _rebatched(batches, chunk_size):
    """Regroup ``(ids, light_curves, n_observations)`` batches into :class:`Chunk` s."""
    ids, curves, done = [], [], 0
    for batch_ids, batch_curves, n_observations in batches:
        done += n_observations
        ids.extend(batch_ids)
        curves.extend(batch_curves)
        while len(ids) >= chunk_size:
            yield Chunk(np.array(ids[:chunk_size], dtype=object), curves[:chunk_size], done)
            ids, curves = ids[chunk_size:], curves[chunk_size:]
    if ids:
        yield Chunk(np.array(ids, dtype=object), curves, done)


def check_columns(columns, available, source):
    """Raise naming ``source`` and the missing columns when a needed one is absent."""
    available = list(available)
    needed = [columns.object_id, columns.time, columns.mag]
    if columns.err_required:
        needed.append(columns.err)
    missing = [name for name in needed if name not in available]
    if missing:
        raise ValueError(
            f"{source}: no column {', '.join(map(repr, missing))} (columns: {available}); "
            "name the columns with --id-column/--time-column/--mag-column/--err-column.")


def check_table_values(frame, io_columns, source, first_row, row_word):
    """Check a block of a long table: ids present, values numeric; name the row at fault.

    Missing values (NaN) are fine: the estimator drops those observations with
    a :class:`~sklearn_astromer.LightCurveRepairWarning` and rejects objects
    left empty.

    Parameters
    ----------
    frame : pandas.DataFrame
    io_columns : dict
        ``id_col``, ``time_col``, ``mag_col``, ``err_col`` (None: no error column).
    source : path-like
        Named in messages.
    first_row : int
        Number of the frame's first row in the file.
    row_word : {"row", "line"}
        How messages count rows.

    Returns
    -------
    pandas.DataFrame
        ``frame`` with numeric (float64) value columns.
    """
    import pandas as pd

    missing_id = frame[io_columns["id_col"]].isna().to_numpy()
    if missing_id.any():
        raise ValueError(f"{source}, {row_word} {first_row + missing_id.argmax()}: the object "
                         f"id ({io_columns['id_col']!r}) is missing.")
    converted = {}
    for key in ("time_col", "mag_col", "err_col"):
        name = io_columns[key]
        if name is None:
            continue
        raw = frame[name]
        numbers = pd.to_numeric(raw, errors="coerce").astype(float)
        bad = (numbers.isna() & raw.notna()).to_numpy()
        if bad.any():
            row = bad.argmax()
            raise ValueError(f"{source}, {row_word} {first_row + row}: column {name!r} holds "
                             f"{raw.iloc[row]!r}, not a number.")
        converted[name] = numbers
    return frame.assign(**converted)


def read_light_curve_file(path):
    """Read one light curve from a text file: columns time, magnitude[, error].

    Lines starting with ``#`` are comments; one header line of column names
    is allowed; columns are separated by commas or whitespace; columns after
    the third are ignored.

    Returns
    -------
    ndarray of shape (L, 2|3)
    """
    path = Path(path)
    with open(path, errors="replace") as handle:
        lines = handle.read().splitlines()
    data_lines = [(number, line) for number, line in enumerate(lines)
                  if line.strip() and not line.lstrip().startswith("#")]
    if not data_lines:
        raise ValueError(f"{path}: no observations.")
    first_line = data_lines[0][1]
    delimiter = "," if "," in first_line else None
    header = not _all_numbers(_fields(first_line, delimiter))
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
                raise ValueError(f"{path}, line {number + 1}: cannot read {line.strip()!r} as "
                                 f"{min(n_columns, 3)} numbers.") from None
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
