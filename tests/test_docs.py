"""The documentation: it covers the API, it builds, its examples run, its docstrings are numpydoc.

- Every public name (the ``__all__`` of the package and of each public subpackage or
  module, or the functions and classes a module without one defines) has an entry in
  ``docs/api.rst``.
- ``sphinx-build -W`` builds ``docs/`` (the gallery runs ``examples/`` small).
- The ``Examples`` sections of the public docstrings run as doctests.
- numpydoc validates every public class, function and method with the checks in
  ``CHECKS``. A method without a docstring of its own that overrides a documented
  base-class method (torch's ``forward``, skorch's hooks) is documented by its base
  class and is not validated.

Sphinx, numpydoc and the rest come with ``pip install -e ".[docs]"``. Without them
these tests skip, saying so; where ``SKLEARN_ASTROMER_REQUIRE_DOCS=1`` (set by
``.ci/run``) they fail instead.
"""

import doctest
import functools
import importlib
import inspect
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import sklearn_astromer

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
# The command line, documented in the user guide rather than the API reference.
COMMAND_LINE = "sklearn_astromer.cli"
# numpydoc checks every public docstring must pass: a summary; every parameter of the
# signature documented, in order, with a type, and nothing else documented; a Returns
# (Yields) section where the code returns (yields) a value; no undocumented object.
CHECKS = {"GL08", "SS01", "PR01", "PR02", "PR03", "PR04", "PR10", "RT01", "YD01"}


def _require(module):
    try:
        return importlib.import_module(module)
    except ImportError:
        message = (f"{module} is not installed: the documentation tests need "
                   "pip install -e \".[docs]\"")
        if os.environ.get("SKLEARN_ASTROMER_REQUIRE_DOCS") == "1":
            pytest.fail(message)
        pytest.skip(message)


def _public_modules():
    """The package and its public subpackages and modules (deeper modules are re-exported)."""
    return ["sklearn_astromer", *(
        f"sklearn_astromer.{info.name}" for info in pkgutil.iter_modules(sklearn_astromer.__path__)
        if not info.name.startswith("_") and f"sklearn_astromer.{info.name}" != COMMAND_LINE)]


def _defined_names(module):
    """Public functions and classes that a module without ``__all__`` defines."""
    return [name for name, obj in vars(module).items() if not name.startswith("_")
            and getattr(obj, "__module__", None) == module.__name__ and _is_documentable(obj)]


def _public_api():
    """``{"module.name": object}`` for every public name of every public module."""
    api = {}
    for module_name in _public_modules():
        module = importlib.import_module(module_name)
        names = [name for name in getattr(module, "__all__", None) or _defined_names(module)
                 if not name.startswith("__")]
        api.update({f"{module_name}.{name}": getattr(module, name) for name in names})
    return api


def _is_documentable(obj):
    return inspect.isclass(obj) or inspect.isfunction(obj)


def _objects():
    """Each public class and function once, under its first public name."""
    seen, objects = set(), {}
    for path, obj in _public_api().items():
        if _is_documentable(obj) and id(obj) not in seen:
            seen.add(id(obj))
            objects[path] = obj
    return objects


def _inherits_docstring(cls, name):
    return any(getattr(getattr(base, name, None), "__doc__", None) for base in cls.__mro__[1:])


def _own_members(cls):
    """``{name: function}`` of the public methods and properties the package defines for ``cls``.

    Inherited ones count (from the package's own base classes), those of
    scikit-learn, torch or skorch do not.
    """
    members = {}
    for klass in reversed(cls.__mro__):
        for name, member in vars(klass).items():
            function = getattr(member, "__func__", member)  # classmethod, staticmethod
            if isinstance(member, property):
                function = member.fget
            if (not name.startswith("_") and inspect.isfunction(function)
                    and function.__module__.split(".")[0] == "sklearn_astromer"):
                members[name] = function
    return members


def _validated_paths():
    """Dotted paths of every public class and function and the methods classes define."""
    paths, seen = [], set()
    for path, obj in _objects().items():
        paths.append(path)
        if not inspect.isclass(obj):
            continue
        for name, function in _own_members(obj).items():
            if function in seen:
                continue  # a base class's method: validated under its first class
            seen.add(function)
            if function.__doc__ is None and _inherits_docstring(obj, name):
                continue
            paths.append(f"{path}.{name}")
    return paths


def _api_reference():
    """Dotted names listed by the autosummary tables of ``docs/api.rst``."""
    documented, module = set(), None
    for line in (DOCS / "api.rst").read_text().splitlines():
        current = re.match(r"\.\. currentmodule:: (\S+)", line)
        if current:
            module = current.group(1)
        elif module and re.fullmatch(r" {3}[A-Za-z_]\w*", line):
            documented.add(f"{module}.{line.strip()}")
    return documented


def _resolve(path):
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def test_api_reference_lists_every_public_name():
    documented = _api_reference()
    documented_objects = {id(_resolve(path)) for path in documented}
    missing = [path for path, obj in _public_api().items() if path not in documented and not (
        _is_documentable(obj) and id(obj) in documented_objects)]
    assert not missing, f"add these to docs/api.rst: {missing}"


@functools.cache
def _doctests():
    """``{path: [DocTest, ...]}`` for the public objects whose docstrings have examples.

    Each test holds its own copy of its module's names (``DocTestFinder`` copies them).
    """
    found = {}
    for path, obj in _objects().items():
        module = sys.modules[obj.__module__]
        tests = [test for test in doctest.DocTestFinder().find(
            obj, path, module=module, globs=vars(module)) if test.examples]
        if tests:
            found[path] = tests
    return found


@pytest.mark.parametrize("path", sorted(_doctests()))
def test_docstring_examples_run(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in _doctests()[path]:
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0, f"doctest of {path} failed (above)"


@pytest.mark.parametrize("path", _validated_paths())
def test_numpydoc_validation(path):
    validate = _require("numpydoc.validate").validate
    result = validate(path)
    errors = [f"{code}: {message}" for code, message in result["errors"] if code in CHECKS]
    where = f"{result.get('file')}:{result.get('file_line')}"
    assert not errors, f"{path} ({where}):\n" + "\n".join(errors)


@pytest.mark.slow
def test_docs_build_with_warnings_as_errors(tmp_path):
    for module in ("sphinx", "numpydoc", "myst_parser", "sphinx_gallery",
                   "pydata_sphinx_theme", "matplotlib"):
        _require(module)
    html = tmp_path / "html"
    env = dict(os.environ, SKLEARN_ASTROMER_DOCS_QUICK="1", MPLBACKEND="Agg",
               OMP_NUM_THREADS="1")
    completed = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html",
         # Run every example, also those a previous build left results for in docs/.
         "-D", "sphinx_gallery_conf.run_stale_examples=1",
         "-d", str(tmp_path / "doctrees"), str(DOCS), str(html)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert completed.returncode == 0, (completed.stdout + completed.stderr)[-6000:]

    pages = ["index", "install", "quick_start", "api", "benchmarks", "auto_examples/index",
             *(f"user_guide/{page.stem}" for page in (DOCS / "user_guide").glob("*.md"))]
    pages += [f"generated/{path}" for path in _api_reference()]
    assert not [page for page in pages if not (html / f"{page}.html").is_file()]
    # Every example ran and drew its figure.
    examples = sorted(path.stem for path in (ROOT / "examples").glob("*.py"))
    figures = {path.name for path in (html / "_images").glob("sphx_glr_*_001.png")}
    assert figures >= {f"sphx_glr_{name}_001.png" for name in examples}, figures
