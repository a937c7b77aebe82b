import pickle
import warnings

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.ensemble import IsolationForest, RandomForestClassifier
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from skorch.callbacks import Callback

from sklearn_astromer import AstromerEmbedder, LightCurveRepairWarning
from sklearn_astromer.astromer._net import masked_rmse


@pytest.fixture
def fitted(sinusoids, tiny_params):
    X, _ = sinusoids
    return AstromerEmbedder(**tiny_params, max_epochs=2).fit(X)


def test_transform_shape_dtype_and_finite(fitted, sinusoids):
    X, _ = sinusoids
    Z = fitted.transform(X)
    assert Z.shape == (len(X), 16) and Z.dtype == np.float32
    assert np.isfinite(Z).all()


def test_rows_follow_inputs(fitted, sinusoids):
    X, _ = sinusoids
    Z = fitted.transform(X)
    order = np.random.default_rng(0).permutation(len(X))
    np.testing.assert_allclose(fitted.transform([X[i] for i in order]), Z[order], atol=1e-5)


def test_same_random_state_gives_identical_embeddings(sinusoids, tiny_params):
    X, _ = sinusoids
    first = AstromerEmbedder(**tiny_params, max_epochs=2).fit(X).transform(X)
    second = AstromerEmbedder(**tiny_params, max_epochs=2).fit(X).transform(X)
    np.testing.assert_array_equal(first, second)
    other = AstromerEmbedder(**{**tiny_params, "random_state": 1}, max_epochs=2).fit(X)
    assert not np.allclose(other.transform(X), first)


def test_fit_does_not_disturb_global_torch_rng(sinusoids, tiny_params):
    X, _ = sinusoids
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    AstromerEmbedder(**tiny_params, max_epochs=1).fit(X)
    np.testing.assert_array_equal(torch.rand(3), expected)


def test_embedding_does_not_depend_on_batch_company(fitted, sinusoids):
    X, _ = sinusoids
    alone = np.vstack([fitted.transform([curve]) for curve in X[:6]])
    np.testing.assert_allclose(alone, fitted.transform(X)[:6], atol=1e-5)


def test_long_curves_are_covered_by_consecutive_windows(fitted, sinusoids):
    X, _ = sinusoids
    long_curve = np.vstack([X[0], X[2] + [200, 0, 0], X[4] + [400, 0, 0]])
    observations = fitted.embed_observations([long_curve])[0]
    assert observations.shape == (len(long_curve), 16)
    np.testing.assert_allclose(fitted.transform([long_curve])[0], observations.mean(0), atol=1e-5)


@pytest.mark.parametrize("pooling, width", [("mean", 16), ("max", 16), ("mean_std", 32)])
def test_pooling_options(sinusoids, tiny_params, pooling, width):
    X, _ = sinusoids
    embedder = AstromerEmbedder(**tiny_params, max_epochs=0, pooling=pooling).fit(X)
    Z = embedder.transform(X)
    assert Z.shape == (len(X), width)
    observations = embedder.embed_observations(X[:1])[0]
    if pooling == "max":
        np.testing.assert_allclose(Z[0], observations.max(0), atol=1e-5)
    if pooling == "mean_std":
        np.testing.assert_allclose(Z[0, 16:], observations.std(0), atol=1e-4)
    assert len(embedder.get_feature_names_out()) == width


def test_reconstruct_returns_input_scale(fitted, sinusoids):
    X, _ = sinusoids
    reconstructions = fitted.reconstruct(X)
    assert [len(r) for r in reconstructions] == [len(x) for x in X]
    # Windows are zero-meaned, so a constant offset comes back unchanged.
    shifted = fitted.reconstruct([curve + [0.0, 3.0, 0.0] for curve in X])
    for reconstruction, moved in zip(reconstructions, shifted):
        np.testing.assert_allclose(moved, reconstruction + 3.0, atol=1e-4)


def test_training_reduces_masked_rmse(sinusoids, tiny_params):
    X, _ = sinusoids
    untrained = AstromerEmbedder(**tiny_params, max_epochs=0).fit(X)
    trained = AstromerEmbedder(**tiny_params, max_epochs=15, lr=3e-3,
                               validation_fraction=None).fit(X)
    assert trained.score(X) > untrained.score(X)
    history = trained.net_.history[:, "train_loss"]
    assert history[-1] < history[0]


def test_score_is_deterministic_negative_rmse(fitted, sinusoids):
    X, _ = sinusoids
    assert fitted.score(X) == fitted.score(X) < 0


def test_early_stopping_restores_best_weights(sinusoids, tiny_params):
    X, _ = sinusoids
    embedder = AstromerEmbedder(**tiny_params, max_epochs=30, lr=0.05, patience=2).fit(X)
    history = embedder.net_.history
    assert len(history) < 30
    best = min(history[:, "valid_loss"])
    assert embedder.net_.history[-1, "valid_loss"] >= best


def test_user_callbacks_run(sinusoids, tiny_params):
    class CountEpochs(Callback):
        def initialize(self):
            self.epochs = 0
            return self

        def on_epoch_end(self, net, **kwargs):
            self.epochs += 1

    counter = CountEpochs()
    X, _ = sinusoids
    embedder = AstromerEmbedder(**tiny_params, max_epochs=3, callbacks=[counter],
                                validation_fraction=None).fit(X)
    counters = [cb for _, cb in embedder.net_.callbacks_ if isinstance(cb, CountEpochs)]
    assert counters[0].epochs == 3


def test_too_few_curves_for_validation_warns(tiny_params):
    X = [np.column_stack([np.arange(10.0), np.sin(np.arange(10.0)), np.ones(10)])] * 3
    with pytest.warns(UserWarning, match="too few"):
        AstromerEmbedder(**tiny_params, max_epochs=1).fit(X)


def test_paper_variant_trains_and_pads_to_max_obs(sinusoids, tiny_params):
    X, _ = sinusoids
    embedder = AstromerEmbedder(**tiny_params, variant="paper", max_epochs=1).fit(X)
    assert embedder.transform(X).shape == (len(X), 16)
    assert not hasattr(embedder.net_.module_.encoder, "mask_token")


def test_parameter_count_of_paper_size_models():
    paper = AstromerEmbedder(variant="paper", time_encoding="paper", period_input=False,
                             max_epochs=0).fit([np.ones((3, 3))])
    assert sum(p.numel() for p in paper.net_.module_.parameters()) == 661_505


def test_bad_input_reaches_the_user(fitted):
    with pytest.raises(ValueError, match=r"Light curve 1 has shape"):
        fitted.transform([np.ones((3, 3)), np.ones(3)])
    with pytest.raises(ValueError, match=r"\[0\] have no finite observation"):
        fitted.transform([np.empty((0, 3))])
    nan_curve = np.column_stack([np.arange(5.0), [1, np.nan, 3, 4, 5], np.ones(5)])
    with pytest.warns(LightCurveRepairWarning, match=r"\[0\]"):
        assert fitted.transform([nan_curve]).shape == (1, 16)


def test_one_point_curve_is_embedded(fitted):
    Z = fitted.transform([np.array([[5.0, 15.0, 0.1]])])
    assert np.isfinite(Z).all()


def test_pickle_and_joblib_round_trip(fitted, sinusoids, tmp_path):
    X, _ = sinusoids
    expected = fitted.transform(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(fitted)).transform(X), expected)
    joblib.dump(fitted, tmp_path / "model.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "model.joblib").transform(X), expected)


def test_pickle_does_not_carry_the_training_data(sinusoids, tiny_params):
    X, _ = sinusoids
    embedder = AstromerEmbedder(**tiny_params, max_epochs=1).fit(X * 20)
    small = AstromerEmbedder(**tiny_params, max_epochs=1).fit(X)
    assert len(pickle.dumps(embedder)) < 1.2 * len(pickle.dumps(small))


def test_model_marked_as_cuda_loads_on_cpu(fitted, sinusoids):
    """A net pickled with device="cuda" is mapped to the CPU where no GPU exists."""
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU; the CPU fallback is not exercised")
    X, _ = sinusoids
    state = fitted.net_.__getstate__()
    state["device"] = "cuda"
    net = type(fitted.net_).__new__(type(fitted.net_))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net.__setstate__(state)
    assert str(net.device) == "cpu"
    fitted.net_ = net
    assert fitted.transform(X).shape == (len(X), 16)


def test_save_and_load_pretrained_round_trip(fitted, sinusoids, tmp_path):
    X, _ = sinusoids
    fitted.save_pretrained(tmp_path / "model")
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == [
        "config.json", "model.safetensors"]
    loaded = AstromerEmbedder.from_pretrained(tmp_path / "model")
    np.testing.assert_array_equal(loaded.transform(X), fitted.transform(X))
    assert loaded.max_obs == 200 and loaded.config_["max_obs"] == 32
    frozen = AstromerEmbedder(pretrained=str(tmp_path / "model"), max_epochs=0).fit(X)
    # Another batch size changes matrix-multiply blocking: equal to round-off only.
    np.testing.assert_allclose(frozen.transform(X), fitted.transform(X), atol=1e-5)


def test_saved_settings_restored_by_from_pretrained_not_by_the_constructor(
        sinusoids, tiny_params, tmp_path):
    X, _ = sinusoids
    saved = AstromerEmbedder(**{**tiny_params, "batch_size": 8}, pooling="mean_std",
                             dropout=0.3, max_epochs=0).fit(X)
    saved.save_pretrained(tmp_path / "model")

    restored = AstromerEmbedder.from_pretrained(tmp_path / "model")
    assert (restored.pooling, restored.dropout, restored.batch_size) == ("mean_std", 0.3, 8)
    assert restored.transform(X).shape == (len(X), 32)
    assert clone(restored).pooling == "mean_std"  # a parameter: clones keep it
    assert AstromerEmbedder.from_pretrained(tmp_path / "model", pooling="max").pooling == "max"

    # The constructor's parameters are the user's: pooling stays "mean", also in a search.
    own = AstromerEmbedder(pretrained=tmp_path / "model", max_epochs=0).fit(X)
    assert own.pooling == "mean" and own.transform(X).shape == (len(X), 16)
    np.testing.assert_allclose(own.transform(X), restored.transform(X)[:, :16], atol=1e-5)


def test_invalid_saved_setting_names_the_config(fitted, tmp_path):
    import json

    fitted.save_pretrained(tmp_path / "model")
    path = tmp_path / "model" / "config.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "pooling": "median"}))
    with pytest.raises(ValueError, match=r"config\.json: saved setting: .*'pooling'.*median"):
        AstromerEmbedder.from_pretrained(tmp_path / "model")
    assert AstromerEmbedder.from_pretrained(tmp_path / "model", pooling="max").pooling == "max"
    with pytest.raises(ValueError, match=r"^The 'pooling' parameter .*'mode'"):
        AstromerEmbedder.from_pretrained(tmp_path / "model", pooling="mode")


def test_fine_tuning_from_saved_model_changes_weights(fitted, sinusoids, tmp_path):
    X, _ = sinusoids
    fitted.save_pretrained(tmp_path / "model")
    tuned = AstromerEmbedder(pretrained=tmp_path / "model", max_epochs=2, random_state=0).fit(X)
    assert tuned.config_ == fitted.config_
    assert not np.allclose(tuned.transform(X), fitted.transform(X))


def test_pipeline_with_random_forest(sinusoids, tiny_params):
    X, y = sinusoids
    pipe = Pipeline([("emb", AstromerEmbedder(**tiny_params, max_epochs=2)),
                     ("clf", RandomForestClassifier(n_estimators=20, random_state=0))])
    pipe.fit(X, y)
    assert pipe.score(X, y) > 0.7


def test_grid_search_over_fine_tuning_settings(sinusoids, tiny_params):
    X, y = sinusoids
    pipe = Pipeline([("emb", AstromerEmbedder(**tiny_params)),
                     ("clf", RandomForestClassifier(n_estimators=10, random_state=0))])
    search = GridSearchCV(pipe, {"emb__max_epochs": [0, 1], "emb__lr": [1e-3, 1e-4]}, cv=2)
    search.fit(X, y)
    assert set(search.best_params_) == {"emb__max_epochs", "emb__lr"}


def test_grid_search_on_embedder_alone_uses_score(sinusoids, tiny_params):
    X, _ = sinusoids
    search = GridSearchCV(AstromerEmbedder(**tiny_params), {"max_epochs": [0, 3]}, cv=2).fit(X)
    assert np.isfinite(search.best_score_)


def test_isolation_forest_anomaly_scores(sinusoids, tiny_params):
    X, _ = sinusoids
    pipe = Pipeline([("emb", AstromerEmbedder(**tiny_params, max_epochs=0)),
                     ("iso", IsolationForest(random_state=0))]).fit(X)
    scores = pipe.score_samples(X)
    assert scores.shape == (len(X),) and np.isfinite(scores).all()


def test_pandas_output(fitted, sinusoids):
    pd = pytest.importorskip("pandas")
    X, _ = sinusoids
    frame = fitted.set_output(transform="pandas").transform(X)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns[:2]) == ["astromerembedder0", "astromerembedder1"]
    fitted.set_output(transform="default")


def test_masked_rmse_matches_the_formula():
    prediction = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    target = torch.tensor([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]])
    mask = torch.tensor([[True, True, False], [True, False, False]])
    expected = np.sqrt(np.mean([(0 + 4) / 2, 1 / 1]))
    assert masked_rmse(prediction, target, mask).item() == pytest.approx(expected)


@pytest.mark.parametrize("precision", ["bfloat16", "float16"])
def test_reduced_precision_inference_is_close_to_float32(fitted, sinusoids, precision):
    """The GPU autocast path, exercised on the CPU so that it cannot rot."""
    X, _ = sinusoids
    expected = fitted.transform(X)
    fitted.set_params(precision=precision)
    try:
        reduced = fitted.transform(X)
        assert reduced.dtype == np.float32
        np.testing.assert_allclose(reduced, expected, atol=0.1)
        assert not np.array_equal(reduced, expected)
        assert np.isfinite(fitted.score(X))
    finally:
        fitted.set_params(precision="float32")


def test_transform_in_chunks_equals_one_pass_and_names_global_indices(
        fitted, sinusoids, monkeypatch):
    import sklearn_astromer.astromer._estimator as astromer_module

    X, _ = sinusoids
    expected = fitted.transform(X)
    monkeypatch.setattr(astromer_module, "TRANSFORM_CHUNK_SIZE", 7)
    np.testing.assert_allclose(fitted.transform(X), expected, atol=1e-6)
    broken = list(X)
    broken[23] = np.ones(4)
    with pytest.raises(ValueError, match="Light curve 23 has shape"):
        fitted.transform(broken)
    broken[23] = np.column_stack([np.arange(4.0), [1, np.nan, 2, 3], np.ones(4)])
    with pytest.warns(LightCurveRepairWarning, match=r"\[23\]"):
        fitted.transform(broken)


@pytest.mark.parametrize("inference_batch_size", [1, 7, "auto"])
def test_inference_batch_size_changes_batching_not_embeddings(fitted, sinusoids,
                                                              inference_batch_size):
    X, _ = sinusoids
    reference = fitted.set_params(inference_batch_size=1000).transform(X)
    embeddings = fitted.set_params(inference_batch_size=inference_batch_size).transform(X)
    np.testing.assert_allclose(embeddings, reference, rtol=1e-4, atol=1e-5)


def test_verbose_zero_prints_nothing_and_one_prints_a_plain_log(sinusoids, tiny_params, capsys):
    X, y = sinusoids
    AstromerEmbedder(**tiny_params, max_epochs=1, fine_tune="supervised",
                     fine_tune_epochs=1).fit(X, y)
    assert capsys.readouterr().out == ""
    AstromerEmbedder(**tiny_params, max_epochs=1, verbose=1).fit(X)
    out = capsys.readouterr().out
    assert "train_loss" in out and "\x1b[" not in out  # no colour codes off a terminal


def test_bfloat16_training_is_mixed_precision(sinusoids, tiny_params):
    X, y = sinusoids
    float32 = AstromerEmbedder(**tiny_params, max_epochs=2).fit(X)
    mixed = AstromerEmbedder(**tiny_params, max_epochs=2, precision="bfloat16",
                             fine_tune="supervised", fine_tune_epochs=1).fit(X, y)
    assert mixed.net_.autocast_dtype is torch.bfloat16
    assert mixed.classifier_net_.autocast_dtype is torch.bfloat16
    assert all(p.dtype == torch.float32 for p in mixed.net_.module_.parameters())
    losses = [row["train_loss"] for row in mixed.net_.history]
    reference = [row["train_loss"] for row in float32.net_.history]
    assert np.isfinite(losses).all()
    np.testing.assert_allclose(losses, reference, rtol=0.05)  # same run, bf16 products
    assert float32.net_.autocast_dtype is None
