"""Downstream classification: the ASTROMER paper's protocol on simulated surveys.

For every simulated survey (see ``_protocol.py``): a fixed test set of
``n_test`` light curves per class; training subsets of 20, 50, 100 and 500
labelled light curves per class drawn from a labelled pool, each split 80/20
into training and validation parts, 3 folds; macro F1 on the test set, mean
and standard deviation over the folds, for:

- ``features+RF``: hand-crafted features (:class:`LightCurveFeatures`) and a
  random forest, the baseline astronomers use;
- ``descriptors+RF``: the five scalars the period input gives a model
  (log period, its periodogram power, a period flag, log spread, log median
  error), to show what the period input is worth before any learning;
- ``MACHO frozen (POOLING)+RF``: the published MACHO weights (shipped), frozen,
  with every pooling;
- ``MACHO+period fine-tuned``: the MACHO weights with a period input added,
  fine-tuned self-supervised on the survey's pool (no labels; the paper's
  scenario (c)), then supervised on each training subset (the classifier
  head's own predictions, ``head``, and a random forest on the fine-tuned
  embeddings, ``+RF``);
- ``ours frozen (POOLING)+RF/LR``: a small ASTROMER pre-trained from scratch
  on an unlabelled mix of the surveys with the library's defaults for new
  models (period input, the paper's time encoding, scaled magnitudes,
  warm-up + cosine schedule), frozen;
- ``ours fine-tuned``: that model fine-tuned supervised on each subset;
- ``(compact)``: 16 principal components of the embedding and the five
  descriptors (``n_components=16, include_descriptors=True``; for fine-tuned
  models the components are fitted on the training part);
- ``features + X (PCA16)+RF``: the features side by side with 16 principal
  components of embedding X (fitted on the training part), and ``(all
  dims)`` with the whole embedding, which shows why the reduction is there;
  ``features + X+RF`` with a compact X.

Every classifier is fitted on the 80 % training part only; supervised
fine-tuning uses the whole subset with a stratified 20 % validation split
for early stopping. Nothing is tuned on the test set. Models are smaller and
shorter-trained than the paper's (2 CPU cores): see ``params`` in the JSON.

Usage: ``python benchmarks/bench_classification.py [--quick]``; writes
``benchmarks/results/classification[_quick].json``.
"""

import os
import shutil
import tempfile

import numpy as np
import torch
from _common import Stopwatch, environment_info, parse_args, write_result
from _protocol import (
    PROTOCOL,
    QUICK_PROTOCOL,
    Timed,
    curve_descriptors,
    draw_subset,
    fine_tune,
    fit_predict,
    mean_predictor_rmse,
    score,
    summary,
    survey_sets,
    union,
    unlabelled_mix,
)
from sklearn.preprocessing import LabelEncoder

from sklearn_astromer import AstromerEmbedder
from sklearn_astromer.features import LightCurveFeatures

POOLINGS = ("mean", "max", "mean_std", "layers", "weighted_layers")

FULL = dict(
    PROTOCOL,
    sizes=[20, 50, 100, 500],
    # Our model pre-trained from scratch: the library's defaults for new models,
    # at a size two CPU cores train in minutes.
    astromer=dict(d_model=64, n_layers=2, n_heads=4, d_ff=128, validation_fraction=0.1,
                  patience=5),
    pretrain_epochs=30,
    macho_self_supervised_epochs=2,
    # Supervised fine-tuning: epochs that give about this many windows, within bounds
    # (batch, learning rate and epochs chosen on a validation simulation of the demo).
    fine_tune=dict(windows=6000, min_epochs=5, max_epochs=30, patience=6, batch_size=32,
                   lr=3e-3),
)
QUICK = dict(
    FULL,
    **QUICK_PROTOCOL,
    n_valid=5,
    astromer=dict(FULL["astromer"], d_model=16, n_heads=2, d_ff=16),
    pretrain_epochs=1,
    macho_self_supervised_epochs=1,
    fine_tune=dict(FULL["fine_tune"], windows=20, min_epochs=1, max_epochs=1),
)


def pretrain(config, watch):
    """Our small ASTROMER, pre-trained on an unlabelled mix; saved to a temporary folder."""
    unlabelled = unlabelled_mix(config)
    with watch("pretraining") as lap:
        embedder = AstromerEmbedder(**config["astromer"], max_epochs=config["pretrain_epochs"],
                                    device="cpu", random_state=config["seed"]).fit(unlabelled)
    directory = tempfile.mkdtemp(prefix="bench_classification_")
    embedder.save_pretrained(directory)
    info = {"n_light_curves": len(unlabelled), "seconds": lap.elapsed,
            "cpu_seconds": lap.cpu_elapsed, "history": _losses(embedder.net_)}
    print(f"pre-trained on {len(unlabelled)} unlabelled curves in {lap.elapsed:.0f} s",
          flush=True)
    return directory, info


def _losses(net):
    return [{key: row.get(key) for key in ("epoch", "train_loss", "valid_loss", "dur")}
            for row in net.history]


def frozen_representations(curves, test_curves, ours_dir, config, info):
    """Every representation computed once per survey, rows ``curves`` (pool, then test)."""
    reps = {}
    with Timed() as lap:
        reps["features"] = LightCurveFeatures(**config["features"], n_jobs=2).fit_transform(
            curves)
    info["features_seconds"] = lap.seconds
    reps["descriptors"] = curve_descriptors(curves)
    macho = AstromerEmbedder.from_pretrained("macho", device="cpu")
    for pooling in POOLINGS:
        with Timed() as lap:
            reps[f"MACHO frozen ({pooling})"] = macho.set_params(pooling=pooling).transform(curves)
        info[f"MACHO frozen ({pooling}) seconds"] = lap.seconds
    info["MACHO test masked RMSE"] = -macho.score(test_curves)
    ours = AstromerEmbedder.from_pretrained(ours_dir, device="cpu")
    for pooling in ("mean", "layers"):
        reps[f"ours frozen ({pooling})"] = ours.set_params(pooling=pooling).transform(curves)
    # Compact: 16 principal components (fitted on the unlabelled pool) + descriptors.
    n_pool = len(curves) - len(test_curves)
    compact = AstromerEmbedder(pretrained=ours_dir, max_epochs=0, pooling="layers",
                               n_components=16, include_descriptors=True,
                               device="cpu").fit(curves[:n_pool])
    reps["ours frozen (compact)"] = compact.transform(curves)
    info["ours test masked RMSE"] = -ours.score(test_curves)
    info["mean predictor test masked RMSE"] = mean_predictor_rmse(test_curves,
                                                                  ours.config_["max_obs"])
    return reps


def self_supervised_macho(pool, config, seed, info):
    """MACHO + a period input, fine-tuned self-supervised on the survey's pool; saved."""
    with Timed() as lap:
        embedder = AstromerEmbedder(pretrained="macho", period_input=True,
                                    max_epochs=config["macho_self_supervised_epochs"],
                                    batch_size=64, validation_fraction=0.1, patience=2,
                                    device="cpu", random_state=seed).fit(pool)
    info["MACHO self-supervised"] = {"seconds": lap.seconds, "history": _losses(embedder.net_)}
    directory = tempfile.mkdtemp(prefix="bench_classification_macho_")
    embedder.save_pretrained(directory)
    return directory


def run_fold(reps, pool, test_curves, y, train, valid, test, starts, config, seed):
    """Test predictions of every method on one training subset."""
    predictions = {}
    F = reps["features"]
    for name in ("features", "descriptors", *(f"MACHO frozen ({p})" for p in POOLINGS),
                 "ours frozen (mean)", "ours frozen (layers)", "ours frozen (compact)"):
        predictions[f"{name}+RF"] = fit_predict("RF", reps[name][train], y[train],
                                                reps[name][test], seed, config)
    predictions["ours frozen (layers)+LR"] = fit_predict(
        "LR", reps["ours frozen (layers)"][train], y[train], reps["ours frozen (layers)"][test],
        seed, config)
    for name, components in (("ours frozen (layers)", 16), ("ours frozen (layers)", None)):
        Z = reps[name]
        if components is None:
            Z_train, Z_test = np.hstack([F[train], Z[train]]), np.hstack([F[test], Z[test]])
        else:
            Z_train, (Z_test,) = union(F[train], Z[train], [F[test]], [Z[test]], seed)
        label = "PCA16" if components else "all dims"
        predictions[f"features + {name} ({label})+RF"] = fit_predict(
            "RF", Z_train, y[train], Z_test, seed, config)
    for name in ("descriptors", "ours frozen (compact)"):
        Z = reps[name]
        predictions[f"features + {name}+RF"] = fit_predict(
            "RF", np.hstack([F[train], Z[train]]), y[train], np.hstack([F[test], Z[test]]),
            seed, config)
    subset = np.concatenate([train, valid])
    for name, start_dir in starts.items():
        with Timed() as lap:
            embedder = fine_tune(start_dir, [pool[i] for i in subset], y[subset], config, seed)
        predictions[f"{name} fine-tuned: head"] = embedder.predict(test_curves)
        Z_train, Z_test = embedder.transform([pool[i] for i in train]), embedder.transform(
            test_curves)
        predictions[f"{name} fine-tuned+RF"] = fit_predict("RF", Z_train, y[train], Z_test,
                                                           seed, config)
        U_train, (U_test,) = union(F[train], Z_train, [F[test]], [Z_test], seed)
        predictions[f"features + {name} fine-tuned (PCA16)+RF"] = fit_predict(
            "RF", U_train, y[train], U_test, seed, config)
        D = reps["descriptors"]
        C_train, (C_test,) = union(D[train], Z_train, [D[test]], [Z_test], seed)
        predictions[f"{name} fine-tuned (compact)+RF"] = fit_predict(
            "RF", C_train, y[train], C_test, seed, config)
        predictions[f"features + {name} fine-tuned (compact)+RF"] = fit_predict(
            "RF", np.hstack([F[train], C_train]), y[train], np.hstack([F[test], C_test]),
            seed, config)
        predictions[f"{name} fine-tuning seconds"] = lap.seconds
    return predictions


def run_survey(survey, survey_index, ours_dir, config, watch):
    """All methods, sizes and folds on one simulated survey."""
    (pool, y_pool), _, (test_curves, y_test) = survey_sets(survey, survey_index, config)
    encoder = LabelEncoder().fit(y_pool)
    y = encoder.transform(np.concatenate([y_pool, y_test]))
    test = np.arange(len(pool), len(pool) + len(test_curves))
    print(f"{survey}: pool {len(pool)}, test {len(test_curves)} light curves", flush=True)
    info = {}
    with watch("representations"):
        reps = frozen_representations(pool + test_curves, test_curves, ours_dir, config, info)
        starts = {"MACHO+period": self_supervised_macho(pool, config, config["seed"] + survey_index,
                                                        info),
                  "ours": ours_dir}
    results, seconds = {}, {}
    for size in config["sizes"]:
        folds = []
        for fold in range(config["n_folds"]):
            train, valid = draw_subset(y_pool, size, fold, config)
            with watch("classifiers"):
                folds.append(run_fold(reps, pool, test_curves, y, train, valid, test, starts,
                                      config, seed=1000 * fold + size))
        for method in folds[0]:
            if method.endswith("seconds"):
                seconds.setdefault(method, {})[str(size)] = float(np.mean(
                    [fold[method] for fold in folds]))
                continue
            results.setdefault(method, {})[str(size)] = summary(
                [score(y[test], fold[method]) for fold in folds], encoder.classes_)
        for method, by_size in results.items():
            row = by_size[str(size)]
            print(f"  {size:4d}/class {method:48s} F1 {row['f1_mean']:.3f} +- {row['f1_sd']:.3f}",
                  flush=True)
    shutil.rmtree(starts["MACHO+period"], ignore_errors=True)
    return {"n_pool": len(pool), "n_test": len(test_curves), "classes": list(encoder.classes_),
            "representations": info, "fine_tuning_seconds": seconds, "results": results}


def main(argv=None):
    args = parse_args(__doc__, argv)
    config = QUICK if args.quick else FULL
    environment = environment_info()  # at the start: the commit and load the run began with
    torch.manual_seed(config["seed"])
    watch = Stopwatch()
    ours_dir, pretraining = pretrain(config, watch)
    surveys = {survey: run_survey(survey, index, ours_dir, config, watch)
               for index, survey in enumerate(config["surveys"])}
    payload = {
        "params": config,
        "protocol": (
            "fixed test set of n_test per class; training subsets of `sizes` per class from a "
            "labelled pool of max(sizes) per class, split 80/20 train/validation (classifiers fit "
            "on the 80 %; supervised fine-tuning uses the whole subset with a stratified 20 % "
            "validation split for early stopping); n_folds different random subsets; metric "
            "macro F1 on the test set (mean, population sd over folds). Our ASTROMER is "
            "pre-trained on a separate unlabelled mix of the surveys; MACHO+period is fine-tuned "
            "self-supervised on the survey's pool (no labels, never the test set)."),
        "pretraining": pretraining,
        "surveys": surveys,
        "seconds": {"total": watch.total(), **watch.seconds},
        "cpu_seconds": {"total": watch.total_cpu(), **watch.cpu_seconds},
        "environment": environment,
        "load_average_at_end": list(os.getloadavg()),
    }
    shutil.rmtree(ours_dir, ignore_errors=True)
    path = write_result("classification", payload, args.quick, args.output_dir)
    print(f"total {watch.total():.0f} s ({watch.total_cpu():.0f} s CPU); written to {path}")
    return payload


if __name__ == "__main__":
    main()
