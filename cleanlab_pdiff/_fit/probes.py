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

from dataclasses import dataclass, replace

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold
from sklearn.utils import check_random_state

from .._warnings import warn
from ..noise_rate import anchor_noise_rate
from .inputs import RowSubset
from .training import build_net, cap_window, predict_proba, running

__all__ = ["HeldOut", "fitted_noise_rate", "held_out_noise_rate", "held_out_probabilities"]

#: Epochs without a better held-out agreement after which a probe stops.
PATIENCE = 2
#: Fewest examples of a class for an estimate worth more than a rough guess.
FEW = 10


@dataclass(frozen=True)
class HeldOut:
    """What the held-out probes found.

    Attributes
    ----------
    noise_rate : float
        The estimated share of wrong labels (:func:`anchor_noise_rate`).
    disagreement : float
        Share of examples whose held-out argmax is not their given label.
    """

    noise_rate: float
    disagreement: float


def held_out_noise_rate(estimator, data, setup):
    """Return what the probes find (:class:`HeldOut`), or None unless asked or possible.

    The estimator asks with ``noise_rate="auto"`` and ``probe_folds`` above 0; a class
    with fewer rows than folds leaves the estimate to the online one.

    Parameters
    ----------
    estimator : PDiffClassifier
        Its checked hyper-parameters.
    data : TrainingData
        The training rows.
    setup : NetSetup
        As the run's.
    """
    if not (isinstance(estimator.noise_rate, str) and estimator.probe_folds):
        return None
    counts = np.bincount(data.labels, minlength=data.n_classes)
    smallest = int(counts[counts > 0].min())
    if smallest < FEW:
        online = smallest < estimator.probe_folds
        warn(
            f"the smallest class has {smallest} example(s): the noise-rate estimate"
            f"{' (the online one: too few rows for the probes)' if online else ''} is a rough "
            f"guess at best."
        )
    if smallest < estimator.probe_folds:
        return None
    seed = check_random_state(estimator.random_state).randint(np.iinfo(np.int32).max)
    pred_probs, agreement = held_out_probabilities(
        estimator, data, setup, folds=estimator.probe_folds, seed=seed
    )
    return HeldOut(anchor_noise_rate(data.labels, pred_probs), 1.0 - agreement)


def fitted_noise_rate(noise_rate, held_out, criterion):
    """Return the noise rate of a fit: the held-out estimate, the given rate or the online one.

    Parameters
    ----------
    noise_rate : "auto" or float
        The estimator's parameter.
    held_out : HeldOut or None
        What the probes found.
    criterion : PDiffLoss
        The trained criterion, whose drop rate is the released layer's online
        estimate under ``"auto"``.
    """
    if held_out is not None:
        return held_out.noise_rate
    if isinstance(noise_rate, str):
        return float(criterion.pdiff.drop_rate)
    return float(noise_rate)


def held_out_probabilities(estimator, data, setup, *, folds, seed):
    """Return each example's class probabilities from a probe that did not train on it.

    Parameters
    ----------
    estimator : PDiffClassifier
        Gives the network, optimiser, learning rate, batch size and the most
        epochs a probe trains (``max_epochs``).
    data : TrainingData
        The training rows.
    setup : NetSetup
        As the run's (the probes never train through an accelerator).
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
    setup = replace(setup, placement=replace(setup.placement, accelerator=None))
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    pred_probs = np.empty((data.n_rows, data.n_classes), dtype=np.float32)
    for fold, split in enumerate(splitter.split(np.zeros(data.n_rows), data.labels)):
        pred_probs[split[1]] = _probe(plain, data, setup, split, seed + 1 + fold)
    agreement = float(np.mean(pred_probs.argmax(axis=1) == data.labels))
    return pred_probs, agreement


def _probe(plain, data, setup, split, seed):
    """Train a probe on the rows ``split[0]``; return its best probabilities on ``split[1]``."""
    train, test = split
    best, best_probs, stale = -1.0, None, 0
    # Views by row number: a copy of the folds would double a large X's memory.
    train_rows, test_rows = data.rows(train), RowSubset(data.inputs, None, test)
    net = build_net(plain, setup, data.n_rows)
    cap_window(net, len(train))
    with running(net, seed):
        for _ in range(plain.max_epochs):
            net.partial_fit(train_rows, epochs=1)
            probs = predict_proba(net, test_rows, data.n_classes)
            agreement = float(np.mean(probs.argmax(axis=1) == data.labels[test]))
            if agreement > best:
                best, best_probs, stale = agreement, probs, 0
            else:
                stale += 1
                if stale >= PATIENCE:
                    break
    return best_probs
