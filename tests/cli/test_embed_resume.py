"""``embed`` after a kill: no output until it is whole, and ``--resume`` finishes the run."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sklearn_astromer.__main__ import main
from sklearn_astromer.cli import _embed

pytest.importorskip("pandas")

ROOT = Path(__file__).resolve().parents[2]
# `python -m sklearn_astromer embed ...`, but the rename of chunk 2's file (the third of
# three) waits until the test kills the process: chunks 0 and 1 are whole by then.
STALLED_AT_THE_THIRD_CHUNK = """
import os, sys, time
from sklearn_astromer.__main__ import main

replace = os.replace

def stalled_replace(source, destination):
    if os.path.basename(destination).startswith("chunk.000002"):
        time.sleep(600)
    replace(source, destination)

os.replace = stalled_replace
sys.exit(main(sys.argv[1:]))
"""


def _embed_table(input_path, model, output, *extra):
    return main(["embed", str(input_path), "--model", str(model), "-o", str(output),
                 "--chunk-size", "2", *extra])


def _reference(input_path, model, tmp_path, name):
    """The bytes of an uninterrupted run's output."""
    output = tmp_path / "reference" / name
    assert _embed_table(input_path, model, output, "-q") == 0
    return output.read_bytes()


def _embedded_ids(monkeypatch, interrupt_at=None):
    """Record the ids of each chunk embedded; Ctrl-C at chunk ``interrupt_at`` (from 0)."""
    embed_chunk = _embed.embed_chunk
    embedded = []

    def recording(embedder, chunk, source):
        if len(embedded) == interrupt_at:
            raise KeyboardInterrupt
        embedded.append(list(chunk.ids))
        return embed_chunk(embedder, chunk, source)

    monkeypatch.setattr(_embed, "embed_chunk", recording)
    return embedded


def _visible_to_readers(folder):
    """Files under ``folder`` with no part of their path starting with ``_`` or ``.``."""
    return [path for path in folder.rglob("*") if path.is_file() and not any(
        part.startswith(("_", ".")) for part in path.relative_to(folder).parts)]


@pytest.mark.parametrize("name, suffix", [("emb.parquet", ".parquet"),
                                          ("emb.csv.gz", ".csv.gz")])
def test_sigkill_leaves_no_output_and_resume_writes_the_uninterrupted_one(
        table, tiny_model, tmp_path, capsys, monkeypatch, name, suffix):
    pytest.importorskip("pyarrow")
    path, _ = table
    reference = _reference(path, tiny_model, tmp_path, name)
    output = tmp_path / "out" / name
    parts = output.with_name(f"_{name}.parts")
    stalled = parts / f"_chunk.000002{suffix}.tmp"
    with open(tmp_path / "stderr.txt", "wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-c", STALLED_AT_THE_THIRD_CHUNK, "embed", str(path), "--model",
             str(tiny_model), "-o", str(output), "--chunk-size", "2", "-q"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            deadline = time.monotonic() + 120
            while not stalled.exists() and process.poll() is None:
                assert time.monotonic() < deadline, "the third chunk was never written"
                time.sleep(0.05)
            process.send_signal(signal.SIGKILL)
        finally:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL, (tmp_path / "stderr.txt").read_text()

    assert not output.exists() and _visible_to_readers(tmp_path / "out") == []
    assert sorted(path.name for path in parts.glob("chunk.*")) == [
        f"chunk.000000{suffix}", f"chunk.000001{suffix}"]
    if suffix == ".parquet":  # a reader of the output's folder finds no file at all
        import pyarrow.dataset as ds

        assert ds.dataset(tmp_path / "out", format="parquet").files == []

    embedded = _embedded_ids(monkeypatch)
    assert _embed_table(path, tiny_model, output, "--resume") == 0
    assert embedded == [["s04", "s05"]]  # chunks 0 and 1 were not embedded again
    assert "4 of them in 2 chunk(s) reused from the interrupted run" in capsys.readouterr().err
    assert output.read_bytes() == reference
    assert list((tmp_path / "out").iterdir()) == [output]


def test_rerun_needs_resume_and_the_same_settings(table, tiny_model, tmp_path, capsys,
                                                  monkeypatch):
    path, _ = table
    output = tmp_path / "out.csv"
    parts = tmp_path / "_out.csv.parts"
    _embedded_ids(monkeypatch, interrupt_at=1)
    assert _embed_table(path, tiny_model, output) == 130
    assert f"1 finished chunk(s) kept in {parts}" in capsys.readouterr().err
    monkeypatch.undo()
    kept = (parts / "chunk.000000.csv").read_bytes()

    assert _embed_table(path, tiny_model, output, "-q") == 1
    err = capsys.readouterr().err
    assert f"{parts} holds 1 finished chunk(s)" in err and "pass --resume" in err
    for extra, difference in [
        (["--chunk-size", "3"], "--chunk-size: 3 here, 2 in the interrupted run"),
        (["--pooling", "max"], "--pooling: max here, not given in the interrupted run"),
        (["--model", "macho"], "--model: macho here, "),
    ]:
        assert main(["embed", str(path), "--model", str(tiny_model), "-o", str(output),
                     "--chunk-size", "2", *extra, "--resume", "-q"]) == 1
        err = capsys.readouterr().err
        assert f"--resume: {parts} holds a run with other settings: {difference}" in err, err
    path.write_text(path.read_text() + "s00,60000.5,15.0,0.1\n")
    assert _embed_table(path, tiny_model, output, "--resume", "-q") == 1
    assert "the files of input changed" in capsys.readouterr().err
    assert (parts / "chunk.000000.csv").read_bytes() == kept and not output.exists()


@pytest.mark.parametrize("name, suffix", [("emb.parquet", ".parquet"), ("emb.csv", ".csv")])
def test_damaged_chunk_file_is_named_and_embedded_again(table, tiny_model, tmp_path, capsys,
                                                        monkeypatch, name, suffix):
    pytest.importorskip("pyarrow")
    path, _ = table
    reference = _reference(path, tiny_model, tmp_path, name)
    output = tmp_path / name
    _embedded_ids(monkeypatch, interrupt_at=2)
    assert _embed_table(path, tiny_model, output, "-q") == 130
    monkeypatch.undo()
    damaged = tmp_path / f"_{name}.parts" / f"chunk.000000{suffix}"
    damaged.write_bytes(damaged.read_bytes()[:len(damaged.read_bytes()) // 2])

    embedded = _embedded_ids(monkeypatch)
    assert _embed_table(path, tiny_model, output, "--resume") == 0
    assert f"warning: {damaged} " in capsys.readouterr().err
    assert embedded == [["s00", "s01"], ["s04", "s05"]]
    assert output.read_bytes() == reference


def test_failures_that_leave_nothing_to_resume_leave_nothing(table, tiny_model, tmp_path,
                                                             capsys, monkeypatch):
    path, _ = table
    output = tmp_path / "out.csv"
    _embedded_ids(monkeypatch, interrupt_at=0)  # Ctrl-C before the first chunk is written
    assert _embed_table(path, tiny_model, output, "-q") == 130
    assert [path.name for path in tmp_path.iterdir()] == ["table.csv"]
    monkeypatch.undo()

    # An input error in chunk 2 would stop a resumed run again: its chunks are dropped too.
    embed_chunk = _embed.embed_chunk

    def failing_at_the_third_chunk(embedder, chunk, source):
        if "s04" in chunk.ids:
            raise ValueError(f"{source}: object(s) ['s04'] have embeddings that are not finite")
        return embed_chunk(embedder, chunk, source)

    monkeypatch.setattr(_embed, "embed_chunk", failing_at_the_third_chunk)
    assert _embed_table(path, tiny_model, output, "-q") == 1
    assert "['s04'] have embeddings that are not finite" in capsys.readouterr().err
    assert [path.name for path in tmp_path.iterdir()] == ["table.csv"]


def test_resume_without_an_interrupted_run_embeds_everything(table, tiny_model, tmp_path,
                                                             capsys):
    path, _ = table
    reference = _reference(path, tiny_model, tmp_path, "out.csv")
    output = tmp_path / "out.csv"
    # What a run killed before its first chunk leaves: a record, no chunk.
    (tmp_path / "_out.csv.parts").mkdir()
    (tmp_path / "_out.csv.parts" / "run.json").write_text("{}")
    assert _embed_table(path, tiny_model, output, "--resume") == 0
    assert "--resume: no finished chunk in" in capsys.readouterr().err
    assert output.read_bytes() == reference
    assert not (tmp_path / "_out.csv.parts").exists()
    os.remove(output)
    assert _embed_table(path, tiny_model, output, "-q") == 0  # and without --resume
    assert output.read_bytes() == reference
