"""Find unusual light curves: ASTROMER embeddings + IsolationForest
=================================================================

A survey of ordinary variables (RR Lyrae, Cepheids, eclipsing binaries,
rotators) holds a few stars of a rare class (Miras). The embedder is
trained on the survey itself, without labels; an IsolationForest on the
embeddings then scores every light curve, and the rare stars should come
out on top. Both steps sit in one scikit-learn Pipeline. The figure shows
the anomaly scores of each class. Run it from a checkout::

    python examples/anomaly_detection.py           # about 1 min on 2 cores
    python examples/anomaly_detection.py --quick   # seconds, tiny settings
"""

import argparse
import os
from importlib.util import find_spec

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline

from sklearn_astromer import AstromerEmbedder
from sklearn_astromer.datasets import make_light_curves

NORMAL = ["RRab", "Cep", "EA", "ROT"]
RARE = "Mira"


def main(quick=False):
    # The documentation's gallery runs the examples small: docs/conf.py sets this variable.
    quick = quick or os.environ.get("SKLEARN_ASTROMER_DOCS_QUICK") == "1"
    n_normal, n_rare, epochs, d_model = (8, 3, 1, 16) if quick else (100, 8, 10, 64)
    n_obs = (40, 120) if quick else None
    X, y = make_light_curves({**{name: n_normal for name in NORMAL}, RARE: n_rare},
                             survey="ztf", n_obs=n_obs, random_state=0)
    is_rare = y == RARE

    detector = Pipeline([
        ("emb", AstromerEmbedder(d_model=d_model, n_heads=4, d_ff=2 * d_model,
                                 max_epochs=epochs, batch_size=64, random_state=0,
                                 verbose=int(not quick))),
        ("iso", IsolationForest(n_estimators=300, random_state=0)),
    ])
    print(f"training the embedder ({epochs} epoch(s)) and the forest on {len(X)} light curves",
          flush=True)
    detector.fit(X)  # no labels anywhere
    print("scoring every light curve", flush=True)
    anomaly = -detector.score_samples(X)  # higher = more unusual

    ranking = np.argsort(-anomaly)
    top = ranking[:n_rare]
    print(f"{len(X)} light curves, {is_rare.sum()} of them {RARE}s (the anomalies)")
    print(f"ROC AUC of the anomaly score: {roc_auc_score(is_rare, anomaly):.3f} "
          "(0.5 = chance)")
    print(f"{RARE}s among the {n_rare} most unusual: {is_rare[top].sum()}")
    print("most unusual:", ", ".join(f"{y[index]} ({anomaly[index]:.3f})" for index in top))
    return anomaly, y


def plot_scores(anomaly, y):
    """Anomaly scores per class, one row of points each (when matplotlib is installed)."""
    if find_spec("matplotlib") is None:  # the figure is optional: the [plot] extra
        return None
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(6, 3))
    classes = [*NORMAL, RARE]
    for row, name in enumerate(classes):
        scores = anomaly[y == name]
        ax.scatter(scores, np.full(len(scores), row), alpha=0.6,
                   color="tab:red" if name == RARE else "tab:blue")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("anomaly score (higher = more unusual)")
    ax.set_title("IsolationForest on ASTROMER embeddings")
    figure.tight_layout()
    plt.show()
    return figure


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny settings (for tests)")
    plot_scores(*main(**vars(parser.parse_args())))
