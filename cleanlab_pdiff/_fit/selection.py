"""Held-out evidence for the model a fit keeps (``retrain="auto"``, the default).

The candidates are the P-DIFF run itself, a network retrained plainly on the rows the
run ranks best (leaving out the estimated share of wrong labels, or the held-out
probes' disagreement with them), and, where leaving rows out does not pay, plain
training on every row. Each is cross-fitted: trained as the fit would train it on two
folds of a 3-fold split of the rows and scored on the third by its agreement with the
given labels, until ``FEWEST_SCORED`` rows are scored; on more than ``MOST_ROWS`` rows,
trained on a stratified sample of ``MOST_TRAINED`` and scored on all the others (the
cost of a candidate is its training; scoring more rows sharpens the comparison).
Agreement with held-out *given* labels orders models as their accuracy on the true labels
does when the noise keeps each class's own label the most frequent (Chen et
al., AAAI 2021). The run stays the model unless another candidate agrees better by
``MARGIN`` standard errors of the paired difference.

The same evidence tests the noise-rate estimate: if leaving the estimated share of rows
out lowers the held-out agreement by ``MARGIN`` standard errors against keeping them
all, many of those rows are hard examples the network gets wrong, not wrong labels, and
the estimate is an upper bound (a network too weak for the data). Then the candidates
are the run and plain training.
"""

import copy
import math
from dataclasses import dataclass, field, replace

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.utils import check_random_state
from skorch.callbacks import Callback

from .inputs import RowSubset
from .retrain import kept_rows, train_plain
from .training import build_net, predict_proba, train_new_net

__all__ = [
    "FEWEST_ROWS",
    "FEWEST_SCORED",
    "MARGIN",
    "MOST_ROWS",
    "MOST_TRAINED",
    "ModelSelection",
    "choose",
    "ranking_epochs",
    "select",
]

#: Most rows split into folds; on more, the candidates train on ``MOST_TRAINED`` of them.
MOST_ROWS = 4500
MOST_TRAINED = 3000
#: Folds of the cross-fit's split; two train a candidate, the third scores it.
FOLDS = 3
#: Fewest held-out rows scored: folds are added until this many (or every row) are.
FEWEST_SCORED = 1000
#: Standard errors by which a candidate must agree better to replace the run.
MARGIN = 2.0
#: Fewest rows for a choice: below, a few hundred held-out rows could not separate the
#: candidates unless they differ by 5 points or more, and the run is the model.
FEWEST_ROWS = 300


@dataclass(frozen=True)
class ModelSelection:
    """Which network a fit keeps, and the held-out evidence for it.

    Attributes
    ----------
    chosen : {"run", "retrained", "plain"}
        The P-DIFF run; a network retrained on the rows the run ranks best; or plain
        training on every row.
    left_out : float
        With "retrained": the share of the rows left out of it; else 0.
    agreement : dict of str to float
        Each candidate's agreement with the given labels of the held-out rows:
        ``"run"``, ``"retrained (share)"`` for each share tried, ``"plain,
        early-stopped"`` and, where the estimate failed the test, ``"plain"``.
    n_scored : int
        Held-out rows scored.
    upper_bound : bool
        Whether leaving the estimated share of rows out lowered the held-out agreement:
        the noise-rate estimate is then an upper bound.
    """

    chosen: str
    left_out: float = 0.0
    agreement: dict = field(default_factory=dict)
    n_scored: int = 0
    upper_bound: bool = False


def ranking_epochs(estimator):
    """Return the epochs of a run that only ranks the rows: its drop-rate ramp, ``t_k``."""
    return min(estimator.max_epochs, max(estimator.t_k, 1))


def select(estimator, data, setup, noise_rate, disagreement):
    """Cross-fit the candidates; return the :class:`ModelSelection`, or None if too few rows.

    Too few: fewer than ``FEWEST_ROWS``, or a class with fewer rows than the folds.

    Parameters
    ----------
    estimator : PDiffClassifier
        Its checked hyper-parameters.
    data : TrainingData
        The training rows.
    setup : NetSetup
        As the run's (the cross-fit never trains through an accelerator).
    noise_rate : float
        The estimated (or given) share of wrong labels.
    disagreement : float or None
        The held-out probes' disagreement with the labels; None without probes.
    """
    folds = _folds(data.labels, _seed(estimator))
    if not folds:
        return None
    quiet = clone(estimator).set_params(
        callbacks=None,
        verbose=0,
        accelerator=None,
        validation_fraction=None,
        early_stopping=False,
        retrain=None,
        probe_folds=0,
    )
    setup = _without_accelerator(setup)
    # Shares that leave at least one row out (none would be plain training).
    shares = {
        f"retrained ({share:.3f})": share
        for share in dict.fromkeys([noise_rate, disagreement])
        if share is not None and round(share * data.n_rows) > 0 and share >= noise_rate
    }
    scored, hits = [], {}
    for train, test in folds:
        scored.append(data.labels[test])
        run, ranking = _run(quiet, data, setup, train)
        _add(hits, "run", _predict(run, data, test))
        for name, share in shares.items():
            kept = kept_rows(ranking, share, train)
            _add(hits, name, _predict(train_plain(quiet, data, setup, kept), data, test))
        _add(
            hits,
            "plain, early-stopped",
            _predict(train_plain(quiet, data, setup, train), data, test),
        )
    labels = np.concatenate(scored)
    correct = {name: np.concatenate(predicted) == labels for name, predicted in hits.items()}
    estimated = f"retrained ({noise_rate:.3f})"
    upper_bound = (
        disagreement is not None
        and estimated in correct
        and _better(correct["plain, early-stopped"], correct[estimated])
    )
    if upper_bound:
        plain = copy.copy(quiet).set_params(noise_rate=0.0)
        correct["plain"] = (
            np.concatenate(
                [_predict(_run(plain, data, setup, train)[0], data, test) for train, test in folds]
            )
            == labels
        )
        rivals = {"plain": 0.0}
    else:
        rivals = shares
    chosen, left_out = choose(correct, rivals)
    agreement = {name: float(hit.mean()) for name, hit in correct.items()}
    return ModelSelection(chosen, left_out, agreement, int(labels.size), upper_bound)


def choose(correct, rivals):
    """Return ``(chosen, left_out)``: the run, unless a rival agrees better by ``MARGIN``.

    Parameters
    ----------
    correct : dict of str to ndarray of bool
        Each candidate's agreement with the given label of each held-out row, ``"run"``
        among them.
    rivals : dict of str to float
        The candidates that may replace the run, with the share of rows each leaves out
        (``"plain"``: plain training; the others are retrained networks).

    Examples
    --------
    >>> import numpy as np
    >>> run = np.arange(1000) % 10 < 7                  # agrees on 70% of the rows
    >>> better = run | (np.arange(1000) % 10 == 7)      # and on 10% more
    >>> choose({"run": run, "retrained (0.20)": better}, {"retrained (0.20)": 0.2})
    ('retrained', 0.2)
    >>> choose({"run": run, "retrained (0.20)": run}, {"retrained (0.20)": 0.2})
    ('run', 0.0)
    """
    best = max(rivals, key=lambda name: correct[name].mean(), default=None)
    if best is None or not _better(correct[best], correct["run"]):
        return "run", 0.0
    return ("plain" if best == "plain" else "retrained"), rivals[best]


def _seed(estimator):
    return check_random_state(estimator.random_state).randint(np.iinfo(np.int32).max)


def _folds(labels, seed):
    """Return the (train, test) rows of the cross-fit's folds, or [] if a class is too small."""
    rows = np.arange(labels.size)
    counts = np.bincount(labels)
    if rows.size < FEWEST_ROWS or counts[counts > 0].min() < FOLDS:
        return []
    if rows.size > MOST_ROWS:
        return [
            tuple(
                train_test_split(rows, train_size=MOST_TRAINED, stratify=labels, random_state=seed)
            )
        ]
    splitter = StratifiedKFold(FOLDS, shuffle=True, random_state=seed)
    folds = []
    for train, test in splitter.split(rows, labels[rows]):
        folds.append((rows[train], rows[test]))
        if sum(test.size for _, test in folds) >= FEWEST_SCORED:
            break
    return folds


def _without_accelerator(setup):
    return replace(setup, placement=replace(setup.placement, accelerator=None))


class _QualityAt(Callback):
    """Keep the criterion's per-row label quality as it is at the end of epoch ``epoch``."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        if len(net.history) == self.epoch:
            self.quality_ = net.criterion_.training_quality().cpu().numpy()


def _run(estimator, data, setup, rows):
    """Return the P-DIFF run on ``rows``, and their label quality after its ramp."""
    ranking = _QualityAt(ranking_epochs(estimator))
    net = build_net(copy.copy(estimator).set_params(callbacks=[ranking]), setup, data.n_rows)
    train_new_net(net, data, estimator.random_state, rows=rows)
    return net, ranking.quality_[rows]


def _predict(net, data, rows):
    probs = predict_proba(net, RowSubset(data.inputs, None, rows), data.n_classes)
    return probs.argmax(axis=1)


def _add(hits, name, predicted):
    hits.setdefault(name, []).append(predicted)


def _better(a, b):
    """Whether ``a`` (per-row hits) beats ``b`` by ``MARGIN`` standard errors of the difference."""
    difference = a.astype(np.float64) - b
    if difference.size < 2:
        return False
    error = difference.std(ddof=1) / math.sqrt(difference.size)
    return difference.mean() > MARGIN * error and difference.mean() > 0
