"""Check light-curve inputs and turn them into one ragged array.

Every estimator input goes through :func:`check_light_curves`. Its promises:

* row ``i`` of the result is input ``i``: samples are never dropped,
  reordered or merged;
* every observation remembers its row in the input light curve, so
  per-observation outputs go back to the input's order (with NaN rows for
  dropped points); observations that share a time stay separate, as in the
  original ASTROMER code;
* documented repairs, each with a :class:`LightCurveRepairWarning` that names
  the sample indices: non-finite points are dropped, unsorted observations are
  sorted by time (for the model; outputs keep the input's order);
* anything else is a :class:`ValueError` naming the sample and the problem:
  wrong shapes or dtypes, complex values, 3-D arrays, and light curves left
  with no observation.
"""

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.utils import check_array


class LightCurveRepairWarning(UserWarning):
    """Input light curves were repaired (points dropped or sorted)."""


@dataclass
class RaggedLightCurves:
    """Light curves stored as one flat array plus offsets.

    Attributes
    ----------
    values : ndarray of shape (n_points, 3)
        Time (days), magnitude and error of every observation, light curve
        after light curve, each sorted by time (observations at the same
        time in their input order).
    offsets : ndarray of shape (n_samples + 1,)
        Light curve ``i`` is ``values[offsets[i]:offsets[i + 1]]``.
    source_index : int64 ndarray of shape (n_points,) or None
        Row of each observation in its input light curve (None: the rows
        are the input, in order).
    input_lengths : int64 ndarray of shape (n_samples,) or None
        Rows of each input light curve, dropped ones included (None: the
        validated lengths).
    bands : int64 ndarray of shape (n_points,) or None
        Band code of every observation (multi-band input), or None.
    """

    values: np.ndarray
    offsets: np.ndarray
    source_index: np.ndarray = None
    input_lengths: np.ndarray = None
    bands: np.ndarray = None

    @property
    def lengths(self):
        """Number of observations of each light curve."""
        return np.diff(self.offsets)

    def __len__(self):
        return len(self.offsets) - 1

    def split(self, array):
        """Split a per-observation array into a list with one item per light curve."""
        return np.split(array, self.offsets[1:-1])

    def split_to_inputs(self, array):
        """Split a per-observation array into one array per light curve, rows in input order.

        Parameters
        ----------
        array : float ndarray of shape (n_points, ...)
            One row per validated observation (in the order of :attr:`values`).

        Returns
        -------
        list of float ndarray of shape (input_length_i, ...)
            Row ``j`` of item ``i`` belongs to row ``j`` of input light curve
            ``i``; rows of dropped observations are NaN.
        """
        if self.source_index is None:
            return self.split(array)
        pieces = []
        for piece, rows, length in zip(self.split(array), self.split(self.source_index),
                                       self.input_lengths):
            restored = np.full((length, *array.shape[1:]), np.nan, dtype=array.dtype)
            restored[rows] = piece
            pieces.append(restored)
        return pieces

    def subset(self, indices):
        """The light curves ``indices``, in that order, as a new :class:`RaggedLightCurves`."""
        indices = np.asarray(indices)
        lengths = self.lengths[indices]
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        positions = np.repeat(self.offsets[:-1][indices] - offsets[:-1], lengths) + np.arange(
            offsets[-1]
        )
        bands = None if self.bands is None else self.bands[positions]
        if self.source_index is None:
            return RaggedLightCurves(self.values[positions], offsets, bands=bands)
        return RaggedLightCurves(self.values[positions], offsets, self.source_index[positions],
                                 self.input_lengths[indices], bands)

    def select(self, keep):
        """The observations where the boolean ``keep`` (n_points,) holds, curve by curve.

        Light curves keep their order and may become empty; ``source_index``
        still points at each kept observation's input row.
        """
        sample_ids = np.repeat(np.arange(len(self)), self.lengths)[keep]
        offsets = np.concatenate([[0], np.cumsum(np.bincount(sample_ids,
                                                             minlength=len(self)))])
        source_index = None if self.source_index is None else self.source_index[keep]
        bands = None if self.bands is None else self.bands[keep]
        return RaggedLightCurves(self.values[keep], offsets, source_index,
                                 self.input_lengths, bands)


def format_indices(indices, limit=10):
    shown = ", ".join(str(i) for i in indices[:limit])
    more = f" and {len(indices) - limit} more" if len(indices) > limit else ""
    return f"[{shown}{more}]"


def _warn(message, sample_ids):
    warnings.warn(
        f"{message} in light curve(s) {format_indices(np.unique(sample_ids))}.",
        LightCurveRepairWarning,
        stacklevel=4,
    )


def as_list_of_arrays(light_curves, first_index=0, allow_bands=False):
    """Return a list of 2-D float arrays with 3 columns (4 with a band column), or raise
    naming the sample.

    With ``allow_bands``, ``(L, 4)`` arrays (time, magnitude, error, band code)
    are kept whole; otherwise they are refused with a message saying so.
    """
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
            array = np.asarray(curve)
            complex_values = np.iscomplexobj(array)
            array = array.astype(np.float64) if not complex_values else array
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"Light curve {index} cannot be read as a float array: {error}."
            ) from None
        if complex_values:
            raise ValueError(f"Light curve {index} holds complex numbers; times, magnitudes "
                             "and errors must be real.")
        if array.ndim == 2 and array.shape[1] == 4 and not allow_bands:
            raise ValueError(
                f"Light curve {index} has a fourth column (a band per observation): this "
                "method takes single-band light curves of shape (n_observations, 2|3).")
        if array.ndim != 2 or array.shape[1] not in (2, 3, 4):
            raise ValueError(
                f"Light curve {index} has shape {array.shape}; expected (n_observations, 2) "
                "or (n_observations, 3) with columns time, magnitude[, error]"
                f"{', or (n_observations, 4) with a band code last' if allow_bands else ''}."
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


#: Fewest rows of a dense 2-3 column array whose increasing first column
#: suggests one light curve passed by mistake (random data: 1 chance in 120).
_SINGLE_CURVE_MIN_ROWS = 5


def _dense_to_list(magnitudes):
    """Dense ``(n_samples, n_steps)`` magnitudes on the time grid 0, 1, ..., n_steps - 1."""
    if magnitudes.ndim >= 3:
        raise ValueError(
            f"Got a {magnitudes.ndim}-D array of shape {magnitudes.shape}; dense input must be "
            "(n_samples, n_steps) magnitudes. For light curves stored as (n_samples, L, 2|3), "
            "pass a list of (L, 2|3) arrays: list(X)."
        )
    if np.iscomplexobj(magnitudes):
        raise ValueError("Complex data not supported: the dense light-curve array holds "
                         "complex numbers; magnitudes must be real.")
    # Infinite cells are dropped with the NaN ones, with a warning naming the rows.
    magnitudes = check_array(magnitudes, dtype=np.float64, ensure_all_finite=False)
    _warn_if_one_light_curve(magnitudes)
    n_samples, n_steps = magnitudes.shape
    values = np.empty((n_samples, n_steps, 3))
    values[..., 0] = np.arange(n_steps)
    values[..., 1] = magnitudes
    values[..., 2] = 0.0
    return list(values)


def _warn_if_one_light_curve(array):
    """Warn when a dense array looks like one ``(L, 2|3)`` light curve (increasing first column)."""
    n_rows, n_columns = array.shape
    first = array[:, 0]
    if (n_columns in (2, 3) and n_rows >= _SINGLE_CURVE_MIN_ROWS and np.isfinite(first).all()
            and np.all(np.diff(first) > 0)):
        warnings.warn(
            f"The dense array of shape {array.shape} is read as {n_rows} light curves of "
            f"{n_columns} magnitudes each (at times 0..{n_columns - 1}), but its first column "
            "increases like observation times: if it is one light curve (time, "
            "magnitude[, error]), pass it in a list: [X].",
            UserWarning,
            stacklevel=5,
        )


def check_light_curves(light_curves, *, min_samples=1, first_index=0, allow_bands=False):
    """Validate light curves and return them as :class:`RaggedLightCurves`.

    Parameters
    ----------
    light_curves : list, object ndarray or pandas Series of array-like, or ndarray
        Either ``n_samples`` arrays of shape ``(L_i, 2)`` or ``(L_i, 3)`` with
        columns time (days), magnitude and optionally its error (errors are
        set to 0 when absent), or a dense float array ``(n_samples, n_steps)``
        of magnitudes observed at times ``0, 1, ..., n_steps - 1`` (NaN and
        infinite cells are dropped as missing observations).
    min_samples : int, default=1
        Fewest light curves accepted.
    first_index : int, default=0
        Index of the first light curve in the caller's data, for messages
        (when a large collection is checked chunk by chunk).
    allow_bands : bool, default=False
        Accept multi-band light curves: ``(L_i, 4)`` arrays whose fourth
        column is each observation's band code (a non-negative integer, e.g.
        ZTF's filter id, or the position of the band name in the reader's
        ``bands``). Either every light curve has the column or none.

    Returns
    -------
    RaggedLightCurves
        With ``bands`` set for multi-band input.

    Raises
    ------
    ValueError
        On a wrong container, shape or dtype (complex numbers, 3-D arrays
        included), too few samples, or a light curve with no finite
        observation; the message names the sample index.

    Warns
    -----
    LightCurveRepairWarning
        When non-finite observations are dropped or observations are sorted
        by time (multi-band light curves, which usually come band by band,
        are sorted silently); the warning names the sample indices. Observations that
        share a time are kept, each as its own observation (as the original
        ASTROMER code does).
    UserWarning
        When a dense array has 2-3 columns and an increasing first column:
        it looks like one light curve that should have been passed in a list.
    """
    arrays = as_list_of_arrays(light_curves, first_index, allow_bands)
    bands = _band_column(arrays, first_index) if allow_bands else None
    if bands is not None:
        arrays = [array[:, :3] for array in arrays]
    if len(arrays) < min_samples:
        raise ValueError(
            f"Found {len(arrays)} light curve(s) while a minimum of {min_samples} is required."
        )
    input_lengths = np.fromiter((len(array) for array in arrays), dtype=np.int64,
                                count=len(arrays))
    values = np.concatenate(arrays) if input_lengths.sum() else np.empty((0, 3))
    sample_ids = np.repeat(np.arange(first_index, first_index + len(arrays)), input_lengths)
    source_index = np.arange(len(values)) - np.repeat(np.cumsum(input_lengths) - input_lengths,
                                                      input_lengths)

    finite = np.isfinite(values).all(axis=1)
    if bands is not None:
        finite &= bands >= 0
    if not finite.all():
        _warn("Dropped observations with NaN or infinite time, magnitude or error"
              f"{'' if bands is None else ' (or band)'}", sample_ids[~finite])
        values, sample_ids, source_index = values[finite], sample_ids[finite], source_index[finite]
        bands = None if bands is None else bands[finite]

    # lexsort is stable: observations at the same time keep their input order.
    order = np.lexsort((values[:, 0], sample_ids))
    if np.any(order != np.arange(len(order))):
        moved = sample_ids[order != np.arange(len(order))]
        if bands is None:  # multi-band input comes band by band: sorting it is no repair
            _warn("Sorted observations by time (outputs keep the input's order)", moved)
        values, sample_ids, source_index = values[order], sample_ids[order], source_index[order]
        bands = None if bands is None else bands[order]

    counts = np.bincount(sample_ids - first_index, minlength=len(arrays))
    empty = np.flatnonzero(counts == 0) + first_index
    if len(empty):
        raise ValueError(
            f"Light curve(s) {format_indices(empty)} have no finite observation; "
            "they cannot be embedded. Remove them or fill them in before calling."
        )
    offsets = np.concatenate([[0], np.cumsum(counts)])
    return RaggedLightCurves(np.ascontiguousarray(values), offsets, source_index, input_lengths,
                             bands)


def _band_column(arrays, first_index):
    """The band codes of every observation (int64; NaN rows become -1, dropped later with
    their observation), or None when no light curve has a band column."""
    widths = np.array([array.shape[1] for array in arrays])
    if not len(arrays) or (widths != 4).all():
        return None
    if (widths != 4).any():
        missing = np.flatnonzero(widths != 4) + first_index
        raise ValueError(f"Light curve(s) {format_indices(missing)} have no band column while "
                         "others have one: give every light curve a fourth column (band) or "
                         "none.")
    codes = np.concatenate([array[:, 3] for array in arrays])
    known = np.isfinite(codes)
    bad = known & ((codes != np.round(codes)) | (codes < 0) | (codes > np.iinfo(np.int32).max))
    if bad.any():
        lengths = np.array([len(array) for array in arrays])
        samples = np.repeat(np.arange(len(arrays)), lengths)[bad] + first_index
        raise ValueError(f"Light curve(s) {format_indices(np.unique(samples))} have band codes "
                         "that are not non-negative integers (e.g. "
                         f"{codes[bad][0]!r}): the fourth column holds a band code, such as "
                         "ZTF's filter id or the position of the band's name in `bands`.")
    return np.where(known, codes, -1).astype(np.int64)  # -1: NaN, dropped with its row


#: Light curves validated and embedded (or classified) at a time by ``transform`` (and
#: ``predict_proba``): memory stays bounded however many light curves are passed.
TRANSFORM_CHUNK_SIZE = 8192


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
