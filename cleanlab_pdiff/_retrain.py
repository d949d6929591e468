"""Retraining on the examples a P-DIFF run kept (the estimator's ``retrain``).

One P-DIFF run ranks the training examples by ``training_label_quality_``. With
``retrain=f``, a fresh network, seeded as the run, then trains plainly (cross-entropy)
on the examples outside the lowest ``f * noise_rate_`` share (at most 80%), as
cleanlab's ``CleanLearning`` retrains on the examples its K folds kept; ``retrain="auto"``
leaves out the larger of ``noise_rate_`` and the held-out probes' disagreement. Leaving out
more than the estimated share (``f > 1``) trades some correct labels for more of the
wrong ones the ranking misses (measured in ``docs/benchmarks.md``).

The retraining holds out a share of the kept rows (``validation_fraction``, else 10%) and
stops once their loss has not fallen for ``PATIENCE`` epochs, keeping the best epoch's
network: on clean rows a network learns what it can in a few epochs on large data
(12-15 on CIFAR-10 embeddings, against the 100 of the run) and in many on small data.
Fewer than ``FEWEST_TO_SPLIT`` kept rows train for ``max_epochs``, none held out.
"""

import copy

import numpy as np
from skorch.callbacks import EarlyStopping

from ._callback import validation_share
from ._rows import data_shape
from ._skorch import build_net, train_new_net
from .label_issues import issue_mask

#: Most of the rows retraining may leave out.
MOST_LEFT_OUT = 0.8
#: Epochs without a lower loss on the held-out kept rows after which retraining stops.
PATIENCE = 10
#: Share of the kept rows held out to stop the retraining, unless ``validation_fraction``.
HELD_OUT = 0.1
#: Fewest kept rows from which a share is held out; fewer train for ``max_epochs``.
FEWEST_TO_SPLIT = 10


def retrain(estimator, X, labels, weight, quality, estimates, placement):
    """Train a new network on the rows outside the lowest share of ``quality``.

    Parameters
    ----------
    estimator : PDiffClassifier
        Gives ``retrain``, the network, optimiser, schedule and callbacks.
    X : ndarray of shape (n_samples, ...) or Dataset
        Training data.
    labels : ndarray of shape (n_samples,)
        Given labels, indices of the classes.
    weight : ndarray of shape (n_samples,) or None
        Sample weights.
    quality : ndarray of shape (n_samples,)
        The P-DIFF run's ``training_label_quality_``.
    estimates : (float, float or None)
        The P-DIFF run's ``noise_rate_``, and the held-out probes' disagreement with the
        labels (None without probes): ``retrain="auto"`` leaves out the larger share.
    placement : tuple
        ``(n_classes, device, accelerator, autocast_dtype, scaling)`` as the run's.

    Returns
    -------
    net : PDiffNet
        The network trained on the kept rows.
    kept : ndarray of shape (n_samples,), bool
        The rows outside the left-out share: it trained on them but the held-out share.
    """
    n_classes, device, accelerator, dtype, scaling = placement
    noise_rate, disagreement = estimates
    if estimator.retrain == "auto":
        left_out = noise_rate if disagreement is None else max(noise_rate, disagreement)
    else:
        left_out = estimator.retrain * noise_rate
    kept = ~issue_mask(quality, min(left_out, MOST_LEFT_OUT))
    rows = np.flatnonzero(kept)  # read in place: a copy of X[kept] could be most of X
    split = rows.size >= FEWEST_TO_SPLIT
    # First among the user's callbacks: they see the best epoch's network when training ends.
    stop = [("retrain_stop", EarlyStopping("valid_loss", PATIENCE, load_best=True))]
    # A shallow copy: the user's callbacks (the same objects) see the retraining too.
    plain = copy.copy(estimator).set_params(
        noise_rate=0.0,
        probe_folds=0,
        retrain=None,
        validation_fraction=(validation_share(estimator) or HELD_OUT) if split else None,
        early_stopping=False,
        callbacks=[*(stop if split else []), *(estimator.callbacks or [])],
    )
    net = build_net(plain, data_shape(X), n_classes, device, accelerator, dtype, scaling)
    train_new_net(net, X, labels, weight, estimator.random_state, validation_share(plain), rows)
    return net, kept
