"""P-DIFF in a skorch net of your own: :class:`PDiffCallback`, with ``criterion=PDiffLoss``.

A ``skorch.NeuralNetClassifier`` (your module, Dataset and callbacks) trains with
P-DIFF and finds its wrong labels when its criterion is
:class:`~cleanlab_pdiff.loss.PDiffLoss` and :class:`PDiffCallback` is among its
callbacks; :class:`~cleanlab_pdiff.PDiffClassifier` trains through the same two
(``docs/skorch.md``). Each row's index reaches P-DIFF as skorch's FAQ recipe routes
per-sample data: in ``X``, a dict, next to the features (``{"x": X, "index": ...}``).
"""

from collections.abc import Mapping

import numpy as np
import torch
from skorch.callbacks import Callback
from skorch.dataset import get_len

from ._warnings import warn
from .histogram import BIN_WIDTH, saturation
from .loss import PDiffLoss
from .noise_rate import issue_mask

__all__ = ["PDiffCallback"]


class PDiffCallback(Callback):
    """skorch callback that runs P-DIFF in a net whose criterion is ``PDiffLoss``.

    Before each training batch it hands the criterion the epoch and, from ``X``
    when ``X`` is a dict (a ``skorch.helper.SliceDict`` for scikit-learn's
    searches), the rows' ``"index"`` (and ``"sample_weight"``, as in skorch's
    FAQ recipe): the module's ``forward`` takes them as keyword arguments too,
    and may ignore them. A row's index is its number in the data given to
    ``fit`` (or any number below a few times that: the results have one entry per
    number up to the largest seen). At the end of the first epoch it caps the
    P-DIFF window at that epoch's batches. It records in the history, each epoch:
    ``drop_rate``, ``delta_threshold`` (lower edge of the threshold bin),
    ``kept_fraction``, ``saturation`` (mean ``|delta|`` of the window) and
    ``weighting`` (whether the window was full); at the end of training it keeps
    the results. Training can continue (``partial_fit``, ``warm_start``, or
    skorch's ``Checkpoint`` and ``LoadInitState``, which save and load the
    criterion with its P-DIFF state).

    Attributes
    ----------
    noise_rate_ : float
        The share of wrong labels: the criterion's ``noise_rate`` if given, else
        P-DIFF's online estimate (the paper's).
    training_label_quality_ : ndarray of shape (n_rows,)
        Each row's label quality, by index: its ``p[given label]`` in the training
        passes averaged over every epoch, in [0, 1], lower = more likely wrong; NaN
        for a row never trained on (e.g. in skorch's validation split).
    label_issues_ : ndarray of shape (n_rows,), bool
        The ``round(noise_rate_ * n)`` rows of lowest ``training_label_quality_``
        among the ``n`` trained on.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skorch import NeuralNetClassifier
    >>> from torch import nn
    >>> from cleanlab_pdiff.loss import PDiffLoss
    >>> from cleanlab_pdiff.skorch import PDiffCallback
    >>> class Linear(nn.Linear):
    ...     def forward(self, x, index=None):  # P-DIFF's index comes too: ignore it
    ...         return super().forward(x)
    >>> X, y = load_digits(return_X_y=True)
    >>> X, y = X[:300].astype("float32") / 16, y[:300]
    >>> pdiff = PDiffCallback()
    >>> net = NeuralNetClassifier(
    ...     Linear, module__in_features=64, module__out_features=10, criterion=PDiffLoss,
    ...     criterion__noise_rate=0.1, criterion__t_k=2, max_epochs=3, train_split=None,
    ...     callbacks=[pdiff], verbose=0)
    >>> net = net.fit({"x": X, "index": np.arange(len(X))}, y)
    >>> pdiff.training_label_quality_.shape, int(pdiff.label_issues_.sum())
    ((300,), 30)
    """

    def initialize(self):
        """Forget the results of an earlier fit (skorch calls this when it initialises the net)."""
        for name in ("noise_rate_", "training_label_quality_"):
            vars(self).pop(name, None)
        return self

    @property
    def label_issues_(self):
        """The rows flagged as wrongly labelled (see the class docstring)."""
        quality = self.training_label_quality_
        trained = ~np.isnan(quality)
        issues = np.zeros(quality.shape, dtype=bool)
        issues[trained] = issue_mask(quality[trained], self.noise_rate_)
        return issues

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        """Check the criterion; make room in it for the rows of ``X``."""
        criterion = net.criterion_
        if not isinstance(criterion, PDiffLoss):
            raise TypeError(
                f"PDiffCallback needs the net's criterion to be cleanlab_pdiff.loss.PDiffLoss, "
                f"got {type(criterion).__name__}: pass criterion=PDiffLoss."
            )
        if X is not None:
            criterion.reserve_examples(_rows(X))

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        """Let the criterion record the epoch's per-row deltas afresh."""
        net.criterion_.begin_epoch(len(net.history) - 1)

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        """Hand the criterion a training batch's epoch, index and sample weights."""
        if not training:
            return
        criterion = net.criterion_
        X = batch[0]
        index = X.get("index") if isinstance(X, Mapping) else None
        weight = X.get("sample_weight") if isinstance(X, Mapping) else None
        device = criterion.last_weights.device
        if index is not None:
            index = torch.as_tensor(index)
            # Read on the host: the batch is still where the loader left it.
            criterion.reserve_examples(int(index.max()) + 1)
            index = index.to(device, torch.int64)
        if weight is not None:
            weight = torch.as_tensor(weight).to(device, torch.float32)
        criterion.prepare_step(len(net.history) - 1, index, weight)

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        """Cap the window after the first epoch; record the epoch's diagnostics."""
        criterion = net.criterion_
        pdiff = criterion.pdiff
        epoch = len(net.history) - 1
        if epoch == 0:
            # Its first epoch tells how many batches an epoch has: a longer window would
            # count rows twice, with stale deltas.
            pdiff.cap_window(pdiff.steps)
            if not bool((criterion.confidence_count > 0).any()):
                warn(
                    "no training batch gave P-DIFF the rows' index, so it can't tell the rows "
                    "apart: training_label_quality_ stays NaN. Pass X as a dict with an "
                    "'index' entry, e.g. {'x': X, 'index': np.arange(len(X))} (docs/skorch.md)."
                )
        # One host read per epoch, for the history.
        net.history.record("drop_rate", float(pdiff.drop_rate))
        net.history.record("delta_threshold", -1.1 + BIN_WIDTH * int(pdiff.t_bin))
        net.history.record("kept_fraction", float(criterion.kept_fraction(epoch)))
        net.history.record("saturation", float(saturation(pdiff.hist)))
        net.history.record("weighting", pdiff.full)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        """Keep the noise rate and each row's label quality."""
        criterion = net.criterion_
        # Under data-parallel training: every process gets the statistics of every row.
        criterion.all_reduce_examples(len(net.history) - 1)
        self.noise_rate_ = criterion.pdiff.assumed_noise_rate
        self.training_label_quality_ = criterion.training_quality().cpu().numpy()


def _rows(X):
    """Return the number of rows ``X`` can index: one more than its largest index, or its length."""
    if isinstance(X, Mapping) and "index" in X:
        index = np.asarray(X["index"])
        return int(index.max()) + 1 if index.size else 0
    return get_len(X)
