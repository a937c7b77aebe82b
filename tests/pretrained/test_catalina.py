"""The model pre-trained here on real Catalina light curves, shipped as ``"catalina"``."""

import json

import numpy as np
import pytest

from sklearn_astromer import AstromerEmbedder
from sklearn_astromer.datasets import load_asas_sample
from sklearn_astromer.pretrained import SHIPPED_MODELS, load_pretrained, shipped_model_dir
from sklearn_astromer.pretrained._shipped import SHIPPED_DIR


def test_catalina_is_a_shipped_name_in_any_case():
    assert "catalina" in SHIPPED_MODELS
    assert shipped_model_dir("Catalina") == SHIPPED_DIR / "catalina"
    assert shipped_model_dir("crts") is None


def test_catalina_model_card_and_training_record():
    folder = SHIPPED_DIR / "catalina"
    record = json.loads((folder / "training.json").read_text())
    assert record["light_curves"]["Catalina (CRTS)"] == 5757
    assert record["recipe"]["max_epochs"] >= len(record["history"]) >= 1
    losses = [row["valid_loss"] for row in record["history"]]
    assert min(losses) < losses[0]  # it learned
    card = (SHIPPED_DIR / "README.md").read_text()
    assert "catalina/" in card and "Drake et al. (2014)" in card
    assert (SHIPPED_DIR / "LICENSE.kvmu").is_file()


def test_catalina_loads_offline_with_its_period_input():
    config, state_dict = load_pretrained("catalina")
    assert config["period_input"] is True and config["variant"] == "corrected"
    assert config["magnitude_scaling"] == "std" and config["d_model"] == 256
    assert all(np.isfinite(tensor.numpy()).all() for tensor in state_dict.values()
               if tensor.is_floating_point())


def test_catalina_embeds_real_light_curves():
    light_curves, labels = load_asas_sample()
    embedder = AstromerEmbedder(pretrained="catalina", max_epochs=0, pooling="layers",
                                device="cpu").fit(light_curves)
    embeddings = embedder.transform(light_curves)
    assert embeddings.shape == (7, 3 * 256) and np.isfinite(embeddings).all()
    # The score is a masked reconstruction error in magnitudes: finite, and
    # better than predicting each window's mean (about the light curve's spread).
    spread = np.mean([np.std(curve[:, 1]) for curve in light_curves])
    assert 0 < -embedder.score(light_curves) < spread


@pytest.mark.shared_data
def test_catalina_reconstructs_catalina_better_than_macho(shared_data):
    from sklearn_astromer.datasets import load_catalina

    light_curves, _ = load_catalina(shared_data / "lightcurves/crts/crts_train.npz")
    sample = light_curves[::200]
    ours = -AstromerEmbedder.from_pretrained("catalina").score(sample)
    macho = -AstromerEmbedder.from_pretrained("macho").score(sample)
    assert ours < macho
