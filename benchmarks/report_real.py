"""Tables and figure of the real-data benchmark (``real.json`` from ``bench_real.py``).

* ``real.png`` -- macro F1 against labelled stars per class on Catalina, one
  line per main row, error bars one standard deviation over folds; beside it
  the leave-one-class-out novelty ROC AUC and retrieval precision at 10;
* ``real.md`` -- the headline (each family's best row against features +
  RF, per-class F1 at 100 labels per class), every classification row with
  its validation F1, and the novelty and retrieval tables.

Called by ``plot_results.py``.
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

BASELINE = "features+RF"
#: Families of rows in the headline, by the row names of bench_real.py.
FAMILIES = {
    "published MACHO, frozen or fine-tuned": lambda m: m.startswith("MACHO"),
    "ours (pre-trained on the fold's real light curves)": lambda m: m.startswith("ours"),
    "features + embeddings": lambda m: m.startswith("features +"),
}
STYLES = {
    "features+RF": ("black", "s", "-"),
    "descriptors+RF": ("0.5", "s", ":"),
    "MACHO frozen (mean_std)+RF": ("tab:orange", "o", ":"),
    "MACHO fine-tuned+RF": ("tab:orange", "o", "-"),
    "ours frozen (layers)+RF": ("tab:blue", "o", ":"),
    "ours frozen (layers) + descriptors+RF": ("tab:blue", "D", ":"),
    "ours fine-tuned+RF": ("tab:blue", "o", "-"),
    "ours fine-tuned: head": ("tab:blue", "^", "--"),
    "features + ours (stacked LR)+RF": ("tab:green", "D", "-"),
    "features + ours (PCA16)+RF": ("tab:green", "x", ":"),
}
PER_CLASS_ROWS = ("features+RF", "MACHO frozen (mean_std)+RF", "ours frozen (layers)+RF",
                  "ours fine-tuned+RF", "features + ours (stacked LR)+RF")


def _n_folds(result):
    """``"3 folds"``, or ``"folds 0, 1 of 3"`` when only some were run."""
    total = result["params"]["n_folds"]
    run = result.get("folds", list(range(total)))
    if len(run) == total:
        return f"{total} folds"
    return f"folds {', '.join(map(str, run))} of {total}"


def _sizes(classification):
    return sorted({s for by_size in classification.values() for s in by_size}, key=int)


def plot_real(result, path):
    """Classification, novelty and retrieval panels."""
    classification = result["classification"]
    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(16, 4.4),
                                              gridspec_kw={"width_ratios": [1.4, 1, 1]})
    for method, by_size in classification.items():
        if method not in STYLES:
            continue
        sizes = sorted(by_size, key=int)
        colour, marker, line = STYLES[method]
        left.errorbar([int(s) for s in sizes], [by_size[s]["f1_mean"] for s in sizes],
                      yerr=[by_size[s]["f1_sd"] for s in sizes], label=method, color=colour,
                      marker=marker, linestyle=line, capsize=3, markersize=5)
    ticks = [int(s) for s in _sizes(classification)]
    left.set_xscale("log")
    left.set_xticks(ticks, [str(t) for t in ticks])
    left.minorticks_off()
    left.set_xlabel("labelled stars per class")
    left.set_ylabel("macro F1 (test stars)")
    left.set_title("Catalina classification")
    left.grid(alpha=0.3)
    left.legend(fontsize=7, loc="lower right")
    names = list(result["novelty"])
    for offset, detector in ((-0.2, "IsolationForest"), (0.2, "kNN")):
        middle.barh([i + offset for i in range(len(names))],
                    [result["novelty"][n][detector]["mean_auc"] for n in names], height=0.4,
                    label=detector)
    middle.set_yticks(range(len(names)), names, fontsize=7)
    middle.axvline(0.5, color="0.5", linestyle=":")
    middle.set_xlim(0.4, 0.9)
    middle.set_xlabel("mean ROC AUC over held-out classes")
    middle.set_title("novelty (leave one class out)")
    middle.legend(fontsize=7)
    retrieval = result["retrieval"]
    right.barh(range(len(names)), [retrieval["results"][n]["macro_precision_at_10"]
                                   for n in names])
    right.axvline(retrieval["chance_macro"], color="0.5", linestyle=":", label="chance")
    right.set_yticks(range(len(names)), [""] * len(names))
    right.set_xlabel("precision at 10 (macro over classes)")
    right.set_title("same-class retrieval")
    right.legend(fontsize=7)
    fig.suptitle(f"Real Catalina light curves ({result['mode']} mode, "
                 f"{_n_folds(result)} of test stars)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def family_table(results, families, baseline=BASELINE):
    """Markdown table lines: ``baseline`` per budget, then each family's best row and its lead."""
    sizes = sorted(results[baseline], key=int)
    lines = ["| | " + " | ".join(f"{s}/class" for s in sizes) + " |",
             "| --- |" + " ---: |" * len(sizes),
             f"| {baseline} | " + " | ".join(
                 f"{results[baseline][s]['f1_mean']:.3f}" for s in sizes) + " |"]
    for family, member in families.items():
        cells = []
        for s in sizes:
            members = [m for m in results if member(m) and s in results[m]]
            if not members:
                cells.append("—")
                continue
            method = max(members, key=lambda m: results[m][s]["f1_mean"])
            value = results[method][s]["f1_mean"]
            lead = value - results[baseline][s]["f1_mean"]
            cells.append(f"{value:.3f} ({lead:+.3f}) {method.removesuffix('+RF')}")
        lines.append(f"| {family} | " + " | ".join(cells) + " |")
    return lines


def chosen_on_validation(results, member):
    """The row of a family with the best validation F1, averaged over budgets (no test look).

    Fine-tuned rows are left out: fine-tuning trained on the validation part
    (its own early-stopping split is drawn inside the subset), so their
    validation F1 is not a held-out score.
    """
    members = [m for m in results if member(m) and "fine-tuned" not in m]
    return max(members, key=lambda m: sum(r["valid_f1_mean"] for r in results[m].values())
               / len(results[m]), default=None)


def chosen_rows(results, families, baseline=BASELINE):
    """Markdown table lines: per family, the one row chosen on validation, at every budget."""
    sizes = sorted(results[baseline], key=int)
    lines = []
    for family, member in families.items():
        method = chosen_on_validation(results, member)
        if method is None:
            continue
        cells = [f"{results[method][s]['f1_mean']:.3f} "
                 f"({results[method][s]['f1_mean'] - results[baseline][s]['f1_mean']:+.3f})"
                 if s in results[method] else "—" for s in sizes]
        lines.append(f"| {family}, chosen on validation: {method.removesuffix('+RF')} | "
                     + " | ".join(cells) + " |")
    return lines


def headline(result, per_class_size="100"):
    """Markdown: each family's best row per budget and its lead over features + RF."""
    classification = result["classification"]
    if BASELINE not in classification:
        return ""
    lines = ["**Real Catalina light curves**: best row of each family per budget (macro F1 on "
             f"test stars, mean over folds; in brackets the lead over {BASELINE})", "",
             *family_table(classification, FAMILIES),
             *chosen_rows(classification, FAMILIES)]
    shown = [m for m in PER_CLASS_ROWS if per_class_size in classification.get(m, {})]
    if shown:
        classes = list(classification[shown[0]][per_class_size]["per_class_f1"])
        lines += ["", f"Per-class F1 at {per_class_size} labels per class:", "",
                  "| row | " + " | ".join(classes) + " |", "| --- |" + " ---: |" * len(classes)]
        for method in shown:
            per_class = classification[method][per_class_size]["per_class_f1"]
            lines.append(f"| {method} | " + " | ".join(f"{per_class[c]:.2f}" for c in classes)
                         + " |")
    return "\n".join(lines) + "\n"


def classification_table(result):
    """Markdown: every row, test F1 mean ± sd and validation F1, per budget."""
    classification = result["classification"]
    sizes = _sizes(classification)
    lines = [f"Every row (test macro F1, mean ± sd over {_n_folds(result)}; "
             "validation F1 in brackets, the number choices were made on):", "",
             "| row | " + " | ".join(f"{s}/class" for s in sizes) + " |",
             "| --- |" + " ---: |" * len(sizes)]
    for method, by_size in classification.items():
        cells = [f"{by_size[s]['f1_mean']:.3f} ± {by_size[s]['f1_sd']:.3f} "
                 f"({by_size[s]['valid_f1_mean']:.3f})" if s in by_size else "—"
                 for s in sizes]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def novelty_retrieval_table(result):
    """Markdown: novelty ROC AUC per detector and retrieval precision at 10, per representation."""
    retrieval = result["retrieval"]
    lines = ["| representation | novelty AUC, IsolationForest | novelty AUC, kNN | "
             "retrieval P@10 |", "| --- | ---: | ---: | ---: |"]
    for name, detectors in result["novelty"].items():
        lines.append(f"| {name} | {detectors['IsolationForest']['mean_auc']:.3f} | "
                     f"{detectors['kNN']['mean_auc']:.3f} | "
                     f"{retrieval['results'][name]['macro_precision_at_10']:.3f} |")
    lines.append(f"| (chance) | 0.500 | 0.500 | {retrieval['chance_macro']:.3f} |")
    return "\n".join(lines) + "\n"


def real_markdown(result):
    return "\n".join([headline(result), classification_table(result),
                      novelty_retrieval_table(result)])
