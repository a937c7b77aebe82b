"""``pretrain``: resumed best-epoch tracking, diverging runs, nothing left behind on failure."""

import json

import numpy as np
import pytest
import torch
from skorch.callbacks import Checkpoint, PassthroughScoring

from sklearn_astromer import AstromerEmbedder
from sklearn_astromer.__main__ import main
from tests.cli.conftest import long_table
from tests.conftest import make_sinusoids

pytest.importorskip("pandas")

TINY = ["--d-model", "16", "--n-layers", "1", "--n-heads", "2", "--d-ff", "16",
        "--max-obs", "32", "--batch-size", "32", "--random-state", "0", "-q"]
# Validation losses by epoch: epoch 2 is the best; 3, 4 and 5 are misses.
SCRIPTED_VALID_LOSS = {1: 3.0, 2: 1.0, 3: 2.0, 4: 2.5, 5: 2.2, 6: 2.1}


@pytest.fixture
def table(tmp_path):
    light_curves, _ = make_sinusoids(n_samples=20, max_obs=40)
    path = tmp_path / "table.csv"
    long_table(light_curves)[0].to_csv(path, index=False)
    return path


@pytest.fixture
def weights_by_epoch(monkeypatch):
    """Script the validation losses and record the weights at the end of every epoch."""
    recorded = {}
    average = PassthroughScoring.get_avg_score
    on_epoch_end = PassthroughScoring.on_epoch_end

    def scripted(self, history):
        if self.name == "valid_loss":
            return SCRIPTED_VALID_LOSS[len(history)]
        return average(self, history)

    def record(self, net, **kwargs):
        # The scorings run first at an epoch's end: these are the epoch's final weights.
        if self.name == "valid_loss":
            recorded[len(net.history)] = {name: value.clone()
                                          for name, value in net.module_.state_dict().items()}
        on_epoch_end(self, net, **kwargs)

    monkeypatch.setattr(PassthroughScoring, "get_avg_score", scripted)
    monkeypatch.setattr(PassthroughScoring, "on_epoch_end", record)
    return recorded


def _interrupt_after_epoch(monkeypatch, epoch):
    save = Checkpoint.on_epoch_end

    def save_then_interrupt(self, net, **kwargs):
        save(self, net, **kwargs)
        if self.f_history and len(net.history) == epoch:
            raise KeyboardInterrupt  # as Ctrl-C would, once the epoch is checkpointed

    monkeypatch.setattr(Checkpoint, "on_epoch_end", save_then_interrupt)
    return save


def _assert_weights_equal(model_dir, expected):
    saved = AstromerEmbedder.from_pretrained(model_dir).net_.module_.state_dict()
    for name, value in expected.items():
        torch.testing.assert_close(saved[name], value, rtol=0, atol=0)


def test_resume_keeps_the_best_epoch_from_before_the_interruption(table, tmp_path, monkeypatch,
                                                                  weights_by_epoch):
    out = tmp_path / "run"
    argv = ["pretrain", str(table), "--out", str(out), "--epochs", "6", "--patience", "3",
            "--validation-fraction", "0.25", *TINY]
    save = _interrupt_after_epoch(monkeypatch, 3)
    assert main(argv) == 130
    _assert_weights_equal(out, weights_by_epoch[2])  # early stopping restored epoch 2
    monkeypatch.setattr(Checkpoint, "on_epoch_end", save)

    assert main([*argv, "--resume"]) == 0
    history = json.loads((out / "checkpoints" / "history.json").read_text())
    # Epochs 4 and 5 are worse than epoch 2: not best, and the third miss (5) stops the run.
    assert [row["epoch"] for row in history] == [1, 2, 3, 4, 5]
    assert [row["valid_loss_best"] for row in history] == [True, True, False, False, False]
    assert set(weights_by_epoch) == {1, 2, 3, 4, 5}
    assert any(not torch.equal(value, weights_by_epoch[5][name])
               for name, value in weights_by_epoch[2].items())
    _assert_weights_equal(out, weights_by_epoch[2])

    # Early stopping ended the run: resuming again trains nothing and keeps epoch 2.
    assert main([*argv, "--epochs", "9", "--resume"]) == 0
    assert len(json.loads((out / "checkpoints" / "history.json").read_text())) == 5
    _assert_weights_equal(out, weights_by_epoch[2])


def _diverge_from_epoch(monkeypatch, epoch):
    from sklearn_astromer.astromer._net import AstromerNet

    get_loss = AstromerNet.get_loss

    def nan_loss(self, *args, **kwargs):
        loss = get_loss(self, *args, **kwargs)
        return loss * float("nan") if len(self.history) >= epoch else loss

    monkeypatch.setattr(AstromerNet, "get_loss", nan_loss)


def _error_line(capsys, argv):
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return [line for line in err.splitlines() if line.startswith("error: ")]


def test_diverging_run_fails_without_saving_that_epoch(table, tmp_path, monkeypatch, capsys):
    _diverge_from_epoch(monkeypatch, 2)
    out = tmp_path / "run"
    [error] = _error_line(capsys, ["pretrain", str(table), "--out", str(out), "--epochs", "3",
                                   *TINY])
    # The estimator stops at the epoch's first non-finite loss, naming its light curves.
    assert "Training stopped in epoch 2: non-finite training loss" in error
    assert not (out / "config.json").exists()
    checkpoints = out / "checkpoints"
    assert [row["epoch"] for row in json.loads((checkpoints / "history.json").read_text())] == [1]
    params = torch.load(checkpoints / "params.pt", weights_only=True)
    assert all(torch.isfinite(value).all() for value in params.values())


@pytest.mark.parametrize("failure", ["diverges", "interrupted", "bad option", "bad input"])
def test_new_run_failing_before_its_first_epoch_leaves_nothing(table, tmp_path, monkeypatch,
                                                               capsys, failure):
    argv = ["pretrain", str(table), "--out", str(tmp_path / "run"), "--epochs", "2", *TINY]
    if failure == "diverges":
        _diverge_from_epoch(monkeypatch, 1)
    elif failure == "interrupted":
        from sklearn_astromer.astromer._net import AstromerNet

        def interrupt(self, *args, **kwargs):
            raise KeyboardInterrupt  # Ctrl-C in the first batch: skorch ends fit quietly

        monkeypatch.setattr(AstromerNet, "train_step", interrupt)
    elif failure == "bad option":
        argv += ["--d-model", "0"]
    else:
        table.write_text("object_id,time,mag\na,1,15\na,2,x\n")
    expected = 130 if failure == "interrupted" else 1
    assert main(argv) == expected
    assert "Traceback" not in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [table]


def test_new_run_in_an_existing_directory_keeps_its_other_files(table, tmp_path, monkeypatch):
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    _diverge_from_epoch(monkeypatch, 1)
    assert main(["pretrain", str(table), "--out", str(out), *TINY]) == 1
    assert [path.name for path in out.iterdir()] == ["notes.txt"]


def test_epoch_log_has_no_colour_codes_off_a_terminal(table, tmp_path, capsys):
    argv = ["pretrain", str(table), "--out", str(tmp_path / "run"), "--epochs", "2", *TINY]
    argv.remove("-q")
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "valid_loss" in captured.out and "\x1b[" not in captured.out + captured.err
    assert "saved the model" in captured.err and "best validation epoch" in captured.err


def test_precision_option_trains_in_mixed_precision(table, tmp_path, monkeypatch):
    precisions = []
    fit = AstromerEmbedder.fit

    def recording_fit(self, X, y=None):
        precisions.append(self.precision)
        return fit(self, X, y)

    monkeypatch.setattr(AstromerEmbedder, "fit", recording_fit)
    out = tmp_path / "run"
    assert main(["pretrain", str(table), "--out", str(out), "--epochs", "1", *TINY,
                 "--precision", "bfloat16"]) == 0
    assert precisions == ["bfloat16"]
    assert AstromerEmbedder.from_pretrained(out).transform(make_sinusoids(2, 30)[0]).shape[0] == 2


def _learning_rates(out):
    history = json.loads((out / "checkpoints" / "history.json").read_text())
    return [batch["event_lr"] for epoch in history for batch in epoch["batches"]]


def test_a_resumed_run_repeats_the_uninterrupted_schedule_and_weights(table, tmp_path,
                                                                      monkeypatch):
    argv = [*TINY, "--batch-size", "4", "--epochs", "4", "--lr-schedule", "warmup_cosine",
            "--validation-fraction", "0"]
    whole = tmp_path / "whole"
    assert main(["pretrain", str(table), "--out", str(whole), *argv]) == 0
    resumed = tmp_path / "resumed"
    save = _interrupt_after_epoch(monkeypatch, 2)
    assert main(["pretrain", str(table), "--out", str(resumed), *argv]) == 130
    monkeypatch.setattr(Checkpoint, "on_epoch_end", save)
    assert main(["pretrain", str(table), "--out", str(resumed), *argv, "--resume"]) == 0
    expected = _learning_rates(whole)
    assert len(expected) == 4 * 5 and expected[-1] < 0.01 * max(expected)
    np.testing.assert_allclose(_learning_rates(resumed), expected, rtol=1e-12, atol=0)
    _assert_weights_equal(resumed, AstromerEmbedder.from_pretrained(whole)
                          .net_.module_.state_dict())


@pytest.fixture
def interrupted_run(table, tmp_path, monkeypatch):
    """A run of 4 epochs (validation on) interrupted after epoch 2, and its arguments."""
    out = tmp_path / "run"
    argv = ["pretrain", str(table), "--out", str(out), "--epochs", "4",
            "--validation-fraction", "0.25", *TINY]
    save = _interrupt_after_epoch(monkeypatch, 2)
    assert main(argv) == 130
    monkeypatch.setattr(Checkpoint, "on_epoch_end", save)
    return out / "checkpoints", argv


@pytest.mark.parametrize("name", ["params.pt", "best_params.pt", "optimizer.pt"])
@pytest.mark.parametrize("damage", ["missing", "empty", "truncated"])
def test_resume_from_a_damaged_checkpoint_fails_naming_the_file(interrupted_run, capsys, name,
                                                                damage):
    checkpoints, argv = interrupted_run
    path = checkpoints / name
    if damage == "missing":
        path.unlink()
    else:
        path.write_bytes(b"" if damage == "empty" else path.read_bytes()[:50])
    capsys.readouterr()
    assert main([*argv, "--resume"]) == 1
    err = capsys.readouterr().err
    assert str(path) in err and "cannot be" in err and len(err.strip().splitlines()) == 1


def test_resume_refuses_changed_architecture_options(interrupted_run, capsys):
    _, argv = interrupted_run
    capsys.readouterr()
    changed = [a if a != "16" else "32" for a in argv]  # --d-model and --d-ff 16 -> 32
    assert main([*changed, "--resume"]) == 1
    err = capsys.readouterr().err
    assert "--d-model 32 (the run has 16)" in err and "--d-ff 32 (the run has 16)" in err
    assert main([*argv, "--patience", "3", "--resume"]) == 0  # patience may change
