"""Multimodal classification: AstroM3's protocol on the simulated catalogue.

A training pool and a separate test set from :func:`make_multimodal`
(light curve, spectrum, 36 metadata columns per star, ten classes). One
:class:`MultimodalCLIPEmbedder` is pre-trained with the CLIP loss on the whole
pool, without labels. Then, for 10 %, 25 %, 50 % and 100 % of the pool's
labels (stratified subsets) and for each modality alone and all three
together, test accuracy of:

(a) ``clip+LR`` -- the CLIP embeddings, frozen (the modality's own
    embedding, or the fused one for "all"), standardised, logistic regression;
(b) ``clip+fine-tune`` -- the CLIP towers of those modalities loaded with
    ``pretrained=`` and fine-tuned with a linear head on the labelled subset
    (``fine_tune="supervised"``, nothing frozen), as AstroM3 fine-tunes;
(c) ``scratch`` -- the same architecture and supervised training from a
    random initialisation (AstroM3's "without CLIP pre-training");
(d) ``raw metadata+LR`` -- logistic regression on the standardised metadata
    columns (a reference for the metadata rows).

The supervised runs hold out 20 % of the labelled subset for early stopping;
nothing is tuned on the test set. Models are far smaller and shorter-trained
than AstroM3's (2 CPU cores): see ``params`` in the JSON. One seed; with
``n_test`` stars the accuracies carry a binomial error of about
``sqrt(p (1 - p) / n_test)`` (about 3 points at 200 stars).

Usage: ``python benchmarks/bench_multimodal.py [--quick] [--threads N]``;
writes ``benchmarks/results/multimodal[_quick].json`` and prints the table.
"""

import tempfile
import time

import numpy as np
import torch
from _common import environment_info, parse_args, write_result
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_astromer import MultimodalCLIPEmbedder
from sklearn_astromer.datasets import METADATA_COLUMNS, make_multimodal

FULL = dict(
    n_train_per_class=50, n_test_per_class=20, n_obs=(100, 300),
    fractions=[0.1, 0.25, 0.5, 1.0],
    model=dict(embed_dim=64, d_model=32, n_layers=2, n_heads=2, d_ff=64, max_obs=100,
               spectrum_channels=(16, 16, 16, 16), metadata_hidden=64, dropout=0.1),
    clip=dict(max_epochs=80, batch_size=64, lr=3e-3, validation_fraction=0.2, patience=8),
    fine_tune=dict(fine_tune_epochs=40, batch_size=16, fine_tune_lr=3e-3, lr=3e-3,
                   validation_fraction=0.2, patience=8),
)
QUICK = dict(
    n_train_per_class=6, n_test_per_class=4, n_obs=(40, 80), fractions=[0.5, 1.0],
    model=dict(embed_dim=16, d_model=16, n_layers=1, n_heads=2, d_ff=16, max_obs=32,
               spectrum_channels=(4, 4, 4, 4), metadata_hidden=16, dropout=0.1),
    clip=dict(max_epochs=2, batch_size=32, lr=3e-3, validation_fraction=None, patience=6),
    fine_tune=dict(fine_tune_epochs=2, batch_size=16, fine_tune_lr=3e-3, lr=3e-3,
                   validation_fraction=None, patience=4),
)
# Which embedder columns keep each modality alone (the other towers are dropped).
MODALITIES = {
    "photometry": dict(spectrum_column=None, metadata_columns=[]),
    "spectra": dict(light_curve_column=None, metadata_columns=[]),
    "metadata": dict(light_curve_column=None, spectrum_column=None),
    "all": {},
}
EMBEDDING_OF = {"photometry": "light_curve", "spectra": "spectrum", "metadata": "metadata"}


def linear_probe(train, y_train, test, y_test, seed):
    """Test accuracy of a standardised logistic regression."""
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000, random_state=seed))
    return float(model.fit(train, y_train).score(test, y_test))


def supervised(config, columns, X_train, y_train, X_test, y_test, pretrained, seed):
    """Test accuracy of the towers of ``columns`` with a linear head, trained on the subset.

    With ``pretrained`` (a saved CLIP model) the towers start from it and its
    architecture overrides ``config["model"]``; otherwise from scratch.
    """
    embedder = MultimodalCLIPEmbedder(
        **config["model"], **columns, **config["fine_tune"], pretrained=pretrained,
        max_epochs=0, fine_tune="supervised", random_state=seed)
    embedder.fit(X_train, y_train)
    return float(np.mean(embedder.predict(X_test) == y_test))


def run(config, seed=0):
    started = time.perf_counter()
    X_pool, y_pool = make_multimodal(config["n_train_per_class"], n_obs=config["n_obs"],
                                     random_state=seed)
    X_test, y_test = make_multimodal(config["n_test_per_class"], n_obs=config["n_obs"],
                                     random_state=seed + 1)
    clip = MultimodalCLIPEmbedder(**config["model"], **config["clip"], random_state=seed)
    clip.fit(X_pool)
    clip_seconds = time.perf_counter() - started
    history = clip.net_.history
    pool_embeddings = clip.transform_modalities(X_pool)
    test_embeddings = clip.transform_modalities(X_test)
    for embeddings in (pool_embeddings, test_embeddings):
        embeddings["all"] = np.mean([embeddings[name] for name in EMBEDDING_OF.values()], axis=0)
    metadata = list(METADATA_COLUMNS)
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        clip.save_pretrained(directory)
        for fraction in config["fractions"]:
            if fraction < 1:
                labelled, _ = train_test_split(np.arange(len(y_pool)), train_size=fraction,
                                               stratify=y_pool, random_state=seed)
            else:
                labelled = np.arange(len(y_pool))
            X_lab, y_lab = X_pool.iloc[labelled].reset_index(drop=True), y_pool[labelled]
            for modality, columns in MODALITIES.items():
                key = EMBEDDING_OF.get(modality, "all")
                start = time.perf_counter()
                row = {
                    "fraction": fraction, "n_labels": len(labelled), "modality": modality,
                    "clip+LR": linear_probe(pool_embeddings[key][labelled], y_lab,
                                            test_embeddings[key], y_test, seed),
                    "clip+fine-tune": supervised(config, columns, X_lab, y_lab, X_test, y_test,
                                                 directory, seed),
                    "scratch": supervised(config, columns, X_lab, y_lab, X_test, y_test, None,
                                          seed),
                }
                if modality == "metadata":
                    row["raw metadata+LR"] = linear_probe(
                        X_lab[metadata].fillna(X_lab[metadata].mean()), y_lab,
                        X_test[metadata].fillna(X_lab[metadata].mean()), y_test, seed)
                row["seconds"] = round(time.perf_counter() - start, 1)
                rows.append(row)
                print_row(row)
    return {
        "rows": rows,
        "clip": {"seconds": round(clip_seconds, 1), "epochs": len(history),
                 "train_loss": [round(v, 3) for v in history[:, "train_loss"]],
                 "valid_loss": ([round(v, 3) for v in history[:, "valid_loss"]]
                                if "valid_loss" in history[0] else None),
                 "logit_scales": clip.net_.criterion_.logit_scales.exp().tolist()},
        "n_pool": len(y_pool), "n_test": len(y_test),
        "seconds": round(time.perf_counter() - started, 1),
    }


COLUMNS = ("clip+LR", "clip+fine-tune", "scratch", "raw metadata+LR")


def print_header():
    print(f"{'labels':>7} {'modality':<11}" + "".join(f"{name:>17}" for name in COLUMNS)
          + f"{'seconds':>9}", flush=True)


def print_row(row):
    cells = "".join(f"{row[name]:>17.3f}" if name in row else f"{'':>17}" for name in COLUMNS)
    print(f"{row['fraction']:>6.0%} {row['modality']:<11}{cells}{row['seconds']:>9.1f}",
          flush=True)


def main(argv=None):
    def add_arguments(parser):
        parser.add_argument("--threads", type=int, default=None,
                            help="torch intra-op threads (default: torch's choice)")
        parser.add_argument("--seed", type=int, default=0)

    args = parse_args(__doc__, argv, add_arguments)
    if args.threads:
        torch.set_num_threads(args.threads)
    config = QUICK if args.quick else FULL
    environment = environment_info()
    print_header()
    results = run(config, seed=args.seed)
    print(f"CLIP pre-training: {results['clip']['epochs']} epochs, "
          f"{results['clip']['seconds']} s; total {results['seconds']} s")
    path = write_result("multimodal", {"params": {**config, "seed": args.seed}, **results,
                                       "environment": environment},
                        quick=args.quick, output_dir=args.output_dir)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
