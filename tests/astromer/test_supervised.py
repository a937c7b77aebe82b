"""Supervised fine-tuning: fit(X, y) trains the encoder and a layer-weighted head."""

import numpy as np
import pytest
import torch
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from sklearn_astromer import AstromerEmbedder


@pytest.fixture
def supervised(sinusoids, tiny_params):
    X, y = sinusoids
    labels = np.where(y == 1, "short", "long")
    embedder = AstromerEmbedder(**tiny_params, max_epochs=1, fine_tune="supervised",
                                fine_tune_epochs=3, validation_fraction=0.25)
    return embedder.fit(X, labels), X, labels


def test_supervised_fit_needs_labels(sinusoids, tiny_params):
    X, y = sinusoids
    embedder = AstromerEmbedder(**tiny_params, fine_tune="supervised")
    with pytest.raises(ValueError, match="needs the class labels"):
        embedder.fit(X)
    with pytest.raises(ValueError, match="3 labels for 40 light curves"):
        embedder.fit(X, y[:3])
    with pytest.raises(ValueError, match="two classes"):
        embedder.fit(X, np.zeros(len(X)))


def test_supervised_fit_trains_encoder_and_head(supervised, sinusoids, tiny_params):
    embedder, X, labels = supervised
    assert list(embedder.classes_) == ["long", "short"]
    assert embedder.classifier_net_.module_.encoder is embedder.net_.module_.encoder
    history = embedder.classifier_net_.history
    assert len(history) >= 1 and "valid_loss" in history[-1]
    proba = embedder.predict_proba(X)
    assert proba.shape == (len(X), 2) and np.allclose(proba.sum(1), 1)
    assert set(embedder.predict(X)) <= {"long", "short"}
    self_supervised = AstromerEmbedder(**tiny_params, max_epochs=1).fit(X)
    assert not np.allclose(embedder.transform(X), self_supervised.transform(X))
    assert not hasattr(self_supervised, "predict")


def test_weighted_layer_pooling_is_the_heads_standardised_weighted_input(supervised):
    embedder, X, _ = supervised
    head = embedder.classifier_net_.module_.classifier
    weights = np.exp(head.layer_logits.detach().numpy())
    weights /= weights.sum()
    mean, scale = head.input_mean.numpy(), head.input_scale.numpy()
    layers = embedder.set_params(pooling="layers").transform(X).reshape(len(X), 2, -1)
    weighted = embedder.set_params(pooling="weighted_layers").transform(X)
    np.testing.assert_allclose(weighted, np.einsum("nld,l->nd", (layers - mean) / scale, weights),
                               atol=1e-4)


def test_head_inputs_are_standardised_with_the_training_curves(sinusoids, tiny_params):
    X, y = sinusoids
    # Probing alone leaves the encoder as it was when the statistics were taken;
    # without a validation part, the statistics are those of every curve.
    embedder = AstromerEmbedder(**tiny_params, max_epochs=1, fine_tune="supervised",
                                fine_tune_epochs=0, head_epochs=2, validation_fraction=None,
                                pooling="layers").fit(X, y)
    head = embedder.classifier_net_.module_.classifier
    layers = embedder.transform(X).reshape(len(X), 2, -1)
    np.testing.assert_allclose(head.input_mean.numpy(), layers.mean(axis=0), atol=1e-4)
    standardised = (layers - head.input_mean.numpy()) / head.input_scale.numpy()
    np.testing.assert_allclose(standardised.std(axis=0), 1, atol=1e-3)


def test_supervised_model_saves_and_predicts_after_loading(supervised, tmp_path):
    embedder, X, _ = supervised
    embedder.save_pretrained(tmp_path / "model")
    loaded = AstromerEmbedder.from_pretrained(tmp_path / "model")
    np.testing.assert_allclose(loaded.predict_proba(X), embedder.predict_proba(X), atol=1e-5)
    np.testing.assert_array_equal(loaded.classes_, embedder.classes_)


def test_grid_search_fine_tunes_on_the_training_folds_only(sinusoids, tiny_params):
    X, y = sinusoids
    seen = []

    class Recording(AstromerEmbedder):
        def fit(self, X, y=None):
            seen.append(len(y))
            return super().fit(X, y)

    pipe = Pipeline([("emb", Recording(**tiny_params, max_epochs=0, fine_tune="supervised",
                                       fine_tune_epochs=1)),
                     ("clf", RandomForestClassifier(n_estimators=10, random_state=0))])
    search = GridSearchCV(pipe, {"emb__fine_tune_lr": [1e-3, 1e-4]}, cv=2).fit(X, y)
    assert seen[:4] == [20, 20, 20, 20] and seen[-1] == 40
    assert 0 <= search.best_score_ <= 1


def test_class_weights_balance_rare_classes(sinusoids, tiny_params):
    X, y = sinusoids
    keep = np.flatnonzero((y == 0) | (np.arange(len(y)) < 12))
    embedder = AstromerEmbedder(**tiny_params, max_epochs=0, fine_tune="supervised",
                                fine_tune_epochs=1, validation_fraction=None)
    embedder.fit([X[i] for i in keep], y[keep])
    weights = embedder.classifier_net_.criterion_.weight.numpy()
    counts = np.bincount(y[keep])
    np.testing.assert_allclose(weights, len(keep) / (2 * counts), rtol=1e-6)
    unweighted = embedder.set_params(class_weight=None).fit([X[i] for i in keep], y[keep])
    assert unweighted.classifier_net_.criterion_.weight is None


def test_too_few_labels_per_class_train_without_validation(sinusoids, tiny_params):
    X, y = sinusoids
    y = y.copy()
    y[0] = 2  # a class with a single light curve: no stratified split
    embedder = AstromerEmbedder(**tiny_params, max_epochs=0, fine_tune="supervised",
                                fine_tune_epochs=1)
    with pytest.warns(UserWarning, match="stratified"):
        embedder.fit(X, y)
    assert "valid_loss" not in embedder.classifier_net_.history[-1]


@pytest.fixture
def frozen_start(sinusoids, tiny_params, tmp_path):
    X, y = sinusoids
    AstromerEmbedder(**tiny_params, max_epochs=1).fit(X).save_pretrained(tmp_path / "start")
    frozen = AstromerEmbedder.from_pretrained(tmp_path / "start").transform(X)
    settings = dict(pretrained=tmp_path / "start", max_epochs=0, fine_tune="supervised",
                    random_state=0, validation_fraction=0.25)
    return X, y, frozen, settings


def test_probing_alone_keeps_the_encoder_and_learns_a_head(frozen_start):
    X, y, frozen, settings = frozen_start
    probed = AstromerEmbedder(**settings, fine_tune_epochs=0, head_epochs=30).fit(X, y)
    np.testing.assert_array_equal(probed.transform(X), frozen)
    assert probed.encoder_fine_tuned_ is False
    assert np.mean(probed.predict(X) == y) > 0.5
    assert all(p.requires_grad for p in probed.net_.module_.parameters())


@pytest.mark.parametrize("fine_tuned_is_better", [True, False])
def test_fine_tuned_encoder_is_kept_only_if_it_beats_the_probe_on_validation(
        frozen_start, monkeypatch, fine_tuned_is_better):
    from sklearn_astromer.astromer import _supervised

    X, y, frozen, settings = frozen_start
    # The probe's loss first, then the fine-tuned model's (then the reference probe's).
    losses = iter([1.0, 0.5 if fine_tuned_is_better else 1.5, 1.0])
    monkeypatch.setattr(_supervised, "validation_loss", lambda *args: next(losses))
    both = AstromerEmbedder(**settings, fine_tune_epochs=2, head_epochs=5, lr=1e-2).fit(X, y)
    assert both.encoder_fine_tuned_ is fine_tuned_is_better
    assert np.array_equal(both.transform(X), frozen) is not fine_tuned_is_better
    if not fine_tuned_is_better:
        probed = AstromerEmbedder(**settings, fine_tune_epochs=0, head_epochs=5,
                                  lr=1e-2).fit(X, y)
        np.testing.assert_allclose(both.predict_proba(X), probed.predict_proba(X), atol=1e-6)


def _copy_with(saved_dir, tmp_path, change_weights=None, change_config=None):
    import json

    from safetensors.torch import load_file, save_file

    directory = tmp_path / "tampered"
    directory.mkdir()
    for path in saved_dir.iterdir():
        (directory / path.name).write_bytes(path.read_bytes())
    if change_weights is not None:
        tensors = load_file(str(directory / "model.safetensors"))
        change_weights(tensors)
        save_file(tensors, str(directory / "model.safetensors"))
    if change_config is not None:
        config = json.loads((directory / "config.json").read_text())
        change_config(config)
        (directory / "config.json").write_text(json.dumps(config))
    return directory


@pytest.mark.parametrize("tamper, message", [
    (dict(change_config=lambda c: c.update(classes=["a", "b", "c"])),
     r"'classifier\.mlp\.\d+\.(weight|bias)' has shape \(2.*\); \(3.*\) is expected for "
     "the saved 3 classes"),
    (dict(change_weights=lambda t: t.pop("classifier.input_scale")),
     r"missing \['classifier\.input_scale'\]"),
    (dict(change_weights=lambda t: t.update({"classifier.extra": t["classifier.input_mean"].clone()})),
     r"unexpected \['classifier\.extra'\]"),
    (dict(change_weights=lambda t: t.update(
        {"classifier.layer_logits": t["classifier.layer_logits"].to(torch.int64)})),
     r"'classifier\.layer_logits' has dtype torch\.int64"),
    (dict(change_weights=lambda t: t.update(
        {"classifier.layer_logits": t["classifier.layer_logits"] > 0})),
     r"'classifier\.layer_logits' has dtype torch\.bool"),
    (dict(change_weights=lambda t: t.update(
        {"classifier.layer_logits": t["classifier.layer_logits"].to(torch.complex64)})),
     r"'classifier\.layer_logits' has dtype torch\.complex64"),
    (dict(change_weights=lambda t: t.update(
        {"classifier.input_mean": t["classifier.input_mean"][:, :3].contiguous()})),
     r"'classifier\.input_mean' has shape"),
])
def test_tampered_head_tensors_are_a_value_error_naming_file_and_key(supervised, tmp_path,
                                                                     tamper, message):
    embedder, X, _ = supervised
    embedder.save_pretrained(tmp_path / "model")
    directory = _copy_with(tmp_path / "model", tmp_path, **tamper)
    with pytest.raises(ValueError, match=r"model\.safetensors: .*" + message):
        AstromerEmbedder.from_pretrained(directory)
