"""Fuzzed input files for ``embed`` and ``pretrain``: only documented outcomes, no traceback.

Hypothesis builds a collection of light curves, writes it as a CSV, TSV,
gzipped CSV, Parquet table or a directory of text files, then damages it
(truncation, flipped bytes, another encoding, a missing column, an extra
field, a word or NaN/inf/1e308 among the numbers, an object with no
observation, an empty file) and runs ``main(["embed", ...])`` in-process
with a tiny model. Whatever happens:

* the exit code is 0 or 1;
* stderr holds no traceback and no "internal error", and a failure is one
  ``error:`` line and leaves no output file;
* exit code 0 means one finite row per object, ids unique and in the input's
  order (all of them, in order, when the input was not damaged);
* damage that must fail (an empty file, a missing column, an extra field, a
  word among the numbers, an object with no observation) fails.

``pretrain`` (one epoch of a tiny model) reads the same files whole, not
streamed: it must save a model, or fail with one line and leave no folder.

``CI`` runs the same derandomised cases every time; elsewhere each run draws
new ones.
"""

import contextlib
import csv
import gzip
import io
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from sklearn_astromer.__main__ import main  # noqa: E402

FORMATS = ["csv", "tsv", "csv.gz", "parquet", "text"]
DAMAGES = ["none", "truncate", "flip", "encoding", "no_mag_column", "extra_field",
           "word", "non_finite", "empty_object", "empty_file", "header_only"]
# Damage after which embed must fail, per format (text files ignore extra columns, and
# a text file without its magnitude column still has two numeric columns).
MUST_FAIL = {"no_mag_column", "extra_field", "word", "empty_object", "empty_file",
             "header_only"}
MAY_SUCCEED = {("text", "extra_field"), ("text", "no_mag_column"), ("parquet", "extra_field")}
# Damage that may change the bytes of ids: the ids written are then not checked.
ALTERS_IDS = {"flip", "encoding"}
N_EXAMPLES = int(os.environ.get("SKLEARN_ASTROMER_FUZZ_EXAMPLES", 300))
TINY = ["--d-model", "16", "--n-layers", "1", "--n-heads", "2", "--d-ff", "16",
        "--max-obs", "32", "--epochs", "1", "--random-state", "0", "-q"]

ids_strategy = st.one_of(
    st.text(alphabet="abcxyzAZ0189_-é ", min_size=1, max_size=5).map(str.strip).filter(bool),
    st.sampled_from(["NA", "null", "nan", "007", "7"]),
)
observation = st.tuples(st.floats(0, 1e4), st.floats(-5, 30), st.floats(0, 1))
collections = st.dictionaries(ids_strategy, st.lists(observation, min_size=1, max_size=8),
                              min_size=1, max_size=6)


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    # Tiny batches on a shared machine: thread start-up dominates; one thread is 5-10x faster.
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
    print(f"\nfuzzed runs: {CASES}")  # shown with pytest -s


def _rows(collection):
    return [(object_id, *values) for object_id, curve in collection.items() for values in curve]


def _text_table(collection, sep, damage, data):
    header = ["object_id", "time", "mag", "err"]
    rows = [[object_id, repr(t), repr(m), repr(e)] for object_id, t, m, e in _rows(collection)]
    rows = _damage_cells(rows, damage, data, first_value=1)
    if damage == "no_mag_column":
        header, rows = header[:2] + header[3:], [row[:2] + row[3:] for row in rows]
    if damage == "extra_field":
        index = data.draw(st.integers(0, len(rows) - 1), label="row with an extra field")
        rows[index] = rows[index] + ["99"]
    if damage == "header_only":
        rows = []
    lines = [sep.join(header)] + [sep.join(row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def _damage_cells(rows, damage, data, first_value):
    """Apply the cell-level damages to ``rows`` (lists of str) of one table or file."""
    if damage == "word":
        row = data.draw(st.integers(0, len(rows) - 1), label="row with a word")
        rows[row][first_value + 1] = data.draw(st.sampled_from(["bright", "1.2.3", "--",
                                                                "0x1F", "1e"]))
    if damage == "non_finite":
        for row in data.draw(st.lists(st.integers(0, len(rows) - 1), min_size=1, max_size=3),
                             label="rows with non-finite values"):
            column = data.draw(st.integers(first_value, len(rows[row]) - 1))
            rows[row][column] = data.draw(st.sampled_from(["nan", "inf", "-inf", "1e308",
                                                           "-1e308", "1e300"]))
    if damage == "empty_object":
        first_id = rows[0][0] if first_value else None
        for row in rows:
            if first_value == 0 or row[0] == first_id:
                row[first_value + 1] = "nan"
    return rows


def _damage_bytes(raw, damage, data):
    if damage == "truncate":
        return raw[:data.draw(st.integers(0, max(len(raw) - 1, 0)), label="cut at")]
    if damage == "flip":
        raw = bytearray(raw)
        for _ in range(data.draw(st.integers(1, 4), label="flipped bytes")):
            raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
        return bytes(raw)
    if damage == "encoding":
        return raw.decode().encode(data.draw(st.sampled_from(["latin-1", "utf-16", "utf-8-sig",
                                                              "cp1252"])), errors="replace")
    if damage == "empty_file":
        return b""
    return raw


def _write_input(folder, fmt, collection, damage, data):
    """Write ``collection`` damaged by ``damage``; return the input path."""
    if fmt == "text":
        root = folder / "curves"
        root.mkdir()
        victim = data.draw(st.sampled_from(sorted(collection)), label="damaged file")
        for object_id, curve in collection.items():
            rows = [[repr(value) for value in observation] for observation in curve]
            if object_id == victim:
                rows = _damage_cells(rows, damage, data, first_value=0)
                if damage == "no_mag_column":
                    rows = [row[:1] + row[2:] for row in rows]
                if damage == "extra_field":
                    rows = [row + ["99"] for row in rows]
            lines = ["# time mag err"] + [" ".join(row) for row in rows]
            if object_id == victim and damage == "header_only":
                lines = lines[:1]
            raw = ("\n".join(lines) + "\n").encode()
            (root / f"{object_id}.dat").write_bytes(
                _damage_bytes(raw, damage, data) if object_id == victim else raw)
        return root
    if fmt == "parquet":
        frame = pd.DataFrame(_rows(collection), columns=["object_id", "time", "mag", "err"])
        if damage == "no_mag_column":
            frame = frame.drop(columns="mag")
        elif damage in ("word", "non_finite", "empty_object"):
            cells = [[str(value) for value in row] for row in frame.to_numpy()]
            cells = _damage_cells(cells, damage, data, first_value=1)
            frame = pd.DataFrame(cells, columns=frame.columns)
            if damage != "word":
                frame[["time", "mag", "err"]] = frame[["time", "mag", "err"]].astype(float)
        elif damage == "header_only":
            frame = frame.iloc[:0]
        buffer = io.BytesIO()
        frame.to_parquet(buffer, row_group_size=data.draw(st.integers(1, 8)))
        raw = buffer.getvalue()
        if damage != "encoding":
            raw = _damage_bytes(raw, damage, data)
        path = folder / "table.parquet"
        path.write_bytes(raw)
        return path
    sep = "\t" if fmt == "tsv" else ","
    raw = _text_table(collection, sep, damage, data)
    if fmt == "csv.gz" and damage not in ("truncate", "flip"):
        raw = gzip.compress(_damage_bytes(raw, damage, data))
    elif fmt == "csv.gz":
        raw = _damage_bytes(gzip.compress(raw), damage, data)
    else:
        raw = _damage_bytes(raw, damage, data)
    path = folder / f"table.{fmt}"
    path.write_bytes(raw)
    return path


def _expected_ids(fmt, collection):
    # Tables: order of first appearance; a directory: files in sorted name order.
    return sorted(collection, key=lambda object_id: f"{object_id}.dat") if fmt == "text" else (
        list(collection))


def _run(*argv):
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        code = main([str(arg) for arg in argv])
    CASES[f"{argv[0]} exit {code}"] = CASES.get(f"{argv[0]} exit {code}", 0) + 1
    return code, stderr.getvalue()


def _assert_documented_outcome(code, stderr, fmt, damage, folder):
    """Exit 0 or 1, no traceback, one error line naming the input; return the error."""
    assert code in (0, 1), stderr
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    assert all(line.startswith(("error: ", "warning: ")) or not line.strip()
               for line in stderr.splitlines()), stderr
    if damage in MUST_FAIL and (fmt, damage) not in MAY_SUCCEED:
        assert code == 1, f"{fmt}/{damage} was accepted: {stderr}"
    if code == 1:
        errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1, stderr
        assert str(folder) in errors[0] or "--model" in errors[0], errors[0]


CASES = {}
FUZZ_SETTINGS = dict(deadline=None, derandomize=bool(os.environ.get("CI")), database=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


fuzzed_inputs = dict(fmt=st.sampled_from(FORMATS), damage=st.sampled_from(DAMAGES),
                     collection=collections, data=st.data())


@settings(max_examples=N_EXAMPLES, **FUZZ_SETTINGS)
@given(**fuzzed_inputs)
def test_embed_of_fuzzed_files_has_only_documented_outcomes(tiny_model, fmt, damage,
                                                            collection, data):
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        path = _write_input(folder, fmt, collection, damage, data)
        output = folder / "embeddings.csv"
        code, stderr = _run("embed", path, "--model", tiny_model, "-o", output, "-q")
        _assert_documented_outcome(code, stderr, fmt, damage, folder)
        if code == 1:
            assert not output.exists() and not (folder / "_embeddings.csv.parts").exists()
            return
        with open(output, newline="", encoding="utf-8") as handle:
            header, *rows = list(csv.reader(handle))
        written_ids = [row[0] for row in rows]
        features = np.array([row[1:] for row in rows], dtype=float)
        assert header[0] == "object_id" and features.shape == (len(rows), 16)
        assert np.isfinite(features).all()
        assert len(set(written_ids)) == len(written_ids)
        expected = _expected_ids(fmt, collection)
        if damage == "none":
            assert written_ids == expected
        elif damage not in ALTERS_IDS:
            positions = [expected.index(object_id) for object_id in written_ids]
            assert positions == sorted(positions), (written_ids, expected)


@settings(max_examples=max(N_EXAMPLES // 10, 10), **FUZZ_SETTINGS)
@given(**fuzzed_inputs)
def test_pretrain_of_fuzzed_files_saves_a_model_or_leaves_nothing(fmt, damage, collection, data):
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        path = _write_input(folder, fmt, collection, damage, data)
        out = folder / "model"
        code, stderr = _run("pretrain", path, "--out", out, *TINY)
        _assert_documented_outcome(code, stderr, fmt, damage, folder)
        assert (out / "config.json").is_file() if code == 0 else not out.exists()
