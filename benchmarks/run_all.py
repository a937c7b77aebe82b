"""Run every ``benchmarks/bench_*.py`` (full or ``--quick``), then draw the figures.

Each script runs in its own process (so one benchmark's threads, memory and
imports never colour another's timings) and writes its JSON into
``benchmarks/results/``; ``plot_results.py`` then turns them into PNGs.
Exits non-zero when any script failed. A script takes ``--quick`` and, when
given, ``--output-dir`` (both from ``_common.parse_args``).

Usage: ``python benchmarks/run_all.py [--quick] [--only classification fidelity ...]
[--original-python PATH]``; the last is handed to ``bench_speed.py`` (the python of an
environment with the original TensorFlow package, measured side by side).
Full mode takes about an hour on 2 CPU cores (see ``benchmarks/README.md``).
"""

import os
import subprocess
import sys
import time

from _common import BENCHMARKS_DIR, RESULTS_DIR, parse_args


def _add_arguments(parser):
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        help="run only these benchmarks (e.g. classification speed)")
    parser.add_argument("--original-python", default=None,
                        help="python with the original astromer package, for bench_speed.py")


def main(argv=None):
    args = parse_args(__doc__, argv, _add_arguments)
    scripts = sorted(BENCHMARKS_DIR.glob("bench_*.py"))
    if args.only:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in args.only]
    extra = ["--quick"] if args.quick else []
    if args.output_dir != RESULTS_DIR:
        extra += ["--output-dir", str(args.output_dir)]
    env = dict(os.environ)
    if args.original_python:
        env["SKLEARN_ASTROMER_ORIGINAL_PYTHON"] = args.original_python
    failed, durations = [], {}
    for script in [*scripts, BENCHMARKS_DIR / "plot_results.py"]:
        print(f"=== {script.name} {' '.join(extra)}", flush=True)
        start = time.perf_counter()
        code = subprocess.run([sys.executable, str(script), *extra], cwd=BENCHMARKS_DIR.parent,
                              env=env)
        durations[script.name] = time.perf_counter() - start
        if code.returncode != 0:
            failed.append(script.name)
    for name, seconds in durations.items():
        print(f"{name:28s} {seconds:7.1f} s{'  FAILED' if name in failed else ''}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
