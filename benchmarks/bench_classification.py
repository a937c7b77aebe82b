"""Downstream classification: the ASTROMER paper's protocol on simulated surveys.

For every simulated survey: a fixed test set of ``n_test`` light curves per
class; training subsets of 20, 50, 100 and 500 labelled light curves per class
drawn from a labelled pool, each split 80/20 into training and validation
parts, 3 folds (different random subsets and splits); macro F1 on the test
set, mean and standard deviation over the folds, for:

(a) ``features+RF`` -- hand-crafted features (:class:`LightCurveFeatures`) and
    a random forest;
(b) ``LSTM`` -- a recurrent classifier on the raw (log dt, magnitude)
    sequence of the first ``max_len`` observations (skorch, early stopping on
    the validation part);
(c) ``pretrained+RF`` / ``+LR`` / ``+MLP`` -- embeddings of a small ASTROMER
    pre-trained (self-supervised) on a separate, unlabelled simulated set
    from all the surveys, frozen;
(d) ``fine-tuned+RF`` -- that model fine-tuned (``fit`` continued,
    self-supervised) on the survey's training pool, then frozen (the paper's
    scenario (c): fine-tune on the survey's light curves, classify with
    subsets of labels);
(e) ``MACHO weights+RF`` -- the published MACHO weights, frozen.

Every classifier is fitted on the 80 % training part only; the 20 %
validation part serves the early stopping of the neural classifiers (LSTM,
MLP). Nothing is tuned against the test set. Models are far smaller and
shorter-trained than the paper's (2 CPU cores): see ``params`` in the JSON.

Usage: ``python benchmarks/bench_classification.py [--quick]``; writes
``benchmarks/results/classification[_quick].json``.
"""

import contextlib
import os
import shutil
import tempfile
import time

import numpy as np
import torch
from _common import SHARED_DATA, Stopwatch, environment_info, parse_args, write_result
from skorch import NeuralNetClassifier
from skorch.callbacks import EarlyStopping, GradientNormClipping
from skorch.dataset import Dataset
from skorch.helper import predefined_split
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import LabelEncoder, StandardScaler
from torch import nn

from sklearn_astromer import AstromerEmbedder
from sklearn_astromer.astromer._inference import iter_window_batches
from sklearn_astromer._validation import check_light_curves
from sklearn_astromer.datasets import make_light_curves
from sklearn_astromer.features import LightCurveFeatures

MACHO_WEIGHTS = SHARED_DATA / "astromer_weights" / "macho.zip"

FULL = dict(
    surveys=["ogle", "ztf"],
    classes=None,  # all ten simulated classes
    sizes=[20, 50, 100, 500],
    n_folds=3,
    n_test=100,
    validation_share=0.2,
    n_unlabelled=3000,  # pre-training set, split evenly over the surveys and classes
    n_obs=None,  # the surveys' own epoch-count distributions
    astromer=dict(d_model=64, n_layers=2, n_heads=4, d_ff=128, max_obs=200, batch_size=128,
                  lr=1e-3, validation_fraction=0.1, patience=3),
    pretrain_epochs=5,
    finetune_epochs=2,
    lstm=dict(hidden=32, n_layers=1, dropout=0.3, max_len=200, max_epochs=20, patience=4,
              batch_size=64, lr=3e-3),
    mlp=dict(hidden=[256, 128], dropout=0.2, max_epochs=100, patience=10, batch_size=64,
             lr=1e-3),
    rf=dict(n_estimators=200),
    features=dict(),  # LightCurveFeatures defaults
    seed=0,
)
QUICK = dict(
    FULL,
    surveys=["ztf"],
    classes=["RRab", "EA", "Mira"],
    sizes=[20, 50],
    n_folds=1,
    n_test=20,
    n_unlabelled=60,
    n_obs=(40, 80),
    astromer=dict(FULL["astromer"], d_model=16, n_heads=2, d_ff=16, batch_size=64),
    pretrain_epochs=1,
    finetune_epochs=1,
    lstm=dict(FULL["lstm"], hidden=8, max_len=80, max_epochs=3),
    mlp=dict(FULL["mlp"], hidden=[32], max_epochs=5),
    rf=dict(n_estimators=50),
    features=dict(max_n_frequencies=2000),
)


# --------------------------------------------------------------------- raw-sequence LSTM
class SequenceLSTM(nn.Module):
    """LSTM over (log1p dt, magnitude) steps; its outputs averaged over the observations.

    Averaging every step's output (rather than keeping the last state only)
    gives each step a direct gradient path, which trains far more reliably
    over 200 steps; layer norm and dropout then feed a linear classifier.
    """

    def __init__(self, n_classes, hidden=32, n_layers=2, dropout=0.3):
        super().__init__()
        self.lstm = nn.LSTM(2, hidden, n_layers, batch_first=True,
                            dropout=dropout if n_layers > 1 else 0.0)
        self.head = nn.Sequential(nn.LayerNorm(hidden), nn.Dropout(dropout),
                                  nn.Linear(hidden, n_classes))

    def forward(self, sequences, lengths):
        packed = nn.utils.rnn.pack_padded_sequence(sequences, lengths.cpu(), batch_first=True,
                                                   enforce_sorted=False)
        outputs, _ = self.lstm(packed)
        outputs, _ = nn.utils.rnn.pad_packed_sequence(outputs, batch_first=True,
                                                      total_length=sequences.shape[1])
        valid = torch.arange(sequences.shape[1], device=sequences.device) < lengths[:, None]
        pooled = (outputs * valid.unsqueeze(-1)).sum(dim=1) / lengths[:, None].clamp(min=1)
        return self.head(pooled)


def raw_sequences(light_curves, max_len):
    """``{"sequences": (n, max_len, 2) float32, "lengths": (n,) int64}`` of the first points.

    Steps are ``log1p`` of the time since the previous observation (days; 0
    for the first) and the magnitude minus the light curve's mean magnitude.
    """
    sequences = np.zeros((len(light_curves), max_len, 2), np.float32)
    lengths = np.empty(len(light_curves), np.int64)
    for i, curve in enumerate(light_curves):
        times, magnitudes = curve[:max_len, 0], curve[:max_len, 1]
        lengths[i] = len(times)
        sequences[i, :lengths[i], 0] = np.log1p(np.diff(times, prepend=times[0]))
        sequences[i, :lengths[i], 1] = magnitudes - curve[:, 1].mean()
    return {"sequences": sequences, "lengths": lengths}


class EmbeddingMLP(nn.Module):
    """ReLU MLP on a (standardised) embedding vector."""

    def __init__(self, n_inputs, n_classes, hidden=(256, 128), dropout=0.2):
        super().__init__()
        layers, width = [], n_inputs
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(dropout)]
            width = size
        self.layers = nn.Sequential(*layers, nn.Linear(width, n_classes))

    def forward(self, X):
        return self.layers(X)


def fit_neural(module, X_train, y_train, X_valid, y_valid, params, seed, **module_params):
    """A skorch classifier trained with early stopping on the given validation part."""
    torch.manual_seed(seed)
    net = NeuralNetClassifier(
        module, **{f"module__{k}": v for k, v in module_params.items()},
        criterion=nn.CrossEntropyLoss, optimizer=torch.optim.Adam, lr=params["lr"],
        max_epochs=params["max_epochs"], batch_size=params["batch_size"],
        iterator_train__shuffle=True, train_split=predefined_split(Dataset(X_valid, y_valid)),
        callbacks=[EarlyStopping(patience=params["patience"], load_best=True,
                                 sink=lambda *_: None),
                   # Recurrent nets over 200 steps blow up without it.
                   GradientNormClipping(params.get("clip_norm", 1.0))],
        device="cpu", verbose=0,
    )
    return net.fit(X_train, y_train)


@contextlib.contextmanager
def one_thread():
    """Run torch on one thread: small sequential models (LSTM, MLP) get slower, not
    faster, with a second one, as synchronisation costs more than it gains."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


# ------------------------------------------------------------------------ classifiers
def _take(X, index):
    if isinstance(X, dict):
        return {key: value[index] for key, value in X.items()}
    return X[index]


def classify(method, X, y, train, valid, test, config, seed):
    """Fit one method on ``train`` (``valid`` for early stopping); predicted test labels."""
    kind = method.rsplit("+", 1)[-1]
    if kind == "RF":
        model = RandomForestClassifier(**config["rf"], n_jobs=2, random_state=seed)
        return model.fit(X[train], y[train]).predict(X[test])
    if kind == "LR":
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        return model.fit(X[train], y[train]).predict(X[test])
    if kind in ("MLP", "LSTM"):
        with one_thread():
            return _classify_neural(kind, X, y, train, valid, test, config, seed)
    raise ValueError(method)


def _classify_neural(kind, X, y, train, valid, test, config, seed):
    n_classes = int(y.max()) + 1
    if kind == "MLP":
        scaler = StandardScaler().fit(X[train])
        scaled = scaler.transform(X).astype(np.float32)
        net = fit_neural(EmbeddingMLP, scaled[train], y[train], scaled[valid], y[valid],
                         config["mlp"], seed, n_inputs=X.shape[1], n_classes=n_classes,
                         hidden=tuple(config["mlp"]["hidden"]), dropout=config["mlp"]["dropout"])
        return net.predict(scaled[test])
    if kind == "LSTM":
        lstm = config["lstm"]
        net = fit_neural(SequenceLSTM, _take(X, train), y[train], _take(X, valid), y[valid],
                         lstm, seed, n_classes=n_classes, hidden=lstm["hidden"],
                         n_layers=lstm["n_layers"], dropout=lstm["dropout"])
        return net.predict(_take(X, test))
    raise ValueError(kind)


METHODS = {  # method -> representation it classifies
    "features+RF": "features",
    "LSTM": "raw",
    "pretrained+RF": "pretrained",
    "pretrained+LR": "pretrained",
    "pretrained+MLP": "pretrained",
    "fine-tuned+RF": "fine-tuned",
    "MACHO weights+RF": "macho",
}


# ------------------------------------------------------------------------ protocol
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


def simulate(n_per_class, survey, seed, config):
    return make_light_curves(n_per_class, classes=config["classes"], survey=survey,
                             random_state=seed, n_obs=config["n_obs"])


def pretrain(config, watch):
    """Small ASTROMER pre-trained on an unlabelled mix of the surveys; saved to a temp dir."""
    n_classes = len(np.unique(simulate(1, "ogle", 0, config)[1]))
    per_class = max(1, config["n_unlabelled"] // (len(config["surveys"]) * n_classes))
    unlabelled = []
    for index, survey in enumerate(config["surveys"]):
        unlabelled += simulate(per_class, survey, 1000 + index, config)[0]  # labels dropped
    with watch("pretraining") as lap:
        embedder = AstromerEmbedder(**config["astromer"], max_epochs=config["pretrain_epochs"],
                                    device="cpu", random_state=config["seed"]).fit(unlabelled)
    directory = tempfile.mkdtemp(prefix="bench_classification_")
    embedder.save_pretrained(directory)
    info = {"n_light_curves": len(unlabelled), "seconds": lap.elapsed,
            "cpu_seconds": lap.cpu_elapsed, "history": _losses(embedder)}
    print(f"pre-trained on {len(unlabelled)} unlabelled curves in {lap.elapsed:.0f} s "
          f"({lap.cpu_elapsed:.0f} s CPU): {info['history']}", flush=True)
    return embedder, directory, info


def mean_predictor_rmse(light_curves, max_obs):
    """Masked RMSE of predicting every window's mean magnitude: what "learned nothing" scores.

    Per-window formula, like :meth:`AstromerEmbedder.score` (the masked points
    are a uniform sample of each window, so all its points give the expectation).
    """
    windows = iter_window_batches(check_light_curves(light_curves), max_obs, 256, False)
    mean_squares = [np.sum(w.magnitudes**2, axis=1) / w.valid.sum(axis=1) for w in windows]
    return float(np.sqrt(np.mean(np.concatenate(mean_squares))))


def _losses(embedder):
    return [{key: row.get(key) for key in ("epoch", "train_loss", "valid_loss", "dur")}
            for row in embedder.net_.history]


def representations(curves, pool, pretrained, pretrained_dir, survey_index, config, watch):
    """Every representation of ``curves`` (pool first, then test), with timings."""
    reps, info = {}, {}

    def timed(name, compute):
        start, cpu_start = time.perf_counter(), time.process_time()
        reps[name] = compute()
        info[name] = {"seconds": time.perf_counter() - start,
                      "cpu_seconds": time.process_time() - cpu_start}
        print(f"  {name}: {info[name]['seconds']:.0f} s ({info[name]['cpu_seconds']:.0f} s CPU)",
              flush=True)

    with watch("representations"):
        features = LightCurveFeatures(**config["features"], n_jobs=2)
        timed("features", lambda: features.fit_transform(curves))
        timed("raw", lambda: raw_sequences(curves, config["lstm"]["max_len"]))
        timed("pretrained", lambda: pretrained.transform(curves))
        test_curves = curves[len(pool):]
        info["mean_predictor_test_rmse"] = mean_predictor_rmse(test_curves,
                                                               config["astromer"]["max_obs"])
        info["pretrained"]["test_masked_rmse"] = -pretrained.score(test_curves)

        def fine_tuned():
            embedder = AstromerEmbedder(
                **{k: v for k, v in config["astromer"].items() if k in ("batch_size", "lr",
                   "validation_fraction", "patience")},
                pretrained=pretrained_dir, max_epochs=config["finetune_epochs"], device="cpu",
                random_state=config["seed"] + 1 + survey_index,
            ).fit(pool)
            info["fine-tuning"] = {"n_light_curves": len(pool), "history": _losses(embedder),
                                   "test_masked_rmse": -embedder.score(test_curves)}
            return embedder.transform(curves)

        timed("fine-tuned", fine_tuned)
        if MACHO_WEIGHTS.exists():
            macho = AstromerEmbedder.from_pretrained(MACHO_WEIGHTS, device="cpu")
            timed("macho", lambda: macho.transform(curves))
            info["macho"]["test_masked_rmse"] = -macho.score(test_curves)
    n_windows = sum(-(-len(curve) // config["astromer"]["max_obs"]) for curve in curves)
    info["n_light_curves"], info["n_windows"] = len(curves), n_windows
    return reps, info


def run_survey(survey, survey_index, pretrained, pretrained_dir, config, watch):
    """All methods, sizes and folds on one simulated survey."""
    seed = config["seed"] + 100 * (survey_index + 1)
    pool, y_pool = simulate(max(config["sizes"]), survey, seed + 1, config)
    test_curves, y_test = simulate(config["n_test"], survey, seed + 2, config)
    encoder = LabelEncoder().fit(y_pool)
    y = encoder.transform(np.concatenate([y_pool, y_test]))
    test = np.arange(len(pool), len(pool) + len(test_curves))
    print(f"{survey}: pool {len(pool)}, test {len(test_curves)} light curves", flush=True)
    reps, rep_info = representations(pool + test_curves, pool, pretrained, pretrained_dir,
                                     survey_index, config, watch)
    methods = [m for m in METHODS if METHODS[m] in reps]
    results = {method: {} for method in methods}
    for size in config["sizes"]:
        for method in methods:
            scores = {"f1": [], "accuracy": [], "per_class_f1": [], "seconds": [],
                      "cpu_seconds": []}
            for fold in range(config["n_folds"]):
                train, valid = draw_subset(y_pool, size, fold, config)
                with watch(f"classifier {method}") as lap:
                    predicted = classify(method, reps[METHODS[method]], y, train, valid, test,
                                         config, seed=1000 * fold + size)
                scores["seconds"].append(lap.elapsed)
                scores["cpu_seconds"].append(lap.cpu_elapsed)
                scores["f1"].append(f1_score(y[test], predicted, average="macro"))
                scores["accuracy"].append(accuracy_score(y[test], predicted))
                scores["per_class_f1"].append(f1_score(y[test], predicted, average=None))
            results[method][str(size)] = _summary(scores, encoder.classes_)
            print(f"  {size:4d}/class {method:18s} F1 {results[method][str(size)]['f1_mean']:.3f}"
                  f" +- {results[method][str(size)]['f1_sd']:.3f}", flush=True)
    return {"n_pool": len(pool), "n_test": len(test_curves), "classes": list(encoder.classes_),
            "representations": rep_info, "results": results}


def _summary(scores, classes):
    per_class = np.mean(scores["per_class_f1"], axis=0)
    return {
        "f1_mean": float(np.mean(scores["f1"])), "f1_sd": float(np.std(scores["f1"])),
        "f1_folds": [float(v) for v in scores["f1"]],
        "accuracy_mean": float(np.mean(scores["accuracy"])),
        "accuracy_sd": float(np.std(scores["accuracy"])),
        "per_class_f1": {str(c): float(v) for c, v in zip(classes, per_class)},
        "classifier_seconds_mean": float(np.mean(scores["seconds"])),
        "classifier_cpu_seconds_mean": float(np.mean(scores["cpu_seconds"])),
    }


def main(argv=None):
    args = parse_args(__doc__, argv)
    config = QUICK if args.quick else FULL
    environment = environment_info()  # at the start: the commit and load the run began with
    torch.manual_seed(config["seed"])
    watch = Stopwatch()
    pretrained, pretrained_dir, pretraining = pretrain(config, watch)
    surveys = {survey: run_survey(survey, index, pretrained, pretrained_dir, config, watch)
               for index, survey in enumerate(config["surveys"])}
    payload = {
        "params": config,
        "protocol": (
            "fixed test set of n_test per class; training subsets of `sizes` per class from a "
            "labelled pool of max(sizes) per class, split 80/20 train/validation (classifiers fit "
            "on the 80 %, the 20 % only early-stops the LSTM and MLP); n_folds different random "
            "subsets; metric macro F1 on the test set (mean, population sd over folds). "
            "ASTROMER pre-trained on a separate unlabelled mix of the surveys; fine-tuned "
            "self-supervised on the survey's pool (no labels, never the test set)."),
        "macho_weights_available": MACHO_WEIGHTS.exists(),
        "pretraining": pretraining,
        "surveys": surveys,
        "seconds": {"total": watch.total(), **watch.seconds},
        "cpu_seconds": {"total": watch.total_cpu(), **watch.cpu_seconds},
        "environment": environment,
        "load_average_at_end": list(os.getloadavg()),
    }
    shutil.rmtree(pretrained_dir, ignore_errors=True)
    path = write_result("classification", payload, args.quick, args.output_dir)
    print(f"total {watch.total():.0f} s ({watch.total_cpu():.0f} s CPU); written to {path}")
    return payload


if __name__ == "__main__":
    main()
