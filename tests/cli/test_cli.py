"""The command line: embed, pretrain (with checkpoints and resume), info, demo, exit codes."""

import json
import re

import numpy as np
import pytest

from sklearn_astromer import AstromerEmbedder
from sklearn_astromer.__main__ import main
from sklearn_astromer.cli._inputs import LightCurveCollection
from tests.cli.conftest import long_table

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

TINY = ["--d-model", "16", "--n-layers", "1", "--n-heads", "2", "--d-ff", "16",
        "--max-obs", "32", "--batch-size", "32", "--random-state", "0", "-q"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A CSV table (shuffled rows), the same as Parquet (grouped) and as text files."""
    rng = np.random.default_rng(0)
    curves = []
    for n_obs in rng.integers(5, 60, size=12):
        times = np.sort(rng.uniform(0, 100, n_obs)) + 50000.0
        curves.append(np.column_stack([times, 15 + np.sin(times) + 0.05 * rng.normal(size=n_obs),
                                       np.full(n_obs, 0.05)]))
    root = tmp_path_factory.mktemp("cli")
    table, ids = long_table(curves)
    table.sample(frac=1.0, random_state=0).to_csv(root / "table.csv", index=False)
    table.to_parquet(root / "table.parquet", row_group_size=50)
    (root / "curves").mkdir()
    for object_id, curve in zip(ids, curves):
        np.savetxt(root / "curves" / f"{object_id}.dat", curve, header="time mag err")
    return {"root": root, "curves": curves, "ids": ids}


@pytest.fixture(scope="module")
def model_dir(files):
    out = files["root"] / "model"
    assert main(["pretrain", str(files["root"] / "table.csv"), "--out", str(out),
                 "--epochs", "1", *TINY]) == 0
    return out


def _embed(input_path, model_dir, output, *extra):
    return main(["embed", str(input_path), "--model", str(model_dir), "-o", str(output), "-q",
                 *extra])


def _read(path):
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


@pytest.mark.parametrize("source, output", [("table.csv", "emb.parquet"),
                                            ("table.parquet", "emb.csv"),
                                            ("curves", "emb.csv.gz")])
def test_embed_writes_one_row_per_object_matching_transform(files, model_dir, tmp_path,
                                                            source, output):
    assert _embed(files["root"] / source, model_dir, tmp_path / output, "--chunk-size", "5") == 0
    result = _read(tmp_path / output)
    embedder = AstromerEmbedder.from_pretrained(model_dir)
    by_id = result.set_index("object_id").loc[files["ids"]]
    np.testing.assert_allclose(by_id.to_numpy(), embedder.transform(files["curves"]), atol=1e-5)
    assert list(result.columns[1:]) == list(embedder.get_feature_names_out())
    if source != "table.csv":  # files and grouped tables keep their order
        assert result["object_id"].tolist() == files["ids"]
    assert not list(tmp_path.glob("_*"))  # no chunk folder left


def test_embed_options_and_progress(files, model_dir, tmp_path, capsys):
    output = tmp_path / "emb.parquet"
    assert main(["embed", str(files["root"] / "curves"), "--model", str(model_dir),
                 "-o", str(output), "--pooling", "mean_std", "--batch-size", "4",
                 "--device", "cpu"]) == 0
    assert _read(output).shape == (12, 1 + 32)
    err = capsys.readouterr().err
    assert "embedding: 12/12 files (100%)" in err and "wrote 12 embeddings" in err


def test_parquet_stream_and_collection_reads_agree(files):
    path = files["root"] / "table.parquet"
    collection = LightCurveCollection(path, batch_rows=17)
    ids, curves = collection.read_all()
    chunks = list(collection.iter_chunks(4))
    assert [len(chunk.ids) for chunk in chunks] == [4, 4, 4]
    assert np.concatenate([chunk.ids for chunk in chunks]).tolist() == ids.tolist()
    streamed = [curve for chunk in chunks for curve in chunk.light_curves]
    for left, right in zip(streamed, curves):
        np.testing.assert_array_equal(left, right)
    assert chunks[-1].done == collection.total == sum(map(len, files["curves"]))


def test_streamed_object_coming_back_later_is_an_error(files, tmp_path):
    table, _ = long_table(files["curves"][:3])
    first = table[table.object_id == "star00"]
    pd.concat([first.iloc[:5], table[table.object_id != "star00"], first.iloc[5:]]).to_parquet(
        tmp_path / "split.parquet")
    with pytest.raises(ValueError, match="'star00'.*sort"):
        list(LightCurveCollection(tmp_path / "split.parquet", batch_rows=8).iter_chunks(2))


def _error(capsys, *argv):
    assert main(list(argv)) == 1
    err = capsys.readouterr().err
    assert "error: " in err
    return err


def test_errors_name_the_file_and_row(files, model_dir, tmp_path, capsys):
    table = pd.read_csv(files["root"] / "table.csv", dtype=str)
    table.loc[3, "mag"] = "bright"
    table.to_csv(tmp_path / "bad.csv", index=False)
    out = str(tmp_path / "out.csv")
    err = _error(capsys, "embed", str(tmp_path / "bad.csv"), "--model", str(model_dir), "-o", out)
    assert "bad.csv, line 5: column 'mag' holds 'bright'" in err

    err = _error(capsys, "embed", str(files["root"] / "table.csv"), "--model", str(model_dir),
                 "-o", out, "--mag-column", "R")
    assert "no column 'R'" in err

    (tmp_path / "curves").mkdir()
    (tmp_path / "curves" / "a.txt").write_text("# t m e\n1 15.0 0.1\n2 oops 0.1\n")
    err = _error(capsys, "embed", str(tmp_path / "curves"), "--model", str(model_dir), "-o", out)
    assert "a.txt, line 3" in err

    err = _error(capsys, "embed", str(tmp_path / "missing.csv"), "--model", str(model_dir),
                 "-o", out)
    assert "missing.csv: no such file" in err
    err = _error(capsys, "embed", str(files["root"] / "table.csv"), "--model", str(model_dir),
                 "-o", str(tmp_path / "out.xlsx"))
    assert "out.xlsx: unknown format" in err
    err = _error(capsys, "embed", str(files["root"] / "table.csv"), "--model",
                 str(tmp_path / "no_model"), "-o", out)
    assert "no_model" in err
    assert not (tmp_path / "out.csv").exists()


def test_unusable_objects_are_named_by_id(files, model_dir, tmp_path, capsys):
    table = pd.read_csv(files["root"] / "table.csv")
    table.loc[table.object_id == "star03", "mag"] = np.nan
    table.loc[table.index[:1], "time"] = np.nan
    table.to_csv(tmp_path / "gaps.csv", index=False)
    err = _error(capsys, "embed", str(tmp_path / "gaps.csv"), "--model", str(model_dir),
                 "-o", str(tmp_path / "out.csv"))
    assert "object(s) ['star03'] have no finite observation" in err
    assert re.search(rf"Dropped observations .* object\(s\) \[.*'{table.object_id[0]}'", err)
    err = _error(capsys, "pretrain", str(tmp_path / "gaps.csv"), "--out", str(tmp_path / "m"),
                 *TINY)
    assert "gaps.csv: object(s) ['star03'] have no finite observation" in err


def test_usage_errors_exit_with_2(capsys):
    for argv in ([], ["embed", "x.csv"], ["pretrain", "x.csv"], ["nonsense"],
                 ["embed", "x.csv", "--model", "m", "-o", "y.csv", "--chunk-size", "0"]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
    capsys.readouterr()


def test_pretrain_saves_a_loadable_model_with_checkpoints(model_dir):
    assert (model_dir / "config.json").is_file() and (model_dir / "model.safetensors").is_file()
    checkpoints = model_dir / "checkpoints"
    assert {"params.pt", "optimizer.pt", "history.json", "pretrain.json"} <= {
        path.name for path in checkpoints.iterdir()}
    embedder = AstromerEmbedder.from_pretrained(model_dir)
    assert embedder.config_["d_model"] == 16 and embedder.config_["max_obs"] == 32
    # a new model takes the library's defaults, recorded for --resume
    settings = json.loads((checkpoints / "pretrain.json").read_text())
    defaults = AstromerEmbedder()
    for key in ("time_encoding", "period_input", "magnitude_scaling", "lr_schedule"):
        assert settings[key] == getattr(defaults, key)
    assert embedder.config_["time_encoding"] == defaults.time_encoding


def test_interrupted_pretraining_resumes_without_losing_epochs(files, tmp_path, monkeypatch,
                                                               capsys):
    from skorch.callbacks import Checkpoint

    save_epoch = Checkpoint.on_epoch_end

    def interrupt_after_epoch_2(self, net, **kwargs):
        save_epoch(self, net, **kwargs)
        if self.f_history and len(net.history) == 2:
            raise KeyboardInterrupt  # as Ctrl-C would, once epoch 2 is checkpointed

    out = tmp_path / "run"
    argv = ["pretrain", str(files["root"] / "table.parquet"), "--out", str(out), *TINY]
    monkeypatch.setattr(Checkpoint, "on_epoch_end", interrupt_after_epoch_2)
    assert main([*argv, "--epochs", "4"]) == 130
    assert "--resume" in capsys.readouterr().err
    first = json.loads((out / "checkpoints" / "history.json").read_text())
    assert [row["epoch"] for row in first] == [1, 2]
    monkeypatch.setattr(Checkpoint, "on_epoch_end", save_epoch)

    assert "--resume" in _error(capsys, *argv, "--epochs", "4")  # never overwrites a run
    assert main([*argv, "--epochs", "4", "--resume"]) == 0
    history = json.loads((out / "checkpoints" / "history.json").read_text())
    assert [row["epoch"] for row in history] == [1, 2, 3, 4]
    assert [row["train_loss"] for row in history[:2]] == [row["train_loss"] for row in first]
    assert main([*argv, "--epochs", "4", "--resume"]) == 0  # nothing left to train
    assert AstromerEmbedder.from_pretrained(out).transform(files["curves"]).shape == (12, 16)


def test_resume_without_checkpoint_is_an_error(files, tmp_path, capsys):
    err = _error(capsys, "pretrain", str(files["root"] / "curves"), "--out",
                 str(tmp_path / "new"), "--resume", *TINY)
    assert "no checkpoint to resume from" in err


def test_info_prints_format_architecture_and_parameter_count(model_dir, capsys):
    assert main(["info", str(model_dir)]) == 0
    out = capsys.readouterr().out
    module = AstromerEmbedder.from_pretrained(model_dir).net_.module_
    n_parameters = sum(parameter.numel() for parameter in module.parameters())
    assert "config.json + model.safetensors" in out
    assert f"parameters: {n_parameters:,}" in out and "d_model             16" in out


def test_info_of_a_shipped_model(capsys):
    assert main(["info", "macho"]) == 0
    out = capsys.readouterr().out
    assert "shipped copy of the published macho.zip" in out and "parameters: 661,505" in out
    assert "variant             paper" in out


def test_info_of_the_project_model(capsys):
    assert main(["info", "Catalina"]) == 0
    out = capsys.readouterr().out
    assert "shipped with the package" in out and "variant             corrected" in out


def test_unknown_model_names_list_the_shipped_ones(capsys):
    assert main(["info", "crts"]) != 0
    assert "'atlas', 'macho', 'catalina'" in capsys.readouterr().err


def test_info_of_published_weights(shared_data, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("SKLEARN_ASTROMER_HOME", str(tmp_path))
    assert main(["info", str(shared_data / "astromer_weights" / "macho.zip")]) == 0
    out = capsys.readouterr().out
    assert "TensorFlow checkpoint" in out and "parameters: 661,505" in out


@pytest.mark.slow
def test_demo_saves_figures(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert main(["demo", "--epochs", "1", "--fine-tune-epochs", "1", "--pretrain-per-class", "2",
                 "--labelled-per-class", "4", "--figures", str(tmp_path)]) == 0
    names = {path.name for path in tmp_path.glob("*.png")}
    assert names == {"training_history.png", "reconstruction.png", "attention.png",
                     "embedding_map.png"}
    assert "macro F1" in capsys.readouterr().out
