"""How a fitted estimator pickles: as a one-process model, stamped with the version."""

from .. import __version__
from .._warnings import InconsistentVersionWarning, warn

__all__ = ["PicklingMixin"]


class PicklingMixin:
    """``__getstate__`` and ``__setstate__`` of :class:`~cleanlab_pdiff.PDiffClassifier`.

    The pickle forgets the ``accelerator`` (the net too, see ``AcceleratedPDiffNet``): an
    Accelerator is a handle on this process's distributed run, not a setting. It carries
    the version of cleanlab-pdiff that saved it; another version warns when it loads it.
    """

    def __getstate__(self):
        state = {**super().__getstate__(), "accelerator": None}
        return {**state, "_cleanlab_pdiff_version": __version__}

    def __setstate__(self, state):
        saved = state.pop("_cleanlab_pdiff_version", "0.1")
        if saved != __version__:
            # Until 1.0 the private modules a fitted model is made of may move or change.
            warn(
                f"this PDiffClassifier was saved by cleanlab-pdiff {saved} and is loaded by "
                f"{__version__}; a model may not work across versions before 1.0: refit it "
                f"with this version.",
                InconsistentVersionWarning,
            )
        super().__setstate__(state)
