"""Sphinx configuration of the cleanlab-pdiff documentation.

Build with ``python -m sphinx -W -b html docs docs/_build/html`` (needs the ``docs``
extra). The Markdown pages are MyST; their ``>>>`` examples also run as doctests
under pytest.
"""

from importlib import metadata

project = "cleanlab-pdiff"
author = "cleanlab-pdiff maintainers"
copyright = "2026, cleanlab-pdiff maintainers"
try:
    release = metadata.version("cleanlab-pdiff")
except metadata.PackageNotFoundError:  # building from a tree that is not installed
    release = "0+unknown"
version = release

extensions = ["sphinx.ext.autodoc", "numpydoc", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

# The API pages list members with autodoc; numpydoc's own member tables would need
# autosummary stubs.
numpydoc_show_class_members = False
autodoc_member_order = "bysource"

# Markdown pages link to each other's sections (pdiff.md#measured).
myst_heading_anchors = 3
# The generated benchmark page (label_issues.md) goes from "#" to "###".
suppress_warnings = ["myst.header"]

html_theme = "alabaster"
html_title = f"cleanlab-pdiff {release}"
