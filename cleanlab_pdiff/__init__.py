"""Train neural-network classifiers on noisy labels, and find those labels, with P-DIFF."""

from importlib.metadata import PackageNotFoundError, version

from .classifier import PDiffClassifier
from .networks import CNN9, MLP
from .noise import make_noisy_labels

try:
    __version__ = version("cleanlab-pdiff")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["CNN9", "MLP", "PDiffClassifier", "make_noisy_labels", "__version__"]
