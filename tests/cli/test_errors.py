"""Every error is one line on stderr; bugs say so and --traceback shows them."""

import pytest

from sklearn_astromer.__main__ import main
from sklearn_astromer.cli import _info


def _fail_with(monkeypatch, exc):
    def describe(source):
        raise exc

    monkeypatch.setattr(_info, "describe", describe)


def _stderr_of_failing_run(capsys, *argv):
    assert main(list(argv)) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Traceback" not in captured.err
    assert captured.err.count("\n") == 1 and captured.err.startswith("error: ")
    return captured.err


@pytest.mark.parametrize("exc", [
    ValueError("bad value\nsecond line"), TypeError("bad type"), OSError("disk full"),
    ImportError('needs pandas: pip install "sklearn-astromer[pandas]"'),
    FileNotFoundError(2, "No such file or directory", "x.csv"),
])
def test_documented_errors_are_one_line(monkeypatch, capsys, tmp_path, exc):
    _fail_with(monkeypatch, exc)
    err = _stderr_of_failing_run(capsys, "info", str(tmp_path))
    assert " ".join(str(exc).split()) in err and "internal error" not in err


def test_memory_error_without_message_says_out_of_memory(monkeypatch, capsys, tmp_path):
    _fail_with(monkeypatch, MemoryError())
    assert "out of memory" in _stderr_of_failing_run(capsys, "info", str(tmp_path))


def test_unexpected_error_is_called_a_bug_and_traceback_shows_it(monkeypatch, capsys,
                                                                 tmp_path):
    _fail_with(monkeypatch, ZeroDivisionError("division by zero"))
    err = _stderr_of_failing_run(capsys, "info", str(tmp_path))
    assert "internal error (ZeroDivisionError: division by zero)" in err
    assert "--traceback" in err
    for argv in (["--traceback", "info", str(tmp_path)], ["info", str(tmp_path), "--traceback"]):
        with pytest.raises(ZeroDivisionError):
            main(argv)
    monkeypatch.setenv("SKLEARN_ASTROMER_TRACEBACK", "1")
    with pytest.raises(ZeroDivisionError):
        main(["info", str(tmp_path)])


def test_traceback_option_also_shows_documented_errors(monkeypatch, tmp_path):
    _fail_with(monkeypatch, ValueError("bad value"))
    with pytest.raises(ValueError, match="bad value"):
        main(["--traceback", "info", str(tmp_path)])


@pytest.mark.parametrize("device, message", [
    ("tpu9", "--device tpu9: not a device; use 'auto', 'cpu', 'cuda' or 'cuda:N'."),
    ("meta", "--device meta: not supported"),
    ("cuda:99", "--device cuda:99: "),
])
@pytest.mark.parametrize("command", ["embed", "pretrain"])
def test_unknown_or_absent_device_is_one_error_line(capsys, tmp_path, command, device, message):
    (tmp_path / "table.csv").write_text("object_id,time,mag\na,1,15\n")
    output = ["-o", str(tmp_path / "out.csv"), "--model", "macho"] if command == "embed" else [
        "--out", str(tmp_path / "model")]
    err = _stderr_of_failing_run(capsys, command, str(tmp_path / "table.csv"), *output,
                                 "--device", device)
    assert message in err
    assert not (tmp_path / "model").exists()


def test_info_of_a_missing_model_names_no_option(capsys, tmp_path):
    err = _stderr_of_failing_run(capsys, "info", str(tmp_path / "nonexistent"))
    assert "nonexistent: no such file or directory" in err and "--model" not in err
