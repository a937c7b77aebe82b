"""Real light curves: classification, novelty detection and retrieval on Catalina (CRTS).

The ASTROMER paper's protocol on real stars (see ``_real_data.py`` for the
set and its folds): the nine Catalina classes with at least 100 stars are cut
into 3 stratified folds of test stars; for each fold, an ASTROMER is
pre-trained (the library's defaults for new models: period input, scaled
magnitudes, warm-up + cosine) on every light curve that is not one of the
fold's test stars, and labelled subsets of 20, 100 and 500 stars per class
(over the classes with that many stars outside the fold) are drawn from the
same pool and split 80/20 into training and validation parts. Every
classifier is fitted on the training part only; choices are read off the
validation part (``valid_f1``), and the test stars of the fold are scored
(``f1``: macro F1, mean and sd over the 3 folds, and per-class F1).

Rows (``X+RF``: a random forest on representation X):

- ``features``: :class:`LightCurveFeatures`, the baseline astronomers use;
- ``descriptors``: the five scalars of the period input (log period, power,
  flag, log spread, log median error);
- ``MACHO frozen (mean_std)``: the published MACHO weights, frozen;
- ``ours frozen (mean | layers)``: the fold's model pre-trained here, frozen;
  ``+ descriptors``: with the five scalars beside it;
- ``ours (layers)+LR``: a logistic regression on the embedding;
- ``features + ours (PCA16)``: the features with 16 principal components of
  the embedding (fitted on the training part);
- ``features + ours (stacked LR)``: the features with the class
  probabilities of a logistic regression on the embedding, cross-fitted on the
  training part (5-fold out-of-fold probabilities for training stars, the
  model fitted on all training stars for test stars): stacking;
- ``ours fine-tuned`` and ``MACHO fine-tuned``: ``fine_tune="supervised"``
  from the fold's model or the published MACHO weights on each subset (the
  head probed on the frozen encoder first, the encoder kept only where it
  beats the probe on the validation part): the head's own predictions, a
  forest on the fine-tuned embeddings pooled as the frozen row is
  (``layers`` for ours, ``mean_std`` for MACHO, so the two rows differ by the
  fine-tuning alone), and the features with 16 of their principal components.

Novelty detection (leave one class out): for each of the nine classes, an
IsolationForest and a k-nearest-neighbour distance (k = 10, standardised
columns) are fitted on the pool stars of the other eight classes and score
the fold's test stars; ROC AUC of "is of the held-out class". Retrieval:
for each test star, the 10 nearest pool stars of the nine classes
(standardised Euclidean); precision at 10, macro-averaged over classes, with
its chance level.

Usage: ``python benchmarks/bench_real.py [--quick]``; writes
``benchmarks/results/real[_quick].json``. Pre-trained fold models are cached
in ``benchmarks/.cache/real/``.
"""

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch
from _common import Stopwatch, environment_info, parse_args, write_result
from _protocol import Timed, curve_descriptors, fine_tune, score, summary
from _real_data import (
    CACHE_DIR,
    CLASSES,
    cached_arrays,
    cached_json,
    classes_with,
    draw_subset,
    load,
    pool_of,
    pretrained_model,
    test_folds,
)
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest, RandomForestClassifier
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler

from sklearn_astromer import AstromerEmbedder
from sklearn_astromer.features import LightCurveFeatures
from sklearn_astromer.stacking import CrossFittedProbabilities, default_probability_model

FULL = dict(
    n_folds=3,
    sizes=[20, 100, 500],
    validation_share=0.2,
    max_per_class=None,
    rf=dict(n_estimators=500),
    features=dict(),
    # Pre-training from scratch: the library's defaults for new models.
    pretrain=dict(max_epochs=20, validation_fraction=0.1, patience=5),
    # "recipe" names the library's fine-tuning procedure and the forest rows' pooling,
    # so that cached fold results of an earlier procedure are not reused.
    fine_tune=dict(windows=6000, min_epochs=5, max_epochs=30, patience=6, batch_size=32,
                   lr=3e-3, recipe="probe, then fine-tune if it beats the probe; forest on "
                                   "the frozen row's pooling"),
    fine_tune_sizes=[20, 100],
    novelty=dict(n_estimators=300, k=10, max_normal=3000),
    seed=0,
)
QUICK = dict(
    FULL,
    n_folds=2,
    sizes=[5],
    max_per_class=12,
    rf=dict(n_estimators=50),
    features=dict(max_n_frequencies=2000),
    pretrain=dict(d_model=16, n_layers=1, n_heads=2, d_ff=16, max_epochs=1,
                  validation_fraction=None),
    fine_tune=dict(FULL["fine_tune"], windows=10, min_epochs=1, max_epochs=1),
    fine_tune_sizes=[5],
    novelty=dict(n_estimators=20, k=3, max_normal=100),
)


def fit_forest(Z_train, y_train, seed, config):
    return RandomForestClassifier(**config["rf"], n_jobs=2, random_state=seed).fit(Z_train,
                                                                                   y_train)


def shared_representations(curves, config):
    """The representations that do not depend on the fold: features, descriptors, MACHO."""
    return {
        "features": LightCurveFeatures(**config["features"], n_jobs=2).fit_transform(curves),
        "descriptors": curve_descriptors(curves),
        "MACHO frozen (mean_std)": AstromerEmbedder.from_pretrained(
            "macho", device="cpu", pooling="mean_std").transform(curves),
    }


def representations(curves, pool, model_dir, shared, cache_dir):
    """The fold model's embeddings beside the fold-independent representations."""
    reps = dict(shared)
    ours = AstromerEmbedder.from_pretrained(model_dir, device="cpu", pooling="layers")
    layers = cached_arrays(f"embeddings-{Path(model_dir).name}", {"n_curves": len(curves)},
                           lambda: {"layers": ours.transform(curves)}, cache_dir)["layers"]
    d_model = ours.config_["d_model"]
    reps["ours frozen (layers)"] = layers
    reps["ours frozen (mean)"] = layers[:, -d_model:]
    reps["ours frozen (layers) + descriptors"] = np.hstack([layers, shared["descriptors"]])
    # For novelty and retrieval (classification rows fit their own components).
    components = PCA(16, random_state=0).fit(layers[pool]).transform(layers)
    reps["features + ours (PCA16)"] = np.hstack([shared["features"], components])
    return reps


def classification_rows(reps, y, train, valid, test, seed, config):
    """Validation and test predictions of every frozen-representation row."""
    rows = {}
    evals = [valid, test]
    F = reps["features"]

    def forest(name, Z):
        model = fit_forest(Z[train], y[train], seed, config)
        rows[f"{name}+RF"] = [model.predict(Z[part]) for part in evals]

    for name in ("features", "descriptors", "MACHO frozen (mean_std)", "ours frozen (mean)",
                 "ours frozen (layers)", "ours frozen (layers) + descriptors"):
        forest(name, reps[name])
    Z = reps["ours frozen (layers)"]
    model = default_probability_model().fit(Z[train], y[train])
    rows["ours frozen (layers)+LR"] = [model.predict(Z[part]) for part in evals]
    pca = PCA(min(16, len(train)), random_state=seed).fit(Z[train])
    forest("features + ours (PCA16)", np.hstack([F, pca.transform(Z)]))
    for name in ("ours frozen (layers)", "MACHO frozen (mean_std)"):
        Z = reps[name]
        stacker = CrossFittedProbabilities(cv=5, random_state=seed)
        out_of_fold = stacker.fit_transform(Z[train], y[train])
        stacked = np.zeros((len(y), out_of_fold.shape[1]))
        stacked[train] = out_of_fold
        stacked[valid], stacked[test] = stacker.transform(Z[valid]), stacker.transform(Z[test])
        short = "ours" if name.startswith("ours") else "MACHO"
        forest(f"features + {short} (stacked LR)", np.hstack([F, stacked]))
    return rows


def fine_tuned_rows(curves, reps, y, train, valid, test, starts, seed, config):
    """Supervised fine-tuning on the subset from each start: head, forest, union."""
    rows = {}
    subset = np.concatenate([train, valid])
    parts = {name: [curves[i] for i in index]
             for name, index in (("train", train), ("valid", valid), ("test", test))}
    F = reps["features"]
    for name, (start, pooling) in starts.items():
        with Timed() as lap:
            embedder = fine_tune(start, [curves[i] for i in subset], y[subset], config, seed)
        rows[f"{name} fine-tuned: head"] = [embedder.predict(parts[p]) for p in ("valid", "test")]
        # The frozen row's pooling, so that the forest rows differ by fine-tuning alone.
        embedder.set_params(pooling=pooling)
        Z = {p: embedder.transform(parts[p]) for p in parts}
        model = fit_forest(Z["train"], y[train], seed, config)
        rows[f"{name} fine-tuned+RF"] = [model.predict(Z[p]) for p in ("valid", "test")]
        pca = PCA(min(16, len(train)), random_state=seed).fit(Z["train"])
        U = {p: np.hstack([F[index], pca.transform(Z[p])])
             for p, index in (("train", train), ("valid", valid), ("test", test))}
        model = fit_forest(U["train"], y[train], seed, config)
        rows[f"features + {name} fine-tuned (PCA16)+RF"] = [model.predict(U[p])
                                                            for p in ("valid", "test")]
        rows[f"{name} fine-tuning seconds"] = lap.seconds
        rows[f"{name} encoder kept fine-tuned"] = bool(embedder.encoder_fine_tuned_)
    return rows


def novelty(reps, labels, pool, test, classes, seed, config):
    """Leave-one-class-out ROC AUC of IsolationForest and k-NN distance, per held-out class."""
    settings = config["novelty"]
    rng = np.random.default_rng(seed)
    out = {}
    for name, Z in reps.items():
        scores = {"IsolationForest": {}, "kNN": {}}
        for held_out in classes:
            normal = pool[np.isin(labels[pool], classes) & (labels[pool] != held_out)]
            normal = rng.permutation(normal)[:settings["max_normal"]]
            scaler = StandardScaler().fit(Z[normal])
            Z_normal, Z_test = scaler.transform(Z[normal]), scaler.transform(Z[test])
            is_novel = labels[test] == held_out
            forest = IsolationForest(n_estimators=settings["n_estimators"], random_state=seed,
                                     n_jobs=2).fit(Z_normal)
            scores["IsolationForest"][held_out] = roc_auc_score(
                is_novel, -forest.score_samples(Z_test))
            neighbours = NearestNeighbors(n_neighbors=settings["k"]).fit(Z_normal)
            distance = neighbours.kneighbors(Z_test)[0].mean(axis=1)
            scores["kNN"][held_out] = roc_auc_score(is_novel, distance)
        out[name] = scores
    return out


def retrieval(reps, labels, pool, test, classes, k):
    """Precision at ``k`` of same-class pool neighbours of each test star, per class."""
    gallery = pool[np.isin(labels[pool], classes)]
    out = {}
    for name, Z in reps.items():
        scaler = StandardScaler().fit(Z[gallery])
        neighbours = NearestNeighbors(n_neighbors=k).fit(scaler.transform(Z[gallery]))
        found = gallery[neighbours.kneighbors(scaler.transform(Z[test]))[1]]
        hits = (labels[found] == labels[test][:, None]).mean(axis=1)
        out[name] = {label: float(hits[labels[test] == label].mean()) for label in classes}
    chance = {label: float(np.mean(labels[gallery] == label)) for label in classes}
    return out, chance


def main(argv=None):
    args = parse_args(__doc__, argv, _options)
    config = QUICK if args.quick else FULL
    environment = environment_info()
    torch.manual_seed(config["seed"])
    watch = Stopwatch()
    # The quick run (the test suite's) keeps nothing: no cache in the checkout.
    cache_dir = Path(tempfile.mkdtemp(prefix="bench_real_")) if args.quick else CACHE_DIR
    curves, labels, in_benchmark = load(max_per_class=config["max_per_class"],
                                        seed=config["seed"])
    folds = test_folds(labels, in_benchmark, config["n_folds"], config["seed"])
    print(f"Catalina: {len(curves)} light curves, {in_benchmark.sum()} of the benchmark's "
          f"{len(CLASSES)} classes, {config['n_folds']} folds", flush=True)
    with watch("shared representations"):
        shared = cached_arrays("shared", {"features": config["features"],
                                          "max_per_class": config["max_per_class"],
                                          "seed": config["seed"]},
                               lambda: shared_representations(curves, config), cache_dir)
    pretraining, per_fold = [], []
    for fold, test in enumerate(folds):
        if args.folds is not None and fold not in args.folds:
            continue
        pool = pool_of(len(curves), test)
        with watch("pre-training"):
            model_dir, info = pretrained_model(curves, pool, config["pretrain"], fold,
                                               f"fold{fold}", cache_dir)
        pretraining.append(info)
        with watch("fold representations"):
            reps = representations(curves, pool, model_dir, shared, cache_dir)
        fold_key = {"config": config, "model": Path(model_dir).name,
                    "fine_tuning": not args.no_fine_tuning}
        fold_result = cached_json(f"fold{fold}-results", fold_key, lambda: evaluate_fold(
            curves, labels, reps, pool, test, fold, model_dir, args, config, watch), cache_dir)
        per_fold.append(fold_result)
    payload = {
        "params": config,
        "protocol": __doc__.split("Usage:")[0].strip(),
        "n_light_curves": len(curves),
        "folds": [fold for fold in range(config["n_folds"])
                  if args.folds is None or fold in args.folds],
        "pretraining": pretraining,
        **summarise(per_fold, config),
        "seconds": {"total": watch.total(), **watch.seconds},
        "cpu_seconds": {"total": watch.total_cpu(), **watch.cpu_seconds},
        "environment": environment,
        "load_average_at_end": list(os.getloadavg()),
    }
    if args.quick:
        shutil.rmtree(cache_dir, ignore_errors=True)
    path = write_result("real", payload, args.quick, args.output_dir)
    print(f"total {watch.total():.0f} s ({watch.total_cpu():.0f} s CPU); written to {path}")
    return payload


def evaluate_fold(curves, labels, reps, pool, test, fold, model_dir, args, config, watch):
    """Classification rows per budget, novelty and retrieval of one fold (JSON-ready)."""
    fold_result = {"sizes": {}}
    for size in config["sizes"]:
        classes = classes_with(labels, pool, size, CLASSES)
        train, valid = draw_subset(labels, pool, size, fold, classes,
                                   config["validation_share"], config["seed"])
        eval_test = test[np.isin(labels[test], classes)]
        seed = 1000 * fold + size
        with watch("classifiers"):
            rows = classification_rows(reps, labels, train, valid, eval_test, seed, config)
        if size in config["fine_tune_sizes"] and not args.no_fine_tuning:
            with watch("fine-tuning"):
                rows.update(fine_tuned_rows(curves, reps, labels, train, valid, eval_test,
                                            {"ours": (model_dir, "layers"),
                                             "MACHO": ("macho", "mean_std")}, seed, config))
        fold_result["sizes"][str(size)] = {
            "classes": classes, "y_valid": labels[valid].tolist(),
            "y_test": labels[eval_test].tolist(),
            "rows": {name: value if np.isscalar(value) else [list(map(str, part))
                                                             for part in value]
                     for name, value in rows.items()}}
    with watch("novelty and retrieval"):
        fold_result["novelty"] = novelty(reps, labels, pool, test, list(CLASSES),
                                         config["seed"] + fold, config)
        fold_result["retrieval"], fold_result["retrieval_chance"] = retrieval(
            reps, labels, pool, test, list(CLASSES), k=10)
    return fold_result


def _options(parser):
    parser.add_argument("--folds", type=int, nargs="+", default=None,
                        help="run these folds only (an exploratory look: the summary is then "
                             "over fewer folds)")
    parser.add_argument("--no-fine-tuning", action="store_true",
                        help="skip the supervised fine-tuning rows")


def summarise(per_fold, config):
    """Classification, novelty and retrieval summaries over folds; printed as they are made."""
    classification, seconds, kept = {}, {}, {}
    for size in config["sizes"]:
        runs = [fold["sizes"][str(size)] for fold in per_fold]
        classes = runs[0]["classes"]
        for method in runs[0]["rows"]:
            if method.endswith("seconds"):
                seconds[f"{method} ({size})"] = float(np.mean([r["rows"][method] for r in runs]))
                continue
            if method.endswith("kept fine-tuned"):
                kept[f"{method} ({size})"] = [r["rows"][method] for r in runs]
                continue
            # f1_score orders its per-class values by sorted label.
            row = summary([score(r["y_test"], r["rows"][method][1]) for r in runs],
                          sorted(classes))
            row["valid_f1_mean"] = float(np.mean(
                [score(r["y_valid"], r["rows"][method][0])["f1"] for r in runs]))
            classification.setdefault(method, {})[str(size)] = row
            print(f"  {size:4d}/class {method:44s} test F1 {row['f1_mean']:.3f} +- "
                  f"{row['f1_sd']:.3f}   valid {row['valid_f1_mean']:.3f}", flush=True)
    novelty_summary = {}
    for name in per_fold[0]["novelty"]:
        for detector in ("IsolationForest", "kNN"):
            by_class = {label: float(np.mean([f["novelty"][name][detector][label]
                                              for f in per_fold])) for label in CLASSES}
            novelty_summary.setdefault(name, {})[detector] = {
                "mean_auc": float(np.mean(list(by_class.values()))), "per_class": by_class}
            print(f"  novelty {detector:16s} {name:40s} mean ROC AUC "
                  f"{novelty_summary[name][detector]['mean_auc']:.3f}", flush=True)
    retrieval_summary = {}
    for name in per_fold[0]["retrieval"]:
        by_class = {label: float(np.mean([f["retrieval"][name][label] for f in per_fold]))
                    for label in CLASSES}
        retrieval_summary[name] = {"macro_precision_at_10": float(np.mean(list(
            by_class.values()))), "per_class": by_class}
        print(f"  retrieval P@10 {name:40s} {retrieval_summary[name]['macro_precision_at_10']:.3f}",
              flush=True)
    chance = {label: float(np.mean([f["retrieval_chance"][label] for f in per_fold]))
              for label in CLASSES}
    return {"classification": classification, "fine_tuning_seconds": seconds,
            "encoder_kept_fine_tuned": kept,
            "novelty": novelty_summary,
            "retrieval": {"results": retrieval_summary, "chance_per_class": chance,
                          "chance_macro": float(np.mean(list(chance.values())))}}


if __name__ == "__main__":
    main()
