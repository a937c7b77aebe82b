"""Multimodal classification and retrieval: AstroM3's protocol on the simulated catalogue.

Catalogues from :func:`make_multimodal` (ASAS-SN-like light curve, LAMOST-like
spectrum, AstroM3's 34 metadata columns per star; ten classes): per seed a
training *pool* (a different draw per seed), and, fixed for every seed, a
*test* set and a larger *retrieval* catalogue. Per seed, one
:class:`MultimodalCLIPEmbedder` with AstroM3's photometry tower (Informer on
nine channels) is pre-trained with the CLIP loss on the whole pool, without
labels; 20 % of the pool is held out for its early stopping. Then:

* **retrieval** on the retrieval catalogue: for every light curve, the rank
  of its own star's spectrum among all spectra by cosine similarity (and
  spectrum -> light curve); top-1 and top-10 rates, next to chance
  (1/N and 10/N);
* **classification** for 10 %, 25 %, 50 % and 100 % of the pool's labels
  (stratified subsets) and for photometry, spectra, metadata alone and all
  three, test accuracy of

  (a) ``clip+fine-tune`` -- the CLIP towers of those modalities
      (``pretrained=``) with a linear head, trained on the labelled subset,
      nothing frozen (AstroM3's fine-tuning);
  (b) ``scratch`` -- the same model and training from a random start
      (AstroM3's "without CLIP");
  (c) ``clip+LR`` -- the frozen CLIP embedding (the modality's own, or the
      fused one for "all"), standardised, logistic regression;
  (d) ``raw metadata+LR`` -- logistic regression on the metadata columns
      (reference for the metadata rows).

Supervised runs hold out 20 % of their labelled subset for early stopping;
the test set is never used for any choice. Results are the mean and
standard deviation (population) over the seeds; the JSON also holds every
seed's numbers, CLIP's loss curves, and the per-class recall and confusion
matrices of photometry and all modalities at 100 % of the labels.

Models are far smaller and shorter-trained than AstroM3's (CPU): see
``params`` in the JSON.

Usage: ``python benchmarks/bench_multimodal.py [--quick] [--threads N] [--seeds 0 1 2]
[--photometry-encoder astromer]``; writes ``benchmarks/results/multimodal[_quick].json``
(``multimodal_astromer[_quick].json`` with ASTROMER's photometry tower, for the comparison
that chose the default) and prints the table.
"""

import tempfile
import time

import numpy as np
import torch
from _common import environment_info, parse_args, write_result
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_astromer import MultimodalCLIPEmbedder
from sklearn_astromer.datasets import METADATA_COLUMNS, make_multimodal

TEST_SEED, RETRIEVAL_SEED = 1000, 2000
FULL = dict(
    n_pool_per_class=50, n_test_per_class=30, n_retrieval_per_class=100, n_obs=None,
    seeds=[0, 1, 2], fractions=[0.1, 0.25, 0.5, 1.0],
    model=dict(photometry_encoder="astrom3", embed_dim=64, d_model=32, n_layers=2, n_heads=2,
               d_ff=64, max_obs=200, spectrum_channels=(16, 16, 16, 16), metadata_hidden=64,
               dropout=0.1),
    clip=dict(max_epochs=60, batch_size=128, lr=3e-3, warmup_epochs=5,
              validation_fraction=0.2, patience=6),
    # Chosen on a separate validation catalogue (photometry, 10 % and 100 % of the labels),
    # among lr 1e-3 / 3e-3, batch 32 / 64, weight decay 4.7e-3 / 4.7e-5 (AstroM3's fine-tuning).
    fine_tune=dict(fine_tune_epochs=50, batch_size=32, fine_tune_lr=3e-3, lr=3e-3,
                   weight_decay=4.7e-5, warmup_epochs=5, validation_fraction=0.2, patience=6),
)
QUICK = dict(
    n_pool_per_class=6, n_test_per_class=3, n_retrieval_per_class=3, n_obs=(40, 80),
    seeds=[0], fractions=[0.5, 1.0],
    model=dict(photometry_encoder="astrom3", embed_dim=16, d_model=8, n_layers=1, n_heads=2,
               d_ff=16, max_obs=32, spectrum_channels=(4, 4, 4, 4), metadata_hidden=16,
               dropout=0.1),
    clip=dict(max_epochs=2, batch_size=32, lr=3e-3, warmup_epochs=0, validation_fraction=None,
              patience=6),
    fine_tune=dict(fine_tune_epochs=2, batch_size=16, fine_tune_lr=3e-3, lr=3e-3,
                   warmup_epochs=0, validation_fraction=None, patience=4),
)
# Which embedder columns keep each modality alone (the other towers are dropped).
MODALITIES = {
    "photometry": dict(spectrum_column=None, metadata_columns=[]),
    "spectra": dict(light_curve_column=None, metadata_columns=[]),
    "metadata": dict(light_curve_column=None, spectrum_column=None),
    "all": {},
}
EMBEDDING_OF = {"photometry": "light_curve", "spectra": "spectrum", "metadata": "metadata"}
METHODS = ("clip+fine-tune", "scratch", "clip+LR", "raw metadata+LR")
DIRECTIONS = {"light curve -> spectrum": ("light_curve", "spectrum"),
              "spectrum -> light curve": ("spectrum", "light_curve")}


def linear_probe(train, y_train, test, y_test, seed):
    """Test accuracy of a standardised logistic regression."""
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000, random_state=seed))
    return float(model.fit(train, y_train).score(test, y_test))


def supervised(config, columns, X_train, y_train, X_test, pretrained, seed):
    """Predictions on ``X_test`` of the towers of ``columns`` with a linear head.

    With ``pretrained`` (a saved CLIP model) the towers start from it and its
    architecture overrides ``config["model"]``; otherwise from scratch.
    """
    embedder = MultimodalCLIPEmbedder(
        **config["model"], **columns, **config["fine_tune"], pretrained=pretrained,
        max_epochs=0, fine_tune="supervised", random_state=seed)
    return embedder.fit(X_train, y_train).predict(X_test)


def retrieval(embeddings):
    """Top-1 / top-10 rates of finding an object's own other modality, both directions."""
    result = {}
    for name, (query, target) in DIRECTIONS.items():
        similarity = embeddings[query] @ embeddings[target].T
        rank = (similarity > np.diag(similarity)[:, None]).sum(axis=1)
        result[name] = {"top1": float(np.mean(rank < 1)), "top10": float(np.mean(rank < 10))}
    n = len(embeddings["light_curve"])
    result["chance"] = {"top1": 1 / n, "top10": 10 / n}
    return result


def labelled_subset(y_pool, fraction, seed):
    if fraction >= 1:
        return np.arange(len(y_pool))
    return train_test_split(np.arange(len(y_pool)), train_size=fraction, stratify=y_pool,
                            random_state=seed)[0]


def per_class(y_test, predictions, classes):
    matrix = confusion_matrix(y_test, predictions, labels=classes)
    recall = matrix.diagonal() / np.maximum(matrix.sum(axis=1), 1)
    return {"recall": dict(zip(classes, np.round(recall, 3).tolist())),
            "confusion": matrix.tolist()}


def run_seed(config, seed, X_test, y_test, X_retrieval):
    started = time.perf_counter()
    X_pool, y_pool = make_multimodal(config["n_pool_per_class"], n_obs=config["n_obs"],
                                     random_state=seed)
    clip = MultimodalCLIPEmbedder(**config["model"], **config["clip"], random_state=seed)
    clip.fit(X_pool)
    history = clip.net_.history
    clip_seconds = time.perf_counter() - started
    found = retrieval(clip.transform_modalities(X_retrieval))
    print(f"seed {seed}: CLIP {len(history)} epochs, {clip_seconds:.0f} s; retrieval "
          + "; ".join(f"{name} top-1 {v['top1']:.3f} top-10 {v['top10']:.3f}"
                      for name, v in found.items() if name != "chance"), flush=True)
    pool_embeddings = clip.transform_modalities(X_pool)
    test_embeddings = clip.transform_modalities(X_test)
    for embeddings in (pool_embeddings, test_embeddings):
        embeddings["all"] = np.mean([embeddings[name] for name in EMBEDDING_OF.values()], axis=0)
    metadata = list(METADATA_COLUMNS)
    classes = sorted(set(y_test))
    rows, details = [], {}
    with tempfile.TemporaryDirectory() as directory:
        clip.save_pretrained(directory)
        for fraction in config["fractions"]:
            labelled = labelled_subset(y_pool, fraction, seed)
            X_lab, y_lab = X_pool.iloc[labelled].reset_index(drop=True), y_pool[labelled]
            for modality, columns in MODALITIES.items():
                start = time.perf_counter()
                key = EMBEDDING_OF.get(modality, "all")
                predictions = {init: supervised(config, columns, X_lab, y_lab, X_test,
                                                pretrained, seed)
                               for init, pretrained in (("clip+fine-tune", directory),
                                                        ("scratch", None))}
                row = {"seed": seed, "fraction": fraction, "n_labels": len(labelled),
                       "modality": modality,
                       **{init: float(np.mean(p == y_test)) for init, p in predictions.items()},
                       "clip+LR": linear_probe(pool_embeddings[key][labelled], y_lab,
                                               test_embeddings[key], y_test, seed)}
                if modality == "metadata":
                    fill = X_lab[metadata].mean()
                    row["raw metadata+LR"] = linear_probe(
                        X_lab[metadata].fillna(fill), y_lab, X_test[metadata].fillna(fill),
                        y_test, seed)
                if fraction >= 1 and modality in ("photometry", "all"):
                    details[modality] = {init: per_class(y_test, p, classes)
                                         for init, p in predictions.items()}
                row["seconds"] = round(time.perf_counter() - start, 1)
                rows.append(row)
                print_row(row)
    return rows, {
        "seed": seed, "retrieval": found, "classes": classes, "per_class_100": details,
        "clip": {"seconds": round(clip_seconds, 1), "epochs": len(history),
                 "train_loss": [round(v, 3) for v in history[:, "train_loss"]],
                 "valid_loss": ([round(v, 3) for v in history[:, "valid_loss"]]
                                if "valid_loss" in history[0] else None),
                 "logit_scales": clip.net_.criterion_.logit_scales.exp().tolist()},
        "seconds": round(time.perf_counter() - started, 1),
    }


def summarise(rows, runs):
    """Mean and population sd over seeds of every (fraction, modality, method), and retrieval."""
    table = []
    keys = sorted({(row["fraction"], row["modality"]) for row in rows},
                  key=lambda k: (k[0], list(MODALITIES).index(k[1])))
    for fraction, modality in keys:
        group = [row for row in rows if (row["fraction"], row["modality"]) == (fraction, modality)]
        entry = {"fraction": fraction, "modality": modality}
        for method in METHODS:
            values = [row[method] for row in group if method in row]
            if values:
                entry[method] = {"mean": float(np.mean(values)), "sd": float(np.std(values))}
        table.append(entry)
    found = {}
    for name in (*DIRECTIONS, "chance"):
        found[name] = {k: {"mean": float(np.mean([run["retrieval"][name][k] for run in runs])),
                           "sd": float(np.std([run["retrieval"][name][k] for run in runs]))}
                       for k in ("top1", "top10")}
    return table, found


def targets(table, found):
    """The issue's "done when" checks, measured."""
    def mean(fraction, modality, method):
        return next(entry[method]["mean"] for entry in table
                    if entry["fraction"] == fraction and entry["modality"] == modality)

    full, low = max(e["fraction"] for e in table), min(e["fraction"] for e in table)
    single = [m for m in MODALITIES if m != "all"]
    best_single = max(mean(full, m, "clip+fine-tune") for m in single)
    chance = found["chance"]["top10"]["mean"]
    return {
        "photometry clip+fine-tune >= 0.80 at 100% labels":
            mean(full, "photometry", "clip+fine-tune") >= 0.80,
        **{f"{m}: clip+fine-tune - scratch >= 0.05 at {low:.0%} labels":
           mean(low, m, "clip+fine-tune") - mean(low, m, "scratch") >= 0.05 for m in single},
        "all modalities > best single modality (clip+fine-tune, 100% labels)":
            mean(full, "all", "clip+fine-tune") > best_single,
        **{f"retrieval {name} top-10 >= 20x chance": found[name]["top10"]["mean"] >= 20 * chance
           for name in DIRECTIONS},
    }


def print_row(row):
    cells = "".join(f"{row[name]:>17.3f}" if name in row else f"{'':>17}" for name in METHODS)
    print(f"seed {row['seed']} {row['fraction']:>5.0%} {row['modality']:<11}{cells}"
          f"{row['seconds']:>9.1f}", flush=True)


def markdown(table, found):
    """The summary as the README's markdown tables."""
    lines = ["| labels | modality | " + " | ".join(METHODS) + " |",
             "| --- | --- |" + " ---: |" * len(METHODS)]
    for entry in table:
        cells = [f"{entry[m]['mean']:.3f} ± {entry[m]['sd']:.3f}" if m in entry else ""
                 for m in METHODS]
        lines.append(f"| {entry['fraction']:.0%} | {entry['modality']} | " + " | ".join(cells)
                     + " |")
    lines += ["", "| retrieval | top-1 | top-10 |", "| --- | ---: | ---: |"]
    for name, value in found.items():
        lines.append(f"| {name} | {value['top1']['mean']:.3f} ± {value['top1']['sd']:.3f} | "
                     f"{value['top10']['mean']:.3f} ± {value['top10']['sd']:.3f} |")
    return "\n".join(lines)


def main(argv=None):
    def add_arguments(parser):
        parser.add_argument("--threads", type=int, default=None,
                            help="torch intra-op threads (default: torch's choice)")
        parser.add_argument("--seeds", type=int, nargs="+", default=None,
                            help="seeds of the pools and models (default: the mode's)")
        parser.add_argument("--photometry-encoder", choices=("astrom3", "astromer"),
                            default="astrom3", help="the light-curve tower")

    args = parse_args(__doc__, argv, add_arguments)
    if args.threads:
        torch.set_num_threads(args.threads)
    config = dict(QUICK if args.quick else FULL)
    if args.seeds:
        config["seeds"] = args.seeds
    config["model"] = {**config["model"], "photometry_encoder": args.photometry_encoder}
    name = "multimodal" + ("" if args.photometry_encoder == "astrom3" else "_astromer")
    environment = environment_info()
    started = time.perf_counter()
    X_test, y_test = make_multimodal(config["n_test_per_class"], n_obs=config["n_obs"],
                                     random_state=TEST_SEED)
    X_retrieval, _ = make_multimodal(config["n_retrieval_per_class"], n_obs=config["n_obs"],
                                     random_state=RETRIEVAL_SEED)
    print(f"seed {'labels':>10} {'modality':<11}" + "".join(f"{m:>17}" for m in METHODS)
          + f"{'seconds':>9}", flush=True)
    rows, runs = [], []
    for seed in config["seeds"]:
        seed_rows, run = run_seed(config, seed, X_test, y_test, X_retrieval)
        rows += seed_rows
        runs.append(run)
    table, found = summarise(rows, runs)
    checks = targets(table, found)
    seconds = round(time.perf_counter() - started, 1)
    print(markdown(table, found))
    for check, met in checks.items():
        print(f"{'met' if met else 'NOT met'}: {check}")
    print(f"total {seconds} s")
    payload = {"params": {**config, "test_seed": TEST_SEED, "retrieval_seed": RETRIEVAL_SEED},
               "summary": table, "retrieval": found, "targets": checks, "rows": rows,
               "runs": runs, "n_pool": 10 * config["n_pool_per_class"], "n_test": len(y_test),
               "n_retrieval": len(X_retrieval), "seconds": seconds, "environment": environment}
    path = write_result(name, payload, quick=args.quick, output_dir=args.output_dir)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
