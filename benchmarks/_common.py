"""Helpers shared by the benchmark scripts in this folder.

Every ``bench_*.py`` script runs in two modes: full (the numbers quoted in
``benchmarks/README.md``) and ``--quick`` (a smoke run of a few seconds that
the test suite executes so the scripts never rot). Each writes one JSON file
into ``benchmarks/results/``: ``<name>.json`` or ``<name>_quick.json``, with
the script's own payload plus an ``environment`` block (machine, versions,
git commit) saying where the numbers come from. The environment variable
``SKLEARN_ASTROMER_BENCHMARK_RESULTS`` redirects the results (the tests use it).

The API is deliberately small:

- :func:`parse_args` -- the common command line (``--quick``, ``--output-dir``);
- :func:`environment_info` -- machine, library versions, git commit;
- :func:`write_result` -- payload + environment -> ``results/<name>[_quick].json``;
- :func:`median_time` -- median wall-clock seconds of repeated calls;
- :func:`rate_against_n` -- items/s for growing N, up to the steady state;
- :class:`Stopwatch` -- named wall-clock timings of a script's stages.

The benchmarks also run from a checkout without installation: importing this
module puts the repository root on ``sys.path``.
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

BENCHMARKS_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCHMARKS_DIR.parent
# The tests point this elsewhere so smoke runs never touch the committed results.
RESULTS_DIR = Path(
    os.environ.get("SKLEARN_ASTROMER_BENCHMARK_RESULTS", BENCHMARKS_DIR / "results")
)
SHARED_DATA = Path(
    os.environ.get("SKLEARN_ASTROMER_SHARED_DATA", REPO_ROOT.parent / "shared" / "data")
)

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


def parse_args(description, argv=None, add_arguments=None):
    """Parse the common command line of a benchmark script.

    Parameters
    ----------
    description : str
        Shown by ``--help`` (pass the script's ``__doc__``).
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).
    add_arguments : callable, optional
        ``add_arguments(parser)`` adds the script's own options.

    Returns
    -------
    argparse.Namespace
        With at least ``quick`` (bool) and ``output_dir`` (Path).
    """
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true",
                        help="tiny smoke run (seconds); writes <name>_quick.json")
    parser.add_argument("--output-dir", type=Path, default=RESULTS_DIR,
                        help=f"where the JSON goes (default {RESULTS_DIR})")
    if add_arguments is not None:
        add_arguments(parser)
    return parser.parse_args(argv)


def _git(*args):
    try:
        return subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def _cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _version(module_name):
    try:
        module = __import__(module_name)
    except ImportError:
        return None
    return getattr(module, "__version__", None)


def environment_info():
    """Where and with what the numbers were measured.

    Returns
    -------
    dict
        ``timestamp`` (UTC, ISO 8601), ``machine`` (CPU model, logical cores
        usable by this process, torch threads, load average at the call,
        memory in GiB, CUDA device if any), ``versions`` (python, numpy,
        scipy, scikit-learn, torch, skorch, sklearn_astromer) and ``git``
        (``commit``, ``dirty``: uncommitted changes in the working tree).
    """
    import torch

    try:
        n_cores = len(os.sched_getaffinity(0))
    except AttributeError:
        n_cores = os.cpu_count()
    try:
        memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        memory_gib = None
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "cpu": _cpu_model(),
            "cores": n_cores,
            "torch_threads": torch.get_num_threads(),
            "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
            "memory_gib": None if memory_gib is None else round(memory_gib, 1),
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        },
        "versions": {
            "python": platform.python_version(),
            **{name: _version(name) for name in
               ("numpy", "scipy", "sklearn", "torch", "skorch", "sklearn_astromer")},
        },
        "git": {"commit": _git("rev-parse", "HEAD"),
                "dirty": None if status is None else bool(status)},
    }


def _to_json(value):
    """``json.dump`` fallback for numpy scalars/arrays and paths."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def write_result(name, payload, quick, output_dir=None):
    """Write ``payload`` with the environment to ``<output_dir>/<name>[_quick].json``.

    Parameters
    ----------
    name : str
        Benchmark name, e.g. ``"classification"``.
    payload : dict
        The script's results (numpy values are converted). An
        ``"environment"`` entry, e.g. :func:`environment_info` taken when
        the run started, is kept; otherwise it is taken now.
    quick : bool
        Quick mode: the file name gets ``_quick`` and the JSON ``"mode": "quick"``.
    output_dir : path-like, optional
        Default ``benchmarks/results``.

    Returns
    -------
    Path
        The file written.
    """
    output_dir = Path(RESULTS_DIR if output_dir is None else output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / f"{name}{'_quick' if quick else ''}.json"
    document = {
        "benchmark": name,
        "mode": "quick" if quick else "full",
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        **payload,
    }
    document.setdefault("environment", environment_info())
    path.write_text(json.dumps(document, indent=1, default=_to_json) + "\n")
    return path


def median_time(fn, repeats=5, warmup=1):
    """Median wall-clock seconds of ``fn()`` over ``repeats`` calls (after ``warmup`` calls)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def rate_against_n(embed, ns, repeats=3, tolerance=0.05):
    """Items/s of ``embed(n)`` for growing ``n``, until a longer call no longer changes it.

    One warm-up call of the first ``n`` comes first (one-time costs: loading,
    tracing); each ``n`` is then timed as the median of ``repeats`` calls.
    The rate is steady once doubling ``n`` changes it by less than
    ``tolerance``: per-call costs (set-up, the last partial batch) are then
    amortised, as when a catalogue is embedded.

    Parameters
    ----------
    embed : callable
        ``embed(n)`` processes ``n`` items.
    ns : sequence of int
        Increasing sizes to try.
    repeats : int, default=3
    tolerance : float, default=0.05

    Returns
    -------
    dict
        ``curve`` (``{n: items/s}``), ``steady_n`` and ``steady_rate`` (the
        largest ``n`` timed and its rate), and ``steady`` (whether the last
        doubling changed the rate by less than ``tolerance``).
    """
    curve, steady = {}, False
    for n in ns:
        rate = n / median_time(lambda: embed(n), repeats=repeats, warmup=0 if curve else 1)
        if curve:
            previous = list(curve.values())[-1]
            steady = abs(rate - previous) / previous < tolerance
        curve[str(n)] = rate
        if steady:
            break
    last = list(curve)[-1]
    return {"curve": curve, "steady_n": int(last), "steady_rate": curve[last], "steady": steady}


class Stopwatch:
    """Named wall-clock timings of a script's stages, with the CPU time they used.

    ``seconds[name]`` accumulates wall-clock seconds, ``cpu_seconds[name]``
    the process's CPU seconds (all threads): on a shared machine the wall
    clock depends on other users' load, CPU time much less.

    Examples
    --------
    >>> watch = Stopwatch()
    >>> with watch("features"):
    ...     pass
    >>> sorted(watch.seconds)
    ['features']
    """

    def __init__(self):
        self.seconds, self.cpu_seconds = {}, {}
        self._start, self._cpu_start = time.perf_counter(), time.process_time()

    def __call__(self, name):
        return _Lap(self, name)

    def total(self):
        """Wall-clock seconds since the stopwatch was made."""
        return time.perf_counter() - self._start

    def total_cpu(self):
        """CPU seconds of this process (all threads) since the stopwatch was made."""
        return time.process_time() - self._cpu_start


class _Lap:
    def __init__(self, watch, name):
        self.watch, self.name = watch, name

    def __enter__(self):
        self.start, self.cpu_start = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.elapsed = time.perf_counter() - self.start
        self.cpu_elapsed = time.process_time() - self.cpu_start
        for totals, value in ((self.watch.seconds, self.elapsed),
                              (self.watch.cpu_seconds, self.cpu_elapsed)):
            totals[self.name] = totals.get(self.name, 0.0) + value
        return False
