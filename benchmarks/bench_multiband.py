"""Multi-band light curves: one band against all bands, features against embeddings.

On simulated multi-band surveys (ZTF g/r, Rubin ugrizy; ``make_light_curves(...,
bands=...)``), each of 3 folds draws a stratified training set of 20 or 100
light curves per class from a pool and scores a random forest on a fixed
test set (macro F1, mean and sd over folds):

* ``features r``: :class:`LightCurveFeatures` of the r band alone;
* ``features per band``: every band's features, without the cross-band ones;
* ``features + colours``: every band's, the shared period, colours and
  amplitude ratios (the multi-band features);
* ``MACHO r``: the published MACHO model, frozen, on the r band alone;
* ``MACHO bands concat``: the same on every band, concatenated
  (``multiband="per_band"``, ``band_pooling="concat"``);
* ``ours r``, ``ours per band``, ``ours joint``: new models (the library's
  defaults, ``d_model`` 128) pre-trained self-supervised on the pool's light
  curves with the same settings (at most 15 epochs, early-stopped): on the r
  band alone; on every (light curve, band) pair, embeddings concatenated;
  and jointly, every band in one sequence with band embeddings and the
  shared period. Frozen, then the forest;
* ``union``: the multi-band features beside 16 principal components of the
  joint embedding;
* ``ours r fine-tuned`` and ``ours joint fine-tuned``: the r-band and the
  joint model fine-tuned with the training labels of each fold
  (``fine_tune="supervised"``, 20 % of them early-stop; the encoder is kept
  only where it beats a probe of the frozen one), their embeddings then given
  to the forest; ``... head`` rows score the fine-tuned model's own
  ``predict``.

It also times ``transform`` per observation: the joint model on every band
against the r-band model on the r band.

Usage: ``python benchmarks/bench_multiband.py [--quick]``; writes
``benchmarks/results/multiband[_quick].json`` and ``.md``.
"""

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import environment_info, parse_args, write_result  # noqa: E402
from _protocol import draw_subset, fine_tune, score, summary, union  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402

from sklearn_astromer import AstromerEmbedder  # noqa: E402
from sklearn_astromer.datasets import make_light_curves  # noqa: E402
from sklearn_astromer.features import FEATURE_NAMES, LightCurveFeatures  # noqa: E402

SURVEYS = {"ztf": ("g", "r"), "rubin": ("u", "g", "r", "i", "z", "y")}
#: Supervised fine-tuning, as in bench_real: about ``windows`` windows per fit.
FINE_TUNE = dict(windows=6000, min_epochs=5, max_epochs=30, patience=6, batch_size=32, lr=3e-3)
QUICK_FINE_TUNE = dict(FINE_TUNE, windows=10, min_epochs=1, max_epochs=1)


def _band(curves, code):
    return [curve[curve[:, 3] == code, :3] for curve in curves]


def representations(curves, bands, fitted):
    """Every method's matrix for ``curves``; ``fitted`` holds the fitted transformers."""
    r = bands.index("r")
    features = fitted["features"].transform(curves)
    n_band = len(FEATURE_NAMES)
    single_r = _band(curves, r)
    return {
        "features r": fitted["features_single"].transform(single_r),
        "features per band": features[:, :n_band * len(bands)],
        "features + colours": features,
        "MACHO r": fitted["macho_r"].transform(single_r),
        "MACHO bands concat": np.nan_to_num(fitted["macho_bands"].transform(curves), nan=0.0),
        "ours r": fitted["ours_r"].transform(single_r),
        "ours per band": np.nan_to_num(fitted["ours_per_band"].transform(curves), nan=0.0),
        "ours joint": fitted["ours_joint"].transform(curves),
    }


def pretrained_models(curves, r, quick):
    """The three new models, pre-trained with the same settings on the pool's light curves."""
    params = dict(d_model=16, n_layers=1, n_heads=2, d_ff=16, max_epochs=1) if quick else dict(
        d_model=128, max_epochs=15, patience=5)
    params.update(random_state=0, batch_size=64)
    times = {}
    models = {}
    for name, data, extra in (("ours_r", _band(curves, r), {}),
                              ("ours_per_band", curves, {"multiband": "per_band"}),
                              ("ours_joint", curves, {"multiband": "joint"})):
        start = time.perf_counter()
        models[name] = AstromerEmbedder(**params, **extra).fit(data)
        times[name] = time.perf_counter() - start
    return models, times


def fine_tuned_scores(name, start, train_curves, y_train, test_curves, y_test, fold,
                      settings, n_trees, method_scores):
    """Fine-tune the model saved at ``start``; score its head and a forest on its embedding."""
    config = {"fine_tune": settings, "validation_share": 0.2}
    embedder = fine_tune(start, train_curves, y_train, config, fold)
    method_scores.setdefault(f"{name} fine-tuned head", []).append(
        score(y_test, embedder.predict(test_curves)))
    embedder.set_params(pooling="mean")  # the frozen rows' pooling
    model = RandomForestClassifier(n_trees, n_jobs=2, random_state=fold)
    predicted = model.fit(embedder.transform(train_curves), y_train).predict(
        embedder.transform(test_curves))
    method_scores.setdefault(f"{name} fine-tuned", []).append(score(y_test, predicted))
    return method_scores


def _add_arguments(parser):
    parser.add_argument("--no-fine-tuning", action="store_true",
                        help="skip the fine-tuned rows (the slowest part)")


def main(argv=None):
    args = parse_args(__doc__, argv, _add_arguments)
    quick = args.quick
    fine_tuning = None if args.no_fine_tuning else (QUICK_FINE_TUNE if quick else FINE_TUNE)
    saved = tempfile.TemporaryDirectory()
    config = {"seed": 0, "validation_share": 0.0}
    sizes = [5] if quick else [20, 100]
    n_folds = 1 if quick else 3
    pool_per_class = 8 if quick else 130
    test_per_class = 4 if quick else 60
    n_trees = 50 if quick else 300
    classes = ["RRab", "RRc", "DSCT", "EW", "EA", "Mira", "SRV", "ROT"] if not quick else [
        "RRab", "Mira", "EW"]
    environment = environment_info()
    results, timing = {}, {}
    for survey, bands in SURVEYS.items():
        if quick and survey == "rubin":
            continue
        X, y = make_light_curves(pool_per_class + test_per_class, classes=classes,
                                 survey=survey, bands=bands, random_state=1,
                                 n_obs=(40, 80) if quick else None)
        rng = np.random.default_rng(0)
        test = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:test_per_class]
                               for c in classes])
        pool = np.setdiff1d(np.arange(len(y)), test)
        r = bands.index("r")
        models, pretraining_seconds = pretrained_models([X[i] for i in pool], r, quick)
        starts = {}  # name: (saved model, what the model reads of a multi-band curve)
        for name, key, view in (("ours r", "ours_r", lambda curves: _band(curves, r)),
                                ("ours joint", "ours_joint", list)):
            starts[name] = (Path(saved.name) / f"{survey}_{key}", view)
            models[key].save_pretrained(starts[name][0])
        fitted = {
            "features": LightCurveFeatures(n_jobs=2).fit([X[i] for i in pool]),
            "features_single": LightCurveFeatures(n_jobs=2),
            "macho_r": AstromerEmbedder.from_pretrained("macho"),
            "macho_bands": AstromerEmbedder.from_pretrained(
                "macho", multiband="per_band").fit([X[i] for i in pool]),
            **models,
        }
        start = time.perf_counter()
        matrices = representations(X, list(bands), fitted)
        seconds = time.perf_counter() - start
        n_points = sum(len(curve) for curve in X)
        # Cost per observation: the joint model on every band against the r-band model on
        # the r band (both search the periods of the curves they see).
        single = _band(X, r)
        t0 = time.perf_counter()
        fitted["ours_r"].transform(single)
        single_rate = sum(len(c) for c in single) / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        fitted["ours_joint"].transform(X)
        multi_rate = n_points / (time.perf_counter() - t0)
        timing[survey] = {"single_band_points_per_s": single_rate,
                          "multiband_points_per_s": multi_rate,
                          "ratio": multi_rate / single_rate, "all_methods_seconds": seconds,
                          "pretraining_seconds": pretraining_seconds}
        y_pool, y_test = y[pool], y[test]
        survey_results = {}
        for size in sizes:
            method_scores = {}
            for fold in range(n_folds):
                train, _ = draw_subset(y_pool, size, fold, config)
                train = pool[train]
                for name, Z in {**matrices}.items():
                    model = RandomForestClassifier(n_trees, n_jobs=2, random_state=fold)
                    predicted = model.fit(Z[train], y[train]).predict(Z[test])
                    method_scores.setdefault(name, []).append(score(y_test, predicted))
                if fine_tuning:
                    for name, (start, view) in starts.items():
                        method_scores = fine_tuned_scores(
                            name, start, view([X[i] for i in train]), y[train],
                            view([X[i] for i in test]), y_test, fold, fine_tuning, n_trees,
                            method_scores)
                F_train, (F_test,) = union(matrices["features + colours"][train],
                                           matrices["ours joint"][train],
                                           [matrices["features + colours"][test]],
                                           [matrices["ours joint"][test]], fold)
                model = RandomForestClassifier(n_trees, n_jobs=2, random_state=fold)
                method_scores.setdefault("union", []).append(
                    score(y_test, model.fit(F_train, y[train]).predict(F_test)))
            survey_results[str(size)] = {name: summary(scores, classes)
                                         for name, scores in method_scores.items()}
        results[survey] = survey_results
    payload = {"environment": environment, "classes": classes, "sizes": sizes,
               "folds": n_folds, "test_per_class": test_per_class, "results": results,
               "timing": timing}
    path = write_result("multiband", payload, quick, args.output_dir)
    lines = ["| survey | labels/class | " + " | ".join(next(iter(
        next(iter(results.values())).values()))) + " |"]
    lines.append("|" + " --- |" * (len(lines[0].split("|")) - 2))
    for survey, by_size in results.items():
        for size, methods in by_size.items():
            lines.append(f"| {survey} | {size} | " + " | ".join(
                f"{m['f1_mean']:.3f} ± {m['f1_sd']:.3f}" for m in methods.values()) + " |")
    lines.append("")
    for survey, t in timing.items():
        lines.append(f"- {survey}: joint multi-band transform "
                     f"{t['multiband_points_per_s']:,.0f} observations/s against "
                     f"{t['single_band_points_per_s']:,.0f} for the r-band model on r "
                     f"({t['ratio']:.2f}x)")
    Path(path).with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
