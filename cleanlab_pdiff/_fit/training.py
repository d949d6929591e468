"""Building a fit's skorch net, training it and predicting with it, on private random state.

:func:`build_net` assembles the net of a :class:`~cleanlab_pdiff.PDiffClassifier` from
its hyper-parameters and a :class:`NetSetup`; :func:`train_new_net`,
:func:`continue_training` and :func:`predict_proba` run it on a private copy of the
random state (:func:`forked_rng`). A validation split is given to the net only while
it trains: a fitted net keeps no reference to the training rows.
"""

import contextlib
import functools
import math
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from skorch.helper import predefined_split
from torch import distributed as dist

from ..loss import PDiffLoss
from ..networks import build_module
from .batches import batch_loader, training_batches
from .callbacks import training_callbacks
from .net import AcceleratedPDiffNet, PDiffNet, softmax
from .placement import Placement

__all__ = [
    "NetSetup",
    "build_net",
    "cap_window",
    "continue_training",
    "predict_proba",
    "running",
    "train_new_net",
    "validation_share",
]


@dataclass(frozen=True)
class NetSetup:
    """What every net of a fit is built for, and where and how it runs.

    Attributes
    ----------
    sample_shape : tuple of int
        Shape of one sample; the network is built for it when the net is initialised
        (:func:`~cleanlab_pdiff.networks.build_module`), under the generator that
        :func:`train_new_net` seeds.
    n_classes : int
        Number of classes.
    placement : Placement
        Device, accelerator and precision.
    scaling : (ndarray, ndarray) or None
        ``(mean, scale)`` that standardise each batch, or None.
    """

    sample_shape: tuple
    n_classes: int
    placement: Placement
    scaling: tuple | None = None


def print_once(*args, **kwargs):
    """``print``, on the first process only when ``torch.distributed`` runs several."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0:
        print(*args, **kwargs)


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


def validation_share(estimator):
    """Return the share of the rows held out for validation (0: none)."""
    if estimator.validation_fraction is None:
        return 0.1 if estimator.early_stopping else 0.0
    return estimator.validation_fraction


def build_net(estimator, setup, n_samples):
    """Return the (uninitialised) skorch net that trains for ``estimator``.

    Parameters
    ----------
    estimator : PDiffClassifier
        Its (checked) hyper-parameters configure the net, the P-DIFF criterion and the
        loaders.
    setup : NetSetup
        What the net is built for, and where it runs.
    n_samples : int
        Number of rows the criterion follows by their number (``index``). Before it trains,
        :func:`cap_window` caps the P-DIFF window at an epoch of the rows it trains on.

    Returns
    -------
    net : PDiffNet or AcceleratedPDiffNet
    """
    accelerator = setup.placement.accelerator
    if accelerator is None:
        net_class, placement = PDiffNet, {"device": str(setup.placement.device)}
        if not estimator.verbose:
            # skorch's log would tabulate every epoch to print nothing.
            placement["callbacks__print_log"] = None
    else:
        net_class = AcceleratedPDiffNet
        placement = {
            "accelerator": accelerator,
            "device": None if accelerator.device_placement else str(setup.placement.device),
            # skorch's log prints through any sink but `print` whatever the verbosity.
            "callbacks__print_log__sink": print_once if estimator.verbose else print,
        }
    loader = {
        "num_workers": estimator.num_workers,
        "pin_memory": estimator.pin_memory,
        "scaling": setup.scaling,
    }
    return net_class(
        functools.partial(build_module, estimator.module, setup.sample_shape, setup.n_classes),
        criterion=PDiffLoss,
        criterion__window=estimator.window,
        criterion__noise_rate=estimator.noise_rate,
        criterion__t_k=estimator.t_k,
        criterion__zeta=estimator.zeta,
        criterion__n_classes=setup.n_classes if estimator.per_class else None,
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
        callbacks=training_callbacks(estimator, validating=validation_share(estimator) > 0),
        autocast_dtype=setup.placement.autocast_dtype,
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


def cap_window(net, n_rows):
    """Cap the P-DIFF window of the uninitialised ``net`` at an epoch of ``n_rows`` rows."""
    accelerator = net.accelerator if isinstance(net, AcceleratedPDiffNet) else None
    net.set_params(criterion__epoch_batches=_epoch_batches(n_rows, net.batch_size, accelerator))


def _seed(random_state):
    """Return the seed of a training, drawn from ``random_state`` as scikit-learn would."""
    return check_random_state(random_state).randint(np.iinfo(np.int32).max)


def _split(data, rows, validation, seed):
    """Return ``(trained, held)``: a ``validation`` share of ``rows`` held out.

    Stratified where every class can be on both sides: each has two rows or more and the
    share holds a row per class.
    """
    if not validation:
        return rows, None
    counts = np.bincount(data.labels[rows])
    counts = counts[counts > 0]
    stratified = counts.min() >= 2 and math.ceil(validation * rows.size) >= counts.size
    stratify = data.labels[rows] if stratified else None
    return train_test_split(rows, test_size=validation, stratify=stratify, random_state=seed)


@contextlib.contextmanager
def _validating_on(net, held):
    """Let ``net`` score each epoch on the rows ``held`` while it trains, then forget them."""
    if held is None:
        yield
        return
    net.set_params(train_split=predefined_split(held))
    try:
        yield
    finally:
        net.set_params(train_split=None)


def train_new_net(net, data, random_state, validation=0.0, rows=None):
    """Initialise and train ``net`` on ``data`` under generators seeded from ``random_state``.

    Parameters
    ----------
    net : PDiffNet
        From :func:`build_net`.
    data : TrainingData
        The training rows, read in place; each keeps its number in ``data``.
    random_state : int, RandomState instance or None
        Seeds the split, the initialisation, the shuffles and dropout.
    validation : float, default=0.0
        Share of the rows (stratified) held out to score each epoch.
    rows : ndarray of int, default=None
        The rows to train on (default: all). The P-DIFF window is capped at an epoch
        of the rows trained on.
    """
    seed = _seed(random_state)
    trained, held = _split(data, np.arange(data.n_rows) if rows is None else rows, validation, seed)
    cap_window(net, len(trained))
    accelerator = net.accelerator if isinstance(net, AcceleratedPDiffNet) else None
    if accelerator is not None:
        # Process 0's initial weights reach the others when the module is wrapped and the
        # shuffling seed is shared; dropout is drawn independently by each process.
        seed += accelerator.process_index
    with _validating_on(net, None if held is None else data.rows(held)), running(net, seed):
        net.fit(data.rows(trained), None)


def continue_training(net, data, epochs, random_state, validation=0.0):
    """Train ``net`` for ``epochs`` more epochs on ``data`` (skorch's ``partial_fit``).

    With ``validation``, the rows are split as :func:`train_new_net` splits them (the
    same rows are held out of the same data).
    """
    if net.criterion_.last_weights.numel() != data.n_rows:
        # Other rows than the last call's: their per-example results start afresh.
        net.criterion_.reset_examples(data.n_rows)
    rows = np.arange(data.n_rows)
    trained, held = _split(data, rows, validation, _seed(random_state) if validation else None)
    with _validating_on(net, None if held is None else data.rows(held)), running(net):
        net.partial_fit(data.rows(trained), epochs=epochs)


def predict_proba(net, rows, n_classes):
    """Return the softmax of ``net``'s logits for ``rows``, float32 of shape (N, n_classes).

    ``rows`` is a :class:`~cleanlab_pdiff._fit.inputs.RowSubset` (its targets unused).
    """
    # Written batch by batch into one array: skorch's predict_proba keeps a list of
    # small per-batch arrays, which fragments the heap (up to 1.6 x X's size on 1M rows).
    proba = np.empty((len(rows), n_classes), dtype=np.float32)
    start = 0
    # The DataLoader draws a seed even without shuffling; keep the caller's state.
    with running(net):
        for logits in net.forward_iter(rows, training=False):
            stop = start + logits.shape[0]
            proba[start:stop] = softmax(logits).numpy()
            start = stop
    return proba
