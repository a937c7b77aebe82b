"""Metadata of multimodal catalogues: AstroM3's transforms, and bad values that must not pass."""

import numpy as np
import pandas as pd
import pytest

from sklearn_astromer import MultimodalCLIPEmbedder
from sklearn_astromer.datasets import METADATA_COLUMNS, make_multimodal
from sklearn_astromer.multimodal._metadata import (
    astrom3_transform,
    default_metadata_columns,
    fit_standardiser,
    standardise,
)

TINY = dict(embed_dim=8, d_model=8, n_layers=1, n_heads=2, d_ff=8, max_obs=16,
            spectrum_channels=(4, 4, 4, 4), metadata_hidden=8, batch_size=16, lr=1e-3,
            warmup_epochs=0, validation_fraction=None, random_state=0)
# AstroM3's 34 metadata columns (dev/core/main.py), in its order and under its names.
ASTROM3_COLUMNS = [
    "mean_vmag", "phot_g_mean_mag", "e_phot_g_mean_mag", "phot_bp_mean_mag", "e_phot_bp_mean_mag",
    "phot_rp_mean_mag", "e_phot_rp_mean_mag", "bp_rp", "parallax", "parallax_error",
    "parallax_over_error", "pmra", "pmra_error", "pmdec", "pmdec_error", "j_mag", "e_j_mag",
    "h_mag", "e_h_mag", "k_mag", "e_k_mag", "w1_mag", "e_w1_mag", "w2_mag", "e_w2_mag",
    "w3_mag", "w4_mag", "j_k", "w1_w2", "w3_w4", "pm", "ruwe", "l", "b",
]


def _astrom3_name(column):
    if column == "mean_mag":
        return "mean_vmag"
    if column.endswith("_mag_error"):
        return "e_" + column[: -len("_error")]
    return column


@pytest.fixture(scope="module")
def catalogue():
    return make_multimodal(4, classes=["RRab", "Mira", "EW"], n_obs=(10, 20), random_state=0)


def test_simulated_columns_are_astrom3s():
    assert [_astrom3_name(column) for column in METADATA_COLUMNS] == ASTROM3_COLUMNS


def test_astrom3_transform():
    columns = ["parallax", "phot_g_mean_mag", "bp_rp", "l", "b"]
    values = np.array([[2.0, 10.0, 1.0, 90.0, 30.0],
                       [-0.5, 12.0, 1.0, 0.0, -90.0],
                       [np.nan, 11.0, 1.0, 180.0, 0.0]])
    out = astrom3_transform(values, columns)
    np.testing.assert_allclose(out[:, 1], [10 + 5 * np.log10(2) - 10, 12 - 10, np.nan])
    np.testing.assert_allclose(out[:, 2], 1.0)  # colours are distance-free: unchanged
    np.testing.assert_allclose(out[:, 3], [0, 1, -1], atol=1e-12)
    np.testing.assert_allclose(out[:, 4], [0.5, -1, 0], atol=1e-12)
    np.testing.assert_array_equal(values[:, 1], [10, 12, 11])  # input untouched


def test_huge_values_give_finite_statistics_and_scores():
    values = np.array([[1e300, 1.0], [-2e300, 2.0], [5e299, np.nan], [1e20, 4.0]])
    mean, scale = fit_standardiser(values, ["a", "b"])
    assert np.isfinite(mean).all() and np.isfinite(scale).all() and (scale > 0).all()
    np.testing.assert_allclose(mean, [np.mean(values[:, 0] / 1e300) * 1e300, 7 / 3])
    np.testing.assert_allclose(scale[0], np.std(values[:, 0] / 1e300) * 1e300)
    scores, present = standardise(values, mean, scale, ["a", "b"])
    assert np.isfinite(scores).all() and present.all()
    with pytest.raises(ValueError, match=r"column 'b' .* row\(s\) \[1\]"):
        standardise(np.array([[0.0, 1.0], [0.0, 1e300]]), mean, scale, ["a", "b"])


def test_fit_with_overflowing_metadata_keeps_every_row(catalogue):
    X, _ = catalogue
    X = X.copy()
    X["pmra"] = X["pmra"] * 1e290
    X["ruwe"] = X["ruwe"] * 1e20
    embedder = MultimodalCLIPEmbedder(**TINY, max_epochs=1).fit(X)
    assert np.isfinite(embedder.metadata_scale_).all()
    metadata = embedder.transform_modalities(X)["metadata"]
    np.testing.assert_allclose(np.linalg.norm(metadata, axis=1), 1, atol=1e-5)
    only_metadata = X.assign(light_curve=None, spectrum=None)
    assert np.isfinite(embedder.transform(only_metadata)).all()


def test_an_overflowing_present_modality_raises_naming_rows(catalogue):
    X, _ = catalogue
    for encoder in ("astrom3", "astromer"):
        embedder = MultimodalCLIPEmbedder(**TINY, photometry_encoder=encoder,
                                          max_epochs=0).fit(X)
        bad = X.copy()
        bad.at[2, "light_curve"] = bad.loc[2, "light_curve"] * [1, 1e25, 1]
        with pytest.raises(ValueError, match=r"\(s\) \[2\]"):
            embedder.transform(bad)
        bad = X.copy()
        bad.loc[5, "parallax"] = 1e300
        with pytest.raises(ValueError, match=r"'parallax'.*\[5\]"):
            embedder.transform(bad)


def test_a_string_cell_names_its_column_and_row(catalogue):
    X, _ = catalogue
    bad = X.copy()
    bad["ruwe"] = bad["ruwe"].astype(object)
    bad.at[3, "ruwe"] = "n/a"
    with pytest.raises(ValueError, match=r"'ruwe' holds the non-numeric value 'n/a' in row 3"):
        MultimodalCLIPEmbedder(**TINY, max_epochs=0).fit(bad)
    with pytest.raises(ValueError, match=r"'ruwe' .* row 3"):
        MultimodalCLIPEmbedder(**TINY, max_epochs=0, metadata_columns=["ruwe"]).fit(bad)
    fitted = MultimodalCLIPEmbedder(**TINY, max_epochs=0).fit(X)
    with pytest.raises(ValueError, match=r"'ruwe' .* row 3"):
        fitted.transform(bad)


def test_text_columns_are_not_metadata_but_numeric_objects_are(catalogue):
    X, _ = catalogue
    frame = X.assign(name=[f"star {i}" for i in range(len(X))],
                     numbers=pd.Series(np.arange(len(X)) * 1.5, dtype=object))
    columns = default_metadata_columns(frame, ["light_curve", "spectrum"])
    assert "name" not in columns and "numbers" in columns
    assert columns[:len(METADATA_COLUMNS)] == list(METADATA_COLUMNS)


def test_duplicated_column_names_are_refused(catalogue):
    X, _ = catalogue
    doubled = pd.concat([X, X[["parallax"]]], axis=1)
    with pytest.raises(ValueError, match=r"several columns named \['parallax'\]"):
        MultimodalCLIPEmbedder(**TINY, max_epochs=0).fit(doubled)
    fitted = MultimodalCLIPEmbedder(**TINY, max_epochs=0).fit(X)
    with pytest.raises(ValueError, match="several columns named"):
        fitted.transform(doubled)
    two_curves = pd.concat([X, X[["light_curve"]]], axis=1)
    with pytest.raises(ValueError, match="several columns named 'light_curve'"):
        fitted.transform(two_curves)


@pytest.mark.parametrize("column", [
    pd.to_datetime(["2020-01-01", "2021-06-01", "2022-01-01"]),
    pd.to_timedelta([1, 2, 3], unit="D"),
    pd.Series([np.nan, pd.Timestamp("2020-01-01"), 1.0], dtype=object),
    pd.Series([1.0, None, np.datetime64("2020-01-01")], dtype=object),
])
def test_dates_and_durations_in_metadata_are_refused_naming_column_and_row(column):
    from sklearn_astromer.multimodal._metadata import metadata_values

    frame = pd.DataFrame({"epoch": column, "parallax": [1.0, 2.0, 3.0]})
    expected_row = 0 if column.dtype.kind in "mM" else (1 if column.isna()[0] else 2)
    with pytest.raises(ValueError, match=rf"column 'epoch' holds the date or duration .* in "
                                         rf"row {expected_row}: metadata must be numbers"):
        metadata_values(frame, ["epoch", "parallax"])
