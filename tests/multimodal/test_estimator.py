"""MultimodalCLIPEmbedder: training, missing modalities, preprocessing, persistence, checks."""

import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_astromer import AstromerEmbedder, MultimodalCLIPEmbedder
from sklearn_astromer.datasets import SPECTRUM_WAVELENGTHS, make_multimodal

TINY = dict(embed_dim=16, d_model=16, n_layers=1, n_heads=2, d_ff=16, max_obs=32,
            spectrum_channels=(4, 4, 4, 4), metadata_hidden=16, batch_size=32, lr=1e-3,
            warmup_epochs=0, validation_fraction=None, random_state=0)
ASTROMER = dict(TINY, photometry_encoder="astromer")
CLASSES = ["RRab", "EW", "Mira", "DSCT"]


@pytest.fixture(scope="module")
def catalogue():
    """24 stars of 4 classes; a fifth of the light curves, spectra and metadata missing."""
    return make_multimodal(6, classes=CLASSES, missing_fraction=0.2, n_obs=(20, 60),
                           random_state=0)


@pytest.fixture(scope="module")
def fitted(catalogue):
    X, _ = catalogue
    return MultimodalCLIPEmbedder(**TINY, max_epochs=2).fit(X)


def test_transform_is_float32_fused_embedding(fitted, catalogue):
    X, _ = catalogue
    Z = fitted.transform(X)
    assert Z.shape == (len(X), 16) and Z.dtype == np.float32 and np.isfinite(Z).all()
    assert fitted.modalities_ == ("light_curve", "spectrum", "metadata")
    names = fitted.get_feature_names_out()
    assert list(names) == [f"multimodalclipembedder{i}" for i in range(16)]


@pytest.mark.parametrize("tower", ["astrom3", "astromer"])
def test_period_searches_run_on_the_estimators_device_and_threads(monkeypatch, catalogue, tower):
    """Both photometry towers search periods where the estimator runs, on torch's threads."""
    from sklearn_astromer import _prepared
    from sklearn_astromer.multimodal import _data, _estimator, _photometry_features

    X, _ = catalogue
    calls = []

    def recording(module):
        original = module.lomb_scargle_periods
        return lambda curves, **kwargs: calls.append(kwargs) or original(
            curves, **{**kwargs, "device": "cpu"})

    for module in (_prepared, _photometry_features):
        monkeypatch.setattr(module, "lomb_scargle_periods", recording(module))
    prepared = _data.prepare_inputs
    monkeypatch.setattr(_estimator, "prepare_inputs",
                        lambda X, layout, device: prepared(X, layout, device=f"seen {device}"))
    towers = {"astrom3": dict(TINY, photometry_encoder="astrom3")}
    if tower == "astromer":  # a tower with the period input (AstromerEmbedder's default)
        curves = list(X["light_curve"][X["light_curve"].notna()])
        towers["astromer"] = dict(ASTROMER, photometry_init=AstromerEmbedder(
            d_model=8, n_layers=1, n_heads=2, d_ff=8, max_obs=24, max_epochs=0).fit(curves))
    calls.clear()  # the fit and transform of the multimodal estimator from here
    MultimodalCLIPEmbedder(**towers[tower], max_epochs=0, device="cpu").fit(X).transform(X)
    assert calls and all(call == {"n_jobs": torch.get_num_threads(), "device": "seen cpu"}
                         for call in calls)


def test_clip_loss_decreases(catalogue):
    X, _ = catalogue
    embedder = MultimodalCLIPEmbedder(**{**TINY, "lr": 3e-3}, max_epochs=6).fit(X)
    losses = embedder.net_.history[:, "train_loss"]
    assert len(losses) == 6 and losses[-1] < losses[0]


def test_fused_is_mean_of_the_present_modalities(fitted, catalogue):
    X, _ = catalogue
    modalities = fitted.transform_modalities(X)
    assert list(modalities) == list(fitted.modalities_)
    stacked = np.stack(list(modalities.values()), axis=1)
    absent = np.isnan(stacked).all(axis=2)
    np.testing.assert_array_equal(absent[:, 0], X["light_curve"].isna().to_numpy())
    np.testing.assert_array_equal(absent[:, 1], X["spectrum"].isna().to_numpy())
    np.testing.assert_array_equal(absent[:, 2], X["parallax"].isna().to_numpy())
    assert absent.any() and not absent.all(axis=1).any()
    present = stacked[~absent]
    np.testing.assert_allclose(np.linalg.norm(present, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(fitted.transform(X), np.nanmean(stacked, axis=1), atol=1e-6)


def test_concat_output_marks_absent_modalities_nan(fitted, catalogue):
    X, _ = catalogue
    concat = MultimodalCLIPEmbedder(**TINY, max_epochs=2, output="concat").fit(X)
    Z = concat.transform(X)
    assert Z.shape == (len(X), 48)
    np.testing.assert_array_equal(np.isnan(Z[:, 16:32]).all(axis=1), X["spectrum"].isna())
    names = concat.get_feature_names_out()
    assert names[0] == "multimodalclipembedder_light_curve0"
    assert names[-1] == "multimodalclipembedder_metadata15"


def test_row_without_any_modality_is_refused_by_index(fitted, catalogue):
    X, _ = catalogue
    X = X.copy()
    X.loc[3, "light_curve"] = None
    X.loc[3, "spectrum"] = None
    X.loc[3, fitted.metadata_columns_] = np.nan
    with pytest.raises(ValueError, match=r"Row\(s\) \[3\] have no modality"):
        fitted.transform(X)
    with pytest.raises(ValueError, match=r"\[3\]"):
        MultimodalCLIPEmbedder(**TINY, max_epochs=1).fit(X)


def test_rows_follow_inputs(fitted, catalogue):
    X, _ = catalogue
    order = np.random.default_rng(0).permutation(len(X))
    np.testing.assert_allclose(fitted.transform(X.iloc[order]), fitted.transform(X)[order],
                               atol=1e-5)


def test_same_random_state_gives_identical_embeddings(fitted, catalogue):
    X, _ = catalogue
    again = MultimodalCLIPEmbedder(**TINY, max_epochs=2).fit(X)
    np.testing.assert_array_equal(again.transform(X), fitted.transform(X))
    other = MultimodalCLIPEmbedder(**{**TINY, "random_state": 1}, max_epochs=2).fit(X)
    assert not np.allclose(other.transform(X), fitted.transform(X))


def test_fitted_preprocessing_statistics(fitted, catalogue):
    X, _ = catalogue
    columns = fitted.metadata_columns_
    assert "light_curve" not in columns and "spectrum" not in columns and "parallax" in columns
    # AstroM3's transforms: absolute magnitudes, cos(l), sin(b); then z-scores.
    expected = X[columns].copy()
    distance_modulus = 5 * np.log10(expected["parallax"].where(expected["parallax"] > 0, 1)) - 10
    for column in ("mean_mag", "phot_g_mean_mag", "phot_bp_mean_mag", "phot_rp_mean_mag",
                   "j_mag", "h_mag", "k_mag", "w1_mag", "w2_mag", "w3_mag", "w4_mag"):
        expected[column] += distance_modulus
    expected["l"] = np.cos(np.radians(expected["l"]))
    expected["b"] = np.sin(np.radians(expected["b"]))
    np.testing.assert_allclose(fitted.metadata_mean_, expected.mean().to_numpy())
    np.testing.assert_allclose(fitted.metadata_scale_, expected.std(ddof=0).to_numpy())
    np.testing.assert_array_equal(fitted.wavelengths_, SPECTRUM_WAVELENGTHS)
    plain = MultimodalCLIPEmbedder(**TINY, metadata_transform=None, max_epochs=0).fit(X)
    np.testing.assert_allclose(plain.metadata_mean_, X[columns].mean().to_numpy())


def test_wavelength_flux_pairs_are_resampled_onto_the_grid(fitted, catalogue):
    X, _ = catalogue
    rows = X.index[X["spectrum"].notna()][:4]
    on_grid = X.loc[rows]
    # The same spectra as (wavelength, flux) pairs at half the resolution,
    # reversed: interpolation brings them back onto the grid.
    pairs = on_grid.copy()
    pairs["spectrum"] = [np.column_stack([SPECTRUM_WAVELENGTHS, flux])[::-1]
                         for flux in on_grid["spectrum"]]
    expected = fitted.transform_modalities(on_grid)["spectrum"]
    np.testing.assert_allclose(fitted.transform_modalities(pairs)["spectrum"], expected,
                               atol=1e-5)


def test_malformed_cells_name_their_row(fitted, catalogue):
    X, _ = catalogue
    bad = X.copy()
    bad.at[5, "spectrum"] = np.ones(100)
    with pytest.raises(ValueError, match="row 5 of column 'spectrum'"):
        fitted.transform(bad)
    with pytest.raises(ValueError, match="no column 'spectrum'"):
        fitted.transform(X.drop(columns="spectrum"))


def test_modalities_follow_the_column_parameters(catalogue):
    X, _ = catalogue
    X = X[X["light_curve"].notna()]  # so that no row is left with nothing
    two = MultimodalCLIPEmbedder(**TINY, spectrum_column=None, max_epochs=1).fit(X)
    assert two.modalities_ == ("light_curve", "metadata") and two.wavelengths_ is None
    picked = MultimodalCLIPEmbedder(**TINY, metadata_columns=["parallax", "bp_rp"],
                                    max_epochs=1).fit(X)
    assert picked.metadata_columns_ == ["parallax", "bp_rp"]
    no_meta = MultimodalCLIPEmbedder(**TINY, metadata_columns=[], max_epochs=1).fit(X)
    assert no_meta.modalities_ == ("light_curve", "spectrum")


def test_two_light_curve_bands_get_a_tower_each(catalogue):
    X, _ = catalogue
    X = X.assign(light_curve_r=[None if curve is None else curve[::2] + [0, 0.3, 0]
                                for curve in X["light_curve"]])
    embedder = MultimodalCLIPEmbedder(**TINY, light_curve_column=["light_curve", "light_curve_r"],
                                      max_epochs=2).fit(X)
    assert embedder.modalities_ == ("light_curve", "light_curve_r", "spectrum", "metadata")
    assert embedder.net_.criterion_.logit_scales.shape == (6,)
    assert embedder.transform(X).shape == (len(X), 16)


def test_one_modality_cannot_be_trained_contrastively(catalogue):
    X, _ = catalogue
    with pytest.raises(ValueError, match="two modalities or more"):
        MultimodalCLIPEmbedder(**TINY, max_epochs=1).fit(list(X["light_curve"].dropna()))
    frozen = MultimodalCLIPEmbedder(**TINY, max_epochs=0).fit(np.random.rand(5, 30))
    assert frozen.transform(np.random.rand(3, 12)).shape == (3, 16)
    supervised = MultimodalCLIPEmbedder(**TINY, max_epochs=0, fine_tune="supervised",
                                        fine_tune_epochs=1).fit(np.random.rand(6, 30), [0, 1] * 3)
    assert supervised.predict(np.random.rand(2, 30)).shape == (2,)
    with pytest.raises(ValueError, match=r"\['spectrum'\] are missing in every training row"):
        MultimodalCLIPEmbedder(**TINY, max_epochs=1).fit(
            X[X["light_curve"].notna()].assign(spectrum=None))


def test_dense_light_curves_embed_with_a_multimodal_model(fitted, catalogue):
    X, _ = catalogue
    curves = list(X["light_curve"].dropna())
    expected = fitted.transform_modalities(X)["light_curve"][X["light_curve"].notna()]
    np.testing.assert_allclose(fitted.transform(curves), expected, atol=1e-6)


def test_supervised_fine_tuning_predicts_and_changes_the_towers(fitted, catalogue, tmp_path):
    X, y = catalogue
    tuned = MultimodalCLIPEmbedder(**TINY, max_epochs=2, fine_tune="supervised",
                                   fine_tune_epochs=3, fine_tune_lr=3e-3).fit(X, y)
    probabilities = tuned.predict_proba(X)
    assert probabilities.shape == (len(X), 4)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert set(tuned.predict(X)) <= set(CLASSES) and list(tuned.classes_) == sorted(CLASSES)
    assert not np.allclose(tuned.transform(X), fitted.transform(X))
    assert not hasattr(fitted, "predict")
    tuned.save_pretrained(tmp_path / "tuned")
    loaded = MultimodalCLIPEmbedder.from_pretrained(tmp_path / "tuned")
    np.testing.assert_array_equal(loaded.predict_proba(X), probabilities)
    with pytest.raises(ValueError, match="needs the class labels"):
        MultimodalCLIPEmbedder(**TINY, fine_tune="supervised").fit(X)


def test_photometry_init_loads_astromer_weights(catalogue, tmp_path):
    X, _ = catalogue
    curves = list(X["light_curve"].dropna())
    plain = dict(time_encoding="paper", period_input=False, magnitude_scaling="none")
    astromer = AstromerEmbedder(d_model=8, n_layers=1, n_heads=2, d_ff=8, max_obs=24,
                                max_epochs=1, random_state=0, **plain).fit(curves)
    embedder = MultimodalCLIPEmbedder(**ASTROMER, photometry_init=astromer, max_epochs=0).fit(X)
    assert embedder.config_["d_model"] == 8 and embedder.config_["max_obs"] == 24
    tower = embedder.net_.module_.towers["light_curve"].encoder.state_dict()
    for name, value in astromer.net_.module_.encoder.state_dict().items():
        torch.testing.assert_close(tower[name], value)
    astromer.save_pretrained(tmp_path / "astromer")
    from_dir = MultimodalCLIPEmbedder(**ASTROMER, photometry_init=str(tmp_path / "astromer"),
                                      max_epochs=0).fit(X)
    with pytest.raises(ValueError, match='photometry_encoder="astromer"'):
        MultimodalCLIPEmbedder(**TINY, photometry_init=astromer, max_epochs=0).fit(X)
    torch.testing.assert_close(from_dir.net_.module_.towers["light_curve"].encoder.state_dict(),
                               tower)


def test_photometry_init_takes_a_model_trained_with_the_library_defaults(catalogue, tmp_path):
    """Period input and scaled magnitudes (AstromerEmbedder's defaults) seed the tower: its
    light-curve embedding is the AstromerEmbedder's mean-pooled embedding, projected."""
    X, _ = catalogue
    present = X["light_curve"].notna().to_numpy()
    curves = list(X["light_curve"][present])
    astromer = AstromerEmbedder(d_model=8, n_layers=1, n_heads=2, d_ff=8, max_obs=24,
                                max_epochs=1, random_state=0).fit(curves)
    assert astromer.config_["period_input"] and astromer.config_["magnitude_scaling"] == "std"
    embedder = MultimodalCLIPEmbedder(**ASTROMER, photometry_init=astromer, max_epochs=0).fit(X)
    assert embedder.config_["period_input"] and embedder.config_["magnitude_scaling"] == "std"
    projection = embedder.net_.module_.projections["light_curve"]
    with torch.no_grad():
        expected = torch.nn.functional.normalize(
            projection(torch.from_numpy(astromer.transform(curves))), dim=-1).numpy()
    tower = embedder.transform_modalities(X)["light_curve"]
    np.testing.assert_allclose(tower[present], expected, atol=1e-5)
    # CLIP training runs on the tower's inputs (windows with phases and descriptors),
    # and the saved model keeps them.
    trained = MultimodalCLIPEmbedder(**ASTROMER, photometry_init=astromer, max_epochs=2).fit(X)
    trained.save_pretrained(tmp_path / "clip")
    loaded = MultimodalCLIPEmbedder.from_pretrained(tmp_path / "clip")
    assert loaded.config_["period_input"] and loaded.config_["magnitude_scaling"] == "std"
    np.testing.assert_array_equal(loaded.transform(X), trained.transform(X))


def test_photometry_init_from_the_published_macho_weights(shared_data, catalogue):
    X, _ = catalogue
    X = X.iloc[:8]
    macho = shared_data / "astromer_weights" / "macho.zip"
    embedder = MultimodalCLIPEmbedder(**ASTROMER, max_epochs=0, photometry_init=macho).fit(X)
    assert embedder.config_["variant"] == "paper" and embedder.config_["d_model"] == 256
    reference = AstromerEmbedder(pretrained=macho, max_epochs=0).fit(
        list(X["light_curve"].dropna()))
    tower = embedder.net_.module_.towers["light_curve"].encoder.state_dict()
    torch.testing.assert_close(tower, reference.net_.module_.encoder.state_dict())
    assert np.isfinite(embedder.transform(X)).all()


def test_pipeline_and_grid_search_over_max_epochs(catalogue):
    X, y = catalogue
    pipe = Pipeline([("emb", MultimodalCLIPEmbedder(**TINY)),
                     ("clf", LogisticRegression(max_iter=200))])
    search = GridSearchCV(pipe, {"emb__max_epochs": [0, 1]}, cv=2).fit(X, y)
    assert search.best_params_["emb__max_epochs"] in (0, 1)
    assert search.predict(X).shape == (len(X),)


def test_pandas_output(fitted, catalogue):
    X, _ = catalogue
    frame = MultimodalCLIPEmbedder(**TINY, max_epochs=0).set_output(transform="pandas").fit(X)
    out = frame.transform(X.set_index(X.index + 100))
    assert isinstance(out, pd.DataFrame) and list(out.index[:2]) == [100, 101]
    assert list(out.columns) == list(frame.get_feature_names_out())


def test_pickle_and_joblib_round_trip(fitted, catalogue, tmp_path):
    X, _ = catalogue
    expected = fitted.transform(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(fitted)).transform(X), expected)
    joblib.dump(fitted, tmp_path / "embedder.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "embedder.joblib").transform(X), expected)


def test_save_and_load_pretrained_round_trip(fitted, catalogue, tmp_path):
    X, _ = catalogue
    fitted.save_pretrained(tmp_path / "model")
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == [
        "config.json", "model.safetensors"]
    loaded = MultimodalCLIPEmbedder.from_pretrained(tmp_path / "model")
    np.testing.assert_array_equal(loaded.transform(X), fitted.transform(X))
    np.testing.assert_array_equal(loaded.metadata_mean_, fitted.metadata_mean_)
    torch.testing.assert_close(loaded.net_.criterion_.logit_scales,
                               fitted.net_.criterion_.logit_scales)
    # One tower of the saved model, alone: same embeddings, then fine-tuned.
    X = X[X["light_curve"].notna()]
    photometry = MultimodalCLIPEmbedder(pretrained=tmp_path / "model", spectrum_column=None,
                                        metadata_columns=[], max_epochs=0).fit(X)
    assert photometry.modalities_ == ("light_curve",)
    np.testing.assert_allclose(photometry.transform(X),
                               fitted.transform_modalities(X)["light_curve"], atol=1e-6)
    with pytest.raises(ValueError, match="no spectrum modality 'flux'"):
        MultimodalCLIPEmbedder(pretrained=tmp_path / "model", spectrum_column="flux").fit(X)


def test_model_marked_as_cuda_loads_on_cpu(fitted, catalogue):
    """A net pickled with device="cuda" is mapped to the CPU where no GPU exists."""
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU; the CPU fallback is not exercised")
    X, _ = catalogue
    expected = fitted.transform(X)
    state = fitted.net_.__getstate__()
    state["device"] = "cuda"
    net = type(fitted.net_).__new__(type(fitted.net_))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net.__setstate__(state)
    assert str(net.device) == "cpu"
    moved = pickle.loads(pickle.dumps(fitted))
    moved.net_ = net
    np.testing.assert_array_equal(moved.transform(X), expected)


# scikit-learn's checks run on the dense-array path: a (n_samples, n_steps)
# array is a catalogue of light curves alone, which the CLIP loss cannot train
# on (it needs two modalities), so the checks use max_epochs=0 (the towers keep
# their seeded initial weights); training is tested on DataFrames above.
_VARIABLE_LENGTH = (
    "light curves have variable length: n_features_in_ is undefined and inputs "
    "with another number of observations are valid"
)
EXPECTED_FAILURES = {
    "check_n_features_in": _VARIABLE_LENGTH,
    "check_n_features_in_after_fitting": _VARIABLE_LENGTH,
    "check_transformer_general": _VARIABLE_LENGTH + " (it transforms X[:, :-1])",
    "check_transformer_general(readonly_memmap=True)": _VARIABLE_LENGTH + " (X[:, :-1])",
    "check_transformer_data_not_an_array": _VARIABLE_LENGTH + " (X[:, :-1])",
}


@parametrize_with_checks([MultimodalCLIPEmbedder(**TINY, max_epochs=0)],
                         expected_failed_checks=lambda estimator: EXPECTED_FAILURES)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("tower", ["astrom3", "astromer"])
def test_inference_batching_changes_batches_not_embeddings(catalogue, tower):
    X, _ = catalogue
    embedder = MultimodalCLIPEmbedder(**TINY, photometry_encoder=tower, max_epochs=1).fit(X)
    auto = embedder.transform(X)
    np.testing.assert_allclose(embedder.set_params(inference_batch_size=3).transform(X), auto,
                               atol=1e-5)


def test_bfloat16_trains_in_mixed_precision(catalogue):
    X, y = catalogue
    embedder = MultimodalCLIPEmbedder(**TINY, max_epochs=1, precision="bfloat16",
                                      fine_tune="supervised", fine_tune_epochs=1).fit(X, y)
    assert embedder.net_.autocast_dtype is torch.bfloat16
    assert embedder.classifier_net_.autocast_dtype is torch.bfloat16
    assert all(p.dtype == torch.float32 for p in embedder.net_.module_.parameters())
    Z = embedder.transform(X)
    assert np.isfinite(Z[~np.isnan(Z).all(axis=1)]).all()
    assert embedder.predict_proba(X).shape == (len(X), len(embedder.classes_))


def test_photometry_init_refuses_a_joint_multiband_model(catalogue):
    from sklearn_astromer.datasets import make_light_curves

    X, _ = catalogue
    bands, _ = make_light_curves(2, classes=["RRab"], survey="ztf", bands=("g", "r"),
                                 n_obs=(30, 40), random_state=0)
    joint = AstromerEmbedder(d_model=8, n_layers=1, n_heads=2, d_ff=8, max_obs=24,
                             max_epochs=0).fit(bands)
    with pytest.raises(ValueError, match="joint multi-band model"):
        MultimodalCLIPEmbedder(**ASTROMER, photometry_init=joint, max_epochs=0).fit(X)


def test_a_multiband_light_curve_column_gives_one_modality_per_band(catalogue, tmp_path):
    from sklearn_astromer.datasets import make_light_curves

    X, _ = catalogue
    curves, _ = make_light_curves(6, classes=["RRab", "EW", "Mira", "DSCT"], survey="ztf",
                                  bands=("g", "r"), n_obs=(30, 60), random_state=0)
    X = X.copy()
    X["light_curve"] = pd.Series(curves[:len(X)], index=X.index, dtype=object)
    X.loc[X.index[1], "light_curve"] = None
    only_g = curves[2][curves[2][:, 3] == 0]
    X.loc[X.index[2], "light_curve"] = None
    X.at[X.index[2], "light_curve"] = only_g
    embedder = MultimodalCLIPEmbedder(**TINY, max_epochs=1).fit(X)
    assert embedder.modalities_[:2] == ("light_curve_band0", "light_curve_band1")
    assert embedder.layout_["photometry_bands"] == {"light_curve_band0": 0,
                                                    "light_curve_band1": 1}
    modalities = embedder.transform_modalities(X)
    assert np.isnan(modalities["light_curve_band1"][[1, 2]]).all()
    assert np.isfinite(modalities["light_curve_band0"][2]).all()
    embedder.save_pretrained(tmp_path / "bands")
    loaded = MultimodalCLIPEmbedder.from_pretrained(tmp_path / "bands")
    np.testing.assert_array_equal(loaded.transform(X), embedder.transform(X))
    single = X.assign(light_curve=[None if cell is None else cell[:, :3]
                                   for cell in X["light_curve"]])
    with pytest.raises(ValueError, match="a multi-band light curve has four columns"):
        embedder.transform(single)


def test_the_astromer_tower_checks_times_as_astromer_embedder_does(catalogue):
    X, _ = catalogue
    shifted = X.copy()
    row = int(np.flatnonzero(X["light_curve"].notna().to_numpy())[3])
    curve = np.array(X["light_curve"].iloc[row], dtype=float)
    curve[:, 0] += 2_400_000.5  # Julian dates with a float32-centring tower
    shifted.at[X.index[row], "light_curve"] = curve
    embedder = MultimodalCLIPEmbedder(**ASTROMER, max_epochs=0, photometry_init="macho").fit(X)
    with pytest.warns(UserWarning, match=rf"\[{row}\] have times of 131072 days or more"):
        embedder.transform(shifted)
    far = X.copy()
    curve[:, 0] = np.linspace(0, 1e31, len(curve))
    far.at[X.index[row], "light_curve"] = curve
    with pytest.raises(ValueError, match=rf"\[{row}\] span more than"):
        MultimodalCLIPEmbedder(**ASTROMER, max_epochs=1).fit(far)
