"""Fitted preprocessing of multimodal catalogues: light curves, spectra and metadata.

A catalogue is a pandas DataFrame with one row per object. This module turns
its cells into the arrays the towers take, with the statistics learned in
``fit``, and keeps track of which object has which modality (``present``):

* light curves: checked by :func:`~sklearn_astromer._validation.check_light_curves`
  (a missing cell gets a one-point placeholder so that every message names
  the DataFrame row); windows are cut at batch time;
* spectra: flux on the fitted wavelength grid, or ``(wavelength, flux[, error])``
  arrays resampled onto it; each spectrum normalised as in AstroM3;
* metadata: numeric columns z-scored with the training rows' mean and
  standard deviation (NaN ignored).

Nothing here trains anything; :class:`MultimodalCollate` turns row indices
into a training batch.
"""

from dataclasses import dataclass

import numpy as np
import torch

from .._validation import _format_indices, check_light_curves
from ..preprocessing import gather_windows, random_windows

PHOTOMETRY, SPECTRUM, METADATA = "photometry", "spectrum", "metadata"
METADATA_MODALITY = "metadata"
# AstroM3's grid: LAMOST spectra resampled onto 3850..9000 Angstrom in steps of 2.
ASTROM3_WAVELENGTHS = np.arange(3850.0, 9000.0, 2.0)
_PLACEHOLDER_CURVE = np.zeros((1, 3))


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
    return frame[column].to_numpy(dtype=object)


# ----------------------------------------------------------------- light curves
def check_light_curve_cells(cells, column):
    """Validate a light-curve column; return ``(RaggedLightCurves, present)``.

    Missing cells become a one-point placeholder (flagged absent in
    ``present``) so that row ``i`` of the result is row ``i`` of the frame and
    every warning or error names the frame's row.
    """
    present = np.fromiter((not is_missing(cell) for cell in cells), bool, len(cells))
    filled = [cell if has else _PLACEHOLDER_CURVE for cell, has in zip(cells, present)]
    try:
        return check_light_curves(filled), present
    except ValueError as error:
        raise ValueError(f"Column {column!r}: {error}") from None


# ---------------------------------------------------------------------- spectra
@dataclass
class Spectra:
    """Normalised spectra on the fitted grid, one row per object.

    Attributes
    ----------
    flux : float32 ndarray of shape (n_samples, n_wavelengths)
        ``(flux - mean(flux)) / MAD(flux)``; zeros on absent rows.
    errors : float32 ndarray of shape (n_samples, n_wavelengths) or None
        Flux errors divided by the same MAD (None when no cell had errors:
        the channel is then zero).
    log_mad : float32 ndarray of shape (n_samples,)
        ``log10(MAD)``, the flux level the normalisation removes.
    present : bool ndarray of shape (n_samples,)
    """

    flux: np.ndarray
    errors: np.ndarray
    log_mad: np.ndarray
    present: np.ndarray

    def channels(self, rows):
        """AstroM3's three input channels ``(len(rows), 3, n_wavelengths)`` float32."""
        flux = self.flux[rows]
        stacked = np.empty((len(flux), 3, flux.shape[1]), np.float32)
        stacked[:, 0] = flux
        stacked[:, 1] = 0.0 if self.errors is None else self.errors[rows]
        stacked[:, 2] = self.log_mad[rows, None]
        return stacked


def _spectrum_array(cell, row, column):
    try:
        array = np.asarray(cell, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"Spectrum in row {row} of column {column!r} cannot be read as floats: {error}."
        ) from None
    if array.ndim == 1 or (array.ndim == 2 and array.shape[1] in (2, 3)):
        return array
    raise ValueError(
        f"Spectrum in row {row} of column {column!r} has shape {array.shape}; expected "
        "flux (n_wavelengths,) on the grid, or (n_points, 2|3) columns wavelength "
        "(Angstrom), flux[, error]."
    )


def infer_wavelength_grid(cells, column, wavelengths=None):
    """The grid spectra are resampled onto (Angstrom, float64, increasing).

    ``wavelengths`` when given; otherwise AstroM3's 3850..9000 Angstrom grid
    (step 2, 2575 points) unless the first spectrum is 1-D flux of another
    length, whose sample index is then the grid.
    """
    if wavelengths is not None:
        grid = np.asarray(wavelengths, dtype=np.float64)
        if grid.ndim != 1 or len(grid) < 2 or np.any(np.diff(grid) <= 0):
            raise ValueError("wavelengths must be a strictly increasing 1-D array.")
        return grid
    for row, cell in enumerate(cells):
        if is_missing(cell):
            continue
        array = _spectrum_array(cell, row, column)
        if array.ndim == 1 and len(array) != len(ASTROM3_WAVELENGTHS):
            return np.arange(len(array), dtype=np.float64)
        break
    return ASTROM3_WAVELENGTHS.copy()


def _fill_non_finite(values, row, column):
    finite = np.isfinite(values)
    if finite.all():
        return values
    if not finite.any():
        raise ValueError(
            f"Spectrum in row {row} of column {column!r} has no finite flux; pass None "
            "for a missing spectrum."
        )
    index = np.arange(len(values))
    return np.interp(index, index[finite], values[finite])


def _on_grid(array, grid, row, column):
    """Flux and error (or None) of one spectrum on ``grid``."""
    if array.ndim == 1:
        if len(array) != len(grid):
            raise ValueError(
                f"Spectrum in row {row} of column {column!r} has {len(array)} points but "
                f"the grid has {len(grid)}; give (wavelength, flux) pairs to resample it."
            )
        return _fill_non_finite(array, row, column), None
    finite = np.isfinite(array).all(axis=1)
    array = array[finite][np.argsort(array[finite, 0], kind="stable")]
    if len(array) < 2:
        raise ValueError(
            f"Spectrum in row {row} of column {column!r} has fewer than 2 finite points."
        )
    flux = np.interp(grid, array[:, 0], array[:, 1])
    errors = np.interp(grid, array[:, 0], array[:, 2]) if array.shape[1] == 3 else None
    return flux, errors


def resample_spectra(cells, grid, column):
    """Bring a spectrum column onto ``grid`` and normalise it (see :class:`Spectra`).

    1-D cells are flux already on the grid (non-finite values interpolated
    over); 2-D cells ``(n_points, 2|3)`` are linearly interpolated onto it
    (``np.interp``: the edge values continue beyond their range). Each
    spectrum is normalised by its mean and its median absolute deviation
    (MAD, taken as 1 for a flat spectrum).
    """
    n_samples = len(cells)
    present = np.fromiter((not is_missing(cell) for cell in cells), bool, n_samples)
    flux = np.zeros((n_samples, len(grid)), np.float32)
    errors = None
    log_mad = np.zeros(n_samples, np.float32)
    for row in np.flatnonzero(present):
        values, row_errors = _on_grid(_spectrum_array(cells[row], row, column), grid, row,
                                      column)
        median = np.median(values)
        mad = np.median(np.abs(values - median))
        mad = mad if np.isfinite(mad) and mad > 0 else 1.0
        flux[row] = (values - values.mean()) / mad
        log_mad[row] = np.log10(mad)
        if row_errors is not None:
            if errors is None:
                errors = np.zeros_like(flux)
            errors[row] = row_errors / mad
    return Spectra(flux, errors, log_mad, present)


# --------------------------------------------------------------------- metadata
def default_metadata_columns(frame, excluded):
    """Every numeric column of ``frame`` except ``excluded`` (bool columns are not numeric)."""
    numeric = frame.select_dtypes(include="number").columns
    return [column for column in numeric if column not in set(excluded)]


def metadata_values(frame, columns):
    """``frame[columns]`` as float64 ``(n_samples, n_columns)``; NaN kept, inf refused."""
    for column in columns:
        if column not in frame.columns:
            raise ValueError(f"X has no metadata column {column!r}.")
    try:
        values = frame[list(columns)].to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as error:
        raise ValueError(f"Metadata columns {list(columns)} must be numeric: {error}.") from None
    infinite = np.isinf(values)
    if infinite.any():
        rows, cols = np.nonzero(infinite)
        raise ValueError(
            f"Metadata column {columns[cols[0]]!r} holds an infinite value in row(s) "
            f"{_format_indices(np.unique(rows))}; use NaN for a missing value."
        )
    return values


def fit_standardiser(values, columns):
    """Mean and standard deviation of each column over the finite training values."""
    empty = np.flatnonzero(~np.isfinite(values).any(axis=0))
    if len(empty):
        raise ValueError(
            f"Metadata column(s) {[columns[i] for i in empty]} have no finite training "
            "value; drop them from metadata_columns."
        )
    mean = np.nanmean(values, axis=0)
    scale = np.nanstd(values, axis=0)
    return mean, np.where(scale > 0, scale, 1.0)


def standardise(values, mean, scale):
    """z-scores (float32) and ``present``: a row is absent when all its values are NaN.

    NaN values of a present row become 0, the training mean.
    """
    present = np.isfinite(values).any(axis=1)
    scores = np.nan_to_num((values - mean) / scale, nan=0.0).astype(np.float32)
    return scores, present


# ------------------------------------------------------------ prepared inputs
@dataclass
class MultimodalData:
    """Every modality of a catalogue, ready for the towers.

    Attributes
    ----------
    modalities, kinds : tuple of str
        Modality names (the order of ``present``'s columns) and their kinds
        (``"photometry"``, ``"spectrum"``, ``"metadata"``).
    present : bool ndarray of shape (n_samples, n_modalities)
    light_curves : dict of str to RaggedLightCurves
        One per photometry modality, placeholders on absent rows.
    spectra : Spectra or None
    metadata : float32 ndarray of shape (n_samples, n_columns) or None
    """

    modalities: tuple
    kinds: tuple
    present: np.ndarray
    light_curves: dict
    spectra: Spectra
    metadata: np.ndarray

    def __len__(self):
        return len(self.present)


def prepare_inputs(X, layout):
    """Turn a catalogue into :class:`MultimodalData` with the fitted ``layout``.

    Parameters
    ----------
    X : DataFrame, or light curves (list / object array / dense array)
        Light curves alone fill the first photometry modality; every other
        modality is then absent.
    layout : dict
        ``modalities``, ``kinds``, ``columns`` (a column name per modality,
        the list of metadata columns for metadata), ``wavelengths``,
        ``metadata_mean``, ``metadata_scale``.

    Raises
    ------
    ValueError
        On a missing column, a malformed cell (naming its row), or a row
        with no modality at all (naming the rows).
    """
    modalities, kinds = tuple(layout["modalities"]), tuple(layout["kinds"])
    frame = is_frame(X)
    if not frame:
        if PHOTOMETRY not in kinds:
            raise ValueError("This model has no light-curve modality: pass a DataFrame.")
    n_samples = len(X)
    present = np.zeros((n_samples, len(modalities)), bool)
    light_curves, spectra, metadata = {}, None, None
    first_photometry = kinds.index(PHOTOMETRY) if PHOTOMETRY in kinds else None
    for j, (name, kind, column) in enumerate(zip(modalities, kinds, layout["columns"])):
        if not frame:
            if j == first_photometry:
                light_curves[name] = check_light_curves(X)
                present[:, j] = True
            continue
        if kind == PHOTOMETRY:
            light_curves[name], present[:, j] = check_light_curve_cells(
                column_cells(X, column), column)
        elif kind == SPECTRUM:
            spectra = resample_spectra(column_cells(X, column),
                                       np.asarray(layout["wavelengths"]), column)
            present[:, j] = spectra.present
        else:
            values = metadata_values(X, column)
            metadata, present[:, j] = standardise(
                values, np.asarray(layout["metadata_mean"]), np.asarray(layout["metadata_scale"]))
    nothing = np.flatnonzero(~present.any(axis=1))
    if len(nothing):
        raise ValueError(
            f"Row(s) {_format_indices(nothing)} have no modality at all (every one of "
            f"{list(modalities)} is missing); they cannot be embedded."
        )
    return MultimodalData(modalities, kinds, present, light_curves, spectra, metadata)


# -------------------------------------------------------------------- batching
class MultimodalCollate:
    """Collate row indices into one training batch of every modality.

    Each light curve contributes one window of up to ``max_obs`` observations
    at a random start (zero-meaned, as in ASTROMER); absent modalities get
    zeros (and an all-True ``mask_in`` for light curves), flagged in
    ``present``.

    Parameters
    ----------
    data : MultimodalData
    max_obs : int
    pad_to_max_obs : bool
        Pad windows to ``max_obs`` (the paper-exact encoder needs it).
    seed : int
    fixed : bool, default=False
        Same windows for the same batch every epoch (validation).
    labels : int ndarray of shape (n_samples,), optional
        Class indices returned as the batch's targets (supervised fine-tuning).

    Returns (when called)
    ---------------------
    X : dict
        ``{"inputs": {modality: tower input}, "present": bool (batch, n_modalities)}``,
        the keyword arguments of :class:`~sklearn_astromer.nn.MultimodalCLIPModel`.
    y : int64 Tensor of shape (batch,) or None
    """

    def __init__(self, data, max_obs, pad_to_max_obs, seed, fixed=False, labels=None):
        self.data = data
        self.max_obs = max_obs
        self.pad_to_max_obs = pad_to_max_obs
        self.seed = seed
        self.fixed = fixed
        self.labels = labels
        self._rng = np.random.default_rng(seed)

    def _windows(self, light_curves, present, rows, rng):
        starts, lengths = random_windows(light_curves.lengths[rows], self.max_obs, rng)
        lengths = np.where(present, lengths, 0)
        width = self.max_obs if self.pad_to_max_obs else max(int(lengths.max()), 1)
        windows = gather_windows(light_curves, rows, starts, np.maximum(lengths, 1), width,
                                 float32_mean=self.pad_to_max_obs)
        valid = windows.valid & present[:, None]
        return {
            "times": torch.tensor(np.where(valid, windows.times, 0.0).astype(np.float32)),
            "magnitudes": torch.tensor(np.where(valid, windows.magnitudes, 0.0)
                                       .astype(np.float32)),
            "mask_in": torch.tensor(~valid),
        }

    def __call__(self, indices):
        rows = np.asarray(indices, dtype=np.int64)
        rng = np.random.default_rng([self.seed, *rows]) if self.fixed else self._rng
        data = self.data
        present = data.present[rows]
        inputs = {}
        for j, (name, kind) in enumerate(zip(data.modalities, data.kinds)):
            if kind == PHOTOMETRY:
                inputs[name] = self._windows(data.light_curves[name], present[:, j], rows, rng)
            elif kind == SPECTRUM:
                inputs[name] = torch.tensor(data.spectra.channels(rows))
            else:
                inputs[name] = torch.tensor(data.metadata[rows])
        targets = None if self.labels is None else torch.tensor(self.labels[rows])
        return {"inputs": inputs, "present": torch.tensor(present)}, targets
