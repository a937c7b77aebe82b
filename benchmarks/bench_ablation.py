"""Ablation of ASTROMER's time encodings, period input and pre-training recipe.

Every variant is pre-trained from scratch on the same unlabelled mix of
simulated surveys, for the same number of windows, then frozen and scored
with the classification protocol of ``bench_classification.py`` (see
``_protocol.py``): random forest and logistic regression on the pooled
embeddings at 20 and 100 labels per class, 3 folds, OGLE and ZTF; and the
masked-reconstruction RMSE against the window-mean predictor.

Modelling choices are made on the **validation** sets (their own seeds), and
the same numbers are reported on the fixed **test** sets. The variants are
the library's defaults for new models, each change left out (or swapped) on
its own, and the paper's recipe:

- ``paper recipe``: the paper's time encoding, no period input, unscaled
  magnitudes, constant learning rate 1e-3;
- ``defaults``: the paper's time encoding, period input, per-window
  magnitude scaling, warm-up + cosine learning rate;
- ``- period input``, ``log-period time encoding``, ``learnable frequencies``,
  ``- magnitude scaling``, ``constant lr``: one change each;
- ``4 windows per curve``: four random windows per light curve and epoch, a
  quarter of the epochs (same number of windows);
- ``uncertainty-weighted loss``: ASTROMER 2's weights;
- ``4 layers``: twice the depth (twice the compute);
- ``lr 2e-3``: twice the peak learning rate.

(The committed ``results/ablation.json`` was measured when the log-period
encoding was the default, which the run decided against: its ``defaults`` row
is today's ``log-period time encoding`` and its ``paper time encoding`` row
today's defaults.)

Usage: ``python benchmarks/bench_ablation.py [--quick] [--only NAME ...]``;
writes ``benchmarks/results/ablation[_quick].json``.
"""

import os

import numpy as np
from _common import Stopwatch, environment_info, parse_args, write_result
from _protocol import (
    PROTOCOL,
    QUICK_PROTOCOL,
    curve_descriptors,
    draw_subset,
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

PAPER = dict(time_encoding="paper", period_input=False, magnitude_scaling="none",
             lr_schedule="constant", lr=1e-3)
VARIANTS = {
    "paper recipe": PAPER,
    "defaults": {},
    "- period input": dict(period_input=False),
    "log-period time encoding": dict(time_encoding="log_periods"),
    "learnable frequencies": dict(time_encoding="learnable"),
    "- magnitude scaling": dict(magnitude_scaling="none"),
    "constant lr": dict(lr_schedule="constant", lr=1e-3),
    "4 windows per curve": dict(windows_per_curve=4),
    "uncertainty-weighted loss": dict(loss_weighting="uncertainty"),
    "4 layers": dict(n_layers=4),
    "lr 2e-3": dict(lr=2e-3),
}
FULL = dict(
    PROTOCOL,
    sizes=[20, 100],
    # The library's defaults for new models, at a size two CPU cores train in minutes.
    astromer=dict(d_model=64, n_layers=2, n_heads=4, d_ff=128, validation_fraction=0.1,
                  patience=5),
    epochs=20,
    poolings=["layers"],
)
QUICK = dict(
    FULL,
    **QUICK_PROTOCOL,
    n_valid=10,
    astromer=dict(FULL["astromer"], d_model=16, n_heads=2, d_ff=16),
    epochs=1,
)


def _add_arguments(parser):
    parser.add_argument("--only", nargs="+", metavar="VARIANT", choices=list(VARIANTS),
                        help="run only these variants")


def survey_data(config):
    """Pool, validation and test sets of every survey, with their features and descriptors."""
    data = {}
    for index, survey in enumerate(config["surveys"]):
        (pool, y_pool), (valid, y_valid), (test, y_test) = survey_sets(survey, index, config)
        encoder = LabelEncoder().fit(y_pool)
        curves = pool + valid + test
        data[survey] = dict(
            curves=curves, y=encoder.transform(np.concatenate([y_pool, y_valid, y_test])),
            classes=encoder.classes_, n_pool=len(pool), n_valid=len(valid),
            y_pool=y_pool, valid_curves=valid, test_curves=test,
            features=LightCurveFeatures(**config["features"], n_jobs=2).fit_transform(curves),
            descriptors=curve_descriptors(curves))
    return data


def evaluate(name, embeddings, data, config):
    """Scores of ``embeddings`` (rows: pool, valid, test) on the validation and test sets."""
    n_pool, n_valid = data["n_pool"], data["n_valid"]
    y = data["y"]
    sets = {"valid": np.arange(n_pool, n_pool + n_valid),
            "test": np.arange(n_pool + n_valid, len(y))}
    F = data["features"]
    results = {}
    for size in config["sizes"]:
        folds = {(kind, split): [] for kind in ("RF", "LR", "union") for split in sets}
        for fold in range(config["n_folds"]):
            train, _ = draw_subset(data["y_pool"], size, fold, config)
            seed = 1000 * fold + size
            for kind in ("RF", "LR"):
                for split, rows in sets.items():
                    folds[kind, split].append(score(y[rows], fit_predict(
                        kind, embeddings[train], y[train], embeddings[rows], seed, config)))
            U_train, U_evals = union(F[train], embeddings[train],
                                     [F[rows] for rows in sets.values()],
                                     [embeddings[rows] for rows in sets.values()], seed)
            for (split, rows), U_eval in zip(sets.items(), U_evals):
                folds["union", split].append(score(y[rows], fit_predict(
                    "RF", U_train, y[train], U_eval, seed, config)))
        for (kind, split), scores in folds.items():
            results.setdefault(kind, {}).setdefault(split, {})[str(size)] = summary(
                scores, data["classes"])
    line = "  ".join(f"{kind} {size}: {results[kind]['valid'][str(size)]['f1_mean']:.3f}/"
                     f"{results[kind]['test'][str(size)]['f1_mean']:.3f}"
                     for kind in ("RF", "LR", "union") for size in config["sizes"])
    print(f"    {name:28s} (valid/test) {line}", flush=True)
    return results


def run_variant(name, changes, unlabelled, data, config, watch):
    params = {**config["astromer"], **changes}
    epochs = config["epochs"] // params.get("windows_per_curve", 1) or 1
    with watch(f"pretraining {name}") as lap:
        embedder = AstromerEmbedder(**params, max_epochs=epochs, device="cpu",
                                    random_state=config["seed"]).fit(unlabelled)
    result = {"params": params, "epochs": epochs, "seconds": lap.elapsed,
              "history": [{k: row.get(k) for k in ("epoch", "train_loss", "valid_loss", "dur")}
                          for row in embedder.net_.history], "surveys": {}}
    print(f"  {name}: pre-trained in {lap.elapsed:.0f} s", flush=True)
    for survey, survey_data_ in data.items():
        valid = survey_data_["valid_curves"]
        rmse = -embedder.score(valid)
        mean_rmse = mean_predictor_rmse(valid, embedder.config_["max_obs"])
        result["surveys"][survey] = {"valid_masked_rmse": rmse,
                                     "valid_mean_predictor_rmse": mean_rmse,
                                     "rmse_ratio": rmse / mean_rmse}
        for pooling in config["poolings"]:
            embeddings = embedder.set_params(pooling=pooling).transform(survey_data_["curves"])
            result["surveys"][survey][pooling] = evaluate(f"{survey} {pooling}", embeddings,
                                                          survey_data_, config)
    return result


def main(argv=None):
    args = parse_args(__doc__, argv, _add_arguments)
    config = QUICK if args.quick else FULL
    environment = environment_info()
    watch = Stopwatch()
    unlabelled = unlabelled_mix(config)
    with watch("data"):
        data = survey_data(config)
    baselines = {survey: {name: evaluate(f"{survey} {name}", d[name], d, config)
                          for name in ("features", "descriptors")}
                 for survey, d in data.items()}
    variants = {}
    for name, changes in VARIANTS.items():
        if args.only and name not in args.only:
            continue
        variants[name] = run_variant(name, changes, unlabelled, data, config, watch)
    payload = {
        "params": config,
        "variants": variants,
        "baselines": baselines,
        "selection": "validation sets (n_valid per class, their own seeds); test reported alike",
        "n_unlabelled": len(unlabelled),
        "seconds": {"total": watch.total(), **watch.seconds},
        "environment": environment,
        "load_average_at_end": list(os.getloadavg()),
    }
    path = write_result("ablation", payload, args.quick, args.output_dir)
    print(f"total {watch.total():.0f} s; written to {path}")
    return payload


if __name__ == "__main__":
    main()
