"""The skorch callbacks of a fit: P-DIFF's, random state, safety, validation; and their list.

P-DIFF's own callback is the public :class:`~cleanlab_pdiff.skorch.PDiffCallback`, the
one a skorch net of the user's takes; the others here are the estimator's.
"""

import atexit
import functools
import math
import time

import torch
from skorch.callbacks import Callback, EarlyStopping

from ..pdiff import is_synchronised
from ..skorch import PDiffCallback

__all__ = [
    "CALLBACK_NAME",
    "DivergenceCheck",
    "ResumableRandomState",
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


class ResumableRandomState(Callback):
    """Keep the random state in the criterion at each epoch end; restore it at each start.

    A run resumed from a pickle or a checkpoint (which saves the criterion) then
    draws the same shuffles and dropout masks as an uninterrupted one.
    """

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        if net.criterion_.rng_state is not None:
            _set_rng_state(net.criterion_.rng_state, net.torch_device)

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        net.criterion_.rng_state = _rng_state(net.torch_device)


class DivergenceCheck(Callback):
    """Stop training on a non-finite loss, after each batch, or non-finite parameters, at the end.

    Under data-parallel training it also lets gloo's threads finish at exit
    (:func:`_yield_to_gloo_at_exit`).
    """

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        if is_synchronised(net.criterion_.pdiff.sync):
            _yield_to_gloo_at_exit()

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

    def on_train_end(self, net, X=None, y=None, **kwargs):
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
    callbacks = [
        (CALLBACK_NAME, PDiffCallback()),
        ("random_state", ResumableRandomState()),
        ("divergence", DivergenceCheck()),
    ]
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
    # The fit's first, so that the criterion's epoch-end state (P-DIFF's, the random
    # state) is in place before a user's Checkpoint saves it.
    return [*callbacks, *(estimator.callbacks or [])]
