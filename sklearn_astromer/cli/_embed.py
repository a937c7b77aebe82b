"""``sklearn-astromer embed``: embeddings of a light-curve collection, written to a file."""

import csv
import fnmatch
import os
import sys
from pathlib import Path

import numpy as np

from .._validation import format_indices
from .._curve_pooling import POOLINGS
from ._common import (
    add_runtime_arguments,
    check_device,
    check_model_source,
    objects_named,
    plain,
    positive_int,
)
from ._inputs import add_input_arguments, band_codes, open_collection
from ._progress import Progress

PARQUET_OUTPUTS = (".parquet", ".pq")
CSV_OUTPUTS = (".csv", ".csv.gz", ".tsv", ".tsv.gz")


def add_parser(commands):
    """Register ``embed`` on the sub-parsers ``commands``."""
    parser = commands.add_parser(
        "embed", help="embed light curves from files with a trained model",
        description="Embed every light curve of a long table or a directory of light-curve "
                    "files and write one row per object (id + features) to a Parquet or CSV "
                    "file. Objects keep their input order.")
    add_input_arguments(parser)
    parser.add_argument("-o", "--output", type=Path, required=True,
                        help="output file: .parquet/.pq, or .csv/.tsv (optionally .gz)")
    parser.add_argument("--model", required=True,
                        help="'macho' or 'atlas' (published weights), a published zip, or a "
                             "directory written by save_pretrained / `sklearn-astromer pretrain`")
    add_runtime_arguments(parser)
    parser.add_argument("--pooling", choices=POOLINGS,
                        help="how observations are pooled (default: the model's, else mean)")
    parser.add_argument("--keep-columns", nargs="+", metavar="COLUMN",
                        help="per-object columns of the input table (a class, coordinates, "
                             "...) written beside the id; each must have one value per "
                             "object")
    parser.add_argument("--chunk-size", type=positive_int, default=10_000,
                        help="objects read and embedded at a time (default: %(default)s)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    parser.set_defaults(run=run)
    return parser


def run(args):
    """Embed ``args.input`` into ``args.output``; return the exit code."""
    from ..astromer import AstromerEmbedder

    writer = EmbeddingWriter(args.output)  # an unknown extension fails before any work
    check_output_is_not_input(args.output, args.input, args.pattern)
    check_device(args.device)
    check_model_source(args.model)
    collection = open_collection(args)
    params = {"device": args.device, "precision": args.precision}
    if args.batch_size:
        params["inference_batch_size"] = args.batch_size
    if args.pooling:
        params["pooling"] = args.pooling
    if args.bands is not None:
        params["bands"] = band_codes(args)
    embedder = AstromerEmbedder.from_pretrained(args.model, **params)
    progress = Progress(collection.total, collection.unit, "embedding", enabled=not args.quiet)
    n_objects = done = 0
    with writer:
        for chunk in collection.iter_chunks(args.chunk_size):
            features = embed_chunk(embedder, chunk, collection.path)
            writer.write(collection.id_name, chunk.ids, embedder.get_feature_names_out(),
                         features, chunk.per_object)
            n_objects += len(chunk.ids)
            progress.update(chunk.done)
            done = chunk.done
        if n_objects == 0:
            raise ValueError(f"{collection.path}: no light curves to embed.")
    progress.close(done)
    if not args.quiet:
        print(f"wrote {n_objects:,} embeddings ({len(embedder.get_feature_names_out())} "
              f"features each) to {args.output}", file=sys.stderr)
    return 0


def check_output_is_not_input(output, source, pattern="*"):
    """Refuse an ``--output`` that is the input (by any path or link), one of the files an input
    directory's ``pattern`` reads, or a directory.

    Raises
    ------
    ValueError
        Before anything is read or written.
    """
    output, source = Path(output), Path(source)
    if output.is_dir():
        raise ValueError(f"--output {output} is a directory; give a file name in it.")
    if output.exists() and source.exists() and os.path.samefile(output, source):
        raise ValueError(f"--output {output} is the input {source}: writing it would destroy the "
                         "light curves; give another output file.")
    if (source.is_dir() and output.resolve().parent == source.resolve()
            and fnmatch.fnmatch(output.name, pattern)):
        raise ValueError(f"--output {output} is in the input directory {source} and matches "
                         f"--pattern {pattern!r}: it would be read as light curves; write it "
                         "elsewhere or narrow --pattern.")


def embed_chunk(embedder, chunk, source):
    """``embedder.transform`` of one chunk, with messages naming objects, not positions.

    Raises
    ------
    ValueError
        Naming the objects whose embedding is not finite (NaN or infinite),
        so that no such row is ever written.
    """
    with objects_named(chunk.ids, source):
        features = embedder.transform(chunk.light_curves)
        not_finite = np.flatnonzero(~np.isfinite(features).all(axis=1))
        if len(not_finite):
            raise ValueError(
                f"light curve(s) {format_indices(not_finite)} have embeddings that are not "
                "finite (NaN or infinite), e.g. from extreme times or magnitudes; nothing was "
                "written. Check or remove these objects.")
    return features


class EmbeddingWriter:
    """Write ``(id, features)`` rows chunk by chunk to Parquet or CSV.

    Rows go to ``<output>.partial``, renamed to ``output`` only when every
    chunk is written: an interrupted run never leaves a truncated file under
    the final name. CSV needs no optional dependency; Parquet needs pyarrow.
    """

    def __init__(self, path):
        self.path = Path(path)
        name = self.path.name.lower()
        if name.endswith(PARQUET_OUTPUTS):
            self.kind = "parquet"
        elif name.endswith(CSV_OUTPUTS):
            self.kind = "csv"
        else:
            raise ValueError(f"--output {self.path}: unknown format; use "
                             f"{'/'.join(PARQUET_OUTPUTS + CSV_OUTPUTS)}.")
        if self.kind == "parquet":
            try:
                import pyarrow  # noqa: F401  (fail before any work when it is missing)
            except ImportError:
                raise ImportError(f"--output {self.path}: writing Parquet needs pyarrow: "
                                  'pip install "sklearn-astromer[parquet]" (or write .csv).'
                                  ) from None
        self.partial = self.path.with_name(self.path.name + ".partial")
        self._writer = None
        self._csv = None

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return self

    def write(self, id_name, ids, feature_names, features, per_object=None):
        """Append one chunk: ``ids`` (n,), float32 ``features`` (n, n_features) and the
        kept ``per_object`` columns (a DataFrame of n rows, or None), written after the id."""
        ids = [plain(value) for value in ids]
        feature_names = [str(name) for name in feature_names]
        kept = [] if per_object is None else [str(name) for name in per_object.columns]
        clashing = sorted(set(kept) & {id_name, *feature_names})
        if clashing:
            raise ValueError(f"--keep-columns {clashing}: the output already has a column of "
                             "that name.")
        if self.kind == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            columns = {id_name: pa.array(ids)}
            columns.update((name, pa.Array.from_pandas(per_object.iloc[:, index]))
                           for index, name in enumerate(kept))
            columns.update((name, features[:, index]) for index, name in enumerate(feature_names))
            table = pa.table(columns)
            if self._writer is None:
                self._writer = pq.ParquetWriter(self.partial, table.schema)
            self._writer.write_table(table.cast(self._writer.schema))
            return
        if self._writer is None:
            self._writer = _open_text(self.partial, self.path.name)
            sep = "\t" if ".tsv" in self.path.name.lower() else ","
            self._csv = csv.writer(self._writer, delimiter=sep, lineterminator="\n")
            self._csv.writerow([id_name, *kept, *feature_names])
        values = ([[] for _ in ids] if per_object is None else
                  [[plain(value) for value in row] for row in
                   per_object.astype(object).itertuples(index=False)])
        # astype(str) writes each float32 in its shortest form that reads back exactly.
        self._csv.writerows([object_id, *extra, *row] for object_id, extra, row in
                            zip(ids, values, features.astype(str).tolist()))

    def __exit__(self, exc_type, exc, traceback):
        try:
            if self._writer is not None:
                self._writer.close()
            if exc_type is None and self._writer is not None:
                os.replace(self.partial, self.path)
        finally:
            if self.partial.exists():
                self.partial.unlink()
        return False


def _open_text(path, name):
    if name.lower().endswith(".gz"):
        import gzip

        return gzip.open(path, "wt", encoding="utf-8", newline="")
    return open(path, "w", encoding="utf-8", newline="")
