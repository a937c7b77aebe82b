"""The ASTROMER paper's classification protocol, shared by bench_classification and bench_ablation.

For a simulated survey: a labelled pool of ``max(sizes)`` light curves per
class, a fixed test set of ``n_test`` per class, and a validation set of
``n_valid`` per class (simulated with other seeds: modelling choices are made
on it, never on the test set). For each size and fold a stratified subset of
the pool is drawn and split 80/20 (the 20 % only early-stops what trains
with early stopping); classifiers are scored by macro F1.
"""

import time

import numpy as np
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_astromer import AstromerEmbedder
from sklearn_astromer._periods import lomb_scargle_periods
from sklearn_astromer._validation import check_light_curves
from sklearn_astromer._window_batches import iter_window_batches
from sklearn_astromer.datasets import make_light_curves
from sklearn_astromer.preprocessing import curve_descriptors as descriptors_of_curves

#: Principal components of an embedding kept beside the features in a union.
UNION_COMPONENTS = 16

#: The protocol's settings shared by the scripts (each adds its own).
PROTOCOL = dict(
    surveys=["ogle", "ztf"],
    classes=None,  # all ten simulated classes
    n_folds=3,
    n_test=100,
    n_valid=50,
    validation_share=0.2,
    n_unlabelled=3000,  # pre-training set, split evenly over the surveys and classes
    n_obs=None,  # the surveys' own epoch-count distributions
    rf=dict(n_estimators=300),
    features=dict(),  # LightCurveFeatures defaults
    seed=0,
)
#: Their smoke-run (``--quick``) values.
QUICK_PROTOCOL = dict(
    surveys=["ztf"],
    classes=["RRab", "EA", "Mira"],
    sizes=[20],
    n_folds=1,
    n_test=10,
    n_unlabelled=60,
    n_obs=(40, 80),
    rf=dict(n_estimators=50),
    features=dict(max_n_frequencies=2000),
)


def simulate(n_per_class, survey, seed, config):
    """``(light curves, labels)`` of a simulated survey."""
    return make_light_curves(n_per_class, classes=config["classes"], survey=survey,
                             random_state=seed, n_obs=config["n_obs"])


def survey_sets(survey, survey_index, config):
    """Pool, validation and test sets of one survey (fixed seeds per survey)."""
    seed = config["seed"] + 100 * (survey_index + 1)
    pool = simulate(max(config["sizes"]), survey, seed + 1, config)
    test = simulate(config["n_test"], survey, seed + 2, config)
    valid = simulate(config["n_valid"], survey, seed + 3, config)
    return pool, valid, test


def unlabelled_mix(config, per_class=None):
    """An unlabelled mix of the surveys for pre-training (labels dropped)."""
    n_classes = len(np.unique(simulate(1, "ogle", 0, config)[1]))
    per_class = per_class or max(1, config["n_unlabelled"]
                                 // (len(config["surveys"]) * n_classes))
    curves = []
    for index, survey in enumerate(config["surveys"]):
        curves += simulate(per_class, survey, 1000 + index, config)[0]
    return curves


def draw_subset(y_pool, size, fold, config):
    """Stratified ``size``-per-class subset of the pool, split into (train, valid) indices."""
    rng = np.random.default_rng([config["seed"], size, fold])
    train, valid = [], []
    n_valid = int(round(size * config["validation_share"]))
    for label in np.unique(y_pool):
        members = rng.permutation(np.flatnonzero(y_pool == label))[:size]
        valid.append(members[:n_valid])
        train.append(members[n_valid:])
    return np.concatenate(train), np.concatenate(valid)


def fit_predict(kind, Z_train, y_train, Z_eval, seed, config):
    """Predictions on ``Z_eval`` of a random forest (``"RF"``) or logistic regression (``"LR"``)."""
    if kind == "RF":
        model = RandomForestClassifier(**config["rf"], n_jobs=2, random_state=seed)
    elif kind == "LR":
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000))
    else:
        raise ValueError(kind)
    return model.fit(Z_train, y_train).predict(Z_eval)


def union(F_train, Z_train, F_evals, Z_evals, seed, n_components=UNION_COMPONENTS):
    """Features side by side with the first principal components of an embedding.

    The components are fitted on the training embeddings only.
    """
    pca = PCA(min(n_components, *Z_train.shape), random_state=seed).fit(Z_train)
    return (np.hstack([F_train, pca.transform(Z_train)]),
            [np.hstack([F, pca.transform(Z)]) for F, Z in zip(F_evals, Z_evals)])


def curve_descriptors(curves):
    """The period input's five scalars for whole light curves (log period, its power,
    a period flag, log spread, log median error): what a model sees before any
    learning, as a baseline representation."""
    light_curves = check_light_curves(curves)
    return descriptors_of_curves(light_curves,
                                 *lomb_scargle_periods(light_curves, n_jobs=2))


def mean_predictor_rmse(light_curves, max_obs, scale_magnitudes=False):
    """Masked RMSE (magnitudes) of predicting every window's mean: what "learned nothing" scores.

    Per-window formula, like :meth:`AstromerEmbedder.score` (the masked points
    are a uniform sample of each window, so all its points give the expectation).
    """
    windows = iter_window_batches(check_light_curves(light_curves), max_obs, 256, False,
                                  scale_magnitudes=scale_magnitudes)
    mean_squares = [np.sum((w.magnitudes * w.magnitude_scales[:, None]) ** 2, axis=1)
                    / w.valid.sum(axis=1) for w in windows]
    return float(np.sqrt(np.mean(np.concatenate(mean_squares))))


def fine_tune(start_dir, curves, labels, config, seed):
    """Supervised fine-tuning from ``start_dir`` on ``curves`` (20 % stratified validation).

    Epochs give about ``config["fine_tune"]["windows"]`` windows, within its
    bounds; batch, learning rate and patience come from the same settings;
    the head is first probed on the frozen encoder (the library's
    ``head_epochs``), and the fine-tuned encoder is kept only where it beats
    the probe on the validation curves.
    """
    settings = config["fine_tune"]
    epochs = int(np.clip(round(settings["windows"] / len(curves)), settings["min_epochs"],
                         settings["max_epochs"]))
    return AstromerEmbedder(
        pretrained=start_dir, max_epochs=0, fine_tune="supervised", fine_tune_epochs=epochs,
        fine_tune_lr=settings["lr"], batch_size=settings["batch_size"],
        patience=settings["patience"], validation_fraction=config["validation_share"],
        pooling="weighted_layers", device="cpu", random_state=seed,
    ).fit(curves, labels)


def score(y_true, predicted):
    return {"f1": f1_score(y_true, predicted, average="macro"),
            "accuracy": accuracy_score(y_true, predicted),
            "per_class_f1": f1_score(y_true, predicted, average=None)}


def summary(scores, classes):
    """Mean and population sd over folds of a list of :func:`score` dicts (and timings)."""
    f1 = [s["f1"] for s in scores]
    per_class = np.mean([s["per_class_f1"] for s in scores], axis=0)
    out = {
        "f1_mean": float(np.mean(f1)), "f1_sd": float(np.std(f1)),
        "f1_folds": [float(v) for v in f1],
        "accuracy_mean": float(np.mean([s["accuracy"] for s in scores])),
        "per_class_f1": {str(c): float(v) for c, v in zip(classes, per_class)},
    }
    if all("seconds" in s for s in scores):
        out["seconds_mean"] = float(np.mean([s["seconds"] for s in scores]))
    return out


class Timed:
    """``with Timed() as t: ...`` then ``t.seconds``."""

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
