"""The skorch callbacks of a P-DIFF run (diagnostics, random state, safety), and their list."""

import atexit
import functools
import math
import time

import torch
from skorch.callbacks import Callback, EarlyStopping

from ..histogram import BIN_WIDTH, saturation
from ..pdiff import is_synchronised

__all__ = [
    "CALLBACK_NAME",
    "PDiffCallback",
    "ValidAccuracy",
    "training_callbacks",
]

#: Name under which the P-DIFF callback is registered with the net.
CALLBACK_NAME = "pdiff"


@functools.cache
def _yield_to_gloo_at_exit():
    """Let gloo's threads release finished collectives before the interpreter shuts down.

    A gloo worker thread drops its references to a finished collective's tensors under
    the GIL. If the interpreter is already finalising by then, the thread aborts the
    process ("terminate called without an active exception"; pytorch/pytorch#179291),
    which here followed about one exit in three when a script ended soon after a fit.
    Exit handlers run while threads may still take the GIL: a short sleep lets them.
    """
    atexit.register(time.sleep, 0.05)


def _rng_state(device):
    cuda = [torch.cuda.get_rng_state(device)] if device.type == "cuda" else []
    return [torch.get_rng_state(), *cuda]


def _set_rng_state(state, device):
    torch.set_rng_state(state[0])
    if device.type == "cuda":
        torch.cuda.set_rng_state(state[1], device)


class PDiffCallback(Callback):
    """Per-epoch bookkeeping of a P-DIFF run, and its safety checks.

    - At each epoch end it records the diagnostics in the history and stores
      the random-number state in the criterion; at each epoch start it
      restores that state, so a run resumed from a pickle or a checkpoint
      draws the same shuffles and dropout masks as an uninterrupted one.
    - After each training batch it stops training on a non-finite loss, and
      at the end of training on non-finite parameters.
    - Under data-parallel training, the epoch's kept share and, at the end
      of training, the per-example statistics are combined across the
      processes (see :class:`~cleanlab_pdiff.loss.PDiffLoss`).
    """

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        criterion = net.criterion_
        if criterion.rng_state is not None:
            _set_rng_state(criterion.rng_state, net.torch_device)
        criterion.begin_epoch(len(net.history) - 1)

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        if not training:
            return
        # skorch has already read the loss to the host for its history.
        loss = net.history[-1, "batches", -1, "train_loss"]
        if not math.isfinite(loss):
            epoch, batch_number = len(net.history), len(net.history[-1, "batches"])
            raise FloatingPointError(
                f"Training diverged: the loss is {loss} at epoch {epoch}, batch "
                f"{batch_number}. Scale the features (e.g. StandardScaler), lower lr, or "
                f"check X for extreme values."
            )

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        criterion = net.criterion_
        pdiff = criterion.pdiff
        # One host read per epoch, for the history.
        net.history.record("drop_rate", float(pdiff.drop_rate))
        net.history.record("delta_threshold", -1.1 + BIN_WIDTH * int(pdiff.t_bin))
        net.history.record("kept_fraction", float(criterion.kept_fraction(len(net.history) - 1)))
        net.history.record("saturation", float(saturation(pdiff.hist)))
        net.history.record("weighting", pdiff.full)
        criterion.rng_state = _rng_state(net.torch_device)

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        if is_synchronised(net.criterion_.pdiff.sync):
            _yield_to_gloo_at_exit()

    def on_train_end(self, net, X=None, y=None, **kwargs):
        # Under data-parallel training: every process gets the statistics of every row.
        net.criterion_.all_reduce_examples(len(net.history) - 1)
        finite = all(torch.isfinite(p).all() for p in net.module_.parameters())
        if not finite:
            raise FloatingPointError(
                f"Training diverged: the network's parameters are not finite after epoch "
                f"{len(net.history)}. Scale the features or lower lr."
            )


class ValidAccuracy(Callback):
    """Record ``valid_acc``, the share of validation examples predicted as labelled, each epoch.

    Under label noise the validation labels are noisy too: their loss mostly
    measures how confidently the network predicts the wrong ones, while their
    accuracy still rises and falls with the accuracy on the true labels (the
    wrong labels disagree with any good model alike). So this is what early
    stopping watches. It counts from the predictions skorch already computes
    for the validation loss: no extra pass.
    """

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        self.correct_, self.total_ = 0, 0

    def on_batch_end(self, net, batch=None, training=None, y_pred=None, **kwargs):
        if training or y_pred is None:
            return
        labels = batch[1]["label"].to(y_pred.device)
        self.correct_ += int((y_pred.argmax(dim=1) == labels).sum())
        self.total_ += len(labels)

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        if self.total_:
            net.history.record("valid_acc", self.correct_ / self.total_)


def training_callbacks(estimator, validating):
    """P-DIFF's callback, the validation ones, then the user's (checked for a split they need).

    ``validating``: whether the net holds rows out to score each epoch.
    """
    callbacks = [(CALLBACK_NAME, PDiffCallback())]
    if validating:
        callbacks.append(("valid_acc", ValidAccuracy()))
        if estimator.early_stopping:
            patience = 10 if estimator.early_stopping is True else estimator.early_stopping
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStopping("valid_acc", patience, lower_is_better=False, load_best=True),
                )
            )
    for callback in estimator.callbacks or []:
        monitor = getattr(callback[1] if isinstance(callback, tuple) else callback, "monitor", "")
        if not validating and isinstance(monitor, str) and monitor.startswith("valid"):
            raise ValueError(
                f"a callback monitors {monitor!r}, which needs a validation split: set "
                f"validation_fraction (e.g. 0.1), or early_stopping=True to stop when the "
                f"validation accuracy stops rising."
            )
    # P-DIFF's first, so that its epoch-end state is in place before a user's Checkpoint
    # saves the criterion.
    return [*callbacks, *(estimator.callbacks or [])]
