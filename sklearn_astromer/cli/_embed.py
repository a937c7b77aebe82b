"""``sklearn-astromer embed``: embeddings of a light-curve collection, written to a file."""

import fnmatch
import os
import sys
from pathlib import Path

import numpy as np

from .._validation import format_indices
from .._curve_pooling import POOLINGS
from .._object_names import objects_named
from ._common import (
    add_runtime_arguments,
    check_device,
    check_model_source,
    positive_int,
)
from ._chunk_folder import ChunkFolder, files_fingerprint
from ._embedding_files import chunk_format, output_columns
from ._inputs import add_input_arguments, band_codes, open_collection
from ._progress import Progress


def add_parser(commands):
    """Register ``embed`` on the sub-parsers ``commands``."""
    parser = commands.add_parser(
        "embed", help="embed light curves from files with a trained model",
        description="Embed every light curve of a long table or a directory of light-curve "
                    "files and write one row per object (id + features) to a Parquet or CSV "
                    "file. Objects keep their input order. Each chunk is saved to its own "
                    "file in the folder _NAME.parts/ beside the output NAME and the chunks "
                    "are joined into NAME at the end: a run that is interrupted or killed "
                    "leaves no output, and --resume continues it from its saved chunks.")
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
                        help="objects read, embedded and saved at a time: a killed run "
                             "loses at most one chunk's work (default: %(default)s)")
    parser.add_argument("--resume", action="store_true",
                        help="continue a run of this command that was interrupted or killed: "
                             "its saved chunks (in _NAME.parts/ beside the output NAME) are "
                             "reused, only the others are embedded; the input, model and "
                             "options must be the run's (--device and --batch-size may "
                             "change)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    parser.set_defaults(run=run)
    return parser


def run(args):
    """Embed ``args.input`` into ``args.output``; return the exit code."""
    from ..astromer import AstromerEmbedder

    folder = ChunkFolder(args.output, chunk_format(args.output))  # before any work
    check_output_is_not_input(args.output, args.input, args.pattern)
    check_device(args.device)
    check_model_source(args.model)
    collection = open_collection(args)
    resumed = folder.start(run_record(args, collection), resume=args.resume)
    if args.resume and not resumed and not args.quiet:
        print(f"--resume: no finished chunk in {folder.path}; embedding from the start",
              file=sys.stderr)
    with folder.kept_for_resume():
        embedder = AstromerEmbedder.from_pretrained(args.model, **_embedder_params(args))
        counts = embed_into(folder, collection, embedder, args.chunk_size, args.quiet)
    if not args.quiet:
        reused = (f"; {counts['reused_objects']:,} of them in {counts['reused_chunks']} chunk(s) "
                  "reused from the interrupted run" if counts["reused_chunks"] else "")
        print(f"wrote {counts['objects']:,} embeddings ({len(embedder.get_feature_names_out())} "
              f"features each) to {args.output}{reused}", file=sys.stderr)
    return 0


def _embedder_params(args):
    params = {"device": args.device, "precision": args.precision}
    if args.batch_size:
        params["inference_batch_size"] = args.batch_size
    if args.pooling:
        params["pooling"] = args.pooling
    if args.bands is not None:
        params["bands"] = band_codes(args)
    return params


def run_record(args, collection):
    """What decides the rows of ``args.output``, for :meth:`ChunkFolder.start`.

    ``--device`` and ``--batch-size`` are left out: a resumed run may change
    them (to another machine, or a batch that fits in memory).
    """
    model = Path(args.model)
    model_files = (sorted(path for path in model.iterdir() if path.is_file())
                   if model.is_dir() else [model] if model.is_file() else [])
    settings = {
        "input": str(args.input.resolve()), "--pattern": args.pattern,
        "--id-column": args.id_column, "--time-column": args.time_column,
        "--mag-column": args.mag_column, "--err-column": args.err_column,
        "--band-column": args.band_column, "--bands": args.bands,
        "--keep-columns": args.keep_columns,
        "--model": str(model.resolve()) if model.exists() else args.model.lower(),
        "--pooling": args.pooling, "--precision": args.precision,
        "--chunk-size": args.chunk_size,
    }
    files = {"input": files_fingerprint(collection.files),
             "--model": files_fingerprint(model_files)}
    return {"settings": settings, "files": files}


def embed_into(folder, collection, embedder, chunk_size, quiet=False):
    """Write the embeddings of ``collection``, chunk by chunk, to ``folder``'s output.

    Chunks that ``folder`` already holds whole are read from the input but
    not embedded again.

    Returns
    -------
    dict
        ``objects``, ``reused_objects`` and ``reused_chunks``.
    """
    feature_names = embedder.get_feature_names_out()
    progress = Progress(collection.total, collection.unit, "embedding", enabled=not quiet)
    counts = dict.fromkeys(("objects", "reused_objects", "reused_chunks"), 0)
    n_chunks = done = 0
    columns = None
    for index, chunk in enumerate(collection.iter_chunks(chunk_size)):
        columns = output_columns(collection.id_name, chunk.per_object, feature_names)
        if folder.reusable(index, columns, chunk.ids):
            counts["reused_objects"] += len(chunk.ids)
            counts["reused_chunks"] += 1
        else:
            features = embed_chunk(embedder, chunk, collection.path)
            folder.write(index, columns, chunk.ids, chunk.per_object, features)
        counts["objects"] += len(chunk.ids)
        n_chunks, done = index + 1, chunk.done
        progress.update(done)
    if n_chunks == 0:
        raise ValueError(f"{collection.path}: no light curves to embed.")
    progress.close(done)
    folder.finish(n_chunks, columns)
    return counts


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
