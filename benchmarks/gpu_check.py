"""GPU check: both estimators fit, transform and fine-tune on CUDA, and agree with the CPU.

One short script for a machine with a GPU (the project's CI has none): each
check prints one line, ``ok``, ``FAIL`` (with the numbers) or ``skipped``
(no CUDA device), and the script exits 1 if any check fails. On a CPU-only
machine it runs the CPU half, says which GPU parts it skipped, and exits 0,
so CI keeps it alive (``tests/test_gpu_check.py``).

Checks:

* the published MACHO weights: ``transform`` on the GPU in float32 against
  the CPU (max abs difference at most 1e-3), in bfloat16 (at most 5e-2),
  and the throughput of each (200-point light curves per second);
* a new model with the defaults (period input): masked pre-training and
  supervised fine-tuning on the GPU in float32 and in mixed bfloat16 (finite
  losses, the head predicts), and the GPU-trained model saved and reloaded on
  the CPU embeds as on the GPU (at most 1e-3);
* ``MultimodalCLIPEmbedder``: CLIP training on the GPU in float32 and
  bfloat16, and its embeddings on the CPU against the GPU (at most 1e-3);
* the period search with its coarse pass on the GPU (``device="cuda"``):
  the same periods as on the CPU (within 1 % on at least 99 % of the
  simulated light curves) and the searches per second of each.

Usage: ``python benchmarks/gpu_check.py [--quick]``; writes
``benchmarks/results/gpu_check[_quick].json``.
"""

import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import environment_info, parse_args, write_result  # noqa: E402

from sklearn_astromer import AstromerEmbedder, MultimodalCLIPEmbedder  # noqa: E402
from sklearn_astromer._periods import lomb_scargle_periods  # noqa: E402
from sklearn_astromer._validation import check_light_curves  # noqa: E402
from sklearn_astromer.datasets import make_light_curves, make_multimodal  # noqa: E402

TOLERANCE = {"float32": 1e-3, "bfloat16": 5e-2}


class Report:
    """Lines of ok / FAIL / skipped, and whether anything failed."""

    def __init__(self):
        self.lines, self.failed = [], False

    def check(self, name, passed, detail=""):
        self.lines.append(f"{'ok' if passed else 'FAIL'}: {name}{f' ({detail})' if detail else ''}")
        self.failed |= not passed
        print(self.lines[-1], flush=True)

    def skip(self, name, why):
        self.lines.append(f"skipped: {name} ({why})")
        print(self.lines[-1], flush=True)


def _rate(function, n, repeats=3):
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        rates.append(n / (time.perf_counter() - start))
    return float(np.median(rates))


def _cpu_gpu_difference(model, X):
    """Largest difference between ``model``'s float32 embeddings on its GPU and those of the
    same model saved and reloaded on the CPU."""
    with tempfile.TemporaryDirectory() as directory:
        model.save_pretrained(directory)
        on_cpu = type(model).from_pretrained(directory, device="cpu")
        return float(np.abs(on_cpu.transform(X)
                            - model.set_params(precision="float32").transform(X)).max())


def check_published(report, curves, gpu, results):
    cpu = AstromerEmbedder.from_pretrained("macho", device="cpu")
    reference = cpu.transform(curves)
    results["cpu_float32_curves_per_s"] = _rate(lambda: cpu.transform(curves), len(curves))
    report.check("MACHO transform on the CPU is finite", np.isfinite(reference).all())
    if not gpu:
        report.skip("MACHO transform on CUDA (float32, bfloat16)", "no CUDA device")
        return
    for precision in ("float32", "bfloat16"):
        model = AstromerEmbedder.from_pretrained("macho", device="cuda", precision=precision)
        embedded = model.transform(curves)
        error = float(np.abs(embedded - reference).max())
        results[f"cuda_{precision}_curves_per_s"] = _rate(lambda: model.transform(curves),
                                                          len(curves))
        results[f"cuda_{precision}_max_abs_difference"] = error
        report.check(f"MACHO transform on CUDA in {precision} agrees with the CPU",
                     error <= TOLERANCE[precision], f"max abs difference {error:.2e}, "
                     f"{results[f'cuda_{precision}_curves_per_s']:.0f} curves/s")


def check_training(report, curves, labels, gpu, quick, results):
    params = dict(d_model=32 if quick else 128, max_epochs=1 if quick else 3, batch_size=32,
                  fine_tune="supervised", fine_tune_epochs=1, head_epochs=5, random_state=0)
    if not gpu:
        report.skip("training and fine-tuning on CUDA (float32, bfloat16)", "no CUDA device")
        return
    for precision in ("float32", "bfloat16"):
        model = AstromerEmbedder(**params, device="cuda", precision=precision).fit(curves,
                                                                                   labels)
        losses = [row["train_loss"] for row in model.net_.history]
        report.check(f"pre-training and fine-tuning on CUDA in {precision}",
                     np.isfinite(losses).all() and set(model.predict(curves)) <= set(labels),
                     f"last loss {losses[-1]:.4f}")
        error = _cpu_gpu_difference(model, curves)
        results[f"trained_{precision}_cpu_gpu_max_abs_difference"] = error
        report.check(f"a model trained on CUDA in {precision} embeds alike on the CPU",
                     error <= TOLERANCE["float32"], f"max abs difference {error:.2e}")


def check_multimodal(report, gpu, quick, results):
    X, _ = make_multimodal(4 if quick else 20, random_state=0, n_obs=(30, 80))
    params = dict(embed_dim=16, d_model=16, n_layers=1, n_heads=2, d_ff=16, max_obs=64,
                  spectrum_channels=(4, 4, 4, 4), metadata_hidden=16, batch_size=32,
                  max_epochs=1 if quick else 3, warmup_epochs=0, validation_fraction=None,
                  random_state=0)
    if not gpu:
        report.skip("MultimodalCLIPEmbedder on CUDA (float32, bfloat16)", "no CUDA device")
        return
    for precision in ("float32", "bfloat16"):
        model = MultimodalCLIPEmbedder(**params, device="cuda", precision=precision).fit(X)
        error = _cpu_gpu_difference(model, X)
        results[f"multimodal_{precision}_cpu_gpu_max_abs_difference"] = error
        report.check(f"MultimodalCLIPEmbedder trained on CUDA in {precision} embeds alike on "
                     "the CPU", error <= TOLERANCE["float32"], f"max abs difference {error:.2e}")


def check_period_search(report, gpu, quick, results):
    curves = make_light_curves(3 if quick else 100, survey="ztf", random_state=1)[0]
    light_curves = check_light_curves(curves)
    threads = torch.get_num_threads()
    on_cpu = lomb_scargle_periods(light_curves, n_jobs=threads)[0]
    results["period_search_cpu_per_s"] = _rate(
        lambda: lomb_scargle_periods(light_curves, n_jobs=threads), len(curves))
    report.check("period search on the CPU finds periods", bool((on_cpu > 0).any()))
    if not gpu:
        report.skip("period search on CUDA", "no CUDA device")
        return
    on_gpu = lomb_scargle_periods(light_curves, n_jobs=threads, device="cuda")[0]
    both = (on_cpu > 0) & (on_gpu > 0)
    agreement = float(np.mean(np.abs(on_gpu[both] / on_cpu[both] - 1) < 0.01))
    results["period_search_cuda_per_s"] = _rate(
        lambda: lomb_scargle_periods(light_curves, n_jobs=threads, device="cuda"), len(curves))
    results["period_search_cpu_gpu_agreement"] = agreement
    report.check("period search on CUDA agrees with the CPU", agreement >= 0.99,
                 f"{agreement:.3f} of {both.sum()} within 1 %, "
                 f"{results['period_search_cuda_per_s']:.0f} against "
                 f"{results['period_search_cpu_per_s']:.0f} searches/s")


def main(argv=None):
    args = parse_args(__doc__, argv)
    warnings.simplefilter("ignore", UserWarning)
    gpu = torch.cuda.is_available()
    report, results = Report(), {"cuda": gpu}
    if gpu:
        results["gpu"] = torch.cuda.get_device_name(0)
    curves, labels = make_light_curves(3 if args.quick else 30, n_obs=200, random_state=0)
    check_published(report, curves, gpu, results)
    check_training(report, curves, labels, gpu, args.quick, results)
    check_multimodal(report, gpu, args.quick, results)
    check_period_search(report, gpu, args.quick, results)
    write_result("gpu_check", {"environment": environment_info(), "results": results,
                               "lines": report.lines}, args.quick, args.output_dir)
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
