"""README promises: the set-up commands, CI runs the same test command, the quick start runs,
every command is listed, the documentation is one command away, and the README stays short."""

import re
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _bash_blocks():
    return re.findall(r"```bash\n(.*?)```", README, flags=re.S)


def test_first_commands_install_and_run_demo_then_tests():
    first, second = [block.strip() for block in _bash_blocks()[:2]]
    assert "pip install" in first and "python -m sklearn_astromer demo" in first
    assert "pip install" in second and second.endswith("python -m pytest tests")


def test_ci_runs_exactly_the_readme_test_command():
    test_command = _bash_blocks()[1].strip().split("&&")[-1].strip()
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_command in ci_lines


def test_quick_start_runs():
    block = re.search(r"## Quick start\n\n```python\n(.*?)```", README, flags=re.S).group(1)
    namespace = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(compile(block, "README quick start", "exec"), namespace)
    assert namespace["scores"].shape == (len(namespace["X"]),)
    # Run as pasted, the library's own example should not warn about its own settings.
    assert not [w for w in caught if issubclass(w.category, UserWarning)], [
        str(w.message) for w in caught]


def test_readme_stays_short():
    # The manual lives in docs/; the README keeps what a first visit needs.
    assert len(README.splitlines()) <= 220


def test_cli_table_lists_every_command():
    import argparse

    from sklearn_astromer.__main__ import build_parser

    commands, = [action.choices for action in build_parser()._actions
                 if isinstance(action, argparse._SubParsersAction)]
    table = README.split("<!-- cli-table: start -->")[1].split("<!-- cli-table: end -->")[0]
    listed = re.findall(r"^\| `(\w+)", table, flags=re.M)
    assert sorted(listed) == sorted(commands)


def test_readme_says_how_to_build_the_docs():
    assert 'pip install -e ".[docs]"' in README
    assert "sphinx-build -W --keep-going -b html docs docs/_build/html" in README
