"""Warnings that name the user's line, however deep in the package they are raised."""

import os
import sys
import warnings

__all__ = ["InconsistentVersionWarning", "warn"]

#: Packages whose frames are not the user's: this one, and those it trains through or is
#: called through (a scikit-learn search, skorch's training loop, joblib's workers).
_LIBRARIES = ("cleanlab_pdiff", "joblib", "sklearn", "skorch", "torch")


class InconsistentVersionWarning(UserWarning):
    """A model saved by another version of cleanlab-pdiff was loaded."""


def _library_folders():
    return tuple(
        os.path.dirname(module.__file__) + os.sep
        for name in _LIBRARIES
        if getattr(module := sys.modules.get(name), "__file__", None)
    )


def warn(message, category=UserWarning):
    """Issue ``warnings.warn(message, category)`` attributed to the first frame outside libraries.

    The stack level is counted from the stack itself, not by hand: the warning names
    the line of the user's code that called into the package (``fit``, or the
    scikit-learn or skorch call that led to it), whichever function raised it.
    """
    folders = _library_folders()
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_code.co_filename.startswith(folders):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
