"""CrossFittedProbabilities: out-of-fold probabilities in training, the full model afterwards."""

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import check_estimator

from sklearn_astromer.stacking import CrossFittedProbabilities


@pytest.fixture
def blobs():
    rng = np.random.default_rng(0)
    y = np.repeat(["a", "b", "c"], 30)
    X = rng.normal(size=(90, 6)) + (np.unique(y, return_inverse=True)[1][:, None] * 0.8)
    return X, y


def test_training_rows_get_out_of_fold_probabilities(blobs):
    X, y = blobs
    model = LogisticRegression(max_iter=500)
    stacker = CrossFittedProbabilities(model, cv=3, random_state=0)
    out_of_fold = stacker.fit_transform(X, y)
    expected = cross_val_predict(model, X, y, method="predict_proba",
                                 cv=StratifiedKFold(3, shuffle=True, random_state=0))
    np.testing.assert_allclose(out_of_fold, expected)
    full = LogisticRegression(max_iter=500).fit(X, y)
    np.testing.assert_allclose(stacker.transform(X), full.predict_proba(X))
    # What a model fitted on all rows says of its own training rows is more
    # confident than what it would say of new rows: that is why training rows
    # are cross-fitted.
    assert not np.allclose(out_of_fold, stacker.transform(X))
    assert list(stacker.classes_) == ["a", "b", "c"]
    assert list(stacker.get_feature_names_out()) == ["probability_a", "probability_b",
                                                     "probability_c"]


def test_a_pipeline_stacks_out_of_fold_in_fit_and_the_full_model_in_predict(blobs):
    X, y = blobs
    union = FeatureUnion([("raw", FunctionTransformer()),
                          ("stacked", CrossFittedProbabilities(cv=3, random_state=0))])
    pipeline = Pipeline([("union", union), ("forest", RandomForestClassifier(20, random_state=0))])
    pipeline.fit(X, y)
    stacker = pipeline.named_steps["union"].transformer_list[1][1]
    assert pipeline.named_steps["forest"].n_features_in_ == 6 + 3
    np.testing.assert_allclose(pipeline.named_steps["union"].transform(X)[:, 6:],
                               stacker.estimator_.predict_proba(X))
    assert pipeline.score(X, y) > 0.5


def test_default_model_is_a_regularised_logistic_regression(blobs):
    X, y = blobs
    stacker = CrossFittedProbabilities(cv=3, random_state=0).fit(X, y)
    assert stacker.estimator_[-1].C == 0.1
    proba = stacker.transform(X)
    assert proba.shape == (90, 3) and np.allclose(proba.sum(axis=1), 1)


def test_refuses_a_model_without_probabilities(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="predict_proba"):
        CrossFittedProbabilities(FunctionTransformer()).fit(X, y)


def test_scikit_learn_conventions():
    by_design = ("training rows are out-of-fold by design, so fit_transform differs from "
                 "fit().transform()")
    check_estimator(CrossFittedProbabilities(cv=3, random_state=0), expected_failed_checks={
        "check_transformer_general": by_design,
        "check_transformer_data_not_an_array": by_design,
    })


def test_small_classes_reduce_the_folds_and_single_members_are_refused():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(6, 3))
    two_each = CrossFittedProbabilities(cv=5, random_state=0).fit_transform(
        X, ["a", "a", "b", "b", "c", "c"])
    assert two_each.shape == (6, 3) and np.allclose(two_each.sum(axis=1), 1)
    with pytest.warns(UserWarning, match="least populated class"):
        proba = CrossFittedProbabilities(cv=5, random_state=0).fit_transform(
            X, ["a", "a", "a", "b", "b", "c"])
    assert proba.shape == (6, 3)
    assert proba[5, 2] == 0  # the one "c" was predicted by a model that never saw a "c"
    with pytest.raises(ValueError, match="two members or more"):
        CrossFittedProbabilities().fit(X, ["a", "b", "c", "d", "e", "f"])
