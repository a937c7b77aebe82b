"""Column labels of any type pandas allows save and load back."""

import numpy as np
import pytest

from sklearn_astromer import MultimodalCLIPEmbedder
from sklearn_astromer.datasets import make_multimodal
from sklearn_astromer.multimodal._layout import label_from_json, label_to_json

TINY = dict(embed_dim=8, d_model=8, n_layers=1, n_heads=2, d_ff=8, max_obs=32,
            spectrum_channels=(2, 2, 2, 2), metadata_hidden=8, max_epochs=1, warmup_epochs=0,
            validation_fraction=None, random_state=0)


@pytest.mark.parametrize("label", ["parallax", 5, 2.5, True, None, ("a", 1), ("a", ("b", 2))])
def test_labels_round_trip_through_json(label):
    import json

    assert label_from_json(json.loads(json.dumps(label_to_json(label)))) == label


def test_numpy_scalars_become_python_ones_and_objects_are_refused():
    assert label_to_json(np.int64(5)) == 5 and type(label_to_json(np.int64(5))) is int
    assert label_to_json(np.str_("x")) == "x"
    with pytest.raises(TypeError, match="cannot be saved"):
        label_to_json(object())


def test_numpy_integer_and_tuple_metadata_labels_save_and_load(tmp_path):
    X, _ = make_multimodal(4, classes=["RRab", "EW"], n_obs=(20, 40), random_state=0)
    X = X[["light_curve", "spectrum", "parallax", "pmra"]].copy()
    X.columns = ["light_curve", "spectrum", np.int64(5), ("pm", "ra")]
    fitted = MultimodalCLIPEmbedder(**TINY).fit(X)
    fitted.save_pretrained(tmp_path / "model")
    loaded = MultimodalCLIPEmbedder.from_pretrained(tmp_path / "model")
    assert loaded.metadata_columns_ == [5, ("pm", "ra")]
    np.testing.assert_array_equal(loaded.transform(X), fitted.transform(X))
    assert sorted(path.name for path in (tmp_path / "model").iterdir()) == [
        "config.json", "model.safetensors"]
