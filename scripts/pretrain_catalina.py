"""Pre-train the shipped ``"catalina"`` ASTROMER on real, unlabelled light curves.

The recipe is the one the real-data benchmark measures with pre-training
repeated per fold (``benchmarks/bench_real.py``: the library's defaults for
new models, ``max_epochs=20, validation_fraction=0.1, patience=5``, seed 0);
here it runs once on every light curve it is given, labels unused:

- the 5,757 Catalina (CRTS) light curves of ``lightcurves/crts/crts_train.npz``
  in the shared data (Drake et al. 2014; via kvmu/lightcurve-classification,
  MIT);
- the real samples shipped with the package: 10 MACHO objects in R and 9 in
  B, 7 ASAS stars and the EROS-2 Cepheid in R and B.

Writes ``config.json``, ``model.safetensors`` and ``training.json`` (the loss
history and timings) into ``--output`` (default
``sklearn_astromer/pretrained/data/catalina``).

Usage::

    python scripts/pretrain_catalina.py [--crts PATH] [--output DIR] [--epochs N]
"""

import argparse
import json
import time
from pathlib import Path

import torch

from sklearn_astromer import AstromerEmbedder
from sklearn_astromer.datasets import (
    load_asas_sample,
    load_catalina,
    load_eros_sample,
    load_macho_sample,
)

ROOT = Path(__file__).resolve().parents[1]
RECIPE = dict(max_epochs=20, validation_fraction=0.1, patience=5)
SEED = 0


def unlabelled_light_curves(crts_path):
    """Every real light curve the model is pre-trained on, and where each group comes from."""
    groups = {
        "Catalina (CRTS)": load_catalina(crts_path)[0],
        "MACHO R": load_macho_sample("R")[0],
        "MACHO B": load_macho_sample("B")[0],
        "ASAS V": load_asas_sample()[0],
        "EROS-2 R": load_eros_sample("R")[0],
        "EROS-2 B": load_eros_sample("B")[0],
    }
    curves = [curve for group in groups.values() for curve in group]
    return curves, {name: len(group) for name, group in groups.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--crts", type=Path,
                        default=ROOT.parent / "shared/data/lightcurves/crts/crts_train.npz")
    parser.add_argument("--output", type=Path,
                        default=ROOT / "sklearn_astromer/pretrained/data/catalina")
    parser.add_argument("--epochs", type=int, default=RECIPE["max_epochs"])
    args = parser.parse_args(argv)
    curves, counts = unlabelled_light_curves(args.crts)
    print(f"pre-training on {len(curves)} light curves: {counts}", flush=True)
    start, cpu_start = time.perf_counter(), time.process_time()
    embedder = AstromerEmbedder(**dict(RECIPE, max_epochs=args.epochs), device="cpu",
                                random_state=SEED, verbose=1).fit(curves)
    embedder.save_pretrained(args.output)
    history = [{key: row.get(key) for key in ("epoch", "train_loss", "valid_loss")}
               for row in embedder.net_.history]
    record = {"recipe": dict(RECIPE, max_epochs=args.epochs), "seed": SEED,
              "light_curves": counts, "seconds": time.perf_counter() - start,
              "cpu_seconds": time.process_time() - cpu_start,
              "torch_threads": torch.get_num_threads(), "history": history}
    (args.output / "training.json").write_text(json.dumps(record, indent=1) + "\n")
    print(f"written to {args.output} in {record['seconds']:.0f} s")


if __name__ == "__main__":
    main()
