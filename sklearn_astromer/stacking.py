"""Stacking: a classifier's cross-fitted class probabilities as features for another.

A random forest over hand-crafted features plus hundreds of embedding
columns dilutes the strong features with weak ones. Stacking condenses the
embedding first: a simple classifier on the embedding turns it into one
probability per class, and those few columns sit beside the features. The
probabilities of the training light curves must come from models that did
not see them (cross-fitting), or the forest learns to trust them more than
they deserve on new light curves.
"""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, TransformerMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

#: Regularisation of the default logistic regression (chosen on the Catalina
#: validation folds, see ``benchmarks/README.md``).
DEFAULT_C = 0.1


def default_probability_model():
    """Standardised columns, then an L2-regularised logistic regression.

    Returns
    -------
    sklearn.pipeline.Pipeline
        ``StandardScaler`` then ``LogisticRegression(C=DEFAULT_C)``, unfitted.
    """
    return make_pipeline(StandardScaler(), LogisticRegression(C=DEFAULT_C, max_iter=2000))


class CrossFittedProbabilities(MetaEstimatorMixin, TransformerMixin, BaseEstimator):
    """Replace the input columns by a classifier's class probabilities, cross-fitted in training.

    ``fit_transform(X, y)`` (what a :class:`~sklearn.pipeline.Pipeline` or
    :class:`~sklearn.pipeline.FeatureUnion` calls while fitting) returns
    out-of-fold probabilities: each row is predicted by a copy of
    ``estimator`` fitted on the other folds. ``fit`` also fits ``estimator``
    on all rows, and ``transform`` (prediction time) uses that model. Put it
    after an embedder in a pipeline, beside other features in a union, to
    stack the embedding's evidence onto them.

    Parameters
    ----------
    estimator : classifier with ``predict_proba`` or None, default=None
        None: standardisation then a logistic regression (``C=0.1``).
    cv : int, default=5
        Stratified folds of the cross-fitting (shuffled with
        ``random_state``); fewer when no class has ``cv`` members. A class
        with fewer members than the folds is absent from some training
        folds, whose models give it probability 0 (scikit-learn warns).
    random_state : int, RandomState instance or None, default=None
        Shuffles the folds.
    n_jobs : int or None, default=None
        Folds fitted in parallel (joblib).

    Attributes
    ----------
    estimator_ : classifier
        ``estimator`` fitted on every row given to ``fit``.
    classes_ : ndarray
        Class labels: the order of the output columns.
    n_features_in_ : int

    See Also
    --------
    sklearn.ensemble.StackingClassifier : Stacks whole classifiers; this
        transformer stacks one onto other features inside a union.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_astromer.stacking import CrossFittedProbabilities
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(60, 8)), np.repeat([0, 1, 2], 20)
    >>> stacked = CrossFittedProbabilities(cv=3, random_state=0).fit_transform(X, y)
    >>> stacked.shape
    (60, 3)
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict_proba"]), None],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    def __init__(self, estimator=None, *, cv=5, random_state=None, n_jobs=None):
        self.estimator = estimator
        self.cv = cv
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _model(self):
        return default_probability_model() if self.estimator is None else clone(self.estimator)

    def fit(self, X, y):
        """Fit the classifier on all rows (no cross-fitting: that is ``fit_transform``'s).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self
        """
        X, y, _ = self._validated(X, y)
        self.estimator_ = self._model().fit(X, y)
        return self

    def _validated(self, X, y):
        """``(X, y, n_folds)`` checked; sets ``classes_``."""
        self._validate_params()
        X, y = validate_data(self, X, y)
        check_classification_targets(y)
        self.classes_, counts = np.unique(y, return_counts=True)
        if counts.max() < 2:
            raise ValueError("CrossFittedProbabilities needs a class with two members or more "
                             "to cross-fit; every class of y has 1 sample.")
        # Fewer folds than cv when no class has cv members (StratifiedKFold
        # cannot make them); smaller classes miss from some folds, as documented.
        return X, y, min(self.cv, counts.max())

    def fit_transform(self, X, y, **fit_params):
        """Out-of-fold class probabilities of ``X``; the classifier is also fitted on all of it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        **fit_params : dict
            Not used; accepted as ``TransformerMixin.fit_transform`` accepts it.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        X, y, n_folds = self._validated(X, y)
        folds = StratifiedKFold(n_folds, shuffle=True, random_state=self.random_state)
        out_of_fold = cross_val_predict(self._model(), X, y, cv=folds, method="predict_proba",
                                        n_jobs=self.n_jobs)
        self.estimator_ = self._model().fit(X, y)
        return out_of_fold

    def transform(self, X):
        """Class probabilities of ``X`` from the classifier fitted on all training rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(validate_data(self, X, reset=False))

    def get_feature_names_out(self, input_features=None):
        """``probability_<class>`` for every class, in the order of ``classes_``.

        Parameters
        ----------
        input_features : None
            Ignored.

        Returns
        -------
        ndarray of str objects
        """
        check_is_fitted(self, "classes_")
        return np.asarray([f"probability_{label}" for label in self.classes_], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags
