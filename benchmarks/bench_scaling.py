"""Scaling out on one machine: Dask workers for ``transform``, DDP ranks for training.

Measures, with the paper-size ASTROMER (d_model 256, 2 layers, 200-point windows):

* embedding throughput (light curves/s) of a Parquet catalogue through
  :func:`sklearn_astromer.distributed.embed_partitions` on a local cluster of
  1 and of 2 worker processes with 1 thread each (objects already grouped by
  file, so no shuffle: the embedding itself is timed), beside the in-process
  ``transform`` on 1 and 2 torch threads;
* masked pre-training throughput (windows/s) of
  :func:`sklearn_astromer.distributed.fit_ddp` with 1 process (all cores, and
  1 thread) and 2 gloo processes (one core each), from the epoch times skorch
  records (the first epoch is warm-up and left out).

Configurations are interleaved within each repeat and medians reported, so
that load from other processes on a shared machine hits them alike; the load
average is recorded beside each repeat. Beside wall-clock rates, rates per
CPU-second of the working processes show the parallel efficiency that a
loaded machine cannot fake (equal values: no overhead from going parallel).

Usage: ``python benchmarks/bench_scaling.py [--quick]``; writes
``benchmarks/results/scaling[_quick].json``.
"""

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import Callback

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import environment_info, parse_args, write_result  # noqa: E402,I001
from _curves import make_curves  # noqa: E402

from sklearn_astromer import AstromerEmbedder  # noqa: E402
from sklearn_astromer.distributed import embed_partitions, fit_ddp  # noqa: E402

PAPER = dict(d_model=256, n_layers=2, n_heads=4, d_ff=128, max_obs=200)
SETTINGS = {
    "quick": dict(n_transform=64, n_files=2, n_train=64, epochs=2, repeats=1,
                  training_repeats=1),
    "full": dict(n_transform=1000, n_files=4, n_train=512, epochs=3, repeats=5,
                 training_repeats=3),
}


def write_catalogue(light_curves, n_files, directory):
    """A long table in ``n_files`` Parquet files, each object's rows in one file."""
    from sklearn_astromer.io import light_curves_to_table

    table = light_curves_to_table(light_curves)
    object_ids = table["object_id"].to_numpy()
    for part, ids in enumerate(np.array_split(np.arange(len(light_curves)), n_files)):
        rows = (object_ids >= ids[0]) & (object_ids <= ids[-1])
        table[rows].to_parquet(Path(directory) / f"part-{part:03d}.parquet", index=False)


def _load():
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def _process_cpu_seconds():
    import psutil

    times = psutil.Process().cpu_times()
    return times.user + times.system


class EpochCPUSeconds(Callback):
    """Record the CPU seconds this process spent in each epoch (all its threads)."""

    def on_epoch_begin(self, net, **kwargs):
        self.start_ = _process_cpu_seconds()

    def on_epoch_end(self, net, **kwargs):
        net.history.record("cpu", _process_cpu_seconds() - self.start_)


def bench_transform(light_curves, n_files, repeats):
    """Light curves/s: Dask with 1 and 2 single-thread workers, in-process on 1 and 2 threads."""
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    estimator = AstromerEmbedder(**PAPER, max_epochs=0, device="cpu", random_state=0)
    estimator.fit(light_curves[:2])
    runs = {"dask_1_worker": [], "dask_2_workers": [], "in_process_1_thread": [],
            "in_process_2_threads": []}
    cpu_runs = {name: [] for name in runs}
    loads = []
    with tempfile.TemporaryDirectory() as directory:
        write_catalogue(light_curves, n_files, directory)
        clusters = {name: LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                       dashboard_address=":0", silence_logs=40)
                    for name, n in (("dask_1_worker", 1), ("dask_2_workers", 2))}
        clients = {name: Client(cluster, set_as_default=False)
                   for name, cluster in clusters.items()}
        try:
            def run_dask(name):
                ddf = dd.read_parquet(directory)
                client = clients[name]
                return client.compute(embed_partitions(ddf, estimator, partitioned_by_id=True),
                                      sync=True)

            def run_in_process(n_threads):
                previous = torch.get_num_threads()
                torch.set_num_threads(n_threads)
                try:
                    return estimator.transform(light_curves)
                finally:
                    torch.set_num_threads(previous)

            jobs = {"dask_1_worker": lambda: run_dask("dask_1_worker"),
                    "dask_2_workers": lambda: run_dask("dask_2_workers"),
                    "in_process_1_thread": lambda: run_in_process(1),
                    "in_process_2_threads": lambda: run_in_process(2)}
            reference = jobs["in_process_2_threads"]()
            for name in ("dask_1_worker", "dask_2_workers"):  # warm-up: imports, model
                result = jobs[name]()
                assert len(result) == len(light_curves)
                assert not result["object_id"].duplicated().any()
                aligned = result.set_index("object_id").sort_index().to_numpy()
                np.testing.assert_allclose(aligned, reference, atol=1e-4)
            def cpu_seconds(name):
                client = clients.get(name)
                if client is None:
                    return _process_cpu_seconds()
                return sum(client.run(_process_cpu_seconds).values())

            for _ in range(repeats):
                loads.append(_load())
                for name, job in jobs.items():
                    cpu_start, start = cpu_seconds(name), time.perf_counter()
                    job()
                    runs[name].append(len(light_curves) / (time.perf_counter() - start))
                    cpu_runs[name].append(len(light_curves) / (cpu_seconds(name) - cpu_start))
        finally:
            for client in clients.values():
                client.close()
            for cluster in clusters.values():
                cluster.close()
    return _summarise(runs, cpu_runs, loads, "light_curves",
                      ratios=[("dask_2_workers", "dask_1_worker"),
                              ("in_process_2_threads", "in_process_1_thread")])


def bench_training(light_curves, epochs, repeats):
    """Windows/s of DDP pre-training: 1 process (all cores, or 1 thread) and 2 (one core each)."""
    configurations = (("ddp_1_process", 1, None), ("ddp_1_process_1_thread", 1, "1"),
                      ("ddp_2_processes", 2, None))
    runs = {name: [] for name, _, _ in configurations}
    cpu_runs = {name: [] for name in runs}
    loads = []
    for _ in range(repeats):
        loads.append(_load())
        for name, world_size, threads in configurations:
            os.environ.pop("OMP_NUM_THREADS", None)
            if threads is not None:  # the spawned ranks read it
                os.environ["OMP_NUM_THREADS"] = threads
            estimator = AstromerEmbedder(**PAPER, max_epochs=epochs, batch_size=64,
                                         validation_fraction=None, device="cpu",
                                         random_state=0, callbacks=[EpochCPUSeconds()])
            fit_ddp(estimator, light_curves, world_size=world_size)
            history = estimator.net_.history  # epoch 1 warms up
            runs[name].append(len(light_curves) / float(np.median(history[1:, "dur"])))
            # Rank 0's CPU seconds for its share of the windows.
            rank_windows = len(light_curves) / world_size
            cpu_runs[name].append(rank_windows / float(np.median(history[1:, "cpu"])))
    os.environ.pop("OMP_NUM_THREADS", None)
    return _summarise(runs, cpu_runs, loads, "windows",
                      ratios=[("ddp_2_processes", "ddp_1_process"),
                              ("ddp_2_processes", "ddp_1_process_1_thread")])


def _summarise(runs, cpu_runs, loads, unit, ratios):
    """Medians, speed-ups of ``faster`` over ``slower`` for each pair, CPU efficiency.

    ``per_cpu_s`` (items per CPU-second of the processes doing the work) is
    what a loaded machine cannot fake: equal values for 1 and 2 processes
    mean the work parallelises without overhead, and the wall-clock speed-up
    is then limited only by the cores other processes leave free.
    """
    def rounded(values):
        return [round(value, 2) for value in values]

    def median(values):
        return round(float(np.median(values)), 2)

    def speedup(faster, slower):
        per_repeat = np.array(runs[faster]) / np.array(runs[slower])
        return {
            "of": f"{faster} over {slower}",
            "median_of_per_repeat_ratios": round(float(np.median(per_repeat)), 3),
            "ratio_of_medians": round(median(runs[faster]) / median(runs[slower]), 3),
            "cpu_efficiency": round(median(cpu_runs[faster]) / median(cpu_runs[slower]), 3),
        }

    return {
        "unit": f"{unit} per second (wall clock); per_cpu_s: per CPU-second",
        "load_average_1min": loads,
        "runs": {name: rounded(values) for name, values in runs.items()},
        "median": {name: median(values) for name, values in runs.items()},
        "per_cpu_s_runs": {name: rounded(values) for name, values in cpu_runs.items()},
        "per_cpu_s_median": {name: median(values) for name, values in cpu_runs.items()},
        "speedup": [speedup(faster, slower) for faster, slower in ratios],
    }


def main(argv=None):
    args = parse_args(__doc__, argv)
    settings = SETTINGS["quick" if args.quick else "full"]
    environment = environment_info()
    start = time.perf_counter()
    transform = bench_transform(make_curves(settings["n_transform"], 200), settings["n_files"],
                                settings["repeats"])
    print("transform", transform["median"], transform["per_cpu_s_median"],
          transform["speedup"], flush=True)
    training = bench_training(make_curves(settings["n_train"], 200, seed=1), settings["epochs"],
                              settings["training_repeats"])
    print("training", training["median"], training["per_cpu_s_median"],
          training["speedup"], flush=True)
    payload = {"settings": {**settings, "model": PAPER, "curve_length": 200},
               "transform": transform, "training": training,
               "seconds": round(time.perf_counter() - start, 1), "environment": environment}
    versions = environment["versions"]
    for name in ("dask", "distributed"):
        module = __import__(name)
        versions[name] = module.__version__
    print(write_result("scaling", payload, args.quick, args.output_dir))


if __name__ == "__main__":
    main()
