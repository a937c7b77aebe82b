"""Fits in threads give the models of a serial run (torch's random state is process-global)."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from joblib import parallel_backend
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from sklearn_astromer import AstromerEmbedder, MultimodalCLIPEmbedder
from sklearn_astromer.datasets import make_multimodal


def test_astromer_fits_in_threads_equal_serial_fits(sinusoids, tiny_params):
    X, _ = sinusoids

    def fit(seed):
        return AstromerEmbedder(**{**tiny_params, "random_state": seed}, max_epochs=2,
                                dropout=0.3).fit(X).transform(X)

    serial = [fit(seed) for seed in (0, 0, 1)]
    with ThreadPoolExecutor(3) as pool:
        threaded = list(pool.map(fit, (0, 0, 1)))
    for expected, got in zip(serial, threaded):
        np.testing.assert_array_equal(got, expected)


def test_multimodal_fits_in_threads_equal_serial_fits():
    X, _ = make_multimodal(4, classes=["RRab", "EW"], n_obs=(20, 40), random_state=0)

    def fit(_):
        return MultimodalCLIPEmbedder(
            embed_dim=8, d_model=8, n_layers=1, n_heads=2, d_ff=8, max_obs=32,
            spectrum_channels=(2, 2, 2, 2), metadata_hidden=8, max_epochs=2, warmup_epochs=0,
            validation_fraction=None, random_state=0).fit(X).transform(X)

    serial = fit(0)
    with ThreadPoolExecutor(2) as pool:
        for got in pool.map(fit, range(2)):
            np.testing.assert_array_equal(got, serial)


def test_grid_search_with_the_threading_backend_gives_the_serial_scores(sinusoids, tiny_params):
    X, y = sinusoids
    pipe = Pipeline([("emb", AstromerEmbedder(**tiny_params, max_epochs=1, dropout=0.3)),
                     ("clf", RandomForestClassifier(n_estimators=10, random_state=0))])
    grid = {"emb__lr": [1e-3, 3e-3]}
    serial = GridSearchCV(pipe, grid, cv=2).fit(X, y).cv_results_["mean_test_score"]
    with parallel_backend("threading", n_jobs=2):
        threaded = GridSearchCV(pipe, grid, cv=2, n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(threaded.cv_results_["mean_test_score"], serial)
