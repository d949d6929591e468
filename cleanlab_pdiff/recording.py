"""Opt-in recording of every epoch's per-example deltas, for plots and analysis.

:class:`~cleanlab_pdiff.PDiffClassifier` keeps each example's delta of its
last 5 epochs only (in the criterion, ``net_.criterion_.epoch_deltas(epoch)``), to
compute ``training_label_quality_``. Pass a :class:`DeltaRecorder` in
``callbacks`` to keep them all.
"""

import numpy as np
import torch
from skorch.callbacks import Callback

__all__ = ["DeltaRecorder", "find_delta_recorder"]


class DeltaRecorder(Callback):
    """skorch callback that copies each epoch's per-example deltas to the CPU.

    At the end of each training epoch it reads that epoch's slot of the
    criterion's per-example deltas (``delta = p[given label] - max p[other
    class]`` of every training example, from the epoch's training forward
    passes) and keeps a copy on the CPU. That is one device-to-host copy of
    ``n_samples`` values per epoch; the training step is unchanged. The
    recording starts afresh at each :meth:`PDiffClassifier.fit
    <cleanlab_pdiff.PDiffClassifier.fit>` and goes on across ``partial_fit``
    calls on the same rows.

    Parameters
    ----------
    dtype : str or numpy dtype, default="float16"
        Storage type of the deltas; float16 (about 1e-3 resolution) costs 2
        bytes per example and epoch.

    Attributes
    ----------
    deltas_ : list of ndarray of shape (n_samples,)
        One array per recorded epoch; NaN for an example not seen in it.
    epochs_ : list of int
        The recorded epochs, numbered from 1 as in ``history_[:, "epoch"]``.
    labels_ : ndarray of shape (n_samples,) or None
        The given labels of the training rows, as indices into ``classes_``.

    See Also
    --------
    cleanlab_pdiff.plotting.plot_delta_distribution : Plots the recording.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from cleanlab_pdiff import PDiffClassifier
    >>> from cleanlab_pdiff.recording import DeltaRecorder
    >>> X, y = load_digits(return_X_y=True)
    >>> recorder = DeltaRecorder()
    >>> clf = PDiffClassifier(max_epochs=3, callbacks=[recorder], random_state=0)
    >>> clf = clf.fit(X[:200] / 16, y[:200])
    >>> recorder.epochs_, recorder.to_array().shape
    ([1, 2, 3], (3, 200))
    """

    def __init__(self, dtype="float16"):
        self.dtype = dtype

    def initialize(self):
        """Start an empty recording (skorch calls this when the net is initialised)."""
        self.deltas_ = []
        self.epochs_ = []
        self.labels_ = None
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        """Keep the training rows' given labels; restart if their number changed."""
        if y is None:  # the estimator's rows (a Dataset of rows and targets) carry them
            y = getattr(X, "y", None)
        labels = y.get("label") if isinstance(y, dict) else None
        if labels is None:
            return
        labels = np.asarray(labels)
        if self.labels_ is not None and self.labels_.shape != labels.shape:
            self.deltas_, self.epochs_ = [], []
        self.labels_ = labels.copy()

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        """Copy the epoch's slot of the criterion's per-example deltas to the CPU."""
        # The net hands the criterion the number of completed epochs: len(history) - 1.
        epoch_deltas = net.criterion_.epoch_deltas(len(net.history) - 1)
        deltas = epoch_deltas.detach().to("cpu", torch.float32).numpy()
        self.deltas_.append(deltas.astype(self.dtype))
        self.epochs_.append(int(net.history[-1, "epoch"]))

    def to_array(self):
        """Return the recording as one array.

        Returns
        -------
        deltas : ndarray of shape (n_epochs, n_samples)
            Row ``i`` holds the deltas of epoch ``epochs_[i]``.
        """
        if not self.deltas_:
            return np.empty((0, 0 if self.labels_ is None else self.labels_.size), self.dtype)
        return np.stack(self.deltas_)


def find_delta_recorder(clf):
    """Return the :class:`DeltaRecorder` a fitted classifier was trained with, or None.

    Parameters
    ----------
    clf : PDiffClassifier
        A fitted classifier.

    Returns
    -------
    recorder : DeltaRecorder or None
    """
    for _, callback in clf.net_.callbacks_:
        if isinstance(callback, DeltaRecorder):
            return callback
    return None
