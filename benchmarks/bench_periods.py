"""The period search of the models' period input: its speed, and what it costs ``transform``.

Side by side in one run, on 2 threads (the estimators' default here):

* Lomb-Scargle period searches per second
  (:func:`sklearn_astromer._periods.lomb_scargle_periods`, the defaults of
  :data:`~sklearn_astromer._periods.PERIOD_SEARCH`) on light curves never
  searched before: 200-point irregular sinusoids over 1,000 days (the speed
  benchmark's curves), simulated ZTF and OGLE surveys, and real Catalina
  (CRTS) light curves from ``../shared/data`` when present;
* ``transform`` light curves/s at 200 points of the library's defaults for
  new models (paper width) with the period input and without it, and their
  ratio.

Medians of several calls after a warm-up. Usage:
``python benchmarks/bench_periods.py [--quick]``; writes
``benchmarks/results/periods[_quick].json`` and ``.md``.
"""

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (SHARED_DATA, environment_info, median_time, parse_args,  # noqa: E402
                     write_result)
from _curves import make_curves  # noqa: E402

from sklearn_astromer import AstromerEmbedder  # noqa: E402
from sklearn_astromer._periods import PERIOD_SEARCH, lomb_scargle_periods  # noqa: E402
from sklearn_astromer._validation import check_light_curves  # noqa: E402
from sklearn_astromer.datasets import load_catalina, make_light_curves  # noqa: E402

CRTS = SHARED_DATA / "lightcurves" / "crts" / "crts_train.npz"


def curve_sets(quick):
    n = 32 if quick else 600
    sets = {"sinusoids, 200 points over 1,000 days": make_curves(n, 200, seed=1),
            "simulated ZTF": make_light_curves(max(1, n // 10), survey="ztf",
                                               random_state=2)[0],
            "simulated OGLE": make_light_curves(max(1, n // 10), survey="ogle",
                                                random_state=3)[0]}
    if CRTS.exists():
        curves = load_catalina(CRTS)[0]
        sets["real CRTS"] = [curves[i] for i in
                             np.random.default_rng(0).permutation(len(curves))[:n]]
    return sets


def main(argv=None):
    args = parse_args(__doc__, argv)
    repeats = 1 if args.quick else 3
    threads = torch.get_num_threads()
    search = {}
    for name, curves in curve_sets(args.quick).items():
        light_curves = check_light_curves(curves)
        seconds = median_time(lambda: lomb_scargle_periods(light_curves, n_jobs=threads),
                              repeats=repeats)
        search[name] = {"curves_per_s": len(curves) / seconds, "n_curves": len(curves),
                        "median_points": float(np.median(light_curves.lengths))}
    curves = make_curves(64 if args.quick else 1000, 200, seed=1)
    transform = {}
    for period_input in (True, False):
        embedder = AstromerEmbedder(period_input=period_input, max_epochs=0, device="cpu",
                                    random_state=0).fit(curves[:4])
        seconds = median_time(lambda: embedder.transform(curves), repeats=repeats)
        transform["with" if period_input else "without"] = len(curves) / seconds
    transform["ratio"] = transform["with"] / transform["without"]
    payload = {"environment": environment_info(), "threads": threads,
               "search_settings": PERIOD_SEARCH, "period_search": search,
               "transform_curves_per_s": transform}
    path = write_result("periods", payload, args.quick, args.output_dir)
    lines = ["| light curves | median points | period searches/s |", "| --- | ---: | ---: |"]
    lines += [f"| {name} | {row['median_points']:.0f} | {row['curves_per_s']:,.0f} |"
              for name, row in search.items()]
    lines += ["", f"- `transform` at 200 points, defaults for new models: "
                  f"{transform['with']:,.0f} light curves/s with the period input, "
                  f"{transform['without']:,.0f} without ({transform['ratio']:.2f}x)"]
    Path(path).with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
