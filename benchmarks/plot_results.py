"""Figures from the benchmark results in ``benchmarks/results/``.

* ``classification.png`` -- macro F1 against labelled light curves per class,
  one panel per simulated survey, one line per method, error bars one
  standard deviation over folds (the layout of the ASTROMER paper's Fig. 11);
* ``classification.md`` -- the same numbers as Markdown tables (for the README):
  first the headline (the best ASTROMER-based pipeline and the best union
  with features, each against features + RF, and per-class F1 at 100 labels
  per class), then every method (the figure shows the main ones);
* ``ablation.md`` -- the ablation of encodings, period input and recipe
  (validation and test macro F1, masked RMSE against the window-mean
  predictor), from ``ablation.json``;
* ``speed.png`` -- ``transform`` throughput (light curves/s) per curve length
  and encoder variant, next to the original package's (when it was measured)
  and the matmul roofline, and pre-training throughput (windows/s) in float32
  and bfloat16, from ``speed.json`` when present;
* ``speed_losses.png`` -- the pre-training loss curves in float32 and
  bfloat16 from the same file;
* ``real.png`` and ``real.md`` -- the real-data (Catalina) benchmark, drawn
  by ``report_real.py``.

With ``--quick`` the ``*_quick.json`` files are read and ``*_quick.png``
written, so smoke runs never overwrite the real figures. A missing results
file is reported and skipped.

Usage: ``python benchmarks/plot_results.py [--quick]``.
"""

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from _common import parse_args  # noqa: E402
from report_real import family_table, plot_real, real_markdown  # noqa: E402

STYLES = {  # method -> (colour, marker, line style); the methods the figure shows
    "features+RF": ("black", "s", "-"),
    "descriptors+RF": ("0.5", "s", ":"),
    "MACHO frozen (mean)+RF": ("tab:orange", "o", ":"),
    "MACHO+period fine-tuned+RF": ("tab:orange", "o", "-"),
    "MACHO+period fine-tuned: head": ("tab:orange", "^", "--"),
    "ours frozen (compact)+RF": ("tab:blue", "o", ":"),
    "ours fine-tuned (compact)+RF": ("tab:blue", "o", "-"),
    "ours fine-tuned: head": ("tab:blue", "^", "--"),
    "features + ours fine-tuned (compact)+RF": ("tab:green", "D", "-"),
    "features + ours frozen (layers) (all dims)+RF": ("tab:red", "x", ":"),
}


def plot_classification(result, path):
    """Macro F1 vs labels per class, one panel per survey."""
    surveys = result["surveys"]
    fig, axes = plt.subplots(1, len(surveys), figsize=(4.6 * len(surveys) + 2.0, 4.2),
                             squeeze=False, sharey=True)
    for ax, (survey, outcome) in zip(axes[0], surveys.items()):
        shown = {method: by_size for method, by_size in outcome["results"].items()
                 if method in STYLES} or outcome["results"]
        for method, by_size in shown.items():
            sizes = sorted(by_size, key=int)
            colour, marker, line = STYLES.get(method, (None, "o", "-"))
            ax.errorbar([int(s) for s in sizes], [by_size[s]["f1_mean"] for s in sizes],
                        yerr=[by_size[s]["f1_sd"] for s in sizes], label=method, color=colour,
                        marker=marker, linestyle=line, capsize=3, markersize=5)
        ax.set_xscale("log")
        ticks = sorted({int(s) for by_size in outcome["results"].values() for s in by_size})
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.minorticks_off()
        ax.set_xlabel("labelled light curves per class")
        ax.set_title(f"simulated {survey.upper()} ({len(outcome['classes'])} classes, "
                     f"test {outcome['n_test']})")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("macro F1 (test set)")
    axes[0][-1].legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.suptitle(f"ASTROMER embeddings vs baselines ({result['mode']} mode, "
                 f"{result['params']['n_folds']} folds)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_speed(result, path):
    """Transform light curves/s by length (ours per variant, the original when measured); fit."""
    transform = dict(result.get("transform_curves_per_s", {}))
    transform = {f"ours, {variant}": rates for variant, rates in transform.items()}
    fit = {f"ours, {variant}": rate for variant, rate in result.get("fit_windows_per_s", {}).items()}
    fit.update({f"ours, {variant}, bf16": rate for variant, rate in
                result.get("fit_bfloat16_windows_per_s", {}).items()})
    original = result.get("original_package", {})
    if original.get("installed"):
        by_batch = original["encode_curves_per_s"]
        lengths_measured = {length for rates in by_batch.values() for length in rates}
        transform["original (best batch)"] = {
            length: max(rates.get(length, 0.0) for rates in by_batch.values())
            for length in lengths_measured}
        fit["original"] = original["fit_windows_per_s"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [2, 1]})
    series = list(transform)
    lengths = sorted({int(k) for rates in transform.values() for k in rates})
    width = 0.8 / max(1, len(series))
    for i, name in enumerate(series):
        positions = [j + (i - (len(series) - 1) / 2) * width for j in range(len(lengths))]
        rates = [transform[name].get(str(length), 0.0) for length in lengths]
        bars = left.bar(positions, rates, width, label=name,
                        color="tab:red" if name.startswith("original") else f"C{i}")
        left.bar_label(bars, fmt="%.0f", fontsize=8)
    roofline = result.get("matmul_gflops", {})
    if isinstance(roofline, dict) and "window_mflops_200" in result and 200 in lengths:
        limit = roofline["roofline"] * 1e3 / result["window_mflops_200"]
        center = lengths.index(200)
        left.hlines(limit, center - 0.45, center + 0.45, color="black", linestyle=":",
                    label=f"matmul roofline, 200 points ({limit:.0f}/s)")
    left.set_xticks(range(len(lengths)), [f"{length} points" for length in lengths])
    left.set_ylabel("transform: light curves / s")
    left.set_yscale("log")
    left.legend(fontsize=8)
    bars = right.bar(list(fit), list(fit.values()),
                     color=["tab:green"] * (len(fit) - original.get("installed", 0))
                     + ["tab:red"] * original.get("installed", 0))
    right.bar_label(bars, fmt="%.0f", fontsize=8)
    right.tick_params(axis="x", labelsize=8)
    right.set_ylabel("fit: 200-point windows / s")
    machine = result.get("environment", {}).get("machine", {})
    fig.suptitle(f"AstromerEmbedder at paper size (d_model 256) on {machine.get('cores', '?')} "
                 f"CPU cores, float32 unless marked bf16 ({result.get('mode', '?')} mode)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_precision_losses(result, path):
    """Pre-training loss per epoch in float32 and bfloat16 (they should agree within noise)."""
    histories = result.get("pretraining_losses_by_precision")
    if not histories:
        return False
    fig, ax = plt.subplots(figsize=(6, 4))
    for (precision, history), colour in zip(histories.items(), ("tab:blue", "tab:orange")):
        epochs = [row["epoch"] for row in history]
        ax.plot(epochs, [row["train_loss"] for row in history], color=colour, marker="o",
                label=f"{precision}, training")
        if all(row.get("valid_loss") is not None for row in history):
            ax.plot(epochs, [row["valid_loss"] for row in history], color=colour,
                    linestyle="--", label=f"{precision}, validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("masked RMSE (scaled magnitudes)")
    ax.set_title("Pre-training in float32 and in mixed bfloat16")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def ablation_table(result):
    """Markdown table of the ablation: per variant, averaged over the surveys."""
    surveys = list(next(iter(result["variants"].values()))["surveys"])
    sizes = [str(size) for size in result["params"]["sizes"]]

    def mean(values):
        return sum(values) / len(values)

    def f1(scores, kind, split, size):
        return mean([scores[survey][kind][split][size]["f1_mean"] for survey in surveys])

    lines = [f"Frozen embeddings (`pooling=\"layers\"`), macro F1 averaged over "
             f"{' and '.join(s.upper() for s in surveys)} and {result['params']['n_folds']} "
             "folds, validation / test; masked RMSE of the validation sets as a fraction of "
             "the window-mean predictor's.", "",
             "| variant | RMSE / mean | " + " | ".join(
                 f"RF {size}/class | LR {size}/class" for size in sizes) + " | pre-training |",
             "| --- | ---: |" + " ---: | ---: |" * len(sizes) + " ---: |"]
    for name, variant in result["variants"].items():
        scores = {survey: variant["surveys"][survey]["layers"] for survey in surveys}
        ratio = mean([variant["surveys"][survey]["rmse_ratio"] for survey in surveys])
        cells = [f"{f1(scores, kind, 'valid', size):.3f} / {f1(scores, kind, 'test', size):.3f}"
                 for size in sizes for kind in ("RF", "LR")]
        lines.append(f"| {name} | {ratio:.2f} | " + " | ".join(cells)
                     + f" | {variant['seconds']:.0f} s |")
    for name in next(iter(result["baselines"].values())):
        scores = {survey: result["baselines"][survey][name] for survey in surveys}
        cells = [f"{f1(scores, kind, 'valid', size):.3f} / {f1(scores, kind, 'test', size):.3f}"
                 for size in sizes for kind in ("RF", "LR")]
        lines.append(f"| *{name} (no model)* | — | " + " | ".join(cells) + " | — |")
    return "\n".join(lines) + "\n"


#: The comparisons the issues ask for: the baseline, today's best frozen
#: published model, and the families whose best member is reported per column
#: (a choice made on the test set, so also one union fixed in advance).
BASELINE = "features+RF"
FAMILIES = {
    "MACHO frozen (best pooling)": lambda m: m.startswith("MACHO frozen"),
    "best ASTROMER-based (no features)": lambda m: not m.startswith(("features", "descriptors")),
    "best union: features + embeddings": lambda m: m.startswith("features + ") and (
        "ours" in m or "MACHO" in m),
    "one fixed union (no per-column choice)": (
        lambda m: m == "features + ours fine-tuned (compact)+RF"),
    "features + descriptors (no model)": lambda m: m == "features + descriptors+RF",
}
PER_CLASS_METHODS = ("features+RF", "MACHO frozen (mean_std)+RF", "MACHO+period fine-tuned+RF",
                     "ours fine-tuned (compact)+RF", "features + ours fine-tuned (compact)+RF")


def headline_table(result, per_class_size="100"):
    """Markdown: per survey, each family's best method per column and its lead over features."""
    lines = []
    for survey, outcome in result["surveys"].items():
        results = outcome["results"]
        if BASELINE not in results:
            continue
        lines += [f"**simulated {survey.upper()}**: best method of each family per column "
                  f"(macro F1, mean over folds; in brackets the lead over {BASELINE})", "",
                  *family_table(results, FAMILIES, BASELINE)]
        classes = outcome["classes"]
        shown = [m for m in PER_CLASS_METHODS
                 if "per_class_f1" in results.get(m, {}).get(per_class_size, {})]
        if not shown:
            lines.append("")
            continue
        lines += ["", f"Per-class F1 at {per_class_size} labels per class:", "",
                  "| method | " + " | ".join(classes) + " |", "| --- |" + " ---: |" * len(classes)]
        for method in shown:
            per_class = results[method][per_class_size]["per_class_f1"]
            lines.append(f"| {method} | " + " | ".join(f"{per_class[c]:.2f}" for c in classes)
                         + " |")
        lines.append("")
    return "\n".join(lines)


def classification_table(result):
    """Markdown table: macro F1 mean ± sd per method (rows) and labels per class (columns)."""
    lines = []
    for survey, outcome in result["surveys"].items():
        sizes = sorted({s for by_size in outcome["results"].values() for s in by_size}, key=int)
        best = {s: max(by_size[s]["f1_mean"] for by_size in outcome["results"].values())
                for s in sizes}
        lines += [f"**simulated {survey.upper()}** (macro F1, mean ± sd over "
                  f"{result['params']['n_folds']} folds; best per column in bold)", "",
                  "| method | " + " | ".join(f"{s}/class" for s in sizes) + " |",
                  "| --- |" + " ---: |" * len(sizes)]
        for method, by_size in outcome["results"].items():
            cells = []
            for s in sizes:
                cell = f"{by_size[s]['f1_mean']:.3f} ± {by_size[s]['f1_sd']:.3f}"
                cells.append(f"**{cell}**" if by_size[s]["f1_mean"] == best[s] else cell)
            lines.append(f"| {method} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(__doc__, argv)
    suffix = "_quick" if args.quick else ""
    written = []
    ablation = args.output_dir / f"ablation{suffix}.json"
    if ablation.exists():
        table = ablation.with_suffix(".md")
        table.write_text(ablation_table(json.loads(ablation.read_text())))
        written.append(table)
        print(f"written {table}")
    for name, plot in (("classification", plot_classification), ("speed", plot_speed),
                       ("real", plot_real)):
        source = args.output_dir / f"{name}{suffix}.json"
        if not source.exists():
            print(f"{source.name}: not found, skipped")
            continue
        result = json.loads(source.read_text())
        target = source.with_suffix(".png")
        plot(result, target)
        written.append(target)
        print(f"written {target}")
        if name == "speed":
            losses = source.with_name(f"speed_losses{suffix}.png")
            if plot_precision_losses(result, losses):
                written.append(losses)
                print(f"written {losses}")
        if name in ("classification", "real"):
            table = source.with_suffix(".md")
            table.write_text(real_markdown(result) if name == "real" else
                             headline_table(result) + "\n" + classification_table(result))
            written.append(table)
            print(f"written {table}")
    return written


if __name__ == "__main__":
    main()
