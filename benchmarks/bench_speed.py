"""Speed and memory of AstromerEmbedder at paper size, against the machine's roofline.

Measures, side by side in one run:

* ``transform`` light curves/s, end to end from the Python list to the pooled
  array, for curves of 50, 200 and 1000 points (both encoder variants);
* ``fit`` windows/s of masked pre-training (200-point windows);
* this machine's float32 matrix-multiply throughput and the fraction of it
  that ``transform`` reaches, from the FLOPs of one window;
* peak resident memory of ``transform`` in fresh processes for growing N
  (it must stay flat: windows are streamed, never all materialised);
* the same transform/fit numbers for the original TensorFlow package when it
  is installed (``astromer``, ``tensorflow-cpu``); it is detected, never required.

Usage: ``python benchmarks/bench_speed.py [--quick]``; writes
``benchmarks/results/speed[_quick].json``.
"""

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import environment_info, median_time, parse_args, write_result  # noqa: E402

from sklearn_astromer import AstromerEmbedder  # noqa: E402

PAPER = dict(d_model=256, n_layers=2, n_heads=4, d_ff=128, max_obs=200)


def make_curves(n_curves, n_obs, seed=0):
    """Irregular sinusoids of exactly ``n_obs`` points (times in days)."""
    rng = np.random.default_rng(seed)
    times = np.sort(rng.uniform(0, 1000, (n_curves, n_obs)), axis=1) + 50000
    magnitudes = 15 + np.sin(times / rng.uniform(0.3, 30, (n_curves, 1))) + rng.normal(
        0, 0.05, (n_curves, n_obs))
    return list(np.stack([times, magnitudes, np.full_like(times, 0.05)], axis=-1))


def window_flops(length, d_model, d_ff, n_layers):
    """Multiply-add FLOPs (2 per MAC) of one encoder pass over a window of ``length``."""
    per_layer = (2 * length * d_model * 3 * d_model      # fused Q, K, V
                 + 2 * 2 * length * length * d_model     # scores and weighted values
                 + 2 * length * d_model * d_model        # output projection
                 + 2 * 2 * length * d_model * d_ff)      # feed-forward
    return n_layers * per_layer


def matmul_gflops(size=1024, repeats=20):
    """Median float32 GFLOP/s of ``torch.mm`` on square matrices (this machine's roofline)."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    return 2 * size**3 / median_time(lambda: torch.mm(a, b), repeats=repeats) / 1e9


def median_rate(function, n_items, repeats):
    """Median items/s of ``function()`` over ``repeats`` runs (after one warm-up run)."""
    return n_items / median_time(function, repeats=repeats)


def bench_transform(variant, lengths, n_curves, repeats, batch_size):
    embedder = AstromerEmbedder(**PAPER, variant=variant, max_epochs=0, batch_size=batch_size,
                                device="cpu", random_state=0).fit(make_curves(4, 50))
    rates = {}
    for length in lengths:
        curves = make_curves(n_curves, length)
        rates[length] = median_rate(lambda: embedder.transform(curves), n_curves, repeats)
    return rates


def bench_fit(variant, n_curves, repeats, batch_size):
    curves = make_curves(n_curves, 200)

    def fit_one_epoch():
        AstromerEmbedder(**PAPER, variant=variant, max_epochs=1, batch_size=batch_size,
                         validation_fraction=None, device="cpu", random_state=0).fit(curves)

    return median_rate(fit_one_epoch, n_curves, repeats)


MEMORY_PROBE = """
import sys
import numpy as np
sys.path.insert(0, {bench_dir!r})
from bench_speed import make_curves
from sklearn_astromer import AstromerEmbedder
n_curves = {n_curves}
embedder = AstromerEmbedder(d_model=64, n_layers=2, n_heads=4, d_ff=128, max_epochs=0,
                            device="cpu", random_state=0).fit(make_curves(4, 50))
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


def bench_original(n_curves):
    """The original TensorFlow package, when installed (never required)."""
    try:
        import astromer  # noqa: F401
    except ImportError:
        return {"installed": False,
                "note": "astromer (TensorFlow) not installed: pip install astromer tensorflow-cpu "
                        "tf-keras to measure it side by side; the issue quotes 57 light "
                        "curves/s for 200-point curves on a 2-core machine"}
    return {"installed": True, "note": "measurement of the original package not implemented "
                                       "for its installed version"}


def main(argv=None):
    args = parse_args(__doc__, argv)
    quick = args.quick
    lengths = [50, 200] if quick else [50, 200, 1000]
    n_curves = 64 if quick else 512
    repeats = 1 if quick else 3
    batch_size = 256

    environment = environment_info()
    roofline = matmul_gflops(repeats=5 if quick else 20)
    transform = {variant: bench_transform(variant, lengths, n_curves, repeats, batch_size)
                 for variant in ("corrected", "paper")}
    fit = {variant: bench_fit(variant, 64 if quick else 256, repeats, 64)
           for variant in ("corrected", "paper")}
    flops_200 = window_flops(200, 256, 128, 2)
    achieved = {variant: rates[200] * flops_200 / 1e9 for variant, rates in transform.items()}
    memory = bench_memory([500, 2000] if quick else [10_000, 100_000])

    payload = {
        "environment": environment,
        "params": {"model": PAPER, "n_curves": n_curves, "repeats": repeats,
                   "batch_size": batch_size, "torch_threads": torch.get_num_threads()},
        "matmul_gflops": roofline,
        "window_mflops_200": flops_200 / 1e6,
        "transform_curves_per_s": {v: {str(k): r for k, r in rates.items()}
                                   for v, rates in transform.items()},
        "transform_gflops_200": achieved,
        "transform_roofline_fraction_200": {v: g / roofline for v, g in achieved.items()},
        "fit_windows_per_s": fit,
        "memory_transform_200_points": {str(k): v for k, v in memory.items()},
        "original_package": bench_original(n_curves),
    }
    path = write_result("speed", payload, quick, args.output_dir)
    print(f"matmul roofline: {roofline:.1f} GFLOP/s; one 200-point window: "
          f"{flops_200 / 1e6:.0f} MFLOP -> limit {roofline * 1e9 / flops_200:.0f} curves/s")
    for variant, rates in transform.items():
        shown = ", ".join(f"{length} pts: {rate:.0f}/s" for length, rate in rates.items())
        print(f"transform [{variant}] {shown} "
              f"({payload['transform_roofline_fraction_200'][variant]:.0%} of roofline at 200)")
    for variant, rate in fit.items():
        print(f"fit [{variant}] {rate:.0f} windows/s")
    for n_curves, usage in memory.items():
        print(f"memory N={n_curves}: +{usage['growth_during_transform_mib']:.0f} MiB during "
              f"transform (peak {usage['rss_peak_mib']:.0f} MiB)")
    print(f"written to {path}")
    return payload


if __name__ == "__main__":
    main()
