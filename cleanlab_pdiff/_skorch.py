"""skorch glue: a net that overrides ``get_loss`` and a callback for epochs and safety.

The estimator passes targets as a dict routed with each batch (skorch's FAQ
recipe for per-sample data): ``{"label": ..., "index": ..., "weight": ...}``, the
weight only when the user gave sample weights.
The P-DIFF state itself lives in the criterion, :class:`~cleanlab_pdiff.loss.PDiffLoss`.
With an ``accelerate.Accelerator``, the net is :class:`AcceleratedPDiffNet`.
"""

import atexit
import functools
import math
import time

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback
from skorch.dataset import Dataset as SkorchDataset
from skorch.hf import AccelerateMixin
from skorch.utils import to_tensor
from torch import distributed as dist
from torch.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    Sampler,
    SequentialSampler,
    default_convert,
)

from .pdiff import BIN_WIDTH, is_synchronised, saturation

#: Name under which the P-DIFF callback is registered with the net.
CALLBACK_NAME = "pdiff"


def softmax(logits):
    """Turn the network's logits into probabilities for ``predict_proba``."""
    return torch.softmax(logits, dim=-1)


class EpochShuffle(Sampler):
    """A random order of ``range(n)``, drawn afresh each epoch from the global torch generator.

    It draws exactly as ``RandomSampler`` without a generator does (one seed
    from the global generator per epoch), so the order follows the
    estimator's seeded, saved and restored random state. Under
    ``torch.distributed`` the seed of the first process is broadcast (once
    an epoch), so every process shuffles alike and a sharding batch sampler
    (Accelerate's) deals out disjoint batches. Having no ``generator``
    attribute, it is left as it is by Accelerate, which would otherwise
    give it a generator of its own.

    Parameters
    ----------
    n : int
        Number of rows.
    """

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __iter__(self):
        seed = int(torch.empty((), dtype=torch.int64).random_().item())
        if is_synchronised():
            seeds = [seed]
            dist.broadcast_object_list(seeds, src=0)
            seed = seeds[0]
        generator = torch.Generator()
        generator.manual_seed(seed)
        yield from torch.randperm(self.n, generator=generator).tolist()


class _BatchFetch(Dataset):
    """``dataset`` with ``__getitems__``: the DataLoader fetches a batch with one index."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        return self.dataset[index]

    def __getitems__(self, indices):
        data = self.dataset
        if isinstance(data, SkorchDataset) and _is_array(data.X) and _are_arrays(data.y):
            # What skorch's Dataset does, with a NumPy index: skorch would turn it into a
            # list of ints, which scikit-learn's indexing then checks one int at a time
            # (about 80 us a batch of 128, half of P-DIFF's own cost per step).
            index = np.asarray(indices)
            return data.transform(data.X[index], _take(data.y, index))
        return data[indices]


def _is_array(data):
    return isinstance(data, np.ndarray)


def _are_arrays(y):
    return (
        y is None
        or _is_array(y)
        or (isinstance(y, dict) and all(_is_array(value) for value in y.values()))
    )


def _take(y, index):
    if isinstance(y, dict):
        return {key: value[index] for key, value in y.items()}
    return None if y is None else y[index]


def batch_loader(dataset, batch_size, shuffle=False, **kwargs):
    """Return a DataLoader that indexes ``dataset`` once per batch, not once per row.

    skorch's default loader fetches and collates every row on its own, which
    costs more than a small network's step. Fetching a batch with one fancy
    index of the arrays is exact (the sampler draws the same order) and
    much faster; ``default_convert`` turns the arrays into tensors, as a
    loader without batching does. Passed to the net as
    ``iterator_train``/``iterator_valid``, with ``num_workers`` and
    ``pin_memory`` among ``kwargs``. Accelerate shards its batch sampler.
    """
    rows = EpochShuffle(len(dataset)) if shuffle else SequentialSampler(dataset)
    batches = BatchSampler(rows, batch_size, drop_last=False)
    return DataLoader(
        _BatchFetch(dataset), batch_sampler=batches, collate_fn=default_convert, **kwargs
    )


def print_once(*args, **kwargs):
    """``print``, on the first process only when ``torch.distributed`` runs several."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0:
        print(*args, **kwargs)


def net_device(net):
    """Return the ``torch.device`` that ``net`` trains on, also when Accelerate places it."""
    device = torch.device(net.device) if net.device is not None else net.accelerator.device
    # Accelerate names the CPU of process 0 "cpu:0", which torch.load can't map to.
    return torch.device("cpu") if device.type == "cpu" else device


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
            _set_rng_state(criterion.rng_state, net_device(net))
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
        criterion.rng_state = _rng_state(net_device(net))

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


class PDiffNet(NeuralNet):
    """skorch net whose training loss is P-DIFF-weighted cross-entropy.

    :meth:`get_loss` unpacks the routed targets and hands the criterion the
    epoch (the number of completed epochs) when training; :meth:`infer`
    runs the module under mixed precision when ``autocast_dtype`` is given.

    Parameters
    ----------
    *args, **kwargs
        As for ``skorch.NeuralNet``.
    autocast_dtype : torch.dtype or None, default=None
        Lower-precision dtype of :func:`torch.autocast` for the module's
        forward pass, in training and prediction; the logits come back as
        float32, so the loss and P-DIFF's statistics are computed in full
        precision. ``None``: float32 throughout.
    """

    def __init__(self, *args, autocast_dtype=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.autocast_dtype = autocast_dtype

    def infer(self, x, **fit_params):
        """Return the module's logits, computed under autocast if ``autocast_dtype`` is set."""
        if self.autocast_dtype is None:
            return super().infer(x, **fit_params)
        with torch.autocast(net_device(self).type, dtype=self.autocast_dtype):
            logits = super().infer(x, **fit_params)
        return logits.float()

    def get_loss(self, y_pred, y_true, X=None, training=False):
        labels, index, sample_weight = (
            to_tensor(y_true[key], device=self.device) if key in y_true else None
            for key in ("label", "index", "weight")
        )
        epoch = len(self.history) - 1 if training else None
        return self.criterion_(y_pred, labels, sample_weight, index, epoch)


class AcceleratedPDiffNet(AccelerateMixin, PDiffNet):
    """:class:`PDiffNet` trained through an ``accelerate.Accelerator`` (skorch's mixin).

    The accelerator prepares the module (wrapped in ``DistributedDataParallel``
    when several processes train), the optimizer and the data loaders, which
    it shards by whole batches. It leaves the criterion alone (see
    :meth:`initialize_criterion`).
    """

    def initialize_criterion(self):
        """Initialise the criterion, on the accelerator's device, and keep Accelerate off it.

        The criterion has no parameters to synchronise, and its buffers (the
        window, each process's per-example statistics) must not be replaced
        by process 0's: yet on CPUs Accelerate wraps any module it prepares
        in ``DistributedDataParallel``, which broadcasts them at every call.
        Marked as prepared, it is passed over.
        """
        super().initialize_criterion()
        if self.accelerator.device_placement:
            self.criterion_.to(self.accelerator.device)
        self.criterion_._is_accelerate_prepared = True
        return self

    def __reduce_ex__(self, protocol):
        """Pickle as a plain :class:`PDiffNet` on the device this process trained on.

        An Accelerator is this process's handle on a distributed run: loaded
        elsewhere, it would still shard and gather as if its processes were
        there. The plain net predicts, and trains on, where it is loaded.
        """
        state = dict(vars(self))
        for name in ("accelerator", "unwrap_after_train", "_wrapped_with_accelerator"):
            del state[name]
        state["device"] = str(net_device(self))
        if "module_" in state:
            state["module_"] = self.accelerator.unwrap_model(self.module_)
            state["optimizer_"] = getattr(self.optimizer_, "optimizer", self.optimizer_)
        plain = _new_pdiff_net()
        vars(plain).update(state)
        return _new_pdiff_net, (), plain.__getstate__()


def _new_pdiff_net():
    """Return an empty :class:`PDiffNet` for unpickling to fill in (see ``__reduce_ex__``)."""
    return PDiffNet.__new__(PDiffNet)
