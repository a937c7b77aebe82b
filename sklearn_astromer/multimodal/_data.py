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

import warnings
from dataclasses import dataclass

import numpy as np
import torch

from .._prepared import PreparedLightCurves
from .._validation import check_light_curves, format_indices
from ._cells import column_cells, is_frame, is_missing
from ._metadata import fit_standardiser, metadata_values, standardise
from ._photometry_features import N_STANDARDISED, AstroM3LightCurves, astrom3_light_curves

PHOTOMETRY, SPECTRUM, METADATA = "photometry", "spectrum", "metadata"
METADATA_MODALITY = "metadata"
# AstroM3's grid: LAMOST spectra resampled onto 3850..9000 Angstrom in steps of 2.
ASTROM3_WAVELENGTHS = np.arange(3850.0, 9000.0, 2.0)
_PLACEHOLDER_CURVE = np.zeros((1, 3))
# Photometry towers: ASTROMER's encoder, or AstroM3's Informer and its inputs.
PHOTOMETRY_ENCODERS = ("astromer", "astrom3")


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


def band_cells(cells, band, column):
    """The observations of ``band`` of every multi-band light-curve cell (``(L, 4)``: time,
    magnitude, error, band code): ``(L_b, 3)`` arrays, None where a row has none."""
    selected = []
    for row, cell in enumerate(cells):
        if is_missing(cell):
            selected.append(None)
            continue
        array = np.asarray(cell, dtype=np.float64)
        if array.ndim != 2 or array.shape[1] != 4:
            raise ValueError(f"Column {column!r}, row {row}: a multi-band light curve has "
                             f"four columns (time, magnitude, error, band), not shape "
                             f"{array.shape}.")
        observations = array[array[:, 3] == band, :3]
        selected.append(observations if len(observations) else None)
    return selected


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
    low, high = array[0, 0], array[-1, 0]
    if high < grid[0] or low > grid[-1]:
        hint = " (in nm where the model's grid is in Angstrom?)" if (
            10 * low <= grid[-1] and 10 * high >= grid[0]) else ""
        raise ValueError(
            f"Spectrum in row {row} of column {column!r} covers wavelengths {low:.6g}-"
            f"{high:.6g}, entirely outside the model's grid {grid[0]:.6g}-{grid[-1]:.6g}"
            f"{hint}: nothing of it would reach the model."
        )
    flux = np.interp(grid, array[:, 0], array[:, 1])
    errors = np.interp(grid, array[:, 0], array[:, 2]) if array.shape[1] == 3 else None
    return flux, errors


def normalise_spectrum(flux):
    """AstroM3's normalisation of one spectrum: ``((flux - mean) / MAD, MAD)``.

    The MAD (median absolute deviation, unscaled) is taken over the non-zero
    flux values, as AstroM3 does (LAMOST marks bad pixels with 0), and is 1
    for a flat spectrum. The spectrum is first divided by its largest
    absolute value, so that any finite flux gives finite outputs; ``log10``
    of the returned MAD is still that of the flux as given.
    """
    peak = np.max(np.abs(flux))
    peak = peak if peak > 0 else 1.0
    scaled = flux / peak
    nonzero = scaled[scaled != 0]
    mad = np.median(np.abs(nonzero - np.median(nonzero))) if len(nonzero) else 0.0
    if not mad > 0:
        return scaled - scaled.mean(), 1.0
    return (scaled - scaled.mean()) / mad, mad * peak


def resample_spectra(cells, grid, column):
    """Bring a spectrum column onto ``grid`` and normalise it (see :class:`Spectra`).

    1-D cells are flux already on the grid (non-finite values interpolated
    over); 2-D cells ``(n_points, 2|3)`` are linearly interpolated onto it
    (``np.interp``: the edge values continue beyond their range). Each
    spectrum is normalised by :func:`normalise_spectrum`.
    """
    n_samples = len(cells)
    present = np.fromiter((not is_missing(cell) for cell in cells), bool, n_samples)
    flux = np.zeros((n_samples, len(grid)), np.float32)
    errors = None
    log_mad = np.zeros(n_samples, np.float32)
    partly_covered = []
    for row in np.flatnonzero(present):
        array = _spectrum_array(cells[row], row, column)
        values, row_errors = _on_grid(array, grid, row, column)
        if array.ndim == 2 and _coverage(array, grid) < MIN_GRID_COVERAGE:
            partly_covered.append(row)
        flux[row], mad = normalise_spectrum(values)
        log_mad[row] = np.log10(mad)
        if row_errors is not None:
            if errors is None:
                errors = np.zeros_like(flux)
            errors[row] = row_errors / mad
    if partly_covered:
        warnings.warn(
            f"Spectra in rows {format_indices(np.asarray(partly_covered))} of column "
            f"{column!r} cover less than {MIN_GRID_COVERAGE:.0%} of the model's wavelength grid "
            f"({grid[0]:.6g}-{grid[-1]:.6g}); their edge values are continued over the rest.",
            UserWarning)
    return Spectra(flux, errors, log_mad, present)


#: Share of the wavelength grid a spectrum must cover to pass without a warning.
MIN_GRID_COVERAGE = 0.5


def _coverage(array, grid):
    """Share of ``grid``'s wavelength range inside the finite points of ``array``."""
    finite = array[np.isfinite(array).all(axis=1), 0]
    if not len(finite):
        return 0.0
    inside = min(finite.max(), grid[-1]) - max(finite.min(), grid[0])
    return max(inside, 0.0) / (grid[-1] - grid[0])


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
    light_curves : dict of str to PreparedLightCurves or AstroM3LightCurves
        One per photometry modality, placeholders on absent rows: the
        validated light curves with their periods (ASTROMER's tower) or
        AstroM3's inputs, computed once and reused by every epoch.
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


def prepare_inputs(X, layout, device="cpu"):
    """Turn a catalogue into :class:`MultimodalData` with the fitted ``layout``.

    Parameters
    ----------
    X : DataFrame, or light curves (list / object array / dense array)
        Light curves alone fill the first photometry modality; every other
        modality is then absent.
    layout : dict
        ``modalities``, ``kinds``, ``columns`` (a column name per modality,
        the list of metadata columns for metadata), ``wavelengths``,
        ``metadata_transform``, ``metadata_mean``, ``metadata_scale``,
        ``photometry_encoder`` and ``photometry_statistics`` (the z-scoring
        of AstroM3's auxiliary values per photometry modality; raw values
        where a modality has none yet, as while fitting them).
    device : str or torch.device, default="cpu"
        Where the light curves' period searches run their coarse pass (the
        estimator's device); they use torch's number of threads.

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
    band_of = layout.get("photometry_bands") or {}
    for j, (name, kind, column) in enumerate(zip(modalities, kinds, layout["columns"])):
        if not frame:
            if j == first_photometry:
                light_curves[name] = check_light_curves(X)
                present[:, j] = True
            continue
        if kind == PHOTOMETRY:
            cells = column_cells(X, column)
            if name in band_of:
                cells = band_cells(cells, band_of[name], column)
            light_curves[name], present[:, j] = check_light_curve_cells(cells, column)
        elif kind == SPECTRUM:
            spectra = resample_spectra(column_cells(X, column),
                                       np.asarray(layout["wavelengths"]), column)
            present[:, j] = spectra.present
        else:
            values = metadata_values(X, column, layout.get("metadata_transform"))
            metadata, present[:, j] = standardise(
                values, np.asarray(layout["metadata_mean"]), np.asarray(layout["metadata_scale"]),
                column)
    statistics = layout.get("photometry_statistics") or {}
    for j, name in enumerate(modalities):
        if name not in light_curves:
            continue
        if layout.get("photometry_encoder") == "astrom3":
            features = astrom3_light_curves(light_curves[name], present[:, j],
                                            n_jobs=torch.get_num_threads(), device=device)
            if name in statistics:
                features = features.standardised(*map(np.asarray, statistics[name]))
            light_curves[name] = features
        else:  # ASTROMER's tower: periods searched on first use, once
            light_curves[name] = PreparedLightCurves(light_curves[name],
                                                    n_jobs=torch.get_num_threads(),
                                                    device=device)
    nothing = np.flatnonzero(~present.any(axis=1))
    if len(nothing):
        raise ValueError(
            f"Row(s) {format_indices(nothing)} have no modality at all (every one of "
            f"{list(modalities)} is missing); they cannot be embedded."
        )
    return MultimodalData(modalities, kinds, present, light_curves, spectra, metadata)


def fit_photometry_statistics(data):
    """Mean and scale of AstroM3's z-scored auxiliary values, per photometry modality.

    Returns
    -------
    dict of str to [list, list]
        Empty unless the light curves are :class:`AstroM3LightCurves`. Values
        missing in every training curve (e.g. no period found) get mean 0
        and scale 1.
    """
    statistics = {}
    for j, (name, kind) in enumerate(zip(data.modalities, data.kinds)):
        curves = data.light_curves.get(name)
        if isinstance(curves, AstroM3LightCurves):
            auxiliary = curves.auxiliary[data.present[:, j], :N_STANDARDISED]
            mean, scale = fit_standardiser(auxiliary, None, allow_empty=True)
            statistics[name] = [mean.tolist(), scale.tolist()]
    return statistics


def standardise_photometry(data, statistics):
    """``data`` with its AstroM3 auxiliary values z-scored by ``statistics`` (in place)."""
    for name, (mean, scale) in statistics.items():
        data.light_curves[name] = data.light_curves[name].standardised(np.asarray(mean),
                                                                       np.asarray(scale))
    return data
