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


@pytest.mark.parametrize("kept", ["config.json", "model.safetensors"])
def test_a_folder_with_half_a_saved_model_says_what_is_missing(tmp_path, kept):
    from sklearn_astromer import AstromerEmbedder

    save_model(tmp_path / "model", {"d_model": 8}, {"x": torch.zeros(3)})
    for path in (tmp_path / "model").iterdir():
        if path.name != kept:
            path.unlink()
    with pytest.raises(ValueError, match=rf"incomplete saved model: it has \['{kept}'\] but "
                                         r"not \['(config\.json|model\.safetensors)'\]"):
        AstromerEmbedder.from_pretrained(tmp_path / "model")


def test_a_folder_without_any_model_names_both_formats(tmp_path):
    from sklearn_astromer import AstromerEmbedder

    with pytest.raises(ValueError, match=r"holds no model: neither config\.json \+ "
                                         r"model\.safetensors .* nor a published ASTROMER"):
        AstromerEmbedder.from_pretrained(tmp_path)
