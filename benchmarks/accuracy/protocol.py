"""The protocol every benchmarked method follows: the same data, schedule, seed and test.

Every method gets the same module factory, optimiser, learning rate (and its schedule),
weight decay, batch size and number of epochs (a :class:`Schedule`), and the same seed;
methods built on :class:`~cleanlab_pdiff.PDiffClassifier` or a skorch net also share its
batch-level data loader. Test accuracy is measured at the end of each of the last
``Schedule.last`` epochs by :class:`EpochTestAccuracy` (a skorch callback, which
Co-teaching's own loop calls too); the time spent on it is not counted in the fit time.
Torch is seeded for a seed as ``PDiffClassifier(random_state=seed)`` seeds it
(:func:`benchmarks.common.seeded`), so every method starts from the same network.

A method's runner takes one :class:`Fit` (the cell's data, the schedule, the seed, the
device) and returns :func:`fit_result`'s dict.
"""

import functools
import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from skorch.callbacks import Callback, LRScheduler
from torch.optim.lr_scheduler import MultiStepLR

from cleanlab_pdiff import PDiffClassifier

from ..common import seeded

__all__ = ["EpochTestAccuracy", "Fit", "NoisyData", "Schedule", "fit_result"]


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


@dataclass(frozen=True)
class Fit:
    """One method's training on one cell: what every runner receives.

    Parameters
    ----------
    data : NoisyData
        The cell's data.
    schedule : Schedule
        Shared training settings.
    seed : int
        The method's seed: ``random_state`` of its classifiers (and of cleanlab's folds),
        or torch's seed (:meth:`seeded`) around a network trained outside them.
    device : str
        Torch device.
    record : bool, default=False
        Keep the fitted P-DIFF classifier with a delta recording (for the delta figure);
        the methods that are not P-DIFF ignore it.
    """

    data: NoisyData
    schedule: Schedule
    seed: int
    device: str
    record: bool = False

    def seeded(self):
        """Return a context that seeds torch as ``PDiffClassifier(random_state=seed)`` does."""
        return seeded(self.seed, self.device)

    def network(self):
        """Return a new network from the cell's module factory."""
        return self.data.module(self.data.X.shape[1], self.data.n_classes)

    def test_accuracy(self):
        """Return a fresh :class:`EpochTestAccuracy` on the cell's test set."""
        return EpochTestAccuracy(self.data.X_test, self.data.y_test, self.schedule.last)

    def callbacks(self, *named):
        """Return the skorch callbacks ``named`` (``(name, callback)``) and the lr steps."""
        return [*named, *self.schedule.lr_callbacks()]

    def pdiff_classifier(self, *callbacks, **params):
        """Return a :class:`~cleanlab_pdiff.PDiffClassifier` trained as the schedule says."""
        return PDiffClassifier(
            self.data.module,
            t_k=self.schedule.t_k,
            max_epochs=self.schedule.epochs,
            batch_size=self.schedule.batch_size,
            lr=self.schedule.lr,
            optimizer=self.schedule.optimizer_class(),
            weight_decay=self.schedule.weight_decay,
            device=self.device,
            callbacks=self.callbacks(*callbacks),
            random_state=self.seed,
            # Every method gets the same features, scaled by the data loader.
            standardize=False,
            **params,
        )


class EpochTestAccuracy(Callback):
    """skorch callback: test accuracy at the end of each of the last ``last`` epochs.

    A training that early stopping ends sooner is evaluated once, after its best epoch's
    network is restored; a model that is not the run's network (the retrained networks of
    ``PDiffClassifier``) is evaluated once after ``fit`` (:meth:`measure_model`).

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
        """Start empty (skorch calls this when a net is initialised); the time adds up."""
        self.epochs_, self.accuracies_ = [], []
        self.seconds_ = getattr(self, "seconds_", 0.0)
        return self

    def measure_model(self, clf):
        """Replace the accuracies with that of the fitted classifier ``clf``'s model.

        Called after the fit's time is taken: this evaluation is not counted in it.
        """
        seconds, self.epochs_, self.accuracies_ = self.seconds_, [], []
        self.measure(len(clf.history_), lambda X: clf.predict_proba(X).argmax(axis=1))
        self.seconds_ = seconds

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        """Evaluate when the epoch is among the last ``last``."""
        if len(net.history) > net.max_epochs - self.last:
            self._evaluate(net)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        """Evaluate the final network once if early stopping ended training before then."""
        if not self.accuracies_:
            self._evaluate(net)

    def _evaluate(self, net):
        self.measure(len(net.history), lambda X: net.predict_proba(X).argmax(axis=1))

    def measure(self, epoch, predict):
        """Record the accuracy of ``predict`` (test features -> class indices) after ``epoch``.

        The time it takes is added to :attr:`seconds_`, to be left out of the fit's. A
        training loop outside skorch calls it after :meth:`initialize`.
        """
        start = time.perf_counter()
        predicted = predict(self.X)
        self.epochs_.append(epoch)
        self.accuracies_.append(float(np.mean(predicted == self.y)))
        self.seconds_ += time.perf_counter() - start


def fit_result(tester, seconds, estimate=math.nan, *, model=None, quality=None, issues=None):
    """Return a runner's result.

    Parameters
    ----------
    tester : EpochTestAccuracy or None
        The test accuracies of the trained network; None for a method that trains no
        final model (NaN accuracies).
    seconds : float
        Wall time of the method, the tester's evaluations included (they are taken out).
    estimate : float, default=nan
        The method's estimate of the noise rate.
    model : object, default=None
        The fitted classifier, when recorded.
    quality, issues : ndarray of shape (n_samples,), default=None
        The method's per-example verdicts, where it gives them: label quality (lower =
        more likely mislabelled) and the flagged mask.

    Returns
    -------
    result : dict
        ``acc_last`` (mean test accuracy of the last epochs), ``acc_final``,
        ``estimated_noise_rate``, ``fit_seconds``, ``model``, ``quality``, ``issues``.
    """
    accuracies, evaluations = (tester.accuracies_, tester.seconds_) if tester else ([math.nan], 0)
    return {
        "acc_last": float(np.mean(accuracies)),
        "acc_final": float(accuracies[-1]),
        "estimated_noise_rate": float(estimate),
        "fit_seconds": seconds - evaluations,
        "model": model,
        "quality": quality,
        "issues": issues,
    }
