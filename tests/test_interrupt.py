"""Ctrl-C during fit reaches the caller and leaves the estimator unfitted."""

import numpy as np
import pytest
from skorch.callbacks import Callback
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from sklearn_astromer import AstromerEmbedder, MultimodalCLIPEmbedder
from sklearn_astromer.datasets import make_multimodal


class InterruptAt(Callback):
    """Raise KeyboardInterrupt (what Ctrl-C raises) at the end of epoch ``epoch``."""

    def __init__(self, epoch=1):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) >= self.epoch:
            raise KeyboardInterrupt


def test_ctrl_c_in_pretraining_propagates_and_leaves_no_model(sinusoids, tiny_params):
    X, _ = sinusoids
    embedder = AstromerEmbedder(**tiny_params, max_epochs=3,
                                callbacks=[("interrupt", InterruptAt(1))])
    with pytest.raises(KeyboardInterrupt):
        embedder.fit(X)
    with pytest.raises(NotFittedError):
        check_is_fitted(embedder)
    assert not [name for name in vars(embedder) if name.endswith("_")
                and not name.startswith("__")]


@pytest.mark.parametrize("phase", ["head", "encoder"])
def test_ctrl_c_in_supervised_fine_tuning_propagates(sinusoids, tiny_params, monkeypatch, phase):
    from sklearn_astromer.astromer import _supervised

    def interrupt(self, *args, **kwargs):
        raise KeyboardInterrupt

    net_class = _supervised.HeadNet if phase == "head" else _supervised.AstromerClassifierNet
    monkeypatch.setattr(net_class, "on_epoch_end", interrupt)
    X, y = sinusoids
    embedder = AstromerEmbedder(**tiny_params, max_epochs=0, fine_tune="supervised",
                                fine_tune_epochs=3, head_epochs=3)
    with pytest.raises(KeyboardInterrupt):
        embedder.fit(X, y)
    with pytest.raises(NotFittedError):
        check_is_fitted(embedder)


def test_ctrl_c_in_clip_training_propagates_and_leaves_no_model():
    X, _ = make_multimodal(4, classes=["RRab", "EW"], n_obs=(20, 40), random_state=0)
    embedder = MultimodalCLIPEmbedder(
        embed_dim=8, d_model=8, n_layers=1, n_heads=2, d_ff=8, max_obs=32,
        spectrum_channels=(2, 2, 2, 2), metadata_hidden=8, max_epochs=3, warmup_epochs=0,
        validation_fraction=None, random_state=0, callbacks=[("interrupt", InterruptAt(1))])
    with pytest.raises(KeyboardInterrupt):
        embedder.fit(X)
    with pytest.raises(NotFittedError):
        check_is_fitted(embedder)


def test_a_finished_fit_is_unchanged_by_the_mixin(sinusoids, tiny_params):
    X, _ = sinusoids
    embedder = AstromerEmbedder(**tiny_params, max_epochs=2).fit(X)
    assert len(embedder.net_.history) == 2
    assert np.isfinite(embedder.transform(X)).all()


def test_early_stopping_still_ends_training_normally(sinusoids, tiny_params):
    X, _ = sinusoids
    embedder = AstromerEmbedder(**{**tiny_params, "lr": 1e-9}, max_epochs=30, patience=1,
                                validation_fraction=0.25, lr_schedule="constant").fit(X)
    assert len(embedder.net_.history) < 30
    assert np.isfinite(embedder.transform(X)).all()
