"""Metadata columns of a multimodal catalogue: choice, checks, AstroM3's transforms, z-scores.

AstroM3 (``dev/notebooks/054-fix-normalization.ipynb``, the ``*_norm`` data
sets) turns the eleven apparent magnitudes into absolute magnitudes with the
parallax, replaces Galactic ``l`` and ``b`` by ``cos(l)`` and ``sin(b)``, then
z-scores every column with the training set's mean and standard deviation.
The column names here are those of
:func:`~sklearn_astromer.datasets.make_multimodal`.
"""

import datetime
import numbers

import numpy as np

from .._validation import format_indices
from ._cells import is_missing

#: Apparent magnitudes that AstroM3 turns into absolute ones (``make_multimodal``'s names).
ASTROM3_MAGNITUDES = ("mean_mag", "phot_g_mean_mag", "phot_bp_mean_mag", "phot_rp_mean_mag",
                      "j_mag", "h_mag", "k_mag", "w1_mag", "w2_mag", "w3_mag", "w4_mag")
PARALLAX, LONGITUDE, LATITUDE = "parallax", "l", "b"
METADATA_TRANSFORMS = ("astrom3",)


def check_unique_columns(frame, columns):
    """ValueError if any of ``columns`` names more than one column of ``frame``."""
    duplicated = frame.columns[frame.columns.duplicated()]
    repeated = sorted({str(column) for column in duplicated if column in set(columns)})
    if repeated:
        raise ValueError(f"X has several columns named {repeated}; rename them so that each "
                         "column the model reads is unique.")


def _is_number(cell):
    return isinstance(cell, (numbers.Real, np.number)) and not isinstance(cell, (bool, np.bool_))


def _first_non_numeric(cells):
    """Row of the first cell that is neither missing nor a float, or None."""
    for row, cell in enumerate(cells):
        if is_missing(cell):
            continue
        try:
            float(cell)
        except (TypeError, ValueError):
            return row
    return None


def _first_time_value(cells):
    """Row of the first date, time or duration in ``cells`` (datetime64 and timedelta64
    columns, ``Timestamp``, ``datetime``, ``date``, ``timedelta`` objects), or None."""
    if cells.dtype.kind in "mM":
        present = np.flatnonzero(~np.isnat(cells))
        return int(present[0]) if len(present) else 0
    if cells.dtype != object:
        return None
    for row, cell in enumerate(cells):
        if isinstance(cell, TIME_TYPES) and not is_missing(cell):
            return row
    return None


#: Cell types that are dates or durations, never metadata numbers.
TIME_TYPES = (datetime.date, datetime.timedelta, np.datetime64, np.timedelta64)


def _non_numeric_error(column, row, cell):
    return ValueError(f"Metadata column {column!r} holds the non-numeric value {cell!r} in "
                      f"row {row}; use NaN for a missing value, or leave the column out of "
                      "metadata_columns.")


def default_metadata_columns(frame, excluded):
    """Every numeric column of ``frame`` except ``excluded`` (bool columns are not numeric).

    A column of Python objects counts when its cells are numbers; one that
    mixes numbers with other values (e.g. a stray string) raises a
    ValueError naming it and the row, rather than silently dropping it.
    """
    excluded = set(excluded)
    columns = []
    for position, column in enumerate(frame.columns):
        if column in excluded:
            continue
        series = frame.iloc[:, position]
        if series.dtype.kind in "iuf":
            columns.append(column)
        elif series.dtype == object:
            cells = series.to_numpy()
            if not any(_is_number(cell) and not is_missing(cell) for cell in cells):
                continue
            row = _first_non_numeric(cells)
            if row is not None:
                raise _non_numeric_error(column, row, cells[row])
            columns.append(column)
    return columns


def metadata_values(frame, columns, transform=None):
    """``frame[columns]`` as float64 ``(n_samples, n_columns)``, NaN kept, inf refused.

    ``transform="astrom3"`` applies :func:`astrom3_transform` afterwards.
    """
    check_unique_columns(frame, columns)
    values = np.empty((len(frame), len(columns)))
    for j, column in enumerate(columns):
        if column not in frame.columns:
            raise ValueError(f"X has no metadata column {column!r}.")
        cells = frame[column].to_numpy()
        row = _first_time_value(cells)
        if row is not None:
            raise ValueError(
                f"Metadata column {column!r} holds the date or duration {cells[row]!r} in row "
                f"{row}: metadata must be numbers (convert it yourself, e.g. to MJD in days, "
                "if it belongs in the model).")
        try:
            values[:, j] = np.asarray(cells, dtype=object if cells.dtype == object else None
                                      ).astype(np.float64)
        except (TypeError, ValueError):
            row = _first_non_numeric(cells)
            raise _non_numeric_error(column, row, cells[row]) from None
    infinite = np.isinf(values)
    if infinite.any():
        rows, cols = np.nonzero(infinite)
        raise ValueError(
            f"Metadata column {columns[cols[0]]!r} holds an infinite value in row(s) "
            f"{format_indices(np.unique(rows[cols == cols[0]]))}; use NaN for a missing value."
        )
    return astrom3_transform(values, columns) if transform == "astrom3" else values


def astrom3_transform(values, columns):
    """AstroM3's metadata transforms, on the columns present (a new array).

    * with a ``parallax`` column (mas), each of :data:`ASTROM3_MAGNITUDES`
      becomes ``m + 5 log10(parallax) - 10``, the absolute magnitude, with a
      parallax that is not positive taken as 1 mas (AstroM3's rule);
    * ``l`` -> ``cos(l)``, ``b`` -> ``sin(b)`` (degrees).
    """
    values = values.copy()
    index = {column: j for j, column in enumerate(columns)}
    if PARALLAX in index:
        parallax = values[:, index[PARALLAX]]
        with np.errstate(invalid="ignore"):
            distance_modulus = 5 * np.log10(np.where(parallax > 0, parallax, 1.0)) - 10
        distance_modulus[np.isnan(parallax)] = np.nan
        for column in ASTROM3_MAGNITUDES:
            if column in index:
                values[:, index[column]] += distance_modulus
    if LONGITUDE in index:
        values[:, index[LONGITUDE]] = np.cos(np.radians(values[:, index[LONGITUDE]]))
    if LATITUDE in index:
        values[:, index[LATITUDE]] = np.sin(np.radians(values[:, index[LATITUDE]]))
    return values


def fit_standardiser(values, columns, allow_empty=False):
    """Mean and standard deviation of each column over its finite training values.

    Computed on the column divided by its largest absolute value, so that
    values up to float64's limit give a finite mean and scale. A scale of 0
    (a constant column) becomes 1. A column with no finite value raises,
    unless ``allow_empty`` (then mean 0, scale 1).
    """
    finite = np.isfinite(values)
    empty = np.flatnonzero(~finite.any(axis=0))
    if len(empty) and not allow_empty:
        raise ValueError(
            f"Metadata column(s) {[columns[i] for i in empty]} have no finite training "
            "value; drop them from metadata_columns."
        )
    peak = np.max(np.where(finite, np.abs(values), 0.0), axis=0, initial=0.0)
    peak = np.where(peak > 0, peak, 1.0)
    scaled = np.where(finite, values / peak, 0.0)
    count = np.maximum(finite.sum(axis=0), 1)
    mean = scaled.sum(axis=0) / count
    spread = np.sqrt((np.where(finite, scaled - mean, 0.0) ** 2).sum(axis=0) / count)
    scale = spread * peak
    return mean * peak, np.where(scale > 0, scale, 1.0)


def standardise(values, mean, scale, columns=None):
    """z-scores (float32) and ``present``: a row is absent when all its values are NaN.

    NaN values of a present row become 0, the training mean. A z-score
    beyond float32's range raises a ValueError naming the column and rows.
    """
    present = np.isfinite(values).any(axis=1)
    with np.errstate(over="ignore", invalid="ignore"):
        scores = values / scale - mean / scale
    overflow = np.abs(scores) > np.finfo(np.float32).max
    if overflow.any():
        rows, cols = np.nonzero(overflow)
        name = cols[0] if columns is None else repr(columns[cols[0]])
        raise ValueError(
            f"Metadata column {name} holds values in row(s) "
            f"{format_indices(np.unique(rows[cols == cols[0]]))} too far from the training "
            "values to be represented (float32 overflow of the z-score); check them."
        )
    return np.nan_to_num(scores, nan=0.0).astype(np.float32), present
