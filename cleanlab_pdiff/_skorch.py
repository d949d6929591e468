"""skorch glue: a net that overrides ``get_loss`` and a callback for epochs and safety.

The estimator passes targets as a dict routed with each batch (skorch's FAQ
recipe for per-sample data): ``{"label": ..., "index": ..., "weight": ...}``, the
weight only when the user gave sample weights.
The P-DIFF state itself lives in the criterion, :class:`~cleanlab_pdiff.loss.PDiffLoss`.
"""

import math

import torch
from skorch import NeuralNet
from skorch.callbacks import Callback
from skorch.utils import to_tensor
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler

from .pdiff import BIN_WIDTH, saturation

#: Name under which the P-DIFF callback is registered with the net.
CALLBACK_NAME = "pdiff"


def softmax(logits):
    """Turn the network's logits into probabilities for ``predict_proba``."""
    return torch.softmax(logits, dim=-1)


def batch_loader(dataset, batch_size, shuffle=False, **kwargs):
    """Return a DataLoader that indexes ``dataset`` once per batch, not once per row.

    skorch's default loader fetches and collates every row on its own, which
    costs more than a small network's step. Fetching a batch with one fancy
    index of the arrays is exact (the sampler draws the same order) and
    much faster. Passed to the net as ``iterator_train``/``iterator_valid``.
    """
    rows = RandomSampler(dataset) if shuffle else SequentialSampler(dataset)
    batches = BatchSampler(rows, batch_size, drop_last=False)
    return DataLoader(dataset, batch_size=None, sampler=batches, **kwargs)


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
    """

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        criterion = net.criterion_
        if criterion.rng_state is not None:
            _set_rng_state(criterion.rng_state, torch.device(net.device))

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
        net.history.record("kept_fraction", float(criterion.kept_fraction()))
        net.history.record("saturation", float(saturation(pdiff.hist)))
        net.history.record("weighting", pdiff.full)
        criterion.rng_state = _rng_state(torch.device(net.device))

    def on_train_end(self, net, X=None, y=None, **kwargs):
        finite = all(torch.isfinite(p).all() for p in net.module_.parameters())
        if not finite:
            raise FloatingPointError(
                f"Training diverged: the network's parameters are not finite after epoch "
                f"{len(net.history)}. Scale the features or lower lr."
            )


class PDiffNet(NeuralNet):
    """skorch net whose training loss is P-DIFF-weighted cross-entropy.

    The only override is :meth:`get_loss`, which unpacks the routed targets
    and hands the criterion the epoch (the number of completed epochs) when
    training.
    """

    def get_loss(self, y_pred, y_true, X=None, training=False):
        labels, index, sample_weight = (
            to_tensor(y_true[key], device=self.device) if key in y_true else None
            for key in ("label", "index", "weight")
        )
        epoch = len(self.history) - 1 if training else None
        return self.criterion_(y_pred, labels, sample_weight, index, epoch)
