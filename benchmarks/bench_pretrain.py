"""Pre-training from scratch with the command line and the library's defaults, on a CPU budget.

What a user does to get a model of their own survey, measured end to end:

1. ``sklearn-astromer simulate survey.parquet --survey ogle`` writes an
   unlabelled simulated OGLE survey (a long table);
2. ``sklearn-astromer pretrain survey.parquet --out model --epochs E`` trains
   a new model with the library's defaults for new models (paper size,
   d_model 256) — its CPU seconds are measured (children's rusage);
3. the saved model is scored: masked-reconstruction RMSE on separately
   simulated OGLE light curves against predicting each window's mean, and
   its frozen embeddings + a random forest at 100 labels per class (3 folds,
   the classification protocol of ``_protocol.py``), for the model's pooling
   and for compact outputs (16 components + descriptors).

Usage: ``python benchmarks/bench_pretrain.py [--quick]``; writes
``benchmarks/results/pretrain[_quick].json``.
"""

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import REPO_ROOT, environment_info, parse_args, write_result
from _protocol import draw_subset, fit_predict, mean_predictor_rmse, score, simulate, summary
from sklearn.preprocessing import LabelEncoder

from sklearn_astromer import AstromerEmbedder

FULL = dict(survey="ogle", per_class=300, epochs=20, classes=None, n_obs=None, size=100,
            n_test=100, n_folds=3, validation_share=0.2, rf=dict(n_estimators=300), seed=0)
QUICK = dict(FULL, per_class=3, epochs=1, size=4, n_test=3, n_folds=1,
             rf=dict(n_estimators=20), classes=None, n_obs=(40, 80))


def cli(*args):
    """Run ``python -m sklearn_astromer ARGS``; its wall and CPU seconds."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "sklearn_astromer", *args], check=True,
                   cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall_seconds": time.perf_counter() - start,
            "cpu_seconds": (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)}


def evaluate(model_dir, config):
    """Masked RMSE against the window mean, and frozen embeddings + RF at ``size`` per class."""
    pool, y_pool = simulate(config["size"], config["survey"], config["seed"] + 11, config)
    test, y_test = simulate(config["n_test"], config["survey"], config["seed"] + 12, config)
    encoder = LabelEncoder().fit(y_pool)
    y = encoder.transform(np.concatenate([y_pool, y_test]))
    rows_test = np.arange(len(pool), len(pool) + len(test))
    embedder = AstromerEmbedder.from_pretrained(model_dir, device="cpu")
    rmse = -embedder.score(test)
    mean_rmse = mean_predictor_rmse(test, embedder.config_["max_obs"])
    representations = {f"frozen ({embedder.pooling})": embedder.transform(pool + test)}
    compact = AstromerEmbedder(pretrained=model_dir, max_epochs=0, pooling="layers",
                               n_components=16, include_descriptors=True,
                               device="cpu").fit(pool)
    representations["frozen (compact)"] = compact.transform(pool + test)
    results = {}
    for name, Z in representations.items():
        folds = []
        for fold in range(config["n_folds"]):
            train, _ = draw_subset(y_pool, config["size"], fold, config)
            folds.append(score(y[rows_test], fit_predict("RF", Z[train], y[train],
                                                          Z[rows_test], fold, config)))
        results[f"{name}+RF"] = summary(folds, encoder.classes_)
    return {"test_masked_rmse": rmse, "test_mean_predictor_rmse": mean_rmse,
            "rmse_ratio": rmse / mean_rmse, "classification": results}


def main(argv=None):
    args = parse_args(__doc__, argv)
    config = QUICK if args.quick else FULL
    environment = environment_info()
    with tempfile.TemporaryDirectory() as directory:
        survey = Path(directory) / "survey.parquet"
        model = Path(directory) / "model"
        simulated = cli("simulate", str(survey), "--survey", config["survey"],
                        "--per-class", str(config["per_class"]), "--random-state",
                        str(config["seed"]))
        # The smoke run trains a tiny model; the full run the defaults (paper size).
        size = ["--d-model", "16", "--n-heads", "2", "--d-ff", "16"] if args.quick else []
        trained = cli("pretrain", str(survey), "--out", str(model), "--epochs",
                      str(config["epochs"]), "--random-state", str(config["seed"]), "-q", *size)
        outcome = evaluate(model, config)
    payload = {"params": config, "simulate": simulated, "pretrain": trained, **outcome,
               "environment": environment, "load_average_at_end": list(os.getloadavg())}
    path = write_result("pretrain", payload, args.quick, args.output_dir)
    rows = ", ".join(f"{name} {row['f1_mean']:.3f}" for name, row in
                     outcome["classification"].items())
    print(f"pretrain: {trained['cpu_seconds'] / 60:.1f} CPU-min ({trained['wall_seconds']:.0f} s "
          f"wall); masked RMSE {outcome['test_masked_rmse']:.3f} = "
          f"{outcome['rmse_ratio']:.2f} x the window mean; macro F1 at {config['size']}/class: "
          f"{rows}; written to {path}")
    return payload


if __name__ == "__main__":
    main()
