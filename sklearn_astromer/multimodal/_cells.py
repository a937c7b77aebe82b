"""Cells of a multimodal DataFrame: which are missing, and reading a column."""

import numpy as np


def is_frame(X):
    """True for a pandas DataFrame (duck-typed, so pandas stays optional)."""
    return hasattr(X, "columns") and hasattr(X, "iloc")


def is_missing(cell):
    """True for a missing cell: None, NaN or pandas' NA (not for an array)."""
    if cell is None or type(cell).__name__ in ("NAType", "NaTType"):
        return True
    if np.ndim(cell) != 0:
        return False
    try:
        return bool(np.isnan(float(cell)))
    except (TypeError, ValueError):
        return False


def column_cells(frame, column):
    """The cells of ``frame[column]`` as a 1-D object array, or a ValueError naming it."""
    if column not in frame.columns:
        raise ValueError(
            f"X has no column {column!r} (columns: {list(frame.columns)}); set the "
            "column parameters to the columns you have, or to None / [] to disable a modality."
        )
    if np.count_nonzero(frame.columns == column) > 1:
        raise ValueError(f"X has several columns named {column!r}; rename them so that each "
                         "column the model reads is unique.")
    return frame[column].to_numpy(dtype=object)
