"""A progress bar over a fit's epochs, as a skorch callback."""

import sys

from skorch.callbacks import Callback
from tqdm import tqdm

__all__ = ["ProgressBar"]


class ProgressBar(Callback):
    """Show one tqdm bar over the epochs, with the loss and the current drop rate.

    Pass it in :class:`~cleanlab_pdiff.PDiffClassifier`'s ``callbacks``. The
    bar advances once per epoch and shows the epoch's training loss and the
    P-DIFF drop rate in force at its end (the noise-rate estimate in
    ``"auto"`` mode). It reads only what the net already records in its
    history, so it adds no work to the training step. skorch's own
    ``skorch.callbacks.ProgressBar`` shows a bar per epoch over batches
    instead.

    Parameters
    ----------
    file : file-like, default=None
        Where the bar is written; ``None`` means ``sys.stderr`` at fit time.
    disable : bool, default=False
        Show nothing.
    desc : str, default="P-DIFF"
        Text in front of the bar.

    Examples
    --------
    >>> import io
    >>> from sklearn.datasets import load_digits
    >>> from cleanlab_pdiff import PDiffClassifier
    >>> from cleanlab_pdiff.progress import ProgressBar
    >>> X, y = load_digits(return_X_y=True)
    >>> out = io.StringIO()
    >>> clf = PDiffClassifier(max_epochs=2, callbacks=[ProgressBar(file=out)], random_state=0)
    >>> _ = clf.fit(X[:100] / 16, y[:100])
    >>> "2/2" in out.getvalue() and "loss=" in out.getvalue()
    True
    """

    def __init__(self, file=None, disable=False, desc="P-DIFF"):
        self.file = file
        self.disable = disable
        self.desc = desc

    def initialize(self):
        """Forget any bar of an earlier fit."""
        self.bar_ = None
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        """Open the bar for ``net.max_epochs`` epochs."""
        if getattr(self, "bar_", None) is not None:  # left open by a fit that raised
            self.bar_.close()
        self.bar_ = tqdm(
            total=net.max_epochs,
            desc=self.desc,
            unit="epoch",
            file=self.file if self.file is not None else sys.stderr,
            disable=self.disable,
            dynamic_ncols=True,
        )

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        """Advance the bar and show the epoch's loss and drop rate."""
        row = net.history[-1]
        shown = {"loss": "train_loss", "drop_rate": "drop_rate"}
        postfix = {label: f"{row[key]:.4f}" for label, key in shown.items() if key in row}
        self.bar_.set_postfix(postfix, refresh=False)
        self.bar_.update()

    def on_train_end(self, net, X=None, y=None, **kwargs):
        """Close the bar."""
        self.bar_.close()
        self.bar_ = None

    def __getstate__(self):
        # An open bar holds a stream; a pickle of the callback mid-fit leaves it out.
        return {**self.__dict__, "bar_": None}
