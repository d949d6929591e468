"""Train neural-network classifiers on noisy labels, and find those labels, with P-DIFF.

The names below are imported on first use, so that ``import cleanlab_pdiff`` (and the
command line's ``--help`` and ``--version``) does not import torch.
"""

import importlib
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cleanlab-pdiff")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

#: Public name -> the module that defines it.
_HOMES = {
    "PDiffClassifier": ".classifier",
    "CNN9": ".networks",
    "ImageFolder": ".images",
    "MLP": ".networks",
    "make_noisy_labels": ".noise",
}

__all__ = ["CNN9", "ImageFolder", "MLP", "PDiffClassifier", "make_noisy_labels", "__version__"]


def __getattr__(name):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name], __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__():
    return sorted([*globals(), *_HOMES])
