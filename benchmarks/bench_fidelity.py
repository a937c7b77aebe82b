"""Fidelity of the published MACHO weights: masked-reconstruction RMSE on real MACHO data.

The 42 real MACHO R-band chunks (<= 199 points) of
``../shared/data/astromer_reference/parity_macho_real.npz`` are masked 50/20/20
(the paper's pre-training mask), reconstructed by the published MACHO model
loaded through :class:`AstromerEmbedder`, and scored with the library's own
:func:`sklearn_astromer._encoder_inference.masked_rmse_score`, averaged over random
mask draws. The original ASTROMER 0.1.8 (TensorFlow) gives 0.110 (sd 0.003)
on the same chunks.

Two averages exist and both are reported:

* **pooled** -- ``sqrt(sum of squared errors / number of masked points)``
  over the whole draw: how the original's 0.110 was computed;
* **per window** -- ``sqrt(mean over windows of each window's masked MSE)``:
  the training loss and :meth:`AstromerEmbedder.score` (short windows weigh
  as much as long ones).

The pooled value comes from library outputs too: ``masked_rmse_score`` on
each chunk alone gives that chunk's RMSE, and the chunk's number of masked
points is :func:`sklearn_astromer.preprocessing.mask_counts`; pooling is the
weighted mean of the squares. The per-observation embeddings are also
compared with the original's (max and mean absolute difference).

Usage: ``python benchmarks/bench_fidelity.py [--quick]``; writes
``benchmarks/results/fidelity[_quick].json``. Needs ``../shared/data``.
"""

import sys
import time
import warnings

import numpy as np
import torch
from _common import SHARED_DATA, parse_args, write_result

from sklearn_astromer import AstromerEmbedder
from sklearn_astromer._encoder_inference import masked_rmse_score
from sklearn_astromer._validation import LightCurveRepairWarning, check_light_curves
from sklearn_astromer.preprocessing.masking import mask_counts

REFERENCE = SHARED_DATA / "astromer_reference" / "parity_macho_real.npz"
WEIGHTS = SHARED_DATA / "astromer_weights" / "macho.zip"
MASKING = dict(mask_frac=0.5, same_frac=0.2, random_frac=0.2)


def load_chunks():
    """The reference's light curves (float64 list) and the reference arrays."""
    reference = np.load(REFERENCE)
    chunks = np.split(reference["lightcurves"].astype(np.float64), reference["offsets"][1:-1])
    return chunks, reference


def rmse_draws(embedder, light_curves, n_draws, seed=0):
    """Per-draw pooled and per-window masked RMSE of every chunk, plus the batched score."""
    model = embedder.net_.module_.eval()
    args = dict(max_obs=embedder.config_["max_obs"], batch_size=embedder.batch_size,
                pad_to_max_obs=embedder.config_["variant"] == "paper", device="cpu", **MASKING)
    n_masked = mask_counts(light_curves.lengths, **MASKING)[0]
    pooled, per_window, batched = [], [], []
    with torch.inference_mode():
        for draw in range(n_draws):
            squared = np.array([
                masked_rmse_score(model, light_curves.subset([i]), seed=[seed, draw, i],
                                  **args) ** 2
                for i in range(len(light_curves))
            ])
            pooled.append(np.sqrt(np.sum(n_masked * squared) / np.sum(n_masked)))
            per_window.append(np.sqrt(np.mean(squared)))
            batched.append(masked_rmse_score(model, light_curves, seed=[seed, draw], **args))
    return np.array(pooled), np.array(per_window), np.array(batched)


def embedding_parity(embedder, chunks, reference):
    """Max / mean |our embeddings - original's| over chunks without repeated times."""
    repeated = [bool(np.any(np.diff(chunk[:, 0]) == 0)) for chunk in chunks]
    kept = [chunk for chunk, skip in zip(chunks, repeated) if not skip]
    rows = np.repeat(~np.array(repeated), np.diff(reference["offsets"]))
    ours = np.concatenate(embedder.embed_observations(kept))
    error = np.abs(ours - reference["embeddings"][rows])
    return {"n_chunks_compared": len(kept), "max_abs_diff": float(error.max()),
            "mean_abs_diff": float(error.mean()),
            "reference_mean_abs": float(np.abs(reference["embeddings"][rows]).mean())}


def _stats(values):
    return {"mean": float(np.mean(values)), "sd": float(np.std(values)),
            "draws": [float(v) for v in values]}


def main(argv=None):
    args = parse_args(__doc__, argv)
    if not (REFERENCE.exists() and WEIGHTS.exists()):
        print(f"skipped: {REFERENCE} or {WEIGHTS} is missing (../shared/data)", file=sys.stderr)
        return None
    n_draws = 1 if args.quick else 30
    chunks, reference = load_chunks()
    scored = chunks[:12] if args.quick else chunks  # quick: a smoke run, not a measurement
    start = time.perf_counter()
    embedder = AstromerEmbedder.from_pretrained(WEIGHTS, batch_size=64, device="cpu")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", LightCurveRepairWarning)
        light_curves = check_light_curves(scored)
    pooled, per_window, batched = rmse_draws(embedder, light_curves, n_draws)
    original = reference["masked_rmse_draws"]
    payload = {
        "params": {"n_draws": n_draws, "masking": MASKING, "weights": WEIGHTS.name,
                   "reference": REFERENCE.name, "n_chunks": len(scored),
                   "n_points": int(light_curves.lengths.sum())},
        "repairs": [str(w.message) for w in caught],
        "original_pooled": _stats(original),
        "ours_pooled": _stats(pooled),
        "ours_per_window": _stats(per_window),
        "ours_per_window_batched": _stats(batched),
        "estimator_score": float(-embedder.score(scored)),
        "embedding_parity": embedding_parity(embedder, chunks, reference),
        "seconds": time.perf_counter() - start,
    }
    path = write_result("fidelity", payload, args.quick, args.output_dir)
    print(f"masked RMSE over {n_draws} draws, MACHO weights on {len(scored)} real MACHO chunks:")
    print(f"  original (pooled)   {original.mean():.4f} +- {original.std():.4f}")
    print(f"  ours pooled         {pooled.mean():.4f} +- {pooled.std():.4f}")
    print(f"  ours per window     {per_window.mean():.4f} +- {per_window.std():.4f}"
          f"  (batched: {batched.mean():.4f} +- {batched.std():.4f})")
    print(f"  embeddings: max |diff| {payload['embedding_parity']['max_abs_diff']:.1e}, "
          f"mean {payload['embedding_parity']['mean_abs_diff']:.1e}")
    print(f"written to {path} ({payload['seconds']:.0f} s)")
    return payload


if __name__ == "__main__":
    main()
