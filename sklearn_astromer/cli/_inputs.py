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

Errors name the file and the row (or line) at fault; a missing optional
dependency (pandas, pyarrow) is named with the extra that installs it,
before any work.
"""

import glob
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import _readers, io
from .._object_names import plain
from ._csv import read_long_csv
from ._tables import DEFAULT_ERR_COLUMN, TableColumns, check_table_values, read_columns
from ._text_files import read_light_curve_file

PARQUET_SUFFIXES = (".parquet", ".parq", ".pq")
CSV_SUFFIXES = (".csv", ".tsv", ".csv.gz", ".tsv.gz")


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
    per_object : pandas.DataFrame or None
        The collection's kept per-object columns, one row per object.
    """

    ids: np.ndarray
    light_curves: list
    done: int
    per_object: object = None


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
    group.add_argument("--band-column", default=None,
                       help="each observation's band (multi-band tables; needs --bands)")
    group.add_argument("--bands", nargs="+", metavar="BAND",
                       help="the band names of --band-column, in order (e.g. g r i, or ZTF's "
                            "filter ids 1 2 3): a band's code is its position here")
    parser.add_argument("--pattern", default="*",
                        help="file-name pattern inside an input directory (default: %(default)s)")


def _band_names(names):
    """``--bands`` as given; numbers stay numbers, to match a numeric band column."""
    if names is None:
        return None
    try:
        return tuple(float(name) for name in names)
    except ValueError:
        return tuple(names)


def open_collection(args):
    """The :class:`LightCurveCollection` named by parsed command-line ``args``."""
    if (args.band_column is None) != (args.bands is None):
        raise ValueError("--band-column and --bands go together: the column of each "
                         "observation's band, and the band names in order.")
    columns = TableColumns(
        object_id=args.id_column, time=args.time_column, mag=args.mag_column,
        err=args.err_column or DEFAULT_ERR_COLUMN, err_required=args.err_column is not None,
        keep=tuple(getattr(args, "keep_columns", None) or ()), band=args.band_column,
        bands=_band_names(args.bands),
    )
    collection = LightCurveCollection(args.input, columns, pattern=args.pattern)
    if collection.kind == "text" and columns.band:
        raise ValueError(f"{args.input}: --band-column names a column of a long table; "
                         "light-curve text files (time mag [err]) have no band column.")
    return collection


def band_codes(args):
    """The estimators' band codes for ``--bands`` (positions), or None."""
    return None if args.bands is None else list(range(len(args.bands)))


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
        elif self.path.name.lower().endswith(PARQUET_SUFFIXES):
            self.kind, self.files = "parquet", [self.path]
        elif self.path.name.lower().endswith(CSV_SUFFIXES):
            self.kind, self.files = "csv", [self.path]
        else:
            raise ValueError(
                f"{self.path}: unknown input format; expected a {'/'.join(CSV_SUFFIXES)} or "
                f"{'/'.join(PARQUET_SUFFIXES)} table or a directory of light-curve files.")
        if self.kind == "parquet":
            _readers.import_pyarrow_parquet()
        elif self.kind == "csv":
            _readers.import_pandas()
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
        _, pq = _readers.import_pyarrow_parquet()
        total = 0
        for name in self.files:
            with _readers.parquet_errors(name):
                total += pq.ParquetFile(name).metadata.num_rows
        return total

    def read_all(self):
        """Every light curve: ``(ids, light_curves)``, objects in first-appearance order."""
        if self.kind == "csv":
            return self._read_csv()[:2]
        if self.kind == "text":
            curves = [read_light_curve_file(name) for name in self.files]
            return np.array([name.stem for name in self.files], dtype=object), curves
        pd = _readers.import_pandas()
        frames = []
        for name in self.files:
            io_columns = self.columns.io_columns(_readers.parquet_columns(name), name)
            used = read_columns(io_columns)
            first_row = 0
            for _, frame in _readers.parquet_frames([name], self.batch_rows, used):
                frames.append(check_table_values(
                    frame, io_columns, lambda row, start=first_row: f"{name}, row {start + row}"))
                first_row += len(frame)
        if not frames:
            return np.array([], dtype=object), []
        table = pd.concat(frames, ignore_index=True)
        curves, ids = io.light_curves_from_table(table, **self.columns.io_columns(table.columns,
                                                                               self.path))
        return np.asarray(ids, dtype=object), curves

    def iter_chunks(self, chunk_size):
        """Yield :class:`Chunk` s of at most ``chunk_size`` objects, in order."""
        if self.kind == "parquet":
            yield from _rebatched(self._stream_parquet(), chunk_size)
            return
        per_object = None
        if self.kind == "csv":
            ids, curves, per_object = self._read_csv()
        else:  # text files: read one chunk of files at a time
            if self.columns.keep:
                raise ValueError(f"{self.path}: --keep-columns needs a table (CSV or Parquet); "
                                 "light-curve text files have no per-object columns.")
            ids, curves = np.array([name.stem for name in self.files], dtype=object), None
        for start in range(0, len(ids), chunk_size):
            stop = min(start + chunk_size, len(ids))
            if curves is None:
                chunk_curves = [read_light_curve_file(name) for name in self.files[start:stop]]
            else:
                chunk_curves = curves[start:stop]
            yield Chunk(ids[start:stop], chunk_curves, stop,
                        None if per_object is None else per_object.iloc[start:stop])

    # -------------------------------------------------------------- readers
    def _read_csv(self):
        if self._table is None:
            self._table = read_long_csv(self.path, self.columns)
        return self._table

    def _stream_parquet(self):
        """Yield ``(ids, light_curves, n_observations)`` per batch of complete objects."""
        seen = set()
        for name in self.files:
            available = _readers.parquet_columns(name)
            io_columns = self.columns.io_columns(available, name)
            kept = self.columns.kept(available, name)
            try:
                for batch in io.iter_parquet_light_curves(name, batch_rows=self.batch_rows,
                                                          columns=kept or None, **io_columns):
                    curves, ids = batch[:2]
                    per_object = batch[2] if kept else None
                    again = [object_id for object_id in ids if object_id in seen]
                    if again:
                        raise ValueError(
                            f"object {plain(again[0])!r} appears again after other objects. "
                            "Streaming Parquet needs each object's rows together (in one "
                            "file): sort the table by the object id.")
                    seen.update(ids)
                    yield (np.asarray(ids, dtype=object), curves, sum(map(len, curves)),
                           per_object)
            except ValueError as exc:
                message = str(exc)  # io names the file of an unreadable Parquet file itself
                raise ValueError(message if message.startswith(f"{name}:") else
                                 f"{name}: {message}") from None


def _rebatched(batches, chunk_size):
    """Regroup ``(ids, light_curves, n_observations, per_object)`` batches into
    :class:`Chunk` s."""
    pd = _readers.import_pandas()
    ids, curves, kept, done = [], [], [], 0
    for batch_ids, batch_curves, n_observations, per_object in batches:
        done += n_observations
        ids.extend(batch_ids)
        curves.extend(batch_curves)
        if per_object is not None:
            kept.append(per_object)
        while len(ids) >= chunk_size:
            table = pd.concat(kept) if kept else None
            yield Chunk(np.array(ids[:chunk_size], dtype=object), curves[:chunk_size], done,
                        None if table is None else table.iloc[:chunk_size])
            ids, curves = ids[chunk_size:], curves[chunk_size:]
            kept = [] if table is None else [table.iloc[chunk_size:]]
    if ids:
        yield Chunk(np.array(ids, dtype=object), curves, done,
                    pd.concat(kept) if kept else None)
