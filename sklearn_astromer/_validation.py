"""Check light-curve inputs and turn them into one ragged array.

Every estimator input goes through :func:`check_light_curves`. Its promises:

* row ``i`` of the result is input ``i``: samples are never dropped,
  reordered or merged;
* documented repairs, each with a :class:`LightCurveRepairWarning` that names
  the sample indices: non-finite points are dropped, unsorted observations are
  sorted by time, observations at the same time are averaged;
* anything else is a :class:`ValueError` naming the sample and the problem:
  wrong shapes or dtypes, and light curves left with no observation.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.utils import check_array


class LightCurveRepairWarning(UserWarning):
    """Input light curves were repaired (points dropped, sorted or merged)."""


@dataclass
class RaggedLightCurves:
    """Light curves stored as one flat array plus offsets.

    Attributes
    ----------
    values : ndarray of shape (n_points, 3)
        Time (days), magnitude and error of every observation, light curve
        after light curve, each sorted by time.
    offsets : ndarray of shape (n_samples + 1,)
        Light curve ``i`` is ``values[offsets[i]:offsets[i + 1]]``.
    """

    values: np.ndarray
    offsets: np.ndarray

    @property
    def lengths(self):
        """Number of observations of each light curve."""
        return np.diff(self.offsets)

    def __len__(self):
        return len(self.offsets) - 1

    def split(self, array):
        """Split a per-observation array into a list with one item per light curve."""
        return np.split(array, self.offsets[1:-1])

    def subset(self, indices):
        """The light curves ``indices``, in that order, as a new :class:`RaggedLightCurves`."""
        indices = np.asarray(indices)
        lengths = self.lengths[indices]
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        positions = np.repeat(self.offsets[:-1][indices] - offsets[:-1], lengths) + np.arange(
            offsets[-1]
        )
        return RaggedLightCurves(self.values[positions], offsets)


def _format_indices(indices, limit=10):
    shown = ", ".join(str(i) for i in indices[:limit])
    more = f" and {len(indices) - limit} more" if len(indices) > limit else ""
    return f"[{shown}{more}]"


def _warn(message, sample_ids):
    import warnings

    warnings.warn(
        f"{message} in light curve(s) {_format_indices(np.unique(sample_ids))}.",
        LightCurveRepairWarning,
        stacklevel=4,
    )


def _as_list_of_arrays(light_curves, first_index=0):
    """Return a list of 2-D float arrays with 3 columns, or raise naming the sample."""
    if sparse.issparse(light_curves):
        raise TypeError(
            "Sparse input is not supported: pass light curves as a list of (L, 2|3) "
            "arrays or a dense (n_samples, n_steps) array."
        )
    if hasattr(light_curves, "to_numpy") and not isinstance(light_curves, np.ndarray):
        if getattr(light_curves, "ndim", 1) != 1:
            raise ValueError(
                "Light curves given as a DataFrame are ambiguous: pass one column "
                "(a Series of (L, 2|3) arrays), a long table through "
                "sklearn_astromer.io.light_curves_from_table, or a dense array."
            )
        light_curves = light_curves.to_numpy()
    if not isinstance(light_curves, (list, tuple, np.ndarray)) and hasattr(
        light_curves, "__array__"
    ):
        light_curves = np.asarray(light_curves)
    if isinstance(light_curves, np.ndarray) and (
        light_curves.dtype != object or light_curves.ndim != 1
    ):
        return _dense_to_list(light_curves)
    if _not_a_collection(light_curves):
        hint = (" (for a dict of light curves, pass list(light_curves.values()))"
                if isinstance(light_curves, Mapping) else "")
        raise ValueError(
            "Light curves must be a list, object array or Series of (L, 2|3) arrays, "
            f"or a dense (n_samples, n_steps) array; got {type(light_curves).__name__}{hint}."
        )
    arrays = []
    for index, curve in enumerate(light_curves, start=first_index):
        try:
            array = np.asarray(curve, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"Light curve {index} cannot be read as a float array: {error}."
            ) from None
        if array.ndim != 2 or array.shape[1] not in (2, 3):
            raise ValueError(
                f"Light curve {index} has shape {array.shape}; expected (n_observations, 2) "
                "or (n_observations, 3) with columns time, magnitude[, error]."
            )
        if array.shape[1] == 2:
            array = np.column_stack([array, np.zeros(len(array))])
        arrays.append(array)
    return arrays


def _not_a_collection(light_curves):
    # Strings and mappings have a length but are no sequence of light curves.
    return isinstance(light_curves, (str, bytes, Mapping)) or not hasattr(
        light_curves, "__len__"
    )


def _dense_to_list(magnitudes):
    """Dense ``(n_samples, n_steps)`` magnitudes on the time grid 0, 1, ..., n_steps - 1."""
    magnitudes = check_array(magnitudes, dtype=np.float64, ensure_all_finite="allow-nan")
    n_samples, n_steps = magnitudes.shape
    values = np.empty((n_samples, n_steps, 3))
    values[..., 0] = np.arange(n_steps)
    values[..., 1] = magnitudes
    values[..., 2] = 0.0
    return list(values)


def check_light_curves(light_curves, *, min_samples=1, first_index=0):
    """Validate light curves and return them as :class:`RaggedLightCurves`.

    Parameters
    ----------
    light_curves : list, object ndarray or pandas Series of array-like, or ndarray
        Either ``n_samples`` arrays of shape ``(L_i, 2)`` or ``(L_i, 3)`` with
        columns time (days), magnitude and optionally its error (errors are
        set to 0 when absent), or a dense float array ``(n_samples, n_steps)``
        of magnitudes observed at times ``0, 1, ..., n_steps - 1`` (NaN cells
        are treated as missing observations).
    min_samples : int, default=1
        Fewest light curves accepted.
    first_index : int, default=0
        Index of the first light curve in the caller's data, for messages
        (when a large collection is checked chunk by chunk).

    Returns
    -------
    RaggedLightCurves

    Raises
    ------
    ValueError
        On a wrong container, shape or dtype, too few samples, or a light
        curve with no finite observation; the message names the sample index.

    Warns
    -----
    LightCurveRepairWarning
        When non-finite observations are dropped, observations are sorted by
        time, or observations at the same time are averaged (magnitudes
        averaged, errors combined as ``sqrt(sum(err**2)) / n``); the warning
        names the sample indices.
    """
    arrays = _as_list_of_arrays(light_curves, first_index)
    if len(arrays) < min_samples:
        raise ValueError(
            f"Found {len(arrays)} light curve(s) while a minimum of {min_samples} is required."
        )
    lengths = np.fromiter((len(array) for array in arrays), dtype=np.int64, count=len(arrays))
    values = np.concatenate(arrays) if lengths.sum() else np.empty((0, 3))
    sample_ids = np.repeat(np.arange(first_index, first_index + len(arrays)), lengths)

    finite = np.isfinite(values).all(axis=1)
    if not finite.all():
        _warn("Dropped observations with NaN or infinite time, magnitude or error",
              sample_ids[~finite])
        values, sample_ids = values[finite], sample_ids[finite]

    order = np.lexsort((values[:, 0], sample_ids))
    if np.any(order != np.arange(len(order))):
        moved = sample_ids[order != np.arange(len(order))]
        _warn("Sorted observations by time", moved)
        values, sample_ids = values[order], sample_ids[order]

    values, sample_ids = _merge_duplicate_times(values, sample_ids)

    counts = np.bincount(sample_ids - first_index, minlength=len(arrays))
    empty = np.flatnonzero(counts == 0) + first_index
    if len(empty):
        raise ValueError(
            f"Light curve(s) {_format_indices(empty)} have no finite observation; "
            "they cannot be embedded. Remove them or fill them in before calling."
        )
    offsets = np.concatenate([[0], np.cumsum(counts)])
    return RaggedLightCurves(np.ascontiguousarray(values), offsets)


def _merge_duplicate_times(values, sample_ids):
    """Average observations of one light curve that share a time (input sorted)."""
    same_as_previous = np.zeros(len(values), dtype=bool)
    same_as_previous[1:] = (np.diff(values[:, 0]) == 0) & (np.diff(sample_ids) == 0)
    if not same_as_previous.any():
        return values, sample_ids
    _warn("Averaged observations that share the same time", sample_ids[same_as_previous])
    group = np.cumsum(~same_as_previous) - 1
    n_groups = group[-1] + 1
    sizes = np.bincount(group, minlength=n_groups).astype(np.float64)
    merged = np.empty((n_groups, 3))
    merged[:, 0] = values[~same_as_previous, 0]
    merged[:, 1] = np.bincount(group, weights=values[:, 1], minlength=n_groups) / sizes
    merged[:, 2] = np.sqrt(np.bincount(group, weights=values[:, 2] ** 2, minlength=n_groups)) / sizes
    return merged, sample_ids[~same_as_previous]


def iter_light_curve_chunks(light_curves, chunk_size):
    """Yield ``(first_index, chunk)`` slices of a light-curve collection, in order.

    Lets transforms of large collections validate and embed a bounded number
    of light curves at a time, so memory does not grow with the collection.
    Inputs that cannot be sliced as given (other array-likes) are converted
    with :func:`numpy.asarray` first; sparse input and what is no collection
    (a string, a dict, a scalar) are passed through whole so that validation
    refuses them with its message.
    """
    if sparse.issparse(light_curves) or _not_a_collection(light_curves):
        yield 0, light_curves
        return
    if hasattr(light_curves, "iloc"):
        slicer = light_curves.iloc
    elif isinstance(light_curves, (list, tuple, np.ndarray)):
        slicer = light_curves
    else:
        slicer = light_curves = np.asarray(light_curves)
    if len(light_curves) == 0:
        yield 0, light_curves
        return
    for start in range(0, len(light_curves), chunk_size):
        yield start, slicer[start:start + chunk_size]
