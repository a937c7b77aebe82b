"""Speed and memory of AstromerEmbedder at paper size, against the original and the roofline.

Measures, side by side in one run:

* ``transform`` light curves/s, end to end from the Python list to the pooled
  array, for curves of 50, 200 and 1000 points (both encoder variants), and at
  200 points for several inference batch sizes and in bfloat16;
* ``fit`` windows/s of masked pre-training (200-point windows, whole ``fit``
  calls of one epoch, set-up included), in float32 and in mixed bfloat16, and
  of supervised fine-tuning (``fine_tune="supervised"``);
* the price of the period input: ``transform`` of the library's defaults for
  new models at paper width, periods searched anew each time, and the period
  search alone;
* the loss curves of a short pre-training in float32 and in bfloat16 (they
  must agree within noise);
* this machine's float32 matrix-multiply throughput, with PyTorch's default
  CPU kernel (``torch.mm``, MKL) and with oneDNN (the kernel our layers use
  on the CPU), and the fraction of the faster one that ``transform`` reaches,
  from the FLOPs of one window;
* peak resident memory of ``transform`` in fresh processes for growing N
  (it must stay flat: windows are streamed, never all materialised);
* the same transform/fit numbers for the original TensorFlow package
  (``astromer`` 0.1.8) when an interpreter that has it is given with
  ``--original-python`` (or ``$SKLEARN_ASTROMER_ORIGINAL_PYTHON``), or when
  this one has it. It is detected, never required; it runs in a subprocess
  (``_original_astromer.py``) right after our measurements.

Usage: ``python benchmarks/bench_speed.py [--quick] [--original-python PATH]``;
writes ``benchmarks/results/speed[_quick].json``.
"""

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import environment_info, median_time, parse_args, write_result  # noqa: E402
from _curves import make_curves  # noqa: E402

from sklearn_astromer import AstromerEmbedder  # noqa: E402
from sklearn_astromer.nn.linear import ONEDNN_LINEAR  # noqa: E402

# Paper size, and the paper's inputs (time encoding, no period input, magnitudes
# unscaled), so that both variants do the original's work.
PAPER = dict(d_model=256, n_layers=2, n_heads=4, d_ff=128, max_obs=200, time_encoding="paper",
             period_input=False, magnitude_scaling="none")


def window_flops(length, d_model, d_ff, n_layers):
    """Multiply-add FLOPs (2 per MAC) of one encoder pass over a window of ``length``."""
    per_layer = (2 * length * d_model * 3 * d_model      # fused Q, K, V
                 + 2 * 2 * length * length * d_model     # scores and weighted values
                 + 2 * length * d_model * d_model        # output projection
                 + 2 * 2 * length * d_model * d_ff)      # feed-forward
    return n_layers * per_layer


def matmul_gflops(size=1024, repeats=20):
    """Median float32 GFLOP/s of square products with each CPU kernel torch offers.

    ``torch_mm``: :func:`torch.mm` (MKL in PyTorch's CPU wheels); ``onednn``:
    the oneDNN product that :class:`sklearn_astromer.nn.Linear` uses. The
    roofline is the faster of the two: the machine can do at least that.
    """
    a, b = torch.randn(size, size), torch.randn(size, size)
    flops = 2 * size**3
    rates = {"torch_mm": flops / median_time(lambda: torch.mm(a, b), repeats=repeats) / 1e9}
    if ONEDNN_LINEAR:
        with torch.inference_mode():
            rates["onednn"] = flops / median_time(
                lambda: torch.ops.mkldnn._linear_pointwise(a, b, None, "none", [], ""),
                repeats=repeats) / 1e9
    rates["roofline"] = max(rates.values())
    return rates


def median_rate(function, n_items, repeats):
    """Median items/s of ``function()`` over ``repeats`` runs (after one warm-up run)."""
    return n_items / median_time(function, repeats=repeats)


def curves_for(length, n_curves):
    """Fewer curves at long lengths, so every length costs about the same time."""
    return make_curves(max(16, n_curves * 200 // max(length, 200)), length)


def bench_transform(variant, lengths, n_curves, repeats, batch_sizes=("auto",),
                    precision="float32"):
    """``{batch_size: {length: curves/s}}`` of ``transform``."""
    rates = {}
    for batch_size in batch_sizes:
        embedder = AstromerEmbedder(**PAPER, variant=variant, max_epochs=0,
                                    inference_batch_size=batch_size, precision=precision,
                                    device="cpu", random_state=0).fit(make_curves(4, 50))
        rates[str(batch_size)] = {}
        for length in lengths:
            curves = curves_for(length, n_curves)
            rates[str(batch_size)][str(length)] = median_rate(
                lambda: embedder.transform(curves), len(curves), repeats)
    return rates


def bench_fit(variant, n_curves, repeats, batch_size, precision="float32", supervised=False):
    """Windows/s of one-epoch ``fit`` calls (pre-training, or supervised fine-tuning)."""
    curves = make_curves(n_curves, 200)
    labels = np.arange(n_curves) % 4
    stage = (dict(max_epochs=0, fine_tune="supervised", fine_tune_epochs=1) if supervised
             else dict(max_epochs=1))

    def fit_one_epoch():
        AstromerEmbedder(**PAPER, variant=variant, **stage, batch_size=batch_size,
                         precision=precision, validation_fraction=None, device="cpu",
                         random_state=0).fit(curves, labels if supervised else None)

    return median_rate(fit_one_epoch, n_curves, repeats)


def bench_period_input(n_curves, repeats):
    """``transform`` curves/s at 200 points with the defaults for new models (period input,
    paper width), periods searched anew each call; and the period search alone."""
    from sklearn_astromer import _periods
    from sklearn_astromer._validation import check_light_curves

    curves = make_curves(n_curves, 200)
    embedder = AstromerEmbedder(d_model=256, max_epochs=0, device="cpu",
                                random_state=0).fit(make_curves(4, 50))

    # Every call searches the periods anew: nothing is cached between calls.
    light_curves = check_light_curves(curves)
    return {
        "transform_curves_per_s": median_rate(lambda: embedder.transform(curves),
                                              n_curves, repeats),
        "period_search_curves_per_s": median_rate(lambda: _periods.lomb_scargle_periods(
            light_curves, n_jobs=torch.get_num_threads()), n_curves, repeats),
    }


def loss_curves(n_curves, epochs):
    """Training and validation losses per epoch of one pre-training in each precision."""
    curves = make_curves(n_curves, 200)
    histories = {}
    for precision in ("float32", "bfloat16"):
        embedder = AstromerEmbedder(d_model=64, max_epochs=epochs, precision=precision,
                                    validation_fraction=0.2, patience=epochs, device="cpu",
                                    random_state=0).fit(curves)
        histories[precision] = [{key: row.get(key) for key in ("epoch", "train_loss",
                                                               "valid_loss")}
                                for row in embedder.net_.history]
    return histories


def bench_multimodal_fit(n_per_class, repeats):
    """Objects/s of one-epoch CLIP ``fit`` calls of MultimodalCLIPEmbedder, per precision."""
    from sklearn_astromer import MultimodalCLIPEmbedder
    from sklearn_astromer.datasets import make_multimodal

    frame, _ = make_multimodal(n_per_class, random_state=0)
    rates = {}
    for precision in ("float32", "bfloat16"):
        def fit_one_epoch():
            MultimodalCLIPEmbedder(max_epochs=1, warmup_epochs=0, batch_size=64,
                                   validation_fraction=None, precision=precision,
                                   device="cpu", random_state=0).fit(frame)
        rates[precision] = median_rate(fit_one_epoch, len(frame), repeats)
    return rates


MEMORY_PROBE = """
import sys
import numpy as np
sys.path.insert(0, {bench_dir!r})
from _curves import make_curves
from sklearn_astromer import AstromerEmbedder
n_curves = {n_curves}
embedder = AstromerEmbedder(d_model=64, n_layers=2, n_heads=4, d_ff=128, max_epochs=0,
                            time_encoding="paper", period_input=False,
                            magnitude_scaling="none", device="cpu",
                            random_state=0).fit(make_curves(4, 50))
curves = make_curves(n_curves, 200)

def rss_mib(field):
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith(field))
    return int(line.split()[1]) / 1024

before = rss_mib("VmRSS:")
with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")  # reset the peak (VmHWM) to the current resident size
embedder.transform(curves)
print(before, rss_mib("VmHWM:"))
"""


def bench_memory(counts):
    """Peak RSS (MiB) before and after ``transform`` of N 200-point curves, in fresh processes.

    The input list itself grows with N (N x 200 x 3 float64); the growth
    *during* transform (after - before) is what must stay flat.
    """
    results = {}
    for n_curves in counts:
        code = MEMORY_PROBE.format(bench_dir=str(Path(__file__).resolve().parent),
                                   n_curves=n_curves)
        output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True).stdout.split()
        before, after = map(float, output[-2:])
        results[n_curves] = {"rss_before_mib": before, "rss_peak_mib": after,
                             "growth_during_transform_mib": after - before}
    return results


def original_python(requested):
    """The interpreter that has the original package, or None."""
    requested = requested or os.environ.get("SKLEARN_ASTROMER_ORIGINAL_PYTHON")
    if requested:
        return requested
    return sys.executable if importlib.util.find_spec("ASTROMER") else None


def bench_original(python, params):
    """Run ``_original_astromer.py`` with ``python``; its JSON, or why there is none."""
    if python is None:
        return {"installed": False,
                "note": "the original package was not found; install it in its own "
                        "environment (pip install astromer==0.1.8 tf-keras tensorboard) and "
                        "pass --original-python PATH to measure it side by side"}
    script = Path(__file__).resolve().parent / "_original_astromer.py"
    with tempfile.TemporaryDirectory() as directory:
        output = Path(directory) / "original.json"
        completed = subprocess.run([python, str(script), json.dumps(params), str(output)],
                                   capture_output=True, text=True)
        if completed.returncode != 0 or not output.exists():
            return {"installed": False, "python": python,
                    "note": "the original package failed to run: " + completed.stderr[-2000:]}
        return {**json.loads(output.read_text()), "python": python}


def best_rate(rates_by_batch, length):
    """The highest curves/s over batch sizes at ``length``."""
    return max(rates[str(length)] for rates in rates_by_batch.values() if str(length) in rates)


def add_arguments(parser):
    parser.add_argument("--original-python", default=None,
                        help="python of an environment with the original astromer package")


def main(argv=None):
    args = parse_args(__doc__, argv, add_arguments)
    quick = args.quick
    lengths = [50, 200] if quick else [50, 200, 1000]
    n_curves = 32 if quick else 512
    repeats = 1 if quick else 5
    sweep = ("auto", 256) if quick else ("auto", 16, 64, 256)
    fit_batch = 64

    environment = environment_info()
    # The roofline is measured before, between and after the runs: this machine's
    # throughput drifts (shared host), and its best is what it can do.
    roofline_runs = [matmul_gflops(repeats=5 if quick else 20)]
    transform = {variant: bench_transform(variant, lengths, n_curves, repeats)["auto"]
                 for variant in ("corrected", "paper")}
    sweep_200 = {variant: {batch: rates["200"] for batch, rates in bench_transform(
        variant, [200], n_curves, repeats, sweep[1:]).items()} for variant in ("corrected",
                                                                                 "paper")}
    for variant in sweep_200:
        sweep_200[variant] = {"auto": transform[variant]["200"], **sweep_200[variant]}
    bfloat16_200 = {variant: bench_transform(variant, [200], n_curves, repeats,
                                             precision="bfloat16")["auto"]["200"]
                    for variant in ("corrected", "paper")}
    n_fit = 32 if quick else 256
    fit = {variant: bench_fit(variant, n_fit, repeats, fit_batch)
           for variant in ("corrected", "paper")}
    fit_bfloat16 = {variant: bench_fit(variant, n_fit, repeats, fit_batch, "bfloat16")
                    for variant in ("corrected", "paper")}
    fine_tune = {precision: bench_fit("paper", n_fit, repeats, fit_batch, precision,
                                      supervised=True) for precision in ("float32", "bfloat16")}
    period_input = bench_period_input(32 if quick else 256, repeats)
    multimodal_fit = bench_multimodal_fit(2 if quick else 20, repeats)
    losses = loss_curves(32 if quick else 512, 2 if quick else 15)
    memory = bench_memory([500, 2000] if quick else [10_000, 100_000])
    roofline_runs.append(matmul_gflops(repeats=5 if quick else 20))
    original = bench_original(original_python(args.original_python), {
        "lengths": lengths, "n_curves": n_curves, "repeats": repeats,
        "batch_sizes": [32, 256], "fit_n_curves": 32 if quick else 256,
        "fit_batch_size": fit_batch})
    roofline_runs.append(matmul_gflops(repeats=5 if quick else 20))
    # Ours again after the original: how much the machine drifted meanwhile.
    transform_200_after = {variant: bench_transform(variant, [200], n_curves, repeats)["auto"]
                           ["200"] for variant in ("corrected", "paper")}
    roofline = {kernel: max(run[kernel] for run in roofline_runs) for kernel in roofline_runs[0]}

    flops_200 = window_flops(200, 256, 128, 2)
    achieved = {variant: rates["200"] * flops_200 / 1e9 for variant, rates in transform.items()}
    payload = {
        "environment": environment,
        "params": {"model": PAPER, "n_curves": n_curves, "repeats": repeats,
                   "fit_batch_size": fit_batch, "torch_threads": torch.get_num_threads(),
                   "onednn_linear": ONEDNN_LINEAR},
        "matmul_gflops": roofline,
        "matmul_gflops_runs": roofline_runs,
        "window_mflops_200": flops_200 / 1e6,
        "transform_curves_per_s": transform,
        "transform_batch_sweep_200": sweep_200,
        "transform_200_after_original": transform_200_after,
        "transform_bfloat16_200": bfloat16_200,
        "transform_gflops_200": achieved,
        "transform_roofline_fraction_200": {
            v: g / roofline["roofline"] for v, g in achieved.items()},
        "transform_torch_mm_fraction_200": {
            v: g / roofline["torch_mm"] for v, g in achieved.items()},
        "fit_windows_per_s": fit,
        "fit_bfloat16_windows_per_s": fit_bfloat16,
        "fine_tune_windows_per_s": fine_tune,
        "period_input": period_input,
        "multimodal_fit_objects_per_s": multimodal_fit,
        "pretraining_losses_by_precision": losses,
        "memory_transform_200_points": {str(k): v for k, v in memory.items()},
        "original_package": original,
    }
    if original.get("installed"):
        payload["speedup_over_original"] = {
            "transform": {variant: {str(length): rates[str(length)] / best_rate(
                original["encode_curves_per_s"], length) for length in lengths}
                for variant, rates in transform.items()},
            "transform_200_measured_after": {
                variant: rate / best_rate(original["encode_curves_per_s"], 200)
                for variant, rate in transform_200_after.items()},
            "fit": {variant: rate / original["fit_windows_per_s"]
                    for variant, rate in fit.items()},
            "fit_bfloat16": {variant: rate / original["fit_windows_per_s"]
                             for variant, rate in fit_bfloat16.items()},
            "fine_tune": {precision: rate / original["fit_windows_per_s"]
                          for precision, rate in fine_tune.items()},
        }
    path = write_result("speed", payload, quick, args.output_dir)
    report(payload)
    print(f"written to {path}")
    return payload


def report(payload):
    roofline = payload["matmul_gflops"]
    flops_200 = payload["window_mflops_200"] * 1e6
    print("matmul GFLOP/s: " + ", ".join(f"{k} {v:.0f}" for k, v in roofline.items())
          + f"; one 200-point window: {flops_200 / 1e6:.0f} MFLOP -> limit "
            f"{roofline['roofline'] * 1e9 / flops_200:.0f} curves/s")
    for variant, rates in payload["transform_curves_per_s"].items():
        shown = ", ".join(f"{length} pts: {rate:.0f}/s" for length, rate in rates.items())
        sweep = ", ".join(f"{batch}: {rate:.0f}/s" for batch, rate in
                          payload["transform_batch_sweep_200"][variant].items())
        print(f"transform [{variant}] {shown} "
              f"({payload['transform_roofline_fraction_200'][variant]:.0%} of roofline at 200); "
              f"batch sizes at 200 pts: {sweep}; bfloat16: "
              f"{payload['transform_bfloat16_200'][variant]:.0f}/s")
    print("transform at 200 pts, again after the original: " + ", ".join(
        f"{variant} {rate:.0f}/s" for variant, rate in
        payload["transform_200_after_original"].items()))
    print("matmul GFLOP/s at start / between / end: " + "; ".join(
        ", ".join(f"{k} {v:.0f}" for k, v in run.items()) for run in
        payload["matmul_gflops_runs"]))
    for variant, rate in payload["fit_windows_per_s"].items():
        print(f"fit [{variant}] {rate:.0f} windows/s float32, "
              f"{payload['fit_bfloat16_windows_per_s'][variant]:.0f} bfloat16")
    print("supervised fine-tuning [paper]: " + ", ".join(
        f"{precision} {rate:.0f} windows/s"
        for precision, rate in payload["fine_tune_windows_per_s"].items()))
    period = payload["period_input"]
    print(f"defaults for new models (period input), transform at 200 pts: "
          f"{period['transform_curves_per_s']:.0f}/s; period search alone "
          f"{period['period_search_curves_per_s']:.0f} curves/s")
    print("MultimodalCLIPEmbedder CLIP fit: " + ", ".join(
        f"{precision} {rate:.0f} objects/s"
        for precision, rate in payload["multimodal_fit_objects_per_s"].items()))
    for n_curves, usage in payload["memory_transform_200_points"].items():
        print(f"memory N={n_curves}: +{usage['growth_during_transform_mib']:.0f} MiB during "
              f"transform (peak {usage['rss_peak_mib']:.0f} MiB)")
    original = payload["original_package"]
    if not original.get("installed"):
        print(f"original package: {original['note'][:200]}")
        return
    shown = "; ".join(f"batch {batch}: " + ", ".join(f"{length} pts {rate:.0f}/s"
                                                      for length, rate in rates.items())
                      for batch, rates in original["encode_curves_per_s"].items())
    print(f"original encode: {shown}; fit {original['fit_windows_per_s']:.0f} windows/s")
    for variant, ratios in payload["speedup_over_original"]["transform"].items():
        print(f"speed-up [{variant}] transform " + ", ".join(
            f"{length} pts {ratio:.1f}x" for length, ratio in ratios.items())
            + f"; fit {payload['speedup_over_original']['fit'][variant]:.2f}x float32, "
              f"{payload['speedup_over_original']['fit_bfloat16'][variant]:.2f}x bfloat16")


if __name__ == "__main__":
    main()
