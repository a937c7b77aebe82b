"""The main job: ASTROMER embeddings, frozen, fine-tuned and stacked, in front of a random forest.

Run it with ``python -m sklearn_astromer demo`` (or ``sklearn-astromer demo``).
"""

import tempfile
import time

import numpy as np
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import classification_report, f1_score
from sklearn.model_selection import train_test_split

from .astromer import AstromerEmbedder
from .datasets import make_light_curves
from .features import LightCurveFeatures
from .recipes import make_classification_pipeline

#: Embedding components kept beside the features: a random forest draws
#: ``sqrt(n_features)`` candidate columns per split, so hundreds of embedding
#: columns would crowd out the 21 features (measured in benchmarks/README.md).
UNION_COMPONENTS = 16


def _stage(message, start):
    print(f"[{time.perf_counter() - start:6.1f} s] {message}", flush=True)


def run_demo(*, survey="ogle", n_pretrain_per_class=60, n_labelled_per_class=40,
             max_epochs=3, fine_tune_epochs=30, random_state=0, verbose=1, figures_dir=None):
    """Frozen vs fine-tuned ASTROMER embeddings vs features, each + a random forest; print a report.

    Five pipelines are fitted on the same labelled half of a simulated
    survey and scored (macro F1) on the other half:

    1. the published MACHO model, frozen, mean-pooled, + random forest;
    2. that model with a period input added (see ``period_input`` of
       :class:`~sklearn_astromer.AstromerEmbedder`), fine-tuned
       self-supervised on an unlabelled set of the survey, then supervised on
       the labelled half, + random forest on its embeddings (the fine-tuned
       head's own predictions are reported too);
    3. hand-crafted features (Lomb-Scargle period, amplitude, Fourier shape,
       moments) + random forest;
    4. features and the fine-tuned embeddings together (reduced to
       :data:`UNION_COMPONENTS` principal components) + random forest;
    5. the recommended pipeline
       (:func:`~sklearn_astromer.recipes.make_classification_pipeline`):
       features beside 16 principal components of the embeddings of the
       shipped ``"catalina"`` model (pre-trained on real light curves), then
       a random forest.

    Parameters
    ----------
    survey : str, default="ogle"
        Simulated survey (see :func:`sklearn_astromer.datasets.make_light_curves`).
    n_pretrain_per_class : int, default=60
        Unlabelled light curves per class for self-supervised fine-tuning.
    n_labelled_per_class : int, default=40
        Labelled light curves per class (half for training, half for testing).
    max_epochs : int, default=3
        Self-supervised fine-tuning epochs.
    fine_tune_epochs : int, default=30
        Supervised fine-tuning epochs (early stopping on a validation split).
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
        Macro F1 of every row (``"frozen"``, ``"fine_tuned"``,
        ``"fine_tuned_head"``, ``"features"``, ``"features_and_embeddings"``,
        ``"recommended"``),
        ``"n_test"``, ``"seconds"`` (and ``"figures"`` with ``figures_dir``).
    """
    start = time.perf_counter()
    say = (lambda message: _stage(message, start)) if verbose else (lambda message: None)
    say(f"Simulating {survey} light curves")
    X_unlabelled, _ = make_light_curves(n_pretrain_per_class, survey=survey,
                                        random_state=random_state + 1)
    X, y = make_light_curves(n_labelled_per_class, survey=survey, random_state=random_state + 2)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.5, stratify=y, random_state=random_state)
    say(f"{len(X_unlabelled)} unlabelled light curves; {len(X_train)} labelled for training, "
        f"{len(X_test)} for testing")

    forest = dict(n_estimators=300, random_state=random_state, n_jobs=-1)
    predictions = {}

    say("1. The published MACHO model (shipped with the package), frozen")
    frozen = AstromerEmbedder.from_pretrained("macho", device="cpu")
    predictions["frozen"] = _forest(forest, frozen.transform(X_train), y_train,
                                    frozen.transform(X_test))

    say(f"2. The same with a period input: {max_epochs} self-supervised epochs on the "
        "unlabelled curves")
    tuned = _fine_tune(X_unlabelled, X_train, y_train, max_epochs, fine_tune_epochs,
                       random_state, verbose, say)
    Z_train, Z_test = tuned.transform(X_train), tuned.transform(X_test)
    predictions["fine_tuned"] = _forest(forest, Z_train, y_train, Z_test)
    predictions["fine_tuned_head"] = tuned.predict(X_test)

    say("3. Hand-crafted features + random forest")
    features = LightCurveFeatures(n_jobs=-1)
    F_train, F_test = features.fit_transform(X_train), features.transform(X_test)
    predictions["features"] = _forest(forest, F_train, y_train, F_test)

    say(f"4. Features and the fine-tuned embeddings ({UNION_COMPONENTS} principal components)")
    pca = PCA(min(UNION_COMPONENTS, len(Z_train) - 1), random_state=random_state).fit(Z_train)
    predictions["features_and_embeddings"] = _forest(
        forest, np.hstack([F_train, pca.transform(Z_train)]), y_train,
        np.hstack([F_test, pca.transform(Z_test)]))

    say("5. The recommended pipeline: features beside 16 components of the embedding of the "
        "model pre-trained on real Catalina light curves, then a forest")
    recommended = make_classification_pipeline(device="cpu", n_jobs=-1,
                                               random_state=random_state)
    predictions["recommended"] = recommended.fit(X_train, y_train).predict(X_test)

    results = {name: f1_score(y_test, predicted, average="macro")
               for name, predicted in predictions.items()}
    results.update(n_test=len(y_test), seconds=time.perf_counter() - start)
    if verbose:
        _report(results, predictions, y_test, len(np.unique(y)))
    if figures_dir is not None:
        results["figures"] = _save_figures(tuned, X_test, y_test, figures_dir, random_state)
        say(f"Figures: {', '.join(str(path) for path in results['figures'])}")
    return results


def _fine_tune(X_unlabelled, X_train, y_train, max_epochs, fine_tune_epochs, random_state,
               verbose, say):
    """MACHO + period input: self-supervised on ``X_unlabelled``, then supervised on the labels."""
    common = dict(batch_size=64, device="cpu", random_state=random_state, verbose=verbose)
    self_supervised = AstromerEmbedder(pretrained="macho", period_input=True,
                                       max_epochs=max_epochs, patience=2, **common)
    self_supervised.fit(X_unlabelled)
    say(f"   then supervised on the {len(X_train)} labelled curves "
        f"(at most {fine_tune_epochs} epochs)")
    with tempfile.TemporaryDirectory() as directory:
        self_supervised.save_pretrained(directory)
        # Batch 32 and learning rate 3e-3: chosen on a validation simulation
        # of this set-up (other seeds); at 1e-3 the new head stays undertrained.
        tuned = AstromerEmbedder(pretrained=directory, max_epochs=0, fine_tune="supervised",
                                 fine_tune_epochs=fine_tune_epochs, fine_tune_lr=3e-3,
                                 patience=6, pooling="weighted_layers",
                                 **{**common, "batch_size": 32})
        return tuned.fit(X_train, y_train)


def _forest(params, Z_train, y_train, Z_test):
    """Test predictions of a random forest fitted on ``Z_train``."""
    return RandomForestClassifier(**params).fit(Z_train, y_train).predict(Z_test)


ROWS = {
    "frozen": "MACHO embeddings (frozen) + random forest",
    "fine_tuned": "fine-tuned embeddings + random forest",
    "fine_tuned_head": "fine-tuned ASTROMER's own classifier head",
    "features": "hand-crafted features + random forest",
    "features_and_embeddings": "features + fine-tuned embeddings + forest",
    "recommended": "recommended: features + Catalina model",
}


def _report(results, predictions, y_test, n_classes):
    print("\nFine-tuned embeddings + random forest")
    print(classification_report(y_test, predictions["fine_tuned"], digits=3, zero_division=0))
    print("Hand-crafted features + random forest")
    print(classification_report(y_test, predictions["features"], digits=3, zero_division=0))
    print(f"{'pipeline':<46}{'macro F1':>10}")
    for name, label in ROWS.items():
        print(f"{label:<46}{results[name]:>10.3f}")
    print(f"(chance: {1 / n_classes:.3f}; {results['seconds']:.0f} s in all)")


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
