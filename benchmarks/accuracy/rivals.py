"""The methods P-DIFF is measured against, each trained as :mod:`.protocol` says.

Generalised cross-entropy (:func:`run_gce`), Co-teaching (:func:`run_coteaching`),
cleanlab's CleanLearning (:func:`run_cleanlearning`) and cleanlab's K-fold recipe for
finding label issues (:func:`run_cv_recipe`). Each runner takes a
:class:`~benchmarks.accuracy.protocol.Fit` and options, and returns
:func:`~benchmarks.accuracy.protocol.fit_result`'s dict.
"""

import functools
import time
import warnings

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
from torch import nn
from torch.nn import functional as F
from torch.optim.lr_scheduler import MultiStepLR

from cleanlab_pdiff.label_issues import cross_val_pred_probs
from cleanlab_pdiff.loader import batch_loader

from .protocol import fit_result

__all__ = ["GCELoss", "run_cleanlearning", "run_coteaching", "run_cv_recipe", "run_gce"]


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


def run_gce(fit, *, q=0.7):
    """Train a skorch ``NeuralNetClassifier`` with the generalised cross-entropy loss.

    Parameters
    ----------
    fit : Fit
        The training: torch is seeded with its seed (initialisation, shuffling, dropout).
    q : float, default=0.7
        GCE's exponent.

    Returns
    -------
    result : dict
        :func:`~benchmarks.accuracy.protocol.fit_result`'s, without an estimate.
    """
    tester = fit.test_accuracy()
    with fit.seeded():
        net = NeuralNetClassifier(
            fit.network(),
            criterion=GCELoss,
            criterion__q=q,
            optimizer=fit.schedule.optimizer_class(),
            lr=fit.schedule.lr,
            optimizer__weight_decay=fit.schedule.weight_decay,
            max_epochs=fit.schedule.epochs,
            batch_size=fit.schedule.batch_size,
            iterator_train=batch_loader,
            iterator_train__shuffle=True,
            iterator_valid=batch_loader,
            train_split=None,
            classes=np.arange(fit.data.n_classes),
            callbacks=fit.callbacks(("test_accuracy", tester)),
            device=fit.device,
            verbose=0,
        )
        start = time.perf_counter()
        net.fit(fit.data.X, fit.data.y_noisy)
        seconds = time.perf_counter() - start
    return fit_result(tester, seconds)


def _predict(model, X, batch_size, device):
    """Class indices that a bare module predicts, in evaluation mode."""
    model.eval()
    with torch.no_grad():
        batches = [
            model(torch.as_tensor(X[start : start + batch_size], device=device)).argmax(dim=1)
            for start in range(0, X.shape[0], batch_size)
        ]
    return torch.cat(batches).cpu().numpy()


def run_coteaching(fit):
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
    fit : Fit
        The training: torch is seeded with its seed (initialisation, shuffling, dropout).

    Returns
    -------
    result : dict
        :func:`~benchmarks.accuracy.protocol.fit_result`'s, without an estimate.
    """
    data, schedule = fit.data, fit.schedule
    forget = forget_rate_scheduler(schedule.epochs, data.noise_rate, schedule.t_k, 1)
    n_samples = data.X.shape[0]
    tester = fit.test_accuracy().initialize()
    with fit.seeded():
        models = [fit.network().to(fit.device) for _ in range(2)]
        optimizers = [
            schedule.optimizer_class()(
                m.parameters(), lr=schedule.lr, weight_decay=schedule.weight_decay
            )
            for m in models
        ]
        schedulers = [MultiStepLR(o, list(schedule.milestones), 0.1) for o in optimizers]
        X = torch.as_tensor(data.X, device=fit.device)
        y = torch.as_tensor(data.y_noisy, device=fit.device)
        predict = functools.partial(
            _predict, models[0], batch_size=schedule.batch_size, device=fit.device
        )
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
                rows = rows.to(fit.device)
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
                tester.measure(epoch + 1, predict)
        seconds = time.perf_counter() - start
    return fit_result(tester, seconds)


def run_cleanlearning(fit):
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
    fit : Fit
        The training: its seed is also cleanlab's fold seed.

    Returns
    -------
    result : dict
        :func:`~benchmarks.accuracy.protocol.fit_result`'s; the estimate is the share of
        examples pruned.
    """
    data = fit.data
    tester = fit.test_accuracy()
    clf = fit.pdiff_classifier(noise_rate=0.0)
    # CleanLearning seeds NumPy's global generator; give it back afterwards.
    state = np.random.get_state()  # noqa: NPY002
    try:
        start = time.perf_counter()
        # n_jobs=1: cleanlab's pool of processes would compete with the benchmark's workers.
        cleaner = CleanLearning(
            clf,
            seed=fit.seed,
            cv_n_folds=fit.schedule.cv_folds,
            find_label_issues_kwargs={"n_jobs": 1},
        )
        issues = cleaner.find_label_issues(data.X, data.y_noisy)
        clf.set_params(callbacks=fit.callbacks(("test_accuracy", tester)))
        cleaner.fit(data.X, data.y_noisy, label_issues=issues)
        seconds = time.perf_counter() - start
    finally:
        np.random.set_state(state)  # noqa: NPY002
    return fit_result(
        tester,
        seconds,
        issues["is_label_issue"].mean(),
        quality=issues["label_quality"].to_numpy(),
        issues=issues["is_label_issue"].to_numpy(),
    )


def run_cv_recipe(fit, *, folds=5):
    """Find label issues with cleanlab's standard recipe: K-fold plain training, then its filter.

    ``cross_val_predict`` of ``PDiffClassifier(noise_rate=0.0, ...)`` on ``folds``
    stratified folds (``cleanlab_pdiff.label_issues.cross_val_pred_probs``), then
    ``cleanlab.filter.find_label_issues`` on the out-of-fold probabilities; the
    quality is their ``self_confidence``. It trains no final model: no accuracy.

    Parameters
    ----------
    fit : Fit
        The training: its seed also seeds the folds.
    folds : int, default=5
        Number of folds.

    Returns
    -------
    result : dict
        :func:`~benchmarks.accuracy.protocol.fit_result`'s, with NaN accuracies; the
        estimate is the share flagged.
    """
    clf = fit.pdiff_classifier(noise_rate=0.0)
    start = time.perf_counter()
    labels, pred_probs = cross_val_pred_probs(clf, fit.data.X, fit.data.y_noisy, cv=folds)
    # n_jobs=1: cleanlab's pool of processes loses its globals inside a benchmark worker.
    issues = find_label_issues(labels, pred_probs, n_jobs=1)
    seconds = time.perf_counter() - start
    quality = get_label_quality_scores(labels, pred_probs, method="self_confidence")
    return fit_result(None, seconds, issues.mean(), quality=quality, issues=issues)
