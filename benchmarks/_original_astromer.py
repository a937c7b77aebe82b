"""Time the original TensorFlow ASTROMER package (``astromer`` 0.1.8) at paper size.

Run by ``bench_speed.py`` with the interpreter that has the original package
(``--original-python``, or the current one when it imports ``ASTROMER``); it
never imports sklearn_astromer, so the two can live in separate environments.
Writes one JSON object to the path given as its second argument:

* ``encode_curves_per_s[batch_size][length]``: ``SingleBandEncoder.encode`` on
  a Python list of curves, plus the mean over each returned array, i.e. the
  same "list in, pooled array out" work as our ``transform``;
* ``encode_windows_per_s``: the same runs counted in the windows the package
  actually encodes (it encodes the last window twice when a length is a
  multiple of ``max_obs``);
* ``fit_windows_per_s``: its ``train_step`` (masked pre-training, Adam) over a
  cached ``load_numpy`` pipeline of 200-point windows, after a warm-up epoch;
* ``encode_rate_against_n[batch_size]``: curves/s of the same encoding for
  growing numbers of curves per call, up to its steady state
  (:func:`_common.rate_against_n`), when ``params`` has ``rate_against_n``
  (``{"length": ..., "ns": [...], "batch_sizes": [...], "repeats": ...}``).

Each part runs only when ``params`` asks for it (``lengths``, ``fit_n_curves``,
``rate_against_n``).

Usage: ``python _original_astromer.py '{"lengths": [200], "n_curves": 256, ...}' OUT.json``.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # the package is written for Keras 2
os.environ.setdefault("TERM", "dumb")  # it runs os.system("clear") on import

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import median_time, rate_against_n  # noqa: E402  (numpy only: no torch here)
from _curves import make_curves  # noqa: E402

PAPER = dict(num_layers=2, d_model=256, num_heads=4, dff=128, maxlen=200)


def windows_encoded(length, max_obs):
    """Windows ``load_numpy(sampling=False)`` cuts from a curve of ``length`` points."""
    return int(length / max_obs) + 1


def encode_and_pool(model, curves, batch_size):
    """The package's ``encode`` of ``curves``, each embedding mean-pooled (our ``transform``)."""
    ids = [f"{index:09d}" for index in range(len(curves))]  # text order = input order
    with open(os.devnull, "w") as devnull:  # encode() prints on every call
        stdout, sys.stdout = sys.stdout, devnull
        try:
            embeddings = model.encode(curves, oids_list=ids, batch_size=batch_size)
        finally:
            sys.stdout = stdout
    return np.stack([embedding.mean(axis=0) for embedding in embeddings])


def bench_encode(model, lengths, n_curves, batch_sizes, repeats):
    curves_per_s, windows_per_s = {}, {}
    for batch_size in batch_sizes:
        curves_per_s[str(batch_size)], windows_per_s[str(batch_size)] = {}, {}
        for length in lengths:
            curves = [curve.astype(np.float32) for curve in make_curves(n_curves, length)]
            seconds = median_time(lambda: encode_and_pool(model, curves, batch_size),
                                  repeats=repeats)
            curves_per_s[str(batch_size)][str(length)] = n_curves / seconds
            windows_per_s[str(batch_size)][str(length)] = (
                n_curves * windows_encoded(length, PAPER["maxlen"]) / seconds)
    return curves_per_s, windows_per_s


def bench_rate_against_n(model, length, ns, batch_sizes, repeats):
    """``{batch_size: rate_against_n(...)}`` of :func:`encode_and_pool` at ``length`` points."""
    curves = [curve.astype(np.float32) for curve in make_curves(max(ns), length)]
    return {str(batch_size): rate_against_n(
        lambda n: encode_and_pool(model, curves[:n], batch_size), ns, repeats=repeats)
        for batch_size in batch_sizes}


def bench_fit(model, n_curves, batch_size, repeats):
    import tensorflow as tf
    from ASTROMER.core.astromer import train_step
    from ASTROMER.core.data import load_numpy

    dataset = load_numpy(make_curves(n_curves, PAPER["maxlen"]), batch_size=batch_size,
                         sampling=True, shuffle=False, max_obs=PAPER["maxlen"],
                         msk_frac=0.5, rnd_frac=0.2, same_frac=0.2)
    optimizer = tf.keras.optimizers.Adam(1e-3, beta_1=0.9, beta_2=0.98, epsilon=1e-9)

    def one_epoch():
        for batch in dataset:
            train_step(model.model, batch, optimizer)

    return n_curves / median_time(one_epoch, repeats=repeats)


def main(argv):
    params = json.loads(argv[1])
    from importlib.metadata import version

    import tensorflow as tf
    from ASTROMER.models import SingleBandEncoder

    tf.keras.utils.set_random_seed(0)
    model = SingleBandEncoder(**PAPER)
    result = {
        "installed": True,
        "astromer": version("astromer"),
        "tensorflow": tf.__version__,
        "params": {**params, "model": PAPER},
        "n_params": int(model.model.count_params()),
        "tf_threads": {"intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
                       "inter_op": tf.config.threading.get_inter_op_parallelism_threads()},
    }
    if "lengths" in params:
        result["encode_curves_per_s"], result["encode_windows_per_s"] = bench_encode(
            model, params["lengths"], params["n_curves"], params["batch_sizes"],
            params["repeats"])
    if "fit_n_curves" in params:
        result["fit_windows_per_s"] = bench_fit(model, params["fit_n_curves"],
                                                params["fit_batch_size"], params["repeats"])
    if "rate_against_n" in params:
        steady = params["rate_against_n"]
        result["encode_rate_against_n"] = bench_rate_against_n(
            model, steady["length"], steady["ns"], steady["batch_sizes"], steady["repeats"])
    with open(argv[2], "w") as output:
        json.dump(result, output)


if __name__ == "__main__":
    main(sys.argv)
