"""The recommended classification pipeline: its parts, its fit, and grid search over it."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

from sklearn_astromer import AstromerEmbedder
from sklearn_astromer.features import LightCurveFeatures
from sklearn_astromer.recipes import RECOMMENDED_MODEL, make_classification_pipeline
from sklearn_astromer.stacking import CrossFittedProbabilities


def test_the_pipeline_is_features_beside_stacked_embedding_then_a_forest():
    pipeline = make_classification_pipeline(reduce="probabilities", random_state=3)
    union = pipeline.named_steps["representation"]
    features, embedding = dict(union.transformer_list)["features"], dict(
        union.transformer_list)["embedding"]
    assert isinstance(features, LightCurveFeatures)
    astromer, probabilities = embedding.named_steps["astromer"], embedding.named_steps["reduce"]
    assert isinstance(astromer, AstromerEmbedder) and astromer.pretrained == RECOMMENDED_MODEL
    assert astromer.max_epochs == 0 and astromer.pooling == "layers"
    assert isinstance(probabilities, CrossFittedProbabilities) and probabilities.random_state == 3
    assert pipeline.named_steps["classifier"].n_estimators == 500
    clone(pipeline)  # every setting is a parameter


def test_fit_predict_on_light_curves(tmp_path, sinusoids, tiny_params):
    X, y = sinusoids
    AstromerEmbedder(**tiny_params, max_epochs=1).fit(X).save_pretrained(tmp_path)
    pipeline = make_classification_pipeline(
        tmp_path, reduce="probabilities", cv=3, random_state=0,
        classifier=LogisticRegression(max_iter=1000))
    pipeline.set_params(representation__features__max_n_frequencies=2000)
    pipeline.fit(X, y)
    n_features = len(pipeline.named_steps["representation"].transformer_list[0][1]
                     .get_feature_names_out())
    assert pipeline.named_steps["classifier"].n_features_in_ == n_features + 2
    assert pipeline.predict(X).shape == (len(X),)
    assert pipeline.score(X, y) > 0.8


def test_grid_search_reaches_the_embedder_and_the_classifier(tmp_path, sinusoids, tiny_params):
    X, y = sinusoids
    AstromerEmbedder(**tiny_params, max_epochs=1).fit(X).save_pretrained(tmp_path)
    pipeline = make_classification_pipeline(tmp_path, cv=2, random_state=0)
    pipeline.set_params(representation__features__max_n_frequencies=2000,
                        classifier__n_estimators=10)
    search = GridSearchCV(pipeline, {"representation__embedding__astromer__max_epochs": [0, 1]},
                          cv=2).fit(X, y)
    assert set(search.cv_results_["param_representation__embedding__astromer__max_epochs"]) == {
        0, 1}
    assert np.isfinite(search.best_score_)


def test_components_by_default_and_unknown_reductions():
    from sklearn.decomposition import PCA

    pipeline = make_classification_pipeline(random_state=0)
    reducer = pipeline.named_steps["representation"].transformer_list[1][1].named_steps["reduce"]
    assert isinstance(reducer, PCA) and reducer.n_components == 16
    with pytest.raises(ValueError, match="reduce='umap'"):
        make_classification_pipeline(reduce="umap")
