"""Held-out probes: out-of-sample probabilities for the noise-rate estimate, before training.

The data are split into ``folds``; for each fold a probe (the estimator's own
network, optimiser and batch size, trained plainly on the other folds) predicts
the held-out fold after every epoch, and the probabilities of the epoch at which
it agreed best with the held-out labels are kept. A network starts memorising
wrong labels after its first epochs and its held-out agreement then falls, so
the probe stops there: it is the best held-out model the data allow, at a small
fraction of a full training's cost. :func:`~cleanlab_pdiff.noise_rate.anchor_noise_rate`
turns the probabilities into the estimate.
"""

import warnings

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold
from sklearn.utils import check_random_state

from ._checks import check_param
from ._skorch import build_net, predict_proba, running, targets
from .loader import RowSubset
from .noise_rate import anchor_noise_rate
from .pdiff import PARAMETERS as PDIFF_PARAMETERS

#: Epochs without a better held-out agreement after which a probe stops.
PATIENCE = 2
#: Fewest examples of a class for an estimate worth more than a rough guess.
FEW = 10


def held_out_noise_rate(estimator, X, labels, weight, n_classes, device, dtype, scaling):
    """Return the held-out estimate and the probes' disagreement, or Nones unless asked.

    The estimator asks with ``noise_rate="auto"`` and ``probe_folds`` above 0. The
    disagreement is the share of examples whose held-out argmax is not their given label.
    """
    # Checked here as PDiff will check it: the probes run before PDiff is built.
    check_param("noise_rate", estimator.noise_rate, PDIFF_PARAMETERS["noise_rate"])
    if not (isinstance(estimator.noise_rate, str) and estimator.probe_folds):
        return None, None
    counts = np.bincount(labels, minlength=n_classes)
    smallest = int(counts[counts > 0].min())
    if smallest < FEW:
        online = smallest < estimator.probe_folds
        warnings.warn(
            f"the smallest class has {smallest} example(s): the noise-rate estimate"
            f"{' (the online one: too few rows for the probes)' if online else ''} is a rough "
            f"guess at best.",
            UserWarning,
            stacklevel=3,
        )
    if smallest < estimator.probe_folds:
        return None, None
    seed = check_random_state(estimator.random_state).randint(np.iinfo(np.int32).max)
    pred_probs, agreement = held_out_probabilities(
        estimator,
        X,
        labels,
        weight,
        n_classes,
        device,
        dtype,
        scaling,
        folds=estimator.probe_folds,
        seed=seed,
    )
    return anchor_noise_rate(labels, pred_probs), 1.0 - agreement


def fitted_noise_rate(noise_rate, held_out_rate, criterion):
    """Return the noise rate of a fit: the held-out estimate, the given rate or the online one.

    Parameters
    ----------
    noise_rate : "auto" or float
        The estimator's parameter.
    held_out_rate : float or None
        :func:`held_out_noise_rate`'s estimate.
    criterion : PDiffLoss
        The trained criterion, whose drop rate is the released layer's online
        estimate under ``"auto"``.
    """
    if held_out_rate is not None:
        return held_out_rate
    if isinstance(noise_rate, str):
        return float(criterion.pdiff.drop_rate)
    return float(noise_rate)


def held_out_probabilities(
    estimator, X, labels, weight, n_classes, device, dtype, scaling, *, folds, seed
):
    """Return each example's class probabilities from a probe that did not train on it.

    Parameters
    ----------
    estimator : PDiffClassifier
        Gives the network, optimiser, learning rate, batch size and the most
        epochs a probe trains (``max_epochs``).
    X : ndarray of shape (n_samples, ...) or Dataset
        Training data.
    labels : ndarray of shape (n_samples,)
        Given labels, indices of the classes.
    weight : ndarray of shape (n_samples,) or None
        Sample weights.
    n_classes : int
        Number of classes.
    device : torch.device
        Where the probes train.
    dtype : torch.dtype or None
        Autocast dtype of the forward pass.
    scaling : (ndarray, ndarray) or None
        Standardisation of the batches (see :func:`~cleanlab_pdiff.loader.batch_loader`).
    folds : int
        Number of folds (and probes), at least 2.
    seed : int
        Seeds the split and the probes.

    Returns
    -------
    pred_probs : ndarray of shape (n_samples, n_classes), float32
    agreement : float
        Share of examples whose held-out argmax is their given label.
    """
    plain = clone(estimator).set_params(
        noise_rate=0.0,
        callbacks=None,
        verbose=0,
        accelerator=None,
        validation_fraction=None,
        early_stopping=False,
    )
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    pred_probs = np.empty((labels.shape[0], n_classes), dtype=np.float32)
    for fold, (train, test) in enumerate(splitter.split(np.zeros(labels.shape[0]), labels)):
        pred_probs[test] = _probe(
            plain,
            X,
            labels,
            weight,
            (train, test),
            n_classes,
            device,
            dtype,
            scaling,
            seed + 1 + fold,
        )
    agreement = float(np.mean(pred_probs.argmax(axis=1) == labels))
    return pred_probs, agreement


def _probe(plain, X, labels, weight, split, n_classes, device, dtype, scaling, seed):
    """Train a probe on the rows ``split[0]``; return its best probabilities on ``split[1]``."""
    train, test = split
    best, best_probs, stale = -1.0, None, 0
    # Views on X by row number: a copy of the folds would double a large X's memory.
    routed = targets(labels[train], None if weight is None else weight[train])
    train_rows, test_rows = RowSubset(X, routed, train), RowSubset(X, None, test)
    net = build_net(plain, train_rows.shape, n_classes, device, None, dtype, scaling)
    with running(net, seed):
        for _ in range(plain.max_epochs):
            net.partial_fit(train_rows, epochs=1)
            probs = predict_proba(net, test_rows, n_classes)
            agreement = float(np.mean(probs.argmax(axis=1) == labels[test]))
            if agreement > best:
                best, best_probs, stale = agreement, probs, 0
            else:
                stale += 1
                if stale >= PATIENCE:
                    break
    return best_probs
