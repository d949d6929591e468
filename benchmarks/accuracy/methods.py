"""The methods the benchmark compares, each trained with the same network and schedule.

Every method gets the same module factory, optimiser, learning rate (and its schedule),
weight decay, batch size and number of epochs (a :class:`Schedule`), and the same seed;
methods built on :class:`~cleanlab_pdiff.PDiffClassifier` or a skorch net also share its
batch-level data loader. Test accuracy is measured at the end of each of the last
``Schedule.last`` epochs (:class:`EpochTestAccuracy` for the skorch-based methods, the
same function in Co-teaching's loop); the time spent on it is not counted in the fit time.
Torch is seeded for a seed as ``PDiffClassifier(random_state=seed)`` seeds it
(:func:`benchmarks.common.seeded`), so every method starts from the same network.

:data:`METHODS` maps a method's key to its runner, a function
``(data, schedule, seed, device, record=False) -> dict``; see :func:`run_method`.
"""

import functools
import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
from cleanlab.classification import CleanLearning
from cleanlab.experimental.coteaching import (
    MINIMUM_BATCH_SIZE,
    forget_rate_scheduler,
    loss_coteaching,
)
from cleanlab.filter import find_label_issues
from cleanlab.rank import get_label_quality_scores
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback, LRScheduler
from torch import nn
from torch.nn import functional as F
from torch.optim.lr_scheduler import MultiStepLR

from cleanlab_pdiff import PDiffClassifier
from cleanlab_pdiff.label_issues import cross_val_pred_probs
from cleanlab_pdiff.loader import batch_loader
from cleanlab_pdiff.recording import DeltaRecorder

from ..common import seeded

__all__ = [
    "METHODS",
    "EpochTestAccuracy",
    "GCELoss",
    "Method",
    "NoisyData",
    "Schedule",
    "run_method",
]


@dataclass(frozen=True)
class Schedule:
    """Training settings shared by every method of a benchmark cell.

    Parameters
    ----------
    epochs : int
        Training epochs.
    t_k : int
        Epochs of P-DIFF's drop-rate ramp; also Co-teaching's ``num_gradual``.
    batch_size : int
        Mini-batch size.
    lr : float
        (Initial) learning rate.
    optimizer : {"adam", "sgd"}, default="adam"
        ``torch.optim.Adam``, or ``torch.optim.SGD`` with ``momentum``.
    momentum : float, default=0.9
        SGD momentum.
    weight_decay : float, default=0.0
        L2 penalty of the optimiser.
    milestones : tuple of int, default=()
        Epochs after which the learning rate is multiplied by 0.1.
    cv_folds : int, default=3
        Cross-validation folds of CleanLearning.
    last : int, default=10
        Number of final epochs whose test accuracies are averaged.
    """

    epochs: int
    t_k: int
    batch_size: int
    lr: float
    optimizer: str = "adam"
    momentum: float = 0.9
    weight_decay: float = 0.0
    milestones: tuple = ()
    cv_folds: int = 3
    last: int = 10

    def optimizer_class(self):
        """Return the optimiser as a callable ``(params, lr, weight_decay) -> Optimizer``."""
        if self.optimizer == "sgd":
            return functools.partial(torch.optim.SGD, momentum=self.momentum)
        if self.optimizer == "adam":
            return torch.optim.Adam
        raise ValueError(f"optimizer must be 'adam' or 'sgd', got {self.optimizer!r}.")

    def lr_callbacks(self):
        """Return fresh skorch callbacks for the learning-rate steps (none without milestones)."""
        if not self.milestones:
            return []
        scheduler = LRScheduler(MultiStepLR, milestones=list(self.milestones), gamma=0.1)
        return [("lr_steps", scheduler)]


@dataclass
class NoisyData:
    """One benchmark cell's data: training features with given and true labels, a test set.

    Parameters
    ----------
    X : ndarray
        Training features, float32, 2-D or (N, C, H, W).
    y_noisy : ndarray of shape (n_samples,)
        Given (noisy) labels, integers 0..K-1.
    y_true : ndarray of shape (n_samples,)
        True labels.
    X_test : ndarray
        Test features.
    y_test : ndarray of shape (n_test,)
        Test labels.
    module : callable
        ``(n_features, n_classes) -> nn.Module``, the network of every method.
    n_classes : int
        Number of classes K.
    """

    X: np.ndarray
    y_noisy: np.ndarray
    y_true: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    module: object
    n_classes: int
    noise_rate: float = field(init=False)

    def __post_init__(self):
        self.noise_rate = float(np.mean(self.y_noisy != self.y_true))


class EpochTestAccuracy(Callback):
    """skorch callback: test accuracy at the end of each of the last ``last`` epochs.

    A training that early stopping ends sooner (``retrain``'s) is evaluated once, after its
    best epoch's network is restored.

    It reads the net's predictions in evaluation mode. Inside
    :class:`~cleanlab_pdiff.PDiffClassifier` it leaves training unchanged: the
    data loader's seed draw is undone when the next epoch restores the random
    state stored at this epoch's end.

    Parameters
    ----------
    X : ndarray
        Test features.
    y : ndarray of shape (n_test,)
        Test labels (indices of the net's classes).
    last : int, default=10
        Number of final epochs to evaluate.

    Attributes
    ----------
    epochs_ : list of int
        Evaluated epochs, numbered from 1.
    accuracies_ : list of float
        Test accuracy after each of them.
    seconds_ : float
        Time spent evaluating.
    """

    def __init__(self, X, y, last=10):
        self.X = X
        self.y = y
        self.last = last

    def initialize(self):
        """Start empty (skorch calls this when the net is initialised)."""
        self.epochs_, self.accuracies_, self.seconds_ = [], [], 0.0
        return self

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        """Evaluate when the epoch is among the last ``last``."""
        if len(net.history) > net.max_epochs - self.last:
            self._evaluate(net)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        """Evaluate the final network once if early stopping ended training before then."""
        if not self.accuracies_:
            self._evaluate(net)

    def _evaluate(self, net):
        start = time.perf_counter()
        predicted = net.predict_proba(self.X).argmax(axis=1)
        self.epochs_.append(len(net.history))
        self.accuracies_.append(float(np.mean(predicted == self.y)))
        self.seconds_ += time.perf_counter() - start


class GCELoss(nn.Module):
    """Generalised cross-entropy, ``(1 - p[y] ** q) / q`` (Zhang and Sabuncu, 2018).

    ``q -> 0`` gives cross-entropy, ``q = 1`` the mean absolute error; ``q = 0.7`` is
    the paper's choice.

    Parameters
    ----------
    q : float, default=0.7
        Exponent, in (0, 1].

    Examples
    --------
    >>> loss = GCELoss()(torch.tensor([[10.0, -10.0]]), torch.tensor([0]))
    >>> round(float(loss), 4)
    0.0
    """

    def __init__(self, q=0.7):
        super().__init__()
        self.q = q

    def forward(self, logits, labels):
        """Return the batch mean of the loss on the network's logits."""
        log_p = F.log_softmax(logits, dim=1).gather(1, labels[:, None]).squeeze(1)
        return ((1 - torch.exp(self.q * log_p)) / self.q).mean()


def _pdiff_classifier(data, schedule, seed, device, callbacks=(), **params):
    return PDiffClassifier(
        data.module,
        t_k=schedule.t_k,
        max_epochs=schedule.epochs,
        batch_size=schedule.batch_size,
        lr=schedule.lr,
        optimizer=schedule.optimizer_class(),
        weight_decay=schedule.weight_decay,
        device=device,
        callbacks=[*callbacks, *schedule.lr_callbacks()],
        random_state=seed,
        # Every method gets the same features, scaled by the data loader.
        standardize=False,
        **params,
    )


def _result(accuracies, fit_seconds, estimate=math.nan, model=None, quality=None, issues=None):
    """Return a runner's result dict; ``fit_seconds`` excludes the test evaluations.

    ``quality`` (lower = more likely mislabelled) and ``issues`` (a boolean mask)
    are the method's per-example verdicts, for the methods that give them.
    """
    return {
        "acc_last": float(np.mean(accuracies)),
        "acc_final": float(accuracies[-1]),
        "estimated_noise_rate": float(estimate),
        "fit_seconds": fit_seconds,
        "model": model,
        "quality": quality,
        "issues": issues,
    }


def run_pdiff(
    data, schedule, seed, device, *, record=False, clean_only=False, true_labels=False, **params
):
    """Train a :class:`~cleanlab_pdiff.PDiffClassifier`; ``params`` are its options.

    Parameters
    ----------
    data : NoisyData
        The cell's data.
    schedule : Schedule
        Shared training settings.
    seed : int
        ``random_state``.
    device : str
        Torch device.
    record : bool, default=False
        Add a :class:`~cleanlab_pdiff.recording.DeltaRecorder` and return the
        fitted classifier as ``model`` (for the delta figure).
    clean_only : bool, default=False
        Train on the examples whose given label is the true one only (the oracle).
    true_labels : bool, default=False
        Train on every example with its true label (the oracle of real noise).
    **params
        ``noise_rate``, ``per_class``, ... of the classifier. ``noise_rate="true"``
        means the cell's actual noise rate.

    Returns
    -------
    result : dict
        ``acc_last``, ``acc_final``, ``estimated_noise_rate`` (``noise_rate_`` with
        ``"auto"``, else NaN), ``fit_seconds``, ``model``, and ``quality``
        (``training_label_quality_``) and ``issues`` (``label_issues_``), None
        for the oracles.
    """
    X, y = data.X, data.y_true if true_labels else data.y_noisy
    if clean_only:
        keep = data.y_noisy == data.y_true
        X, y = X[keep], y[keep]
    if params.get("noise_rate") == "true":
        params["noise_rate"] = data.noise_rate
    tester = EpochTestAccuracy(data.X_test, data.y_test, schedule.last)
    callbacks = [("test_accuracy", tester)]
    if record:
        callbacks.append(("deltas", DeltaRecorder()))
    clf = _pdiff_classifier(data, schedule, seed, device, callbacks, **params)
    start = time.perf_counter()
    clf.fit(X, y)
    seconds = time.perf_counter() - start
    estimate = clf.noise_rate_ if isinstance(clf.noise_rate, str) else math.nan
    # An oracle trains on other rows or labels than the given ones: nothing to detect.
    oracle = clean_only or true_labels
    return _result(
        tester.accuracies_,
        seconds - tester.seconds_,
        estimate,
        clf if record else None,
        None if oracle else clf.training_label_quality_,
        None if oracle else clf.label_issues_,
    )


def run_gce(data, schedule, seed, device, *, record=False, q=0.7):
    """Train a skorch ``NeuralNetClassifier`` with the generalised cross-entropy loss.

    Parameters
    ----------
    data : NoisyData
        The cell's data.
    schedule : Schedule
        Shared training settings.
    seed : int
        Seed of initialisation, shuffling and dropout.
    device : str
        Torch device.
    record : bool, default=False
        Unused (no delta recording).
    q : float, default=0.7
        GCE's exponent.

    Returns
    -------
    result : dict
        As :func:`run_pdiff`'s, without an estimate.
    """
    tester = EpochTestAccuracy(data.X_test, data.y_test, schedule.last)
    with seeded(seed, device):
        net = NeuralNetClassifier(
            data.module(data.X.shape[1], data.n_classes),
            criterion=GCELoss,
            criterion__q=q,
            optimizer=schedule.optimizer_class(),
            lr=schedule.lr,
            optimizer__weight_decay=schedule.weight_decay,
            max_epochs=schedule.epochs,
            batch_size=schedule.batch_size,
            iterator_train=batch_loader,
            iterator_train__shuffle=True,
            iterator_valid=batch_loader,
            train_split=None,
            classes=np.arange(data.n_classes),
            callbacks=[("test_accuracy", tester), *schedule.lr_callbacks()],
            device=device,
            verbose=0,
        )
        start = time.perf_counter()
        net.fit(data.X, data.y_noisy)
        seconds = time.perf_counter() - start
    return _result(tester.accuracies_, seconds - tester.seconds_)


def _evaluate(model, X, y, batch_size, device):
    """Test accuracy of a bare module, in evaluation mode."""
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, X.shape[0], batch_size):
            batch = torch.as_tensor(X[start : start + batch_size], device=device)
            predicted = model(batch).argmax(dim=1).cpu().numpy()
            correct += int((predicted == y[start : start + batch_size]).sum())
    return correct / X.shape[0]


def run_coteaching(data, schedule, seed, device, *, record=False):
    """Train two networks with Co-teaching (Han et al., 2018), using cleanlab's implementation.

    The loss, the forget-rate schedule and the small-last-batch rule are
    ``cleanlab.experimental.coteaching``'s (``loss_coteaching``,
    ``forget_rate_scheduler(epochs, rate, num_gradual=t_k, exponent=1)``,
    ``MINIMUM_BATCH_SIZE``); its ``train`` function is not used because it moves
    every batch to CUDA unconditionally and needs an ``accuracy`` helper and print
    settings. The forget rate is the cell's true noise rate (Co-teaching assumes it
    known). ``loss_coteaching`` returns each network's mean loss over the kept examples
    divided once more by their number (as the original code does); it is multiplied
    back, which Adam barely notices but SGD needs. The first network is evaluated.

    Parameters
    ----------
    data : NoisyData
        The cell's data.
    schedule : Schedule
        Shared training settings.
    seed : int
        Seed of initialisation, shuffling and dropout.
    device : str
        Torch device.
    record : bool, default=False
        Unused.

    Returns
    -------
    result : dict
        As :func:`run_pdiff`'s, without an estimate.
    """
    forget = forget_rate_scheduler(schedule.epochs, data.noise_rate, schedule.t_k, 1)
    n_samples = data.X.shape[0]
    accuracies, eval_seconds = [], 0.0
    with seeded(seed, device):
        models = [data.module(data.X.shape[1], data.n_classes).to(device) for _ in range(2)]
        optimizers = [
            schedule.optimizer_class()(
                m.parameters(), lr=schedule.lr, weight_decay=schedule.weight_decay
            )
            for m in models
        ]
        schedulers = [MultiStepLR(o, list(schedule.milestones), 0.1) for o in optimizers]
        X = torch.as_tensor(data.X, device=device)
        y = torch.as_tensor(data.y_noisy, device=device)
        start = time.perf_counter()
        for epoch in range(schedule.epochs):
            for model in models:
                model.train()
            batches = torch.randperm(n_samples).split(schedule.batch_size)
            for number, rows in enumerate(batches):
                remember = int((1 - forget[epoch]) * rows.numel())
                small_last = number == len(batches) - 1 and rows.numel() < MINIMUM_BATCH_SIZE
                if small_last or remember == 0:
                    continue
                rows = rows.to(device)
                with warnings.catch_warnings():
                    # loss_coteaching passes F.cross_entropy the legacy reduce=False and
                    # np.argsort a torch tensor (NumPy 2 warns about the tensor's
                    # __array_wrap__); both work as intended.
                    warnings.filterwarnings("ignore", "size_average and reduce args")
                    warnings.filterwarnings("ignore", "__array_wrap__ must accept context")
                    losses = loss_coteaching(
                        models[0](X[rows]), models[1](X[rows]), y[rows], forget[epoch]
                    )
                for model_loss, optimizer in zip(losses, optimizers, strict=True):
                    optimizer.zero_grad()
                    (model_loss * remember).backward()
                    optimizer.step()
            for scheduler in schedulers:
                scheduler.step()
            if epoch >= schedule.epochs - schedule.last:
                tick = time.perf_counter()
                accuracies.append(
                    _evaluate(models[0], data.X_test, data.y_test, schedule.batch_size, device)
                )
                eval_seconds += time.perf_counter() - tick
        seconds = time.perf_counter() - start
    return _result(accuracies, seconds - eval_seconds)


def run_cleanlearning(data, schedule, seed, device, *, record=False):
    """Prune with confident learning, then retrain: cleanlab's ``CleanLearning``.

    ``CleanLearning(PDiffClassifier(noise_rate=0.0, ...), cv_n_folds=cv_folds,
    seed=seed, find_label_issues_kwargs={"n_jobs": 1})``: ``find_label_issues``
    gets out-of-fold probabilities from clones of the classifier and flags
    issues; ``fit(X, y, label_issues=...)`` then trains the classifier on the
    rest, with cleanlab's per-class weights, exactly as ``CleanLearning.fit(X, y)``
    would. The test-accuracy callback is attached between the two calls, so that
    the epochs evaluated are the final model's.

    Parameters
    ----------
    data : NoisyData
        The cell's data.
    schedule : Schedule
        Shared training settings.
    seed : int
        ``random_state`` of the classifiers and cleanlab's fold seed.
    device : str
        Torch device.
    record : bool, default=False
        Unused.

    Returns
    -------
    result : dict
        As :func:`run_pdiff`'s; the estimate is the share of examples pruned.
    """
    tester = EpochTestAccuracy(data.X_test, data.y_test, schedule.last)
    clf = _pdiff_classifier(data, schedule, seed, device, noise_rate=0.0)
    # CleanLearning seeds NumPy's global generator; give it back afterwards.
    state = np.random.get_state()  # noqa: NPY002
    try:
        start = time.perf_counter()
        # n_jobs=1: cleanlab's pool of processes would compete with the benchmark's workers.
        cleaner = CleanLearning(
            clf, seed=seed, cv_n_folds=schedule.cv_folds, find_label_issues_kwargs={"n_jobs": 1}
        )
        issues = cleaner.find_label_issues(data.X, data.y_noisy)
        clf.set_params(callbacks=[("test_accuracy", tester), *schedule.lr_callbacks()])
        cleaner.fit(data.X, data.y_noisy, label_issues=issues)
        seconds = time.perf_counter() - start
    finally:
        np.random.set_state(state)  # noqa: NPY002
    return _result(
        tester.accuracies_,
        seconds - tester.seconds_,
        issues["is_label_issue"].mean(),
        quality=issues["label_quality"].to_numpy(),
        issues=issues["is_label_issue"].to_numpy(),
    )


def run_cv_recipe(data, schedule, seed, device, *, record=False, folds=5):
    """Find label issues with cleanlab's standard recipe: K-fold plain training, then its filter.

    ``cross_val_predict`` of ``PDiffClassifier(noise_rate=0.0, ...)`` on ``folds``
    stratified folds (``cleanlab_pdiff.label_issues.cross_val_pred_probs``), then
    ``cleanlab.filter.find_label_issues`` on the out-of-fold probabilities; the
    quality is their ``self_confidence``. It trains no final model: no accuracy.

    Parameters
    ----------
    data : NoisyData
        The cell's data.
    schedule : Schedule
        Shared training settings.
    seed : int
        ``random_state`` of the classifiers (and of the folds).
    device : str
        Torch device.
    record : bool, default=False
        Unused.
    folds : int, default=5
        Number of folds.

    Returns
    -------
    result : dict
        As :func:`run_pdiff`'s, with NaN accuracies; the estimate is the share flagged.
    """
    clf = _pdiff_classifier(data, schedule, seed, device, noise_rate=0.0)
    start = time.perf_counter()
    labels, pred_probs = cross_val_pred_probs(clf, data.X, data.y_noisy, cv=folds)
    # n_jobs=1: cleanlab's pool of processes loses its globals inside a benchmark worker.
    issues = find_label_issues(labels, pred_probs, n_jobs=1)
    seconds = time.perf_counter() - start
    quality = get_label_quality_scores(labels, pred_probs, method="self_confidence")
    return _result([math.nan], seconds, issues.mean(), quality=quality, issues=issues)


@dataclass(frozen=True)
class Method:
    """A benchmarked method: its label in tables, runner and runner options."""

    label: str
    runner: object
    options: dict = field(default_factory=dict)
    #: Whether the method is an option of P-DIFF beyond the paper (``docs/pdiff.md``,
    #: "Options beyond the paper"); ``benchmarks.accuracy.results`` compares it with
    #: ``pdiff_auto``.
    option: bool = False


#: Key -> method, in table order.
METHODS = {
    "ce": Method("cross-entropy", run_pdiff, {"noise_rate": 0.0}),
    "coteaching": Method("Co-teaching (true rate)", run_coteaching),
    "gce": Method("GCE (q=0.7)", run_gce),
    "cleanlearning": Method("CleanLearning", run_cleanlearning),
    "pdiff_true": Method("P-DIFF, true rate", run_pdiff, {"noise_rate": "true"}),
    "pdiff_auto": Method("P-DIFF auto (the default)", run_pdiff, {"noise_rate": "auto"}),
    "pdiff_paper": Method(
        "P-DIFF paper, online estimate", run_pdiff, {"noise_rate": "auto", "probe_folds": 0}
    ),
    "pdiff_per_class": Method(
        "P-DIFF auto, per_class", run_pdiff, {"noise_rate": "auto", "per_class": True}, option=True
    ),
    "pdiff_retrain": Method(
        "P-DIFF auto, retrained x1", run_pdiff, {"noise_rate": "auto", "retrain": 1.0}
    ),
    "pdiff_retrain2": Method(
        "P-DIFF auto, retrained x2", run_pdiff, {"noise_rate": "auto", "retrain": 2.0}
    ),
    "pdiff_retrain_auto": Method(
        "P-DIFF auto, retrained auto", run_pdiff, {"noise_rate": "auto", "retrain": "auto"}
    ),
    "cv_recipe": Method("cleanlab 5-fold recipe", run_cv_recipe),
    "oracle": Method(
        "oracle (clean examples only)", run_pdiff, {"noise_rate": 0.0, "clean_only": True}
    ),
    "oracle_labels": Method(
        "oracle (clean labels)", run_pdiff, {"noise_rate": 0.0, "true_labels": True}
    ),
}


def run_method(key, data, schedule, seed, device, *, record=False):
    """Run one method on one cell.

    Parameters
    ----------
    key : str
        A key of :data:`METHODS`.
    data : NoisyData
        The cell's data.
    schedule : Schedule
        Shared training settings.
    seed : int
        Seed of the method.
    device : str
        Torch device.
    record : bool, default=False
        Keep the fitted P-DIFF classifier with a delta recording (P-DIFF methods only).

    Returns
    -------
    result : dict
        ``acc_last``, ``acc_final``, ``estimated_noise_rate``, ``fit_seconds`` and
        ``model`` (None unless recorded).
    """
    method = METHODS[key]
    return method.runner(data, schedule, seed, device, record=record, **method.options)
