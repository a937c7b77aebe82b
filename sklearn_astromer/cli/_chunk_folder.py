"""The work folder that lets ``sklearn-astromer embed`` resume after a kill.

While ``embed`` runs, nothing is written under the output's name: each
chunk of objects is written to its own file ``chunk.<k>`` in
``_<output name>.parts/`` beside it, under a temporary name renamed once the
file is whole, after the run's settings are recorded in ``run.json``. When
every chunk is written they are joined into the output (again under a
temporary name, renamed when whole) and the folder is removed. A process
killed at any moment therefore leaves the output whole or not there (an
earlier file of that name stays until the join replaces it), and whole
chunk files that ``--resume`` reuses; the leading ``_`` makes Parquet
readers (pyarrow, Dask, Spark) skip the folder when they read the output's
directory.
"""

import hashlib
import json
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path

from .._atomic_files import written_atomically

RUN_FILE = "run.json"


def files_fingerprint(paths):
    """A digest of the names, sizes and modification times of ``paths``.

    Enough to tell that input files or a model were replaced or edited
    between a run and its resumption, without reading them.
    """
    digest = hashlib.sha256()
    for path in paths:
        stat = Path(path).stat()
        digest.update(f"{Path(path).name}\t{stat.st_size}\t{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _shown(value):
    if value is None:
        return "not given"
    return " ".join(map(str, value)) if isinstance(value, list) else str(value)


class ChunkFolder:
    """The chunk files of one ``embed`` output; see the module docstring.

    Parameters
    ----------
    output : path-like
        The output file.
    chunk_format : ParquetChunks or CsvChunks
        How chunks are written, checked and joined.
    """

    def __init__(self, output, chunk_format):
        self.output = Path(output)
        self.format = chunk_format
        self.path = self.output.with_name(f"_{self.output.name}.parts")

    def chunk_path(self, index):
        """The file of chunk ``index`` (counted from 0)."""
        return self.path / f"chunk.{index:06d}{self.format.suffix}"

    def start(self, record, resume):
        """Start a run described by ``record``, or continue the interrupted one.

        Parameters
        ----------
        record : dict
            ``{"settings": {option: value}, "files": {option: fingerprint}}``:
            what decides the output's rows (JSON-serialisable).
        resume : bool
            Whether ``--resume`` was given.

        Returns
        -------
        bool
            Whether an interrupted run is continued.

        Raises
        ------
        ValueError
            When the folder holds finished chunks and ``resume`` is false, or
            they are of a run whose record differs; the folder is left as it
            is. A folder without finished chunks is started again.
        """
        finished = self.finished_chunks()
        if finished:
            if not resume:
                raise ValueError(
                    f"{self.path} holds {finished} finished chunk(s) of an interrupted run of "
                    "this --output: pass --resume to continue it, or delete the folder to "
                    "start again.")
            self._check_same_run(json.loads(json.dumps(record)))
            return True
        shutil.rmtree(self.path, ignore_errors=True)  # a run killed before its first chunk
        self.path.mkdir(parents=True)
        with written_atomically(self.path / RUN_FILE) as temporary:
            temporary.write_text(json.dumps(record, indent=1), encoding="utf-8")
        return False

    def _check_same_run(self, record):
        path = self.path / RUN_FILE
        try:
            recorded = json.loads(path.read_text(encoding="utf-8"))
            settings, files = recorded["settings"], recorded["files"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: cannot read the record of the interrupted run ({exc}); "
                             f"delete {self.path} to start again.") from None
        differences = [f"{option}: {_shown(value)} here, {_shown(settings.get(option))} in the "
                       "interrupted run" for option, value in record["settings"].items()
                       if settings.get(option) != value]
        differences += [f"the files of {option} changed (size or modification time)"
                        for option, fingerprint in record["files"].items()
                        if files.get(option) != fingerprint]
        if differences:
            raise ValueError(f"--resume: {self.path} holds a run with other settings: "
                             f"{'; '.join(differences)}. Resume with the run's settings, or "
                             "delete the folder to start again.")

    def reusable(self, index, columns, ids):
        """Whether chunk ``index`` is written whole, with the objects ``ids`` and ``columns``.

        A chunk file that is damaged is named on stderr, to be written again.
        """
        path = self.chunk_path(index)
        if not path.is_file():
            return False
        damage = self.format.damage(path, columns, ids)
        if damage:
            print(f"warning: {path} {damage}: embedding its objects again", file=sys.stderr)
        return damage is None

    def write(self, index, columns, ids, per_object, features):
        """Write chunk ``index`` whole (see ``ParquetChunks.write`` for the arguments)."""
        with written_atomically(self.chunk_path(index)) as temporary:
            self.format.write(temporary, columns, ids, per_object, features)

    def finish(self, n_chunks, columns):
        """Join chunks ``0 .. n_chunks - 1`` into the output, then remove the folder."""
        chunk_paths = [self.chunk_path(index) for index in range(n_chunks)]
        joining = self.path / f"_{self.output.name}.tmp"
        with written_atomically(self.output, temporary=joining) as temporary:
            self.format.join(chunk_paths, temporary, columns)
        shutil.rmtree(self.path)

    def finished_chunks(self):
        """How many chunk files are in the folder."""
        return len(list(self.path.glob("chunk.*"))) if self.path.is_dir() else 0

    @contextmanager
    def kept_for_resume(self):
        """On a failure inside the block, keep the finished chunks for ``--resume``.

        Two failures remove the folder instead: one before any chunk is
        finished (nothing to keep), and a ``ValueError``, the documented
        error of bad input or options, which a resumed run would meet again.
        """
        try:
            yield
        except BaseException as exc:
            finished = self.finished_chunks()
            if isinstance(exc, ValueError) or not finished:
                shutil.rmtree(self.path, ignore_errors=True)
            else:
                print(f"{finished} finished chunk(s) kept in {self.path}: run the same "
                      "command with --resume to continue", file=sys.stderr)
            raise
