"""Files that appear whole or not at all, even when the process is killed while writing."""

import os
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def written_atomically(final, temporary=None):
    """Yield a temporary path to write; rename it to ``final`` when the block succeeds.

    The rename replaces ``final`` in one step, so ``final`` is either the
    earlier file or the whole new one, never a part. A block that fails
    removes the temporary file; a killed process leaves it, under a name
    that readers of ``final``'s folder skip.

    Parameters
    ----------
    final : path-like
        The file to write.
    temporary : path-like, optional
        Where to write first; on ``final``'s file system. Default:
        ``_<name>.tmp`` beside ``final`` (Parquet readers such as pyarrow,
        Dask and Spark skip names that start with ``_``).

    Yields
    ------
    pathlib.Path
        The temporary path.
    """
    final = Path(final)
    temporary = final.with_name(f"_{final.name}.tmp") if temporary is None else Path(temporary)
    try:
        yield temporary
        os.replace(temporary, final)
    finally:
        temporary.unlink(missing_ok=True)
