"""ONNX Runtime against PyTorch: throughput and parity of an exported ASTROMER.

For each model, side by side in one process on the same light curves:
``AstromerEmbedder.transform`` (PyTorch) and the exported model run by
:class:`~sklearn_astromer.onnx_runtime.OnnxEmbedder` (numpy + ONNX Runtime),
light curves embedded per second (median of several calls after a warm-up,
both on the same number of threads) and the largest absolute difference of
their outputs:

* ``macho``: the shipped MACHO weights (paper variant, no period input) on
  200-point light curves;
* ``default``: the library's defaults for a new model (period input, scaled
  magnitudes; weights as initialised: only the arithmetic is compared), on
  the same curves, so both paths also search every curve's period.
* ``macho fine-tuned``: parity only, after a short supervised fine-tuning on
  simulated OGLE light curves, with the embedding of the fine-tuned encoder
  (``pooling="mean"``) and with the supervised head's combination of the
  layers (``"weighted_layers"``). The latter divides each layer-mean column by
  its spread over the training curves (down to 1e-5 for nearly constant
  columns), so float32 rounding of a layer mean (~1e-7) reaches ~1e-2 there:
  its row also gives the difference in layer-mean units (before that
  division).

Usage: ``python benchmarks/bench_onnx.py [--quick]``; writes
``benchmarks/results/onnx[_quick].json`` and ``.md``.
"""

import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import environment_info, median_time, parse_args, write_result  # noqa: E402
from _curves import make_curves  # noqa: E402

from sklearn_astromer import AstromerEmbedder  # noqa: E402
from sklearn_astromer.datasets import make_light_curves  # noqa: E402
from sklearn_astromer.onnx_runtime import OnnxEmbedder  # noqa: E402


def compare(embedder, curves, folder, name, repeats):
    """Throughput of both paths and their largest difference."""
    path = embedder.to_onnx(Path(folder) / f"{name}.onnx")
    runtime = OnnxEmbedder(path, n_jobs=torch.get_num_threads(),
                           n_threads=torch.get_num_threads()).fit()
    torch_seconds = median_time(lambda: embedder.transform(curves), repeats=repeats)
    onnx_seconds = median_time(lambda: runtime.transform(curves), repeats=repeats)
    difference = np.abs(runtime.transform(curves) - embedder.transform(curves)).max()
    return {"torch_curves_per_s": len(curves) / torch_seconds,
            "onnxruntime_curves_per_s": len(curves) / onnx_seconds,
            "ratio": torch_seconds / onnx_seconds, "max_abs_difference": float(difference),
            "model_megabytes": path.stat().st_size / 1e6}


def fine_tuned_parity(folder, quick):
    """Largest differences of a fine-tuned MACHO model, per pooling."""
    X, y = make_light_curves(4 if quick else 30, classes=["RRab", "EA", "Mira"], survey="ogle",
                             random_state=0)
    embedder = AstromerEmbedder(pretrained="macho", max_epochs=0, fine_tune="supervised",
                                fine_tune_epochs=1 if quick else 5, head_epochs=20,
                                random_state=0).fit(X, y)
    rows = {}
    for pooling in ("mean", "weighted_layers", "layers"):
        embedder.set_params(pooling=pooling)
        runtime = OnnxEmbedder(embedder.to_onnx(Path(folder) / f"{pooling}.onnx")).fit()
        difference = np.abs(runtime.transform(X) - embedder.transform(X))
        rows[pooling] = float(difference.max())
    return {"max_abs_difference": rows.pop("mean"), "n_curves": len(X),
            "weighted_layers_max_abs_difference": rows["weighted_layers"],
            "layer_means_max_abs_difference": rows["layers"]}


def main(argv=None):
    args = parse_args(__doc__, argv)
    n_curves, repeats = (64, 1) if args.quick else (2000, 3)
    curves = make_curves(n_curves, 200, seed=1)
    models = {
        "macho": AstromerEmbedder.from_pretrained("macho", device="cpu"),
        "default": AstromerEmbedder(max_epochs=0, random_state=0, device="cpu").fit(curves[:8]),
    }
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, embedder in models.items():
            results[name] = compare(embedder, curves if name == "macho" else
                                    curves[:n_curves // 2], folder, name, repeats)
        results["macho fine-tuned"] = fine_tuned_parity(folder, args.quick)
    payload = {"environment": environment_info(), "n_curves": n_curves, "n_obs": 200,
               "threads": torch.get_num_threads(), "results": results}
    path = write_result("onnx", payload, args.quick, args.output_dir)
    lines = ["| model | PyTorch curves/s | ONNX Runtime curves/s | ratio | max abs difference |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for name, row in results.items():
        if "ratio" in row:
            lines.append(f"| {name} | {row['torch_curves_per_s']:,.0f} | "
                         f"{row['onnxruntime_curves_per_s']:,.0f} | {row['ratio']:.2f}x | "
                         f"{row['max_abs_difference']:.1e} |")
        else:
            lines.append(f"| {name} | | | | {row['max_abs_difference']:.1e} (weighted_layers "
                         f"{row['weighted_layers_max_abs_difference']:.1e}; its layer means "
                         f"{row['layer_means_max_abs_difference']:.1e}) |")
    Path(path).with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
