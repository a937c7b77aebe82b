"""``transform`` against the original package at both packages' steady state, side by side.

A catalogue is embedded in long calls; a short timed call also pays each
package's per-call costs (the original's tf.data set-up and tracing, the last
partial batch), which flatter whichever package has less of them. Here both
packages embed 199-point light curves (one 200-observation window for both:
the original encodes a 200-point curve's last window twice), the paper
variant at paper size, in calls of growing size N (256, 512, ...): one
warm-up call first, then the median of three calls at each N, until doubling
N changes the rate by less than 5 %. That last rate is the steady state.

* Ours: float32 and bfloat16 (`precision="bfloat16"`), default batching.
* The original (``astromer`` 0.1.8, TensorFlow), when an interpreter that has
  it is given (``--original-python`` or ``$SKLEARN_ASTROMER_ORIGINAL_PYTHON``):
  ``SingleBandEncoder.encode`` plus the mean of each returned array, at
  batch sizes 256 and 1024; its best steady rate is the one compared.
* Ours once more after the original, to show the machine did not drift, and
  the matmul roofline (``bench_speed.matmul_gflops``) before and after.

Usage: ``python benchmarks/bench_steady_state.py [--quick] [--original-python PATH]``;
writes ``benchmarks/results/steady_state[_quick].json``.
"""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import environment_info, parse_args, rate_against_n, write_result  # noqa: E402
from _curves import make_curves  # noqa: E402
from bench_speed import (  # noqa: E402
    PAPER,
    add_arguments,
    bench_original,
    matmul_gflops,
    original_python,
    window_flops,
)

from sklearn_astromer import AstromerEmbedder  # noqa: E402

#: Points per light curve: one 200-observation window for both packages.
LENGTH = 199
#: Batch sizes of the original's ``encode`` tried.
ORIGINAL_BATCH_SIZES = (256, 1024)


def ours_against_n(ns, repeats, precision):
    """:func:`_common.rate_against_n` of our ``transform`` (paper variant) at LENGTH points."""
    embedder = AstromerEmbedder(**PAPER, variant="paper", max_epochs=0, precision=precision,
                                device="cpu", random_state=0).fit(make_curves(4, 50))
    curves = make_curves(max(ns), LENGTH)
    return rate_against_n(lambda n: embedder.transform(curves[:n]), ns, repeats=repeats)


def curve_text(result):
    """One line: the rate at every N, and the steady rate."""
    curve = ", ".join(f"N={n}: {rate:.0f}/s" for n, rate in result["curve"].items())
    return f"{curve} -> {result['steady_rate']:.0f}/s" + ("" if result["steady"] else
                                                          " (not yet steady)")


def main(argv=None):
    args = parse_args(__doc__, argv, add_arguments)
    ns = [32, 64] if args.quick else [256, 512, 1024, 2048, 4096]
    repeats = 1 if args.quick else 3
    roofline_runs = [matmul_gflops(repeats=5 if args.quick else 20)]
    ours = {precision: ours_against_n(ns, repeats, precision)
            for precision in ("float32", "bfloat16")}
    original = bench_original(original_python(args.original_python), {
        "rate_against_n": {"length": LENGTH, "ns": ns, "repeats": repeats,
                           "batch_sizes": list(ORIGINAL_BATCH_SIZES[:1] if args.quick
                                               else ORIGINAL_BATCH_SIZES)}})
    ours["float32, after the original"] = ours_against_n(ns, repeats, "float32")
    roofline_runs.append(matmul_gflops(repeats=5 if args.quick else 20))
    roofline = {kernel: max(run[kernel] for run in roofline_runs) for kernel in roofline_runs[0]}
    flops = window_flops(LENGTH, PAPER["d_model"], PAPER["d_ff"], PAPER["n_layers"])
    payload = {
        "environment": environment_info(),
        "params": {"model": PAPER, "variant": "paper", "length": LENGTH, "ns": ns,
                   "repeats": repeats, "tolerance": 0.05,
                   "torch_threads": torch.get_num_threads()},
        "ours": ours,
        "original": original,
        "matmul_gflops": roofline,
        "matmul_gflops_runs": roofline_runs,
        "roofline_fraction": {name: result["steady_rate"] * flops / 1e9 / roofline["roofline"]
                              for name, result in ours.items()},
    }
    if original.get("installed"):
        best = max(original["encode_rate_against_n"].items(),
                   key=lambda item: item[1]["steady_rate"])
        payload["original_best_batch_size"] = int(best[0])
        payload["speedup"] = {name: result["steady_rate"] / best[1]["steady_rate"]
                              for name, result in ours.items()}
    path = write_result("steady_state", payload, args.quick, args.output_dir)
    for name, result in ours.items():
        print(f"ours [{name}]: {curve_text(result)} "
              f"({payload['roofline_fraction'][name]:.0%} of the roofline)")
    if not original.get("installed"):
        print(f"original package: {original['note'][:200]}")
    else:
        for batch, result in original["encode_rate_against_n"].items():
            print(f"original [batch {batch}]: {curve_text(result)}")
        print("steady-state speed-up: " + ", ".join(
            f"{name} {ratio:.2f}x" for name, ratio in payload["speedup"].items()))
    print("matmul GFLOP/s, before / after: " + "; ".join(
        ", ".join(f"{k} {v:.0f}" for k, v in run.items()) for run in roofline_runs))
    print(f"written to {path}")
    return payload


if __name__ == "__main__":
    main()
