"""``demo``: optional dependencies are checked before the work starts."""

import builtins

from sklearn_astromer import demo
from sklearn_astromer.__main__ import main


def test_figures_without_matplotlib_fail_before_any_work(monkeypatch, capsys, tmp_path):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.split(".")[0] == "matplotlib":
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    def must_not_run(**kwargs):
        raise AssertionError("the demo started before its dependencies were checked")

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    monkeypatch.setattr(demo, "run_demo", must_not_run)
    assert main(["demo", "--figures", str(tmp_path / "figures")]) == 1
    err = capsys.readouterr().err
    assert err == 'error: --figures needs matplotlib: pip install "sklearn-astromer[plot]"\n'
