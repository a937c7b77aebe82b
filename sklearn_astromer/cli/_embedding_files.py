"""Chunk files of ``sklearn-astromer embed``: written, checked, and joined into the output.

Each chunk of objects is one file that is whole by itself: a Parquet table
(:class:`ParquetChunks`), or CSV/TSV rows without the header, optionally one
gzip member (:class:`CsvChunks`). The output is the chunks in order: Parquet
tables copied one after the other into one file, CSV bytes (or gzip members)
appended after the header, so that joining costs no parsing.
"""

import csv
import gzip
import io
import shutil
import zlib
from dataclasses import dataclass
from pathlib import Path

from .._object_names import plain

PARQUET_OUTPUTS = (".parquet", ".pq")
CSV_OUTPUTS = (".csv", ".csv.gz", ".tsv", ".tsv.gz")


@dataclass(frozen=True)
class OutputColumns:
    """The columns of an ``embed`` output, in order: the id, the kept ones, the features."""

    id_name: str
    kept: tuple
    features: tuple

    @property
    def names(self):
        """All column names, as written."""
        return [self.id_name, *self.kept, *self.features]


def output_columns(id_name, per_object, feature_names):
    """The :class:`OutputColumns` of a chunk whose kept columns are ``per_object`` (or None).

    Raises
    ------
    ValueError
        When a kept column has the name of the id or of a feature.
    """
    kept = () if per_object is None else tuple(str(name) for name in per_object.columns)
    features = tuple(str(name) for name in feature_names)
    clashing = sorted(set(kept) & {id_name, *features})
    if clashing:
        raise ValueError(f"--keep-columns {clashing}: the output already has a column of "
                         "that name.")
    return OutputColumns(id_name, kept, features)


def chunk_format(output):
    """The :class:`ParquetChunks` or :class:`CsvChunks` for the file name ``output``.

    Raises
    ------
    ValueError
        For an extension that is neither Parquet nor CSV/TSV.
    ImportError
        For Parquet without pyarrow, before any work.
    """
    output = Path(output)
    name = output.name.lower()
    if name.endswith(PARQUET_OUTPUTS):
        return ParquetChunks(output)
    for suffix in CSV_OUTPUTS:
        if name.endswith(suffix):
            return CsvChunks(suffix)
    raise ValueError(f"--output {output}: unknown format; use "
                     f"{'/'.join(PARQUET_OUTPUTS + CSV_OUTPUTS)}.")


def _other_objects(found_ids, ids):
    """Why a chunk file holding the objects ``found_ids`` is not the chunk ``ids``, or None."""
    if len(found_ids) != len(ids):
        return f"has {len(found_ids)} rows, not the {len(ids)} of its chunk"
    if found_ids != ids:
        return "holds other objects than its chunk of the input"
    return None


class ParquetChunks:
    """Chunks as Parquet tables of the ``output`` file; needs pyarrow."""

    suffix = ".parquet"

    def __init__(self, output):
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise ImportError(f"--output {output}: writing Parquet needs pyarrow: "
                              'pip install "sklearn-astromer[parquet]" (or write .csv).'
                              ) from None
        self._pa, self._pq = pa, pq

    def write(self, path, columns, ids, per_object, features):
        """Write one chunk: ``ids`` (n,), the kept ``per_object`` columns (a DataFrame of n
        rows, or None) and float32 ``features`` (n, n_features), named by ``columns``."""
        pa = self._pa
        arrays = [pa.array([plain(value) for value in ids])]
        arrays += [pa.Array.from_pandas(per_object.iloc[:, index])
                   for index in range(len(columns.kept))]
        arrays += [features[:, index] for index in range(len(columns.features))]
        self._pq.write_table(pa.table(dict(zip(columns.names, arrays))), path)

    def damage(self, path, columns, ids):
        """Why the file ``path`` is not the whole chunk of ``ids``, or None when it is."""
        try:
            table = self._pq.read_table(path)
        except (OSError, ValueError, self._pa.ArrowException) as exc:
            return f"cannot be read ({exc})"
        if table.column_names != columns.names:
            return "has other columns than this run writes"
        return _other_objects(table.column(0).to_pylist(), [plain(value) for value in ids])

    def join(self, chunk_paths, destination, columns):
        """Write the tables of ``chunk_paths``, in order, as the one file ``destination``."""
        writer = None
        try:
            for path in chunk_paths:
                table = self._pq.read_table(path)
                if writer is None:
                    writer = self._pq.ParquetWriter(destination, table.schema)
                # The first chunk's types rule, as when one writer wrote every chunk.
                writer.write_table(table.cast(writer.schema))
        finally:
            if writer is not None:
                writer.close()


class CsvChunks:
    """Chunks as UTF-8 CSV or TSV rows (``suffix`` ``.csv``, ``.tsv``, optionally ``.gz``)."""

    def __init__(self, suffix):
        self.suffix = suffix
        self.delimiter = "\t" if suffix.startswith(".tsv") else ","
        self.compressed = suffix.endswith(".gz")

    def _encoded(self, rows):
        text = io.StringIO()
        csv.writer(text, delimiter=self.delimiter, lineterminator="\n").writerows(rows)
        data = text.getvalue().encode("utf-8")
        # mtime=0: the same rows give the same bytes, in a resumed run too.
        return gzip.compress(data, mtime=0) if self.compressed else data

    def write(self, path, columns, ids, per_object, features):
        """Write one chunk's rows (no header); see :meth:`ParquetChunks.write`."""
        values = ([[] for _ in ids] if per_object is None else
                  [[plain(value) for value in row] for row in
                   per_object.astype(object).itertuples(index=False)])
        # astype(str) writes each float32 in its shortest form that reads back exactly.
        rows = ([plain(object_id), *extra, *row] for object_id, extra, row in
                zip(ids, values, features.astype(str).tolist()))
        Path(path).write_bytes(self._encoded(rows))

    def damage(self, path, columns, ids):
        """Why the file ``path`` is not the whole chunk of ``ids``, or None when it is."""
        try:
            data = Path(path).read_bytes()
            text = (gzip.decompress(data) if self.compressed else data).decode("utf-8")
            rows = list(csv.reader(io.StringIO(text), delimiter=self.delimiter))
        except (OSError, EOFError, zlib.error, UnicodeDecodeError, csv.Error) as exc:
            return f"cannot be read ({exc})"
        # Every row ends with a newline: a file cut inside its last row lacks it.
        if not text.endswith("\n") or any(len(row) != len(columns.names) for row in rows):
            return "ends inside a row, or has rows of another width"
        return _other_objects([row[0] for row in rows], [str(plain(value)) for value in ids])

    def join(self, chunk_paths, destination, columns):
        """Write the header and the rows of ``chunk_paths``, in order, to ``destination``."""
        with open(destination, "wb") as output:
            output.write(self._encoded([columns.names]))
            for path in chunk_paths:
                with open(path, "rb") as chunk:
                    shutil.copyfileobj(chunk, output)
