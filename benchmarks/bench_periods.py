"""The period search of the models' period input: its speed, its agreement with an earlier search, and what it costs ``transform``.

Side by side in one run, on 2 threads (the estimators' default here):

* Lomb-Scargle period searches per second
  (:func:`sklearn_astromer._periods.lomb_scargle_periods`, the defaults of
  :data:`~sklearn_astromer._periods.PERIOD_SEARCH`) on light curves never
  searched before: 200-point irregular sinusoids over 1,000 days (the speed
  benchmark's curves), simulated ZTF and OGLE surveys, and real Catalina
  (CRTS) light curves from ``../shared/data`` when present; and on 150 to
  9,600 sinusoids per call, to show the steady state. Medians of several
  calls after a warm-up, today's search and the reference's one after the other.
* Agreement with the search of an earlier commit (``--reference``; default
  ``dabce9d``, the last with the extirpolated floating-mean coarse pass):
  the fraction of light curves whose periods agree within 1 %, per set and
  per class; among the disagreements, the fraction where today's search
  found the higher exact peak; on the simulated surveys, the agreement on
  the curves whose true period (or its half or double) the earlier search
  recovered within 1 %. The earlier module is read with ``git show`` and
  run through today's batching; the comparison is skipped, saying so, where
  git or the commit is missing.
* What the change does to a classifier on real light curves: macro F1 of a
  random forest on the Catalina stars (``bench_real.py``'s folds, subsets
  and test stars: 3 folds, 20/100/500 stars per class) with
  :class:`~sklearn_astromer.features.LightCurveFeatures` and with the period
  input's five descriptors, each computed with today's search and with the
  reference's.
* ``transform`` light curves/s at 200 points of the library's defaults for
  new models (paper width) with the period input and without it, and their
  ratio: medians of 5 calls each, the two alternating.

Usage: ``python benchmarks/bench_periods.py [--quick] [--reference COMMIT]``;
writes ``benchmarks/results/periods[_quick].json`` and ``.md``.
"""

import importlib.util
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from unittest import mock

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (SHARED_DATA, _git, environment_info, median_time,  # noqa: E402
                     parse_args, rate_against_n, write_result)
from _curves import make_curves  # noqa: E402
from _protocol import curve_descriptors  # noqa: E402
from _real_data import CLASSES, classes_with, draw_subset, load, pool_of, test_folds  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402

from sklearn_astromer import AstromerEmbedder, _periods, features  # noqa: E402
from sklearn_astromer._periods import PERIOD_SEARCH, lomb_scargle_periods  # noqa: E402
from sklearn_astromer._validation import check_light_curves  # noqa: E402
from sklearn_astromer.datasets import load_catalina, make_light_curves  # noqa: E402

CRTS = SHARED_DATA / "lightcurves" / "crts" / "crts_train.npz"
SEARCH_MODULE = "sklearn_astromer/_lomb_scargle.py"


def add_arguments(parser):
    parser.add_argument("--reference", default="dabce9d",
                        help="commit whose period search today's is compared with "
                             "(default dabce9d; 'none' skips the comparison)")


def curve_sets(quick):
    """``{name: (curves, labels or None, true periods or None)}``."""
    n = 32 if quick else 600
    per_class = 3 if quick else 300
    sets = {"sinusoids, 200 points over 1,000 days": (make_curves(n, 200, seed=1), None, None)}
    for name, survey, seed in (("simulated ZTF", "ztf", 2), ("simulated OGLE", "ogle", 3)):
        curves, labels, params = make_light_curves(per_class, survey=survey, random_state=seed,
                                                   return_params=True)
        sets[name] = (curves, np.asarray(labels), np.asarray(params["period"], dtype=float))
    if CRTS.exists():
        curves, labels = load_catalina(CRTS)[:2]
        keep = np.random.default_rng(0).permutation(len(curves))[:n if quick else None]
        sets["real CRTS"] = ([curves[i] for i in keep], np.asarray(labels)[keep], None)
    return sets


def reference_search(commit):
    """``best_frequencies`` of ``commit``'s search module, or None (with the reason)."""
    if commit == "none":
        return None, "not asked for (--reference none)"
    source = _git("show", f"{commit}:{SEARCH_MODULE}")
    if not source:
        return None, f"git or commit {commit} not available here"
    path = Path(tempfile.mkdtemp()) / "reference_lomb_scargle.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("reference_lomb_scargle", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, None


def searching_with(module):
    """Patches making the library search periods with ``module`` (None: today's search)."""
    stack = ExitStack()
    if module is not None:
        # The earlier search runs on the CPU: it takes no device.
        stack.enter_context(mock.patch.object(
            _periods, "best_frequencies", lambda *args: module.best_frequencies(*args[:8])))
    return stack


def real_f1(reference, quick):
    """Macro F1 (mean and folds) of forests on Catalina stars, periods from either search."""
    curves, labels, in_benchmark = load(max_per_class=40 if quick else None)
    folds = test_folds(labels, in_benchmark, 3, seed=0)
    sizes = (10,) if quick else (20, 100, 500)
    representations = {}
    for search_name, module in (("today", None), ("reference", reference)):
        with searching_with(module):
            representations[f"features, {search_name}'s periods"] = (
                features.LightCurveFeatures(n_jobs=2).fit_transform(curves))
            representations[f"descriptors, {search_name}'s periods"] = curve_descriptors(curves)
    results = {}
    for name, Z in representations.items():
        for size in sizes:
            scores = []
            for fold, test in enumerate(folds):
                pool = pool_of(len(curves), test)
                classes = classes_with(labels, pool, size, CLASSES)
                train, _ = draw_subset(labels, pool, size, fold, classes, 0.0, seed=0)
                evaluated = test[np.isin(labels[test], classes)]
                forest = RandomForestClassifier(n_estimators=100 if quick else 500, n_jobs=2,
                                                random_state=1000 * fold + size)
                predicted = forest.fit(Z[train], labels[train]).predict(Z[evaluated])
                scores.append(f1_score(labels[evaluated], predicted, average="macro"))
            results.setdefault(name, {})[str(size)] = {"f1_mean": float(np.mean(scores)),
                                                       "f1_folds": [float(v) for v in scores]}
    return results


def exact_powers(light_curves, frequencies):
    """Today's exact floating-mean power of each light curve at its own ``frequencies``."""
    from sklearn_astromer._lomb_scargle import _exact_power

    values, offsets = light_curves.values, light_curves.offsets
    _, _, largest, smallest_error = _periods._row_statistics(values, offsets)
    powers = np.zeros(len(frequencies))
    for start in range(0, len(frequencies), 256):
        rows = np.arange(start, min(start + 256, len(frequencies)))
        times, magnitudes, weights = _periods._padded_block(values, offsets, rows, largest,
                                                            smallest_error)
        centred = magnitudes - np.sum(weights * magnitudes, axis=1, keepdims=True)
        powers[rows] = _exact_power(times - times[:, :1], centred, weights,
                                    frequencies[rows, None], np.zeros(len(rows)), 1)[:, 0]
    return powers


def agreement(light_curves, ours, ours_power, reference, labels, true_periods):
    """Agreement (within 1 %) of ``ours`` with ``reference`` frequencies, as a dict."""
    both = (ours > 0) & (reference > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        agrees = both & (np.abs(ours / reference - 1) < 0.01)
    disagree = both & ~agrees
    reference_power = exact_powers(light_curves, reference)
    row = {"n_curves": int(both.sum()), "agreement": float(agrees[both].mean()),
           "n_disagreements": int(disagree.sum()),
           "ours_higher_when_disagreeing": (float((ours_power[disagree]
                                                   > reference_power[disagree]).mean())
                                            if disagree.any() else None)}
    if true_periods is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            found = 1.0 / reference
            recovered = both & np.logical_or.reduce(
                [np.abs(found / (true_periods * m) - 1) < 0.01 for m in (1.0, 0.5, 2.0)])
        row["n_recovered_by_reference"] = int(recovered.sum())
        row["agreement_where_reference_recovers"] = (float(agrees[recovered].mean())
                                                     if recovered.any() else None)
    if labels is not None:
        row["agreement_per_class"] = {str(name): float(agrees[both & (labels == name)].mean())
                                      for name in np.unique(labels[both])}
    return row


def search_rates(light_curves, reference, threads, repeats):
    """Period searches/s of today's search and, where given, the ``reference`` module's."""
    def seconds():
        return median_time(lambda: lomb_scargle_periods(light_curves, n_jobs=threads),
                           repeats=repeats)

    rates = {"curves_per_s": len(light_curves) / seconds()}
    if reference is not None:
        with searching_with(reference):
            rates["reference_curves_per_s"] = len(light_curves) / seconds()
    return rates


def transform_rates(curves, repeats):
    """``transform`` light curves/s with the period input and without, calls alternating.

    Alternate calls: a drift of the host's speed then touches both alike.
    """
    embedders = {name: AstromerEmbedder(period_input=name == "with", max_epochs=0, device="cpu",
                                        random_state=0).fit(curves[:4])
                 for name in ("with", "without")}
    seconds = {name: [] for name in embedders}
    for _ in range(repeats + 1):  # the first round warms up
        for name, embedder in embedders.items():
            start = time.perf_counter()
            embedder.transform(curves)
            seconds[name].append(time.perf_counter() - start)
    rates = {name: len(curves) / float(np.median(times[1:])) for name, times in seconds.items()}
    return {**rates, "ratio": rates["with"] / rates["without"], "repeats": repeats}


def main(argv=None):
    args = parse_args(__doc__, argv, add_arguments)
    repeats = 1 if args.quick else 3
    threads = torch.get_num_threads()
    reference, skipped = reference_search(args.reference)
    search, agreements = {}, {}
    for name, (curves, labels, true_periods) in curve_sets(args.quick).items():
        light_curves = check_light_curves(curves)
        search[name] = {**search_rates(light_curves, reference, threads, repeats),
                        "n_curves": len(curves),
                        "median_points": float(np.median(light_curves.lengths))}
        if reference is not None:
            ours, ours_power = lomb_scargle_periods(light_curves, n_jobs=threads)
            with searching_with(reference):
                theirs, _ = lomb_scargle_periods(light_curves, n_jobs=threads)
            agreements[name] = agreement(light_curves, ours, ours_power, theirs, labels,
                                         true_periods)
    sizes = (16, 32) if args.quick else (150, 300, 600, 1200, 2400, 4800, 9600)
    sinusoids = {n: check_light_curves(make_curves(n, 200, seed=4)) for n in sizes}
    steady = {"today": rate_against_n(
        lambda n: lomb_scargle_periods(sinusoids[n], n_jobs=threads), sizes, repeats)}
    if reference is not None:
        with searching_with(reference):
            steady[args.reference] = rate_against_n(
                lambda n: lomb_scargle_periods(sinusoids[n], n_jobs=threads), sizes, repeats)
    transform = transform_rates(make_curves(64 if args.quick else 1000, 200, seed=1),
                                1 if args.quick else 5)
    classification = (real_f1(reference, args.quick)
                      if reference is not None and CRTS.exists() else {})
    payload = {"environment": environment_info(), "threads": threads,
               "search_settings": PERIOD_SEARCH, "period_search": search,
               "sinusoid_rate_against_n": steady,
               "reference": args.reference, "reference_skipped": skipped,
               "agreement": agreements, "real_classification": classification,
               "transform_curves_per_s": transform}
    path = write_result("periods", payload, args.quick, args.output_dir)
    Path(path).with_suffix(".md").write_text("\n".join(report_lines(payload)) + "\n")
    print("\n".join(report_lines(payload)))


def report_lines(payload):
    """The Markdown report of a run's ``payload``."""
    search, agreements = payload["period_search"], payload["agreement"]
    reference = payload["reference"]
    lines = ["| light curves | median points | period searches/s | "
             f"{reference}'s searches/s (today's batching) | agreement with "
             f"{reference} (within 1 %) | disagreements where ours is the higher "
             "exact peak | agreement where the reference recovers the true period |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, row in search.items():
        found = agreements.get(name, {})
        cells = [f"{found['agreement']:.4f} of {found['n_curves']:,}" if found else "-",
                 (f"{found['ours_higher_when_disagreeing']:.2f} of "
                  f"{found['n_disagreements']:,}"
                  if found.get("ours_higher_when_disagreeing") is not None else "-"),
                 (f"{found['agreement_where_reference_recovers']:.4f} of "
                  f"{found['n_recovered_by_reference']:,}"
                  if found.get("agreement_where_reference_recovers") is not None else "-")]
        lines.append(f"| {name} | {row['median_points']:.0f} | {row['curves_per_s']:,.0f} | "
                     f"{_rate(row.get('reference_curves_per_s'))} | " + " | ".join(cells) + " |")
    steady = payload["sinusoid_rate_against_n"]
    sizes = list(max(steady.values(), key=lambda found: len(found["curve"]))["curve"])
    lines += ["", "Searches/s of 200-point sinusoids against the number per call, each search "
                  "until doubling it changes its rate by less than 5 %:", "",
              "| search | " + " | ".join(f"{int(n):,}" for n in sizes) + " | steady |",
              "| --- | " + " | ".join("---:" for _ in sizes) + " | --- |"]
    lines += [f"| {name} | " + " | ".join(_rate(found["curve"].get(n)) for n in sizes)
              + f" | {'yes' if found['steady'] else 'no'} |" for name, found in steady.items()]
    if payload["reference_skipped"]:
        lines += ["", f"- Agreement not measured: {payload['reference_skipped']}."]
    for name, found in agreements.items():
        if "agreement_per_class" in found:
            classes = found["agreement_per_class"]
            lines += ["", f"Agreement per class, {name}:", "",
                      "| " + " | ".join(classes) + " |",
                      "| " + " | ".join("---:" for _ in classes) + " |",
                      "| " + " | ".join(f"{value:.3f}" for value in classes.values()) + " |"]
    classification = payload["real_classification"]
    if classification:
        sizes = list(next(iter(classification.values())))
        lines += ["", "Macro F1 of a random forest on real Catalina stars (mean of 3 folds), "
                      "per labelled stars per class:", "",
                  "| representation | " + " | ".join(sizes) + " |",
                  "| --- | " + " | ".join("---:" for _ in sizes) + " |"]
        lines += [f"| {name} | " + " | ".join(f"{row[size]['f1_mean']:.3f}" for size in sizes)
                  + " |" for name, row in classification.items()]
    transform = payload["transform_curves_per_s"]
    lines += ["", f"- `transform` at 200 points, defaults for new models: "
                  f"{transform['with']:,.0f} light curves/s with the period input, "
                  f"{transform['without']:,.0f} without ({transform['ratio']:.2f}x)"]
    return lines


def _rate(value):
    return "-" if value is None else f"{value:,.0f}"


if __name__ == "__main__":
    main()
