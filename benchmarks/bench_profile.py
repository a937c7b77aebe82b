"""Where the time of one ``transform`` goes, and how fast this CPU runs the model's own products.

Profiles ``transform`` of 199-point light curves (the paper variant at paper
size, as in ``bench_steady_state.py``) with :mod:`torch.profiler` and
splits its wall-clock time into:

* the operator groups of the encoder: linear layers (oneDNN or MKL
  products), attention (PyTorch's fused CPU kernel), layer norms,
  activations, the time encoding (sines and cosines), other torch operators;
* everything outside torch operators: validating the list, cutting and
  padding windows (numpy), pooling, Python.

It then times the matrix products the encoder makes, at their own shapes
(``batch x 200`` rows against the layers' weights), next to the square
1024 x 1024 product ``bench_speed.py`` takes as the roofline: how close to
the roofline the model's products themselves can come on this CPU.

Usage: ``python benchmarks/bench_profile.py [--quick]``; writes
``benchmarks/results/profile[_quick].json``.
"""

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import environment_info, median_time, parse_args, write_result  # noqa: E402
from _curves import make_curves  # noqa: E402
from bench_speed import PAPER, matmul_gflops, window_flops  # noqa: E402
from bench_steady_state import LENGTH as STEADY_LENGTH  # noqa: E402

from sklearn_astromer import AstromerEmbedder  # noqa: E402
from sklearn_astromer.nn.linear import ONEDNN_LINEAR  # noqa: E402

#: Operator name fragments of each group, tried in this order.
GROUPS = {
    "linear layers": ("linear", "addmm", "aten::mm", "aten::bmm", "matmul"),
    "attention": ("scaled_dot_product", "softmax"),
    "layer norms": ("layer_norm",),
    "activations": ("tanh", "gelu", "relu", "sigmoid"),
    "time encoding": ("aten::sin", "aten::cos"),
}


def group_of(name):
    """The group of torch operator ``name`` (``"other torch operators"`` if none)."""
    return next((group for group, fragments in GROUPS.items()
                 if any(fragment in name for fragment in fragments)), "other torch operators")


def profile_transform(embedder, curves):
    """Seconds of one ``transform(curves)`` per group, and its wall-clock seconds."""
    from torch.profiler import ProfilerActivity, profile

    embedder.transform(curves)  # warm-up
    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        start = time.perf_counter()
        embedder.transform(curves)
        wall = time.perf_counter() - start
    seconds = dict.fromkeys([*GROUPS, "other torch operators"], 0.0)
    for event in profiler.key_averages():
        seconds[group_of(event.key)] += event.self_cpu_time_total / 1e6
    seconds["outside torch operators (windows, padding, pooling, Python)"] = max(
        0.0, wall - sum(seconds.values()))
    return seconds, wall


def encoder_products(n_windows, length=200, d_model=256, d_ff=128):
    """GFLOP/s of the encoder's linear products at their own shapes.

    Returns ``{name: GFLOP/s}`` for the fused query-key-value projection, the
    output projection and both feed-forward layers.
    """
    rows = n_windows * length
    shapes = {"query, key, value (256 -> 768)": (d_model, 3 * d_model),
              "attention output (256 -> 256)": (d_model, d_model),
              "feed-forward in (256 -> 128)": (d_model, d_ff),
              "feed-forward out (128 -> 256)": (d_ff, d_model)}
    rates = {}
    with torch.inference_mode():
        for name, (n_in, n_out) in shapes.items():
            inputs, weight = torch.randn(rows, n_in), torch.randn(n_out, n_in)
            if ONEDNN_LINEAR:
                def product():
                    return torch.ops.mkldnn._linear_pointwise(inputs, weight, None, "none",
                                                              [], "")
            else:
                def product():
                    return torch.nn.functional.linear(inputs, weight)
            rates[name] = 2 * rows * n_in * n_out / median_time(product, repeats=10) / 1e9
    return rates


def main(argv=None):
    args = parse_args(__doc__, argv)
    n_curves = 64 if args.quick else 1024
    embedder = AstromerEmbedder(**PAPER, variant="paper", max_epochs=0, device="cpu",
                                random_state=0).fit(make_curves(4, 50))
    seconds, wall = profile_transform(embedder, make_curves(n_curves, STEADY_LENGTH))
    roofline = matmul_gflops(repeats=5 if args.quick else 20)
    products = encoder_products(8 if args.quick else 256)
    flops = n_curves * window_flops(STEADY_LENGTH, 256, 128, 2)
    payload = {
        "environment": environment_info(),
        "params": {"model": PAPER, "n_curves": n_curves, "length": STEADY_LENGTH,
                   "torch_threads": torch.get_num_threads(), "onednn_linear": ONEDNN_LINEAR},
        "transform_seconds": wall,
        "transform_curves_per_s": n_curves / wall,
        "seconds_by_group": seconds,
        "share_by_group": {group: value / wall for group, value in seconds.items()},
        "transform_gflops": flops / wall / 1e9,
        "matmul_gflops": roofline,
        "encoder_product_gflops": products,
        "encoder_product_roofline_fraction": {
            name: rate / roofline["roofline"] for name, rate in products.items()},
    }
    path = write_result("profile", payload, args.quick, args.output_dir)
    print(f"transform of {n_curves} curves of {STEADY_LENGTH} points: {wall:.2f} s "
          f"({n_curves / wall:.0f}/s, {payload['transform_gflops']:.0f} GFLOP/s, "
          f"{payload['transform_gflops'] / roofline['roofline']:.0%} of the roofline)")
    for group, share in payload["share_by_group"].items():
        print(f"  {group}: {share:.0%}")
    print("matmul GFLOP/s: " + ", ".join(f"{k} {v:.0f}" for k, v in roofline.items()))
    for name, rate in products.items():
        print(f"  {name}: {rate:.0f} GFLOP/s "
              f"({payload['encoder_product_roofline_fraction'][name]:.0%} of the roofline)")
    print(f"written to {path}")
    return payload


if __name__ == "__main__":
    main()
