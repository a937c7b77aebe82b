"""save_model: atomic, no temporary file left behind, one permission for every file."""

import os
import stat

import pytest
import torch

from sklearn_astromer.pretrained import load_model, save_model


def test_saved_files_get_the_same_permissions_as_other_new_files(tmp_path):
    save_model(tmp_path / "model", {"a": 1}, {"x": torch.zeros(3)})
    (tmp_path / "plain").write_text("")
    expected = stat.S_IMODE(os.stat(tmp_path / "plain").st_mode)
    modes = {path.name: stat.S_IMODE(os.stat(path).st_mode)
             for path in (tmp_path / "model").iterdir()}
    assert modes == {"config.json": expected, "model.safetensors": expected}


@pytest.mark.parametrize("bad", [{"config": {"a": object()}},
                                 {"state_dict": {"x": torch.zeros(3), "y": "not a tensor"}}])
def test_a_failed_save_leaves_no_temporary_file_and_keeps_the_old_model(tmp_path, bad):
    save_model(tmp_path / "model", {"a": 1}, {"x": torch.ones(3)})
    arguments = {"config": {"a": 2}, "state_dict": {"x": torch.zeros(3)}, **bad}
    with pytest.raises((TypeError, AttributeError, ValueError)):
        save_model(tmp_path / "model", **arguments)
    assert sorted(path.name for path in (tmp_path / "model").iterdir()) == [
        "config.json", "model.safetensors"]
    config, tensors = load_model(tmp_path / "model")
    assert config["a"] == 1 and torch.equal(tensors["x"], torch.ones(3))
