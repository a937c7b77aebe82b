"""Sphinx configuration: numpydoc API pages, a MyST user guide, a sphinx-gallery of examples/.

Build (offline, warnings are errors)::

    pip install -e ".[docs]"
    sphinx-build -W --keep-going -b html docs docs/_build/html

The gallery runs every script of ``examples/``. They read
``SKLEARN_ASTROMER_DOCS_QUICK``: this file sets it to ``1`` (reduced sizes, about a
minute for the whole gallery) unless it is already set; ``SKLEARN_ASTROMER_DOCS_QUICK=0``
builds the gallery at the examples' full size.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# A checkout builds its own code, installed or not.
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SKLEARN_ASTROMER_DOCS_QUICK", "1")
# Figures in files only; never a window.
os.environ.setdefault("MPLBACKEND", "Agg")

import sklearn_astromer  # noqa: E402

project = "sklearn-astromer"
author = "The sklearn-astromer developers"
copyright = "the sklearn-astromer developers (MIT licence)"
release = sklearn_astromer.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
templates_path = ["_templates"]
exclude_patterns = ["_build"]
# No intersphinx: the build must not need the network.

# API pages: one per public name, generated at build time (docs/generated/, not kept in git).
autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"
# Overrides without a docstring of their own (torch's forward, skorch's hooks) are left out
# rather than shown with their base class's docstring, which is not numpydoc.
autodoc_inherit_docstrings = False
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# Docstrings are validated by tests/test_docs.py (a chosen set of checks), not here.
numpydoc_validation_checks = set()

# User guide in Markdown (MyST); "#slug" links to headings down to level 3.
myst_heading_anchors = 3

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    # Every script is an example, not only plot_*.py.
    "filename_pattern": r"\.py$",
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("sklearn_astromer",),
    "backreferences_dir": "generated/backreferences",
    "download_all_examples": False,
    "min_reported_time": 10,
    # A failing example fails the build.
    "only_warn_on_example_error": False,
}


def _constant_docstring(app, what, name, obj, options, lines):
    """Give a re-exported constant the ``#:`` comment where it is defined.

    autodoc looks for the comment in the module the name is documented under
    (``sklearn_astromer.datasets``), not in the private module that assigns it,
    and falls back to the docstring of the constant's type (``tuple``, ``ndarray``).
    """
    if what != "data":
        return
    from sphinx.errors import PycodeError
    from sphinx.pycode import ModuleAnalyzer

    documented_in, attribute = name.rsplit(".", 1)
    lines[:] = []
    modules = [documented_in, *sorted(m for m in sys.modules if m.startswith("sklearn_astromer."))]
    for module in modules:
        try:
            documented = ModuleAnalyzer.for_module(module).find_attr_docs()
        except PycodeError:  # a module without source: nothing to find
            continue
        if ("", attribute) in documented:
            lines.extend(documented["", attribute])
            return


def _skip_foreign_member(app, what, name, obj, skip, options):
    """Leave out class members defined outside this package.

    A class's page (``_templates/class.rst``) shows its inherited members too: those
    of the package's own base classes, not those of scikit-learn, torch or skorch.
    """
    if what != "class":
        return None
    function = getattr(obj, "fget", None) or getattr(obj, "__func__", obj)
    module = getattr(function, "__module__", None) or ""
    return True if module.split(".")[0] != "sklearn_astromer" else None


def setup(app):
    app.connect("autodoc-process-docstring", _constant_docstring)
    app.connect("autodoc-skip-member", _skip_foreign_member)


html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-astromer {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path = []
html_show_sourcelink = False
