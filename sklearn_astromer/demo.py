"""The main job: pre-train a small ASTROMER, embed a labelled set, classify, report.

Run it with ``python -m sklearn_astromer demo`` (or ``sklearn-astromer demo``).
"""

import time

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import classification_report, f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from ._console import epoch_log
from .astromer import AstromerEmbedder
from .datasets import make_light_curves
from .features import LightCurveFeatures


def _stage(message, start):
    print(f"[{time.perf_counter() - start:6.1f} s] {message}", flush=True)


def run_demo(*, survey="ogle", n_pretrain_per_class=60, n_labelled_per_class=40,
             max_epochs=10, d_model=64, random_state=0, verbose=1, figures_dir=None):
    """Pre-train, embed and classify simulated light curves; print a report.

    An ASTROMER encoder is pre-trained (self-supervised) on an unlabelled
    simulated survey; a random forest is then trained on the pooled
    embeddings of a separate labelled set and compared, on a held-out half,
    with a random forest on hand-crafted features (Lomb-Scargle period,
    amplitude, Fourier shape, moments).

    Parameters
    ----------
    survey : str, default="ogle"
        Simulated survey (see :func:`sklearn_astromer.datasets.make_light_curves`).
    n_pretrain_per_class : int, default=60
        Unlabelled light curves per class for pre-training.
    n_labelled_per_class : int, default=40
        Labelled light curves per class (half for training, half for testing).
    max_epochs : int, default=10
        Pre-training epochs.
    d_model : int, default=64
        Embedding size of the (small) encoder.
    random_state : int, default=0
    verbose : int, default=1
        1 prints the stages and the per-epoch training log.
    figures_dir : path-like or None, default=None
        Also save PNG figures there (training curves, a masked
        reconstruction, an attention map, the embedding map); needs
        matplotlib.

    Returns
    -------
    dict
        ``{"astromer_macro_f1": float, "features_macro_f1": float, ...}``
        (and ``"figures"``, the saved paths, with ``figures_dir``).
    """
    start = time.perf_counter()
    say = (lambda message: _stage(message, start)) if verbose else (lambda message: None)
    say(f"Simulating {survey} light curves")
    X_unlabelled, _ = make_light_curves(n_pretrain_per_class, survey=survey,
                                        random_state=random_state + 1)
    X, y = make_light_curves(n_labelled_per_class, survey=survey, random_state=random_state + 2)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.5, stratify=y, random_state=random_state)
    n_obs = np.array([len(curve) for curve in X_unlabelled])
    say(f"{len(X_unlabelled)} unlabelled curves ({n_obs.min()}-{n_obs.max()} points) for "
        f"pre-training; {len(X_train)} labelled for training, {len(X_test)} for testing")

    say(f"Pre-training ASTROMER (d_model={d_model}, masked-magnitude reconstruction)")
    embedder = AstromerEmbedder(d_model=d_model, n_heads=4, d_ff=128, max_epochs=max_epochs,
                                batch_size=64, random_state=random_state,
                                callbacks=[("epoch_log", epoch_log())] if verbose else None)
    embedder.fit(X_unlabelled)
    say(f"Masked RMSE on the labelled set: {-embedder.score(X):.3f} mag")

    forest = dict(n_estimators=300, random_state=random_state, n_jobs=-1)
    say("Embedding the labelled set and training a random forest")
    classifier = RandomForestClassifier(**forest).fit(embedder.transform(X_train), y_train)
    astromer_predictions = classifier.predict(embedder.transform(X_test))

    say("Baseline: hand-crafted features + random forest")
    baseline = make_pipeline(LightCurveFeatures(), RandomForestClassifier(**forest))
    baseline_predictions = baseline.fit(X_train, y_train).predict(X_test)

    results = {
        "astromer_macro_f1": f1_score(y_test, astromer_predictions, average="macro"),
        "features_macro_f1": f1_score(y_test, baseline_predictions, average="macro"),
        "n_test": len(y_test),
        "seconds": time.perf_counter() - start,
    }
    if verbose:
        print("\nASTROMER embeddings + random forest")
        print(classification_report(y_test, astromer_predictions, digits=3, zero_division=0))
        print("Hand-crafted features + random forest")
        print(classification_report(y_test, baseline_predictions, digits=3, zero_division=0))
        print(f"{'model':<40}{'macro F1':>10}")
        print(f"{'ASTROMER embeddings + random forest':<40}{results['astromer_macro_f1']:>10.3f}")
        print(f"{'hand-crafted features + random forest':<40}"
              f"{results['features_macro_f1']:>10.3f}")
        print(f"(chance: {1 / len(np.unique(y)):.3f}; {results['seconds']:.0f} s in all)")
    if figures_dir is not None:
        results["figures"] = _save_figures(embedder, X_test, y_test, figures_dir, random_state)
        say(f"Figures: {', '.join(str(path) for path in results['figures'])}")
    return results


def _save_figures(embedder, light_curves, labels, figures_dir, random_state):
    """Save the demo's figures as PNG files in ``figures_dir``; return their paths."""
    from pathlib import Path

    from . import plotting

    plt = plotting._pyplot()
    figures_dir = Path(figures_dir)
    figures_dir.mkdir(parents=True, exist_ok=True)
    example = light_curves[0]
    figures = {
        "training_history.png": plotting.plot_training_history(embedder),
        "reconstruction.png": plotting.plot_reconstruction(embedder, example,
                                                           random_state=random_state),
        "attention.png": plotting.plot_attention(embedder, example),
        "embedding_map.png": plotting.plot_embedding_map(embedder.transform(light_curves),
                                                         labels),
    }
    paths = []
    for name, figure in figures.items():
        figure.savefig(figures_dir / name, dpi=120, bbox_inches="tight")
        plt.close(figure)
        paths.append(figures_dir / name)
    return paths
