"""Plain networks trained on chosen rows: the retrained model, and the plain candidates.

One P-DIFF run ranks the training examples by ``training_label_quality_``. A retrained
network, seeded as the run, then trains plainly (cross-entropy) on the examples outside
the lowest share of that ranking, as cleanlab's ``CleanLearning`` retrains on the
examples its K folds kept. With ``retrain=f`` the share is ``f * noise_rate_``; with
``retrain="auto"`` held-out evidence chooses it (:mod:`~cleanlab_pdiff._fit.selection`).
The model averages ``MEMBERS`` such networks (:class:`~cleanlab_pdiff.networks.Ensemble`),
each seeded apart and stopped by a tenth of its own: together they learn from every kept
row, and their average is steadier than one early-stopped network (measured in
``docs/pdiff.md``).

:func:`train_plain` holds out a share of its rows (``validation_fraction``, else 10%) and
stops once their loss has not fallen for ``PATIENCE`` epochs, keeping the best epoch's
network: on clean rows a network learns what it can in a few epochs on large data
(12-15 on CIFAR-10 embeddings, against the 100 of the run) and in many on small data.
Fewer than ``FEWEST_TO_SPLIT`` rows train for ``max_epochs``, none held out.
"""

import copy

import numpy as np
from sklearn.utils import check_random_state
from skorch.callbacks import EarlyStopping

from ..networks import Ensemble
from ..noise_rate import issue_mask
from .training import build_net, train_new_net, validation_share

__all__ = ["MEMBERS", "MOST_LEFT_OUT", "kept_rows", "retrain", "train_plain"]

#: Most of the rows retraining may leave out.
MOST_LEFT_OUT = 0.8
#: Epochs without a lower loss on the held-out kept rows after which retraining stops.
PATIENCE = 10
#: Share of the kept rows held out to stop the retraining, unless ``validation_fraction``.
HELD_OUT = 0.1
#: Fewest kept rows from which a share is held out; fewer train for ``max_epochs``.
FEWEST_TO_SPLIT = 10
#: Networks averaged in the retrained model.
MEMBERS = 3


def kept_rows(quality, share, rows=None):
    """Return the rows outside the lowest ``share`` (at most 80%) of ``quality``, in order.

    ``quality`` holds one score per row of ``rows`` (default: the rows ``0 .. n - 1``).
    """
    rows = np.arange(quality.size) if rows is None else np.asarray(rows)
    return rows[~issue_mask(quality, min(share, MOST_LEFT_OUT))]


def train_plain(estimator, data, setup, rows, callbacks=()):
    """Return a network trained plainly on the rows ``rows`` of ``data``, stopped early.

    Parameters
    ----------
    estimator : PDiffClassifier
        Gives the network, optimiser, schedule and seed.
    data : TrainingData
        The training rows, read in place.
    setup : NetSetup
        As the P-DIFF run's.
    rows : ndarray of int
        The rows to train on (a share of them held out to stop the training).
    callbacks : sequence of skorch callbacks, default=()
        More callbacks, after the early stopping: they see the best epoch's network
        when training ends.

    Returns
    -------
    net : PDiffNet
    """
    split = rows.size >= FEWEST_TO_SPLIT
    stop = [("retrain_stop", EarlyStopping("valid_loss", PATIENCE, load_best=True))]
    # A shallow copy: callbacks given (the same objects) see this training too.
    plain = copy.copy(estimator).set_params(
        noise_rate=0.0,
        probe_folds=0,
        retrain=None,
        validation_fraction=(validation_share(estimator) or HELD_OUT) if split else None,
        early_stopping=False,
        callbacks=[*(stop if split else []), *callbacks],
    )
    net = build_net(plain, setup, data.n_rows)
    train_new_net(net, data, estimator.random_state, validation_share(plain), rows)
    return net


def retrain(estimator, data, setup, quality, left_out):
    """Train the model on the rows outside the lowest ``left_out`` share of ``quality``.

    Parameters
    ----------
    estimator : PDiffClassifier
        Gives the network, optimiser, schedule and callbacks (which see the retraining).
    data : TrainingData
        The training rows.
    setup : NetSetup
        As the P-DIFF run's.
    quality : ndarray of shape (n_samples,)
        The P-DIFF run's ``training_label_quality_``.
    left_out : float
        The share of the rows left out.

    Returns
    -------
    net : PDiffNet
        The model: the average of ``MEMBERS`` networks trained on the kept rows.
    kept : ndarray of shape (n_samples,), bool
        The rows outside the left-out share, which the networks trained on (each but its
        own held-out tenth).
    """
    rows = kept_rows(quality, left_out)  # read in place: a copy of X[kept] could be most of X
    kept = np.zeros(data.n_rows, dtype=bool)
    kept[rows] = True
    seed = check_random_state(estimator.random_state).randint(np.iinfo(np.int32).max - MEMBERS)
    members = [
        train_plain(
            copy.copy(estimator).set_params(random_state=seed + member),
            data,
            setup,
            rows,
            estimator.callbacks or [],
        ).module_
        for member in range(MEMBERS)
    ]
    model = copy.copy(estimator).set_params(module=Ensemble(members), callbacks=None, verbose=0)
    return build_net(model, setup, data.n_rows).initialize(), kept
