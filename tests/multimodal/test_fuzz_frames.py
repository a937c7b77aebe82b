"""Fuzzing multimodal frames: every call works with finite, aligned outputs, or refuses.

A small simulated catalogue is damaged a few cells at a time: metadata cells
set to NaN, infinities, 1e300, strings or None; light curves replaced by
None, empty or one-point arrays, arrays with NaN, unsorted or repeated
times, overflowing magnitudes or times, wrong shapes, scalars or text;
spectra replaced by None, arrays with NaN, of the wrong length, overflowing,
or text; rows left with no modality; columns duplicated or dropped; the
index made of strings. The frames go through ``transform`` and
``transform_modalities`` of tiny fitted models with each photometry tower,
and through ``fit``. Whatever comes out must be a ``ValueError`` or
``TypeError``, or outputs that are finite (absent modalities NaN only in
``transform_modalities``), with row ``i`` for input row ``i``; rows the
damage did not touch embed as they do in the clean frame.
"""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from sklearn_astromer import MultimodalCLIPEmbedder
from sklearn_astromer.datasets import make_multimodal

TINY = dict(embed_dim=8, d_model=8, n_layers=1, n_heads=2, d_ff=8, max_obs=16,
            spectrum_channels=(2, 2, 2, 2), metadata_hidden=8, batch_size=16,
            warmup_epochs=0, validation_fraction=None, max_epochs=1, device="cpu",
            random_state=0)
TOWERS = ("astrom3", "astromer")
FUZZ = settings(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
METADATA_VALUES = [np.nan, np.inf, -np.inf, 1e300, -1e300, 1e20, 0.0, "n/a", None]


@pytest.fixture(scope="module")
def catalogue():
    """16 stars of 4 classes, a fifth of each modality missing."""
    X, _ = make_multimodal(4, classes=["RRab", "EW", "Mira", "DSCT"], missing_fraction=0.2,
                           n_obs=(10, 30), random_state=0)
    return X


@pytest.fixture(scope="module")
def models(catalogue):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {tower: MultimodalCLIPEmbedder(**TINY, photometry_encoder=tower).fit(catalogue)
                for tower in TOWERS}


@pytest.fixture(scope="module")
def clean_embeddings(models, catalogue):
    return {tower: model.transform(catalogue) for tower, model in models.items()}


def _light_curve(damage, curve):
    curve = None if curve is None else np.array(curve, dtype=float)
    if curve is None or damage == "none":
        return None
    return {
        "empty": np.zeros((0, 3)),
        "one point": curve[:1],
        "nan": np.where(np.arange(len(curve))[:, None] == 1, np.nan, curve),
        "inf": np.where(np.arange(len(curve))[:, None] == 2, np.inf, curve),
        "reversed": curve[::-1],
        "repeated times": np.repeat(curve, 2, axis=0),
        "huge magnitudes": curve * [1, 1e25, 1],
        "overflowing magnitudes": curve * [1, 1e300, 1],
        "huge times": curve + [1e300, 0, 0],
        "five columns": np.hstack([curve, curve[:, :2]]),
        "one column": curve[:, :1],
        "scalar": 3.0,
        "text": "light curve",
    }[damage]


def _spectrum(damage, spectrum):
    if spectrum is None or damage == "none":
        return None
    spectrum = np.array(spectrum, dtype=float)
    return {
        "nan": np.where(np.arange(spectrum.shape[-1]) % 7 == 0, np.nan, spectrum),
        "short": spectrum[..., : spectrum.shape[-1] // 3],
        "empty": spectrum[..., :0],
        "huge": spectrum * 1e300,
        "text": "spectrum",
    }[damage]


@st.composite
def damaged_frames(draw, catalogue):
    """``(frame, untouched row positions)``: the catalogue with a few damaged cells, then
    perhaps one damage to its columns or index."""
    X = catalogue.copy()
    metadata = [c for c in X.columns if c not in ("light_curve", "spectrum")]
    touched = set()
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["metadata", "light curve", "spectrum"] * 3 + ["empty row"]))
        row = draw(st.sampled_from(sorted(set(range(len(X))) - touched)))  # once per row
        touched.add(row)
        if kind == "metadata":
            column = draw(st.sampled_from(metadata))
            value = draw(st.sampled_from(METADATA_VALUES))
            event(f"metadata: {value}")
            X[column] = X[column].astype(object)
            X.iat[row, X.columns.get_loc(column)] = value
        elif kind == "light curve":
            damage = draw(st.sampled_from(
                ["none", "empty", "one point", "nan", "inf", "reversed", "repeated times",
                 "huge magnitudes", "overflowing magnitudes", "huge times", "five columns",
                 "one column", "scalar", "text"]))
            event(f"light curve: {damage}")
            X.iat[row, X.columns.get_loc("light_curve")] = _light_curve(
                damage, X["light_curve"].iloc[row])
        elif kind == "spectrum":
            damage = draw(st.sampled_from(["none", "nan", "short", "empty", "huge", "text"]))
            event(f"spectrum: {damage}")
            X.iat[row, X.columns.get_loc("spectrum")] = _spectrum(damage,
                                                                  X["spectrum"].iloc[row])
        else:
            event("no modality in a row")
            X[["light_curve", "spectrum"]] = X[["light_curve", "spectrum"]].astype(object)
            X.iloc[row, X.columns.get_indexer(["light_curve", "spectrum"])] = None
            X.iloc[row, X.columns.get_indexer(metadata)] = np.nan
    structure = draw(st.sampled_from(["none"] * 4 + ["duplicate column", "drop column",
                                                     "string index"]))
    event(f"structure: {structure}")
    if structure in ("duplicate column", "drop column"):
        column = draw(st.sampled_from(list(X.columns)))
        X = (pd.concat([X, X[[column]]], axis=1) if structure == "duplicate column"
             else X.drop(columns=column))
        touched.update(range(len(X)))
    elif structure == "string index":
        X.index = [f"star {i}" for i in range(len(X))]
    return X, [i for i in range(len(X)) if i not in touched]


def _check_outcome(call):
    """``call()``'s output, or None when it refused with a documented error type."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return call()
    except (ValueError, TypeError) as error:
        # Every refusal says where: the row, the column or the light curve at fault.
        assert re.search(r"row|column|[Ll]ight curve|[Ss]pectrum", str(error)), str(error)
        event(f"refused: {type(error).__name__}")
        return None


@settings(FUZZ, max_examples=60)
@given(data=st.data(), tower=st.sampled_from(TOWERS))
def test_transform_returns_finite_aligned_rows_or_refuses(models, clean_embeddings, catalogue,
                                                          data, tower):
    X, untouched = data.draw(damaged_frames(catalogue))
    model = models[tower]
    Z = _check_outcome(lambda: model.transform(X))
    if Z is None:
        return
    event("embedded")
    assert Z.shape == (len(X), model.config_["embed_dim"])
    assert np.isfinite(Z).all()
    np.testing.assert_allclose(Z[untouched], clean_embeddings[tower][untouched], atol=1e-5)
    per_modality = model.transform_modalities(X)
    for name, values in per_modality.items():
        assert values.shape[0] == len(X), name
        present = ~np.isnan(values).all(axis=1)
        assert np.isfinite(values[present]).all(), name


@settings(FUZZ, max_examples=15)
@given(data=st.data(), tower=st.sampled_from(TOWERS))
def test_fit_trains_finite_weights_or_refuses(models, catalogue, data, tower):
    X, _ = data.draw(damaged_frames(catalogue))
    model = _check_outcome(lambda: clone(models[tower]).fit(X))
    if model is None:
        return
    event("trained")
    assert all(torch.isfinite(value).all()
               for value in model.net_.module_.state_dict().values())
    assert np.isfinite(model.metadata_mean_).all() and np.isfinite(model.metadata_scale_).all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clean = model.transform(catalogue)
    assert clean.shape[0] == len(catalogue) and np.isfinite(clean).all()
