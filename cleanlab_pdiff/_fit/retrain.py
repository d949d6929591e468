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

from ..noise_rate import issue_mask
from .training import build_net, train_new_net, validation_share

__all__ = ["retrain"]

#: Most of the rows retraining may leave out.
MOST_LEFT_OUT = 0.8
#: Epochs without a lower loss on the held-out kept rows after which retraining stops.
PATIENCE = 10
#: Share of the kept rows held out to stop the retraining, unless ``validation_fraction``.
HELD_OUT = 0.1
#: Fewest kept rows from which a share is held out; fewer train for ``max_epochs``.
FEWEST_TO_SPLIT = 10


def retrain(estimator, data, setup, quality, noise_rate, held_out):
    """Train a new network on the rows outside the lowest share of ``quality``.

    Parameters
    ----------
    estimator : PDiffClassifier
        Gives ``retrain``, the network, optimiser, schedule and callbacks.
    data : TrainingData
        The training rows.
    setup : NetSetup
        As the P-DIFF run's.
    quality : ndarray of shape (n_samples,)
        The P-DIFF run's ``training_label_quality_``.
    noise_rate : float
        The P-DIFF run's ``noise_rate_``.
    held_out : HeldOut or None
        What the held-out probes found (None without probes): ``retrain="auto"`` leaves
        out the larger of ``noise_rate`` and their disagreement with the labels.

    Returns
    -------
    net : PDiffNet
        The network trained on the kept rows.
    kept : ndarray of shape (n_samples,), bool
        The rows outside the left-out share: it trained on them but the held-out share.
    """
    if estimator.retrain == "auto":
        left_out = noise_rate if held_out is None else max(noise_rate, held_out.disagreement)
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
    net = build_net(plain, setup, data.n_rows)
    train_new_net(net, data, estimator.random_state, validation_share(plain), rows)
    return net, kept
