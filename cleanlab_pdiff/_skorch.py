"""skorch glue: the net that trains the estimator's network, and how it is built.

:class:`PDiffNet` overrides ``get_loss`` (to hand the criterion, which holds all
P-DIFF state, the routed targets and the epoch) and ``infer`` (for bfloat16
autocast); :class:`AcceleratedPDiffNet` trains through an
``accelerate.Accelerator`` and also overrides ``initialize_criterion`` and
``__reduce_ex__`` (see their docstrings for why). :func:`build_net` assembles the
net of a :class:`~cleanlab_pdiff.PDiffClassifier`; the targets are a dict routed
with each batch (skorch's FAQ recipe for per-sample data): ``{"label": ...,
"index": ..., "weight": ...}``, the weight only when the user gave sample weights.
:func:`train_new_net`, :func:`continue_training` and :func:`predict_proba` run the
net on a private copy of the random state (:func:`forked_rng`).
"""

import contextlib
import functools
import math
import numbers
import warnings

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from skorch import NeuralNet
from skorch.helper import predefined_split
from skorch.hf import AccelerateMixin
from skorch.utils import to_tensor
from torch import distributed as dist

from ._callback import training_callbacks
from .loader import RowSubset, as_rows, batch_loader, training_batches
from .loss import PDiffLoss
from .networks import build_module


def softmax(logits):
    """Turn the network's logits into probabilities for ``predict_proba``."""
    return torch.softmax(logits, dim=-1)


def print_once(*args, **kwargs):
    """``print``, on the first process only when ``torch.distributed`` runs several."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0:
        print(*args, **kwargs)


def targets(labels, weight, index=None):
    """Return the targets routed with each batch: label, row index and sample weight (if any).

    ``index`` is each row's position among all the training rows (default: in order).
    """
    routed = {"label": labels, "index": np.arange(labels.shape[0]) if index is None else index}
    if weight is not None:
        routed["weight"] = weight
    return routed


@contextlib.contextmanager
def forked_rng(device, seed=None):
    """Run torch code on a private copy of the global generators, optionally seeded.

    Only the CPU generator and, when training on CUDA, that device's one are
    forked and seeded; the caller's states are restored on exit.
    """
    cuda = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        if seed is not None:
            torch.default_generator.manual_seed(seed)
            for index in cuda:
                with torch.cuda.device(index):
                    torch.cuda.manual_seed(seed)
        yield


@contextlib.contextmanager
def running(net, seed=None):
    """Run ``net`` on its own copy of the random state (:func:`forked_rng`) and thread count."""
    threads = torch.get_num_threads()
    if net.n_threads:
        torch.set_num_threads(net.n_threads)
    try:
        with forked_rng(net.torch_device, seed):
            yield
    finally:
        torch.set_num_threads(threads)


def _warn_if_the_ramp_cannot_end(estimator):
    rate, t_k = estimator.noise_rate, estimator.t_k
    dropping = isinstance(rate, str) or (isinstance(rate, numbers.Real) and rate > 0)
    # Bad values are PDiff's to report, when it is built.
    if dropping and isinstance(t_k, numbers.Integral) and estimator.max_epochs <= t_k:
        # The last epoch trains with max_epochs - 1 completed epochs.
        reached = (estimator.max_epochs - 1) / estimator.t_k
        warnings.warn(
            f"max_epochs={estimator.max_epochs} ends before P-DIFF's drop-rate ramp "
            f"(t_k={estimator.t_k} epochs): the last epoch drops only {reached:.0%} of the "
            f"noise rate. Raise max_epochs above t_k, or lower t_k.",
            UserWarning,
            stacklevel=5,  # the caller of fit
        )


def build_net(estimator, data_shape, n_classes, device, accelerator, autocast_dtype, scaling):
    """Return the (uninitialised) skorch net that trains for ``estimator``.

    Parameters
    ----------
    estimator : PDiffClassifier
        Its hyper-parameters configure the net, the P-DIFF criterion (which
        checks its own) and the loaders.
    data_shape : tuple of int
        Shape of the training data, ``(n_samples, *sample_shape)``. The
        network is built for the sample shape when the net is initialised
        (:func:`~cleanlab_pdiff.networks.build_module`), under the generator
        that :func:`train_new_net` seeds.
    n_classes : int
        Number of classes.
    device : torch.device
        Where to train (the accelerator's device with an accelerator).
    accelerator : accelerate.Accelerator or None
        Train through it (data-parallel), or not.
    autocast_dtype : torch.dtype or None
        Mixed precision of the forward pass.
    scaling : (ndarray, ndarray) or None
        ``(mean, scale)`` that standardise each batch, or None.

    Returns
    -------
    net : PDiffNet or AcceleratedPDiffNet
    """
    _warn_if_the_ramp_cannot_end(estimator)
    n_samples, *input_shape = data_shape
    if accelerator is None:
        net_class, placement = PDiffNet, {"device": str(device)}
        if not estimator.verbose:
            # skorch's log would tabulate every epoch to print nothing.
            placement["callbacks__print_log"] = None
    else:
        net_class = AcceleratedPDiffNet
        placement = {
            "accelerator": accelerator,
            "device": None if accelerator.device_placement else str(device),
            # skorch's log prints through any sink but `print` whatever the verbosity.
            "callbacks__print_log__sink": print_once if estimator.verbose else print,
        }
    loader = {
        "num_workers": estimator.num_workers,
        "pin_memory": estimator.pin_memory,
        "scaling": scaling,
    }
    return net_class(
        functools.partial(build_module, estimator.module, tuple(input_shape), n_classes),
        criterion=PDiffLoss,
        criterion__window=estimator.window,
        criterion__noise_rate=estimator.noise_rate,
        criterion__t_k=estimator.t_k,
        criterion__zeta=estimator.zeta,
        criterion__n_classes=n_classes if estimator.per_class else None,
        criterion__epoch_batches=_epoch_batches(n_samples, estimator.batch_size, accelerator),
        criterion__n_samples=n_samples,
        predict_nonlinearity=softmax,
        optimizer=estimator.optimizer,
        lr=estimator.lr,
        optimizer__weight_decay=estimator.weight_decay,
        max_epochs=estimator.max_epochs,
        batch_size=estimator.batch_size,
        iterator_train=batch_loader,
        iterator_train__shuffle=True,
        iterator_train__join_single=accelerator is None,
        iterator_train__augment=estimator.augment,
        **{f"iterator_train__{name}": value for name, value in loader.items()},
        iterator_valid=batch_loader,
        **{f"iterator_valid__{name}": value for name, value in loader.items()},
        train_split=None,
        callbacks=training_callbacks(estimator),
        autocast_dtype=autocast_dtype,
        n_threads=estimator.n_threads,
        verbose=estimator.verbose,
        **placement,
    )


def _epoch_batches(n_rows, batch_size, accelerator):
    """Return the batches each process trains on in an epoch of ``n_rows``: the window's cap."""
    n_processes = 1 if accelerator is None else accelerator.num_processes
    # Each process takes every n_processes-th batch: the window counts its own steps. A
    # last batch of one row joins the one before it, except under Accelerate.
    return math.ceil(training_batches(n_rows, batch_size, accelerator is None) / n_processes)


def train_new_net(net, X, labels, weight, random_state, validation=0.0, rows=None):
    """Initialise and train ``net`` on ``X`` under generators seeded from ``random_state``.

    The network trains on the rows ``rows`` of ``X`` (default: all), read in
    place. A ``validation`` share of them (stratified) is held out to score each
    epoch. Each row keeps its number in ``X``; the P-DIFF window is capped at an
    epoch of the rows it trains on.
    """
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    rows = np.arange(labels.shape[0]) if rows is None else rows
    if validation:
        counts = np.bincount(labels[rows])
        stratify = labels[rows] if counts[counts > 0].min() >= 2 else None
        rows, held = train_test_split(
            rows, test_size=validation, stratify=stratify, random_state=seed
        )
        net.set_params(train_split=predefined_split(_rows_of(X, labels, weight, held)))
    accelerator = net.accelerator if isinstance(net, AcceleratedPDiffNet) else None
    net.set_params(criterion__epoch_batches=_epoch_batches(len(rows), net.batch_size, accelerator))
    train = _rows_of(X, labels, weight, rows)
    if accelerator is not None:
        # Process 0's initial weights reach the others when the module is wrapped and the
        # shuffling seed is shared; dropout is drawn independently by each process.
        seed += accelerator.process_index
    with running(net, seed):
        net.fit(train, None)


def _rows_of(X, labels, weight, rows):
    """Return the rows ``rows`` of ``X`` with their targets, each keeping its row number."""
    return RowSubset(X, targets(labels[rows], None if weight is None else weight[rows], rows), rows)


def check_continuable(estimator, classes):
    """Raise unless ``partial_fit`` can continue the fitted ``estimator`` with ``classes``.

    A data-parallel fit can't continue, nor a retrained one; ``classes``, if
    given, must be the fitted ``classes_``.
    """
    if classes is not None and not np.array_equal(np.unique(classes), estimator.classes_):
        raise ValueError(
            f"classes must equal classes_ {estimator.classes_.tolist()} once fitted, got "
            f"{np.unique(classes).tolist()}."
        )
    if getattr(estimator, "retrained_on_", None) is not None:
        raise NotImplementedError(
            "partial_fit can't continue a fit with retrain: the model is the retrained "
            "network, the per-example results the P-DIFF run's. Fit again."
        )
    net = estimator.net_
    if isinstance(net, AcceleratedPDiffNet) and net.accelerator.num_processes > 1:
        raise NotImplementedError(
            "partial_fit can't continue a data-parallel fit: skorch unwraps the "
            "distributed network after training. Fit again with more max_epochs."
        )


def continue_training(net, X, labels, weight, epochs):
    """Train ``net`` for ``epochs`` more epochs (skorch's ``partial_fit``)."""
    if net.criterion_.last_weights.numel() != labels.shape[0]:
        # Other rows than the last call's: their per-example results start afresh.
        net.criterion_.reset_examples(labels.shape[0])
    with running(net):
        net.partial_fit(as_rows(X, targets(labels, weight)), epochs=epochs)


def predict_proba(net, X, n_classes):
    """Return the softmax of ``net``'s logits for ``X``, float32 of shape (N, n_classes)."""
    # Written batch by batch into one array: skorch's predict_proba keeps a list of
    # small per-batch arrays, which fragments the heap (up to 1.6 x X's size on 1M rows).
    rows = as_rows(X)
    proba = np.empty((len(rows), n_classes), dtype=np.float32)
    start = 0
    # The DataLoader draws a seed even without shuffling; keep the caller's state.
    with running(net):
        for logits in net.forward_iter(rows, training=False):
            stop = start + logits.shape[0]
            proba[start:stop] = softmax(logits).numpy()
            start = stop
    return proba


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
    n_threads : int or None, default=None
        torch's intra-op threads while the net trains or predicts (see
        :func:`running`); ``None`` leaves torch's setting.
    """

    def __init__(self, *args, autocast_dtype=None, n_threads=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.autocast_dtype = autocast_dtype
        self.n_threads = n_threads

    @property
    def torch_device(self):
        """The ``torch.device`` the net trains on, also when Accelerate places it."""
        device = torch.device(self.device) if self.device is not None else self.accelerator.device
        # Accelerate names the CPU of process 0 "cpu:0", which torch.load can't map to.
        return torch.device("cpu") if device.type == "cpu" else device

    def infer(self, x, **fit_params):
        """Return the module's logits, computed under autocast if ``autocast_dtype`` is set."""
        if self.autocast_dtype is None:
            return super().infer(x, **fit_params)
        with torch.autocast(self.torch_device.type, dtype=self.autocast_dtype):
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
        state["device"] = str(self.torch_device)
        if "module_" in state:
            state["module_"] = self.accelerator.unwrap_model(self.module_)
            state["optimizer_"] = getattr(self.optimizer_, "optimizer", self.optimizer_)
        plain = _new_pdiff_net()
        vars(plain).update(state)
        return _new_pdiff_net, (), plain.__getstate__()


def _new_pdiff_net():
    """Return an empty :class:`PDiffNet` for unpickling to fill in (see ``__reduce_ex__``)."""
    return PDiffNet.__new__(PDiffNet)
