"""The recommended way to classify a survey's light curves with this library.

:func:`make_classification_pipeline` builds the pipeline chosen on the
validation parts of the real-data benchmark (Catalina, ``benchmarks/README.md``):
hand-crafted features side by side with a condensed ASTROMER embedding of
the shipped ``"catalina"`` model (16 principal components, or the
cross-fitted class probabilities of a logistic regression on it), then a
random forest. It is an ordinary scikit-learn
:class:`~sklearn.pipeline.Pipeline`: every setting stays reachable by name
for :class:`~sklearn.model_selection.GridSearchCV`.
"""

from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import FeatureUnion, Pipeline

from .astromer import AstromerEmbedder
from .features import LightCurveFeatures
from .stacking import CrossFittedProbabilities

#: The model the recipe starts from: pre-trained on real Catalina light curves.
RECOMMENDED_MODEL = "catalina"
#: Principal components kept with ``reduce="components"``.
UNION_COMPONENTS = 16


def make_classification_pipeline(pretrained=RECOMMENDED_MODEL, *, classifier=None,
                                 max_epochs=0, pooling="layers", reduce="components",
                                 cv=5, device="auto", n_jobs=None, random_state=None):
    """Features + stacked ASTROMER evidence + a random forest: the library's recommended classifier.

    The pipeline's steps, by name::

        representation (FeatureUnion)
            features    LightCurveFeatures
            embedding   (Pipeline)
                astromer    AstromerEmbedder(pretrained, max_epochs, pooling)
                reduce      PCA(16) or CrossFittedProbabilities(cv)
        classifier      RandomForestClassifier(n_estimators=500) or ``classifier``

    Fitting it computes the features, embeds the light curves (fine-tuning
    the model self-supervised first when ``max_epochs > 0``), condenses the
    embedding, and fits the forest on the features and those columns. On
    real Catalina light curves this pipeline matched features alone (within
    0.006 macro F1 at 20, 100 and 500 labelled stars per class, 3 folds;
    stacking +0.013 at 20); the embedding alone stays below the features
    (``benchmarks/README.md``).

    Parameters
    ----------
    pretrained : str or path-like, default="catalina"
        The ASTROMER to embed with: ``"catalina"`` (pre-trained by this
        project on 5,757 real Catalina light curves, period input included),
        ``"macho"``, ``"atlas"``, or a folder written by ``save_pretrained``.
    classifier : estimator or None, default=None
        The final classifier; None: a random forest of 500 trees.
    max_epochs : int, default=0
        Self-supervised fine-tuning epochs on the light curves given to
        ``fit`` (0: the model stays frozen, which did as well on Catalina).
    pooling : str, default="layers"
        The embedder's pooling (every layer's mean, concatenated, did best).
    reduce : {"components", "probabilities"}, default="components"
        How the embedding joins the features: ``"components"``, its first
        16 principal components; ``"probabilities"``, one column per class,
        cross-fitted (stacking,
        :class:`~sklearn_astromer.stacking.CrossFittedProbabilities`).
        Hundreds of raw embedding columns would crowd the features out of
        the forest's splits. On the Catalina validation parts the components
        did as well or better (0.816 against 0.814 macro F1, mean over 20,
        100 and 500 labels per class, 3 folds); on the test stars stacking
        did better at 20 and 500 (by 0.007 and 0.005), the components at 100
        (by 0.002). The ``reduce`` step can also be swapped in a grid search.
    cv : int, default=5
        Folds of the cross-fitted probabilities.
    device : str, default="auto"
        Torch device of the embedder.
    n_jobs : int or None, default=None
        Parallel jobs of the features and the forest.
    random_state : int or None, default=None
        Seeds the embedder, the cross-fitting folds and the forest.

    Returns
    -------
    sklearn.pipeline.Pipeline

    Examples
    --------
    >>> from sklearn.decomposition import PCA
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn_astromer.stacking import CrossFittedProbabilities
    >>> from sklearn_astromer.recipes import make_classification_pipeline
    >>> pipeline = make_classification_pipeline(random_state=0)
    >>> sorted(pipeline.named_steps)
    ['classifier', 'representation']
    >>> search = GridSearchCV(pipeline, {
    ...     "representation__embedding__astromer__max_epochs": [0, 5],
    ...     "representation__embedding__reduce": [PCA(16), CrossFittedProbabilities()]},
    ...     cv=3)
    """
    embedder = AstromerEmbedder(pretrained=pretrained, max_epochs=max_epochs, pooling=pooling,
                                device=device, random_state=random_state)
    if reduce == "components":
        reducer = PCA(UNION_COMPONENTS, random_state=random_state)
    elif reduce == "probabilities":
        reducer = CrossFittedProbabilities(cv=cv, random_state=random_state)
    else:
        raise ValueError(f"reduce={reduce!r}: expected one of ['components', 'probabilities'].")
    embedding = Pipeline([("astromer", embedder), ("reduce", reducer)])
    representation = FeatureUnion([
        ("features", LightCurveFeatures(n_jobs=n_jobs)),
        ("embedding", embedding),
    ])
    if classifier is None:
        classifier = RandomForestClassifier(n_estimators=500, n_jobs=n_jobs,
                                            random_state=random_state)
    return Pipeline([("representation", representation), ("classifier", classifier)])
