"""Spectra that miss the model's wavelength grid say so, naming the rows."""

import numpy as np
import pytest

from sklearn_astromer.multimodal._data import resample_spectra

GRID = np.linspace(4000.0, 9000.0, 101)  # Angstrom


def _spectrum(low, high, n=50):
    wavelengths = np.linspace(low, high, n)
    return np.column_stack([wavelengths, 1 + 0.1 * np.sin(wavelengths / 100)])


def test_a_spectrum_entirely_outside_the_grid_is_a_value_error_naming_the_row():
    cells = [_spectrum(4000, 9000), _spectrum(10_000, 12_000)]
    with pytest.raises(ValueError, match=r"row 1 of column 'spectrum' covers wavelengths "
                                         r"10000-12000, entirely outside the model's grid"):
        resample_spectra(cells, GRID, "spectrum")


def test_a_spectrum_in_nm_gets_a_hint():
    with pytest.raises(ValueError, match=r"in nm where the model's grid is in Angstrom"):
        resample_spectra([_spectrum(400, 900)], GRID, "spectrum")


def test_spectra_covering_little_of_the_grid_warn_naming_the_rows():
    cells = [_spectrum(4000, 9000), _spectrum(8500, 9500), None, _spectrum(3000, 4500)]
    with pytest.warns(UserWarning, match=r"rows \[1, 3\] of column 'spectrum' cover less than "
                                         r"50% of the model's wavelength grid"):
        spectra = resample_spectra(cells, GRID, "spectrum")
    assert spectra.present.tolist() == [True, True, False, True]
    assert np.isfinite(spectra.flux).all()


def test_spectra_on_the_grid_pass_silently():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        spectra = resample_spectra([_spectrum(3900, 9100), GRID * 0 + 1.0], GRID, "s")
    assert spectra.flux.shape == (2, len(GRID))
