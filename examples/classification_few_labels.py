"""Classify variable stars from a few labels per class with ASTROMER embeddings
==============================================================================

The paper's main scenario (Donoso-Oliva et al. 2023, Sect. 5): pre-train the
encoder self-supervised on many unlabelled light curves of a survey, then
train a classifier on the embeddings of only a handful of labelled ones.
The random forest on embeddings is compared with one on hand-crafted
features (period, amplitude, Fourier shape, moments) given the same labels;
the figure shows both scores against the number of labels. Run it from a
checkout::

    python examples/classification_few_labels.py           # about 3 min on 2 cores
    python examples/classification_few_labels.py --quick   # seconds, tiny settings
"""

import argparse
import os
from importlib.util import find_spec

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import f1_score

from sklearn_astromer import AstromerEmbedder
from sklearn_astromer.datasets import make_light_curves
from sklearn_astromer.features import LightCurveFeatures


def main(quick=False):
    # The documentation's gallery runs the examples small: docs/conf.py sets this variable.
    quick = quick or os.environ.get("SKLEARN_ASTROMER_DOCS_QUICK") == "1"
    size = dict(unlabelled=6, labelled=(2, 4), test=4, epochs=1, d_model=16, n_obs=(40, 120),
                classes=["RRab", "Cep", "EA", "Mira"]) if quick else dict(
        unlabelled=100, labelled=(5, 10, 20), test=30, epochs=15, d_model=64, n_obs=None,
        classes=None)
    simulate = dict(survey="ogle", classes=size["classes"], n_obs=size["n_obs"])
    print("simulating OGLE-like light curves", flush=True)
    X_unlabelled, _ = make_light_curves(size["unlabelled"], random_state=1, **simulate)
    X_pool, y_pool = make_light_curves(max(size["labelled"]), random_state=2, **simulate)
    X_test, y_test = make_light_curves(size["test"], random_state=3, **simulate)

    # 1. Self-supervised pre-training on the unlabelled survey (y is not used).
    print(f"pre-training ASTROMER on {len(X_unlabelled)} unlabelled light curves "
          f"({size['epochs']} epoch(s))", flush=True)
    embedder = AstromerEmbedder(d_model=size["d_model"], n_heads=4, d_ff=2 * size["d_model"],
                                max_epochs=size["epochs"], batch_size=64, random_state=0,
                                verbose=int(not quick))
    embedder.fit(X_unlabelled)
    print("embedding the labelled and test light curves; hand-crafted features", flush=True)
    Z_pool, Z_test = embedder.transform(X_pool), embedder.transform(X_test)
    features = LightCurveFeatures()
    F_pool, F_test = features.fit_transform(X_pool), features.transform(X_test)

    # 2. Few labels: the first n light curves of each class.
    print(f"{'labels/class':>12}  {'ASTROMER + RF':>13}  {'features + RF':>13}")
    results = {}
    for n_labels in size["labelled"]:
        chosen = np.concatenate([np.flatnonzero(y_pool == label)[:n_labels]
                                 for label in np.unique(y_pool)])
        scores = []
        for train, test in ((Z_pool, Z_test), (F_pool, F_test)):
            forest = RandomForestClassifier(n_estimators=200, random_state=0)
            forest.fit(train[chosen], y_pool[chosen])
            scores.append(f1_score(y_test, forest.predict(test), average="macro"))
        print(f"{n_labels:>12}  {scores[0]:>13.3f}  {scores[1]:>13.3f}")
        results[n_labels] = scores
    print(f"(macro F1 on {len(y_test)} test light curves; chance "
          f"{1 / len(np.unique(y_test)):.3f})")
    return results


def plot_scores(results):
    """Macro F1 against labels per class, both pipelines (when matplotlib is installed)."""
    if find_spec("matplotlib") is None:  # the figure is optional: the [plot] extra
        return None
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(5, 3.5))
    n_labels = list(results)
    for column, name in enumerate(["ASTROMER embeddings + RF", "hand-crafted features + RF"]):
        ax.plot(n_labels, [results[n][column] for n in n_labels], marker="o", label=name)
    ax.set_xlabel("labelled light curves per class")
    ax.set_ylabel("macro F1 (test light curves)")
    ax.set_xticks(n_labels)
    ax.legend()
    figure.tight_layout()
    plt.show()
    return figure


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny settings (for tests)")
    plot_scores(main(**vars(parser.parse_args())))
