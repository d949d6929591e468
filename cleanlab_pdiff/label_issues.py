"""Finding label issues with a :class:`~cleanlab_pdiff.PDiffClassifier`.

The estimator's :meth:`~cleanlab_pdiff.PDiffClassifier.find_label_issues` and
:meth:`~cleanlab_pdiff.PDiffClassifier.label_quality_scores` call these functions;
they are public so that a workflow can take the pieces apart (e.g. keep the
out-of-sample ``pred_probs`` of :func:`cross_val_pred_probs` for cleanlab's
``Datalab``).
"""

import numbers

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.utils import check_consistent_length, check_random_state
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import column_or_1d
from torch.utils.data import Dataset, Subset

from ._fit.targets import encode_labels
from ._fit.validation import dataset_labels
from ._params import Param, check_param
from .noise_rate import issue_mask, lowest_quality

__all__ = [
    "QUALITY_METHODS",
    "LabelIssuesMixin",
    "cross_val_pred_probs",
    "find_label_issues",
    "issue_mask",
    "label_quality_scores",
    "lowest_quality",
]

#: cleanlab's label-quality scoring methods.
QUALITY_METHODS = ("normalized_margin", "self_confidence", "confidence_weighted_entropy")


def label_quality_scores(estimator, X, y=None, *, method="normalized_margin"):
    """Return cleanlab's label-quality scores from a fitted estimator's ``predict_proba(X)``.

    Parameters
    ----------
    estimator : PDiffClassifier
        A fitted classifier.
    X : array-like of the training data's shape but the first axis
    y : array-like of shape (n_samples,), default=None
        Given labels, each among ``estimator.classes_`` (None: a Dataset's ``targets``).
    method : {"normalized_margin", "self_confidence", \
            "confidence_weighted_entropy"}, default="normalized_margin"
        cleanlab's scoring method (:func:`cleanlab.rank.get_label_quality_scores`).

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        Values in [0, 1], lower = more likely mislabelled.
    """
    if method not in QUALITY_METHODS:
        raise ValueError(f"method must be one of {QUALITY_METHODS}, got {method!r}.")
    pred_probs = estimator.predict_proba(X)
    y = dataset_labels(X, y) if isinstance(X, Dataset) else column_or_1d(y)
    if y.shape[0] != pred_probs.shape[0]:
        raise ValueError(f"X has {pred_probs.shape[0]} samples but y has {y.shape[0]}.")
    labels = encode_labels(y, estimator.classes_)
    from cleanlab.rank import get_label_quality_scores  # cleanlab takes 0.5 s to import

    return get_label_quality_scores(labels, pred_probs, method=method)


def cross_val_pred_probs(estimator, X, y=None, *, cv=5, n_jobs=None):
    """Return out-of-sample ``pred_probs`` from clones of ``estimator`` trained on ``cv`` folds.

    Parameters
    ----------
    estimator : PDiffClassifier
        Cloned once per fold, without the held-out probes (``probe_folds=0``):
        they only count the wrong labels of a fit, which cleanlab counts here
        from ``pred_probs``, and they leave its probabilities unchanged.
        ``estimator`` is left as it is.
    X : array-like of shape (n_samples, ...), or torch Dataset
        Features; a Dataset's folds are ``torch.utils.data.Subset`` of it.
    y : array-like of shape (n_samples,), default=None
        Given labels (None: a Dataset's ``targets``).
    cv : int or cross-validation splitter, default=5
        Folds of :func:`sklearn.model_selection.cross_val_predict`; an int
        means shuffled stratified folds seeded by the estimator's
        ``random_state``.
    n_jobs : int or None, default=None
        Number of folds trained at once, by joblib (see
        :meth:`~cleanlab_pdiff.PDiffClassifier.find_label_issues`).

    Returns
    -------
    labels : ndarray of shape (n_samples,)
        The given labels as indices 0..K-1 of their sorted classes.
    pred_probs : ndarray of shape (n_samples, K)
        Each example's probabilities from the fold that did not train on it.
    """
    _check_n_jobs(n_jobs)
    if isinstance(X, Dataset):
        y = dataset_labels(X, y)
    else:
        check_consistent_length(X, y)
    labels = np.unique(column_or_1d(y), return_inverse=True)[1]
    if isinstance(cv, numbers.Integral):
        seed = check_random_state(estimator.random_state).randint(np.iinfo(np.int32).max)
        cv = StratifiedKFold(n_splits=cv, shuffle=True, random_state=seed)
    estimator = clone(estimator).set_params(probe_folds=0)
    if not isinstance(X, Dataset):
        pred_probs = cross_val_predict(
            estimator, X, labels, cv=cv, method="predict_proba", n_jobs=n_jobs
        )
        return labels, pred_probs
    # scikit-learn can't index a Dataset: each fold trains on a Subset of it.
    splits = list(cv.split(np.zeros(labels.size), labels))
    fold_probs = Parallel(n_jobs=n_jobs)(
        delayed(_fold_probs)(clone(estimator), X, labels, train, test) for train, test in splits
    )
    pred_probs = np.empty((labels.size, np.unique(labels).size), dtype=np.float32)
    for (_, test), probs in zip(splits, fold_probs, strict=True):
        pred_probs[test] = probs
    return labels, pred_probs


def _fold_probs(estimator, X, labels, train, test):
    """Fit ``estimator`` on the items ``train`` of the Dataset ``X``; predict the items ``test``."""
    estimator.fit(Subset(X, train), labels[train])
    probs = np.zeros((test.size, np.unique(labels).size), dtype=np.float32)
    probs[:, estimator.classes_] = estimator.predict_proba(Subset(X, test))
    return probs


def _check_n_jobs(n_jobs):
    if n_jobs is not None:
        check_param("n_jobs", n_jobs, Param(numbers.Integral))
        if n_jobs == 0:
            raise ValueError("n_jobs must be None, a positive integer or negative, got 0.")


def find_label_issues(estimator, X, y=None, *, return_indices_ranked_by=None, cv=None, n_jobs=None):
    """Flag the examples whose given label is probably wrong.

    Without ``cv``, one P-DIFF training run does it all: ``estimator`` is
    fitted on ``(X, y)`` and its ``label_issues_`` are returned, the
    ``round(noise_rate_ * n_samples)`` examples of lowest
    ``training_label_quality_`` (``noise_rate_`` is the estimate with
    ``noise_rate="auto"``, else the given rate). With ``cv``, the out-of-sample ``pred_probs`` of
    :func:`cross_val_pred_probs` go to :func:`cleanlab.filter.find_label_issues`,
    cleanlab's standard recipe; ``estimator`` is left as it is.

    Parameters
    ----------
    estimator : PDiffClassifier
        The classifier (fitted here without ``cv``).
    X : array-like of shape (n_samples, ...), or torch Dataset
        Features.
    y : array-like of shape (n_samples,), default=None
        Given labels (None: a Dataset's ``targets``).
    return_indices_ranked_by : None or str, default=None
        ``None`` returns a boolean mask. Otherwise the indices of the flagged
        examples, worst first, ranked by this cleanlab score: without ``cv``
        only ``"self_confidence"`` (``training_label_quality_`` is a
        self-confidence); with ``cv`` any of ``QUALITY_METHODS``.
    cv : None, int or cross-validation splitter, default=None
        ``None`` for the single P-DIFF run; otherwise the folds of
        :func:`sklearn.model_selection.cross_val_predict` (an int means
        shuffled stratified folds seeded by ``random_state``).
    n_jobs : int or None, default=None
        With ``cv``: number of folds trained at once, by joblib (``None``
        means 1 unless in a :func:`joblib.parallel_config` context; -1 means
        all CPUs). The result does not depend on it. joblib's default backend
        runs the folds in separate processes and limits each one's OpenMP
        threads, which torch uses, to its share of the CPUs. For a cluster,
        train the folds on its workers with a joblib backend such as Dask's
        (``with joblib.parallel_config(backend="dask"):``, with a
        ``dask.distributed.Client`` connected); see ``docs/distributed.md``.
        Ignored without ``cv``.

    Returns
    -------
    label_issues : ndarray
        Boolean mask of shape (n_samples,), or int indices worst first.
    """
    allowed = QUALITY_METHODS if cv is not None else ("self_confidence",)
    if return_indices_ranked_by is not None and return_indices_ranked_by not in allowed:
        raise ValueError(
            f"return_indices_ranked_by must be None or one of {allowed}"
            f"{'' if cv is not None else ' without cv'}, got {return_indices_ranked_by!r}."
        )
    _check_n_jobs(n_jobs)
    if cv is not None:
        labels, pred_probs = cross_val_pred_probs(estimator, X, y, cv=cv, n_jobs=n_jobs)
        from cleanlab.filter import find_label_issues as cleanlab_find_label_issues

        return cleanlab_find_label_issues(
            labels, pred_probs, return_indices_ranked_by=return_indices_ranked_by
        )
    estimator.fit(X, y)
    if return_indices_ranked_by is not None:
        return lowest_quality(estimator.training_label_quality_, estimator.noise_rate_)
    return estimator.label_issues_.copy()


class LabelIssuesMixin:
    """The label-issue methods of :class:`~cleanlab_pdiff.PDiffClassifier`.

    Each calls the function of this module of the same name.
    """

    def label_quality_scores(self, X, y=None, *, method="normalized_margin"):
        """Return cleanlab's label-quality score of each example, lower = more likely wrong.

        From ``predict_proba(X)``: pass held-out data (for the training
        examples, ``training_label_quality_`` is the run's own score). See
        :func:`cleanlab_pdiff.label_issues.label_quality_scores`.

        Parameters
        ----------
        X : array-like of the training data's shape but the first axis
        y : array-like of shape (n_samples,), default=None
            Given labels, each among ``classes_`` (None: a Dataset's ``targets``).
        method : str, default="normalized_margin"
            cleanlab's scoring method, one of ``QUALITY_METHODS``.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Values in [0, 1].
        """
        return label_quality_scores(self, X, y, method=method)

    def find_label_issues(self, X, y=None, *, return_indices_ranked_by=None, cv=None, n_jobs=None):
        """Fit, then flag the examples whose given label is probably wrong.

        By default from this one P-DIFF training run; with ``cv``, by
        cleanlab's recipe on out-of-sample ``pred_probs`` of ``cv`` clones
        (``self`` is left as it is). See
        :func:`cleanlab_pdiff.label_issues.find_label_issues` for the details.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...), or torch Dataset
        y : array-like of shape (n_samples,), default=None
            Given labels (None: a Dataset's ``targets``).
        return_indices_ranked_by : None or str, default=None
            ``None`` for a boolean mask, else a cleanlab score that ranks the
            returned indices, worst first.
        cv : None, int or cross-validation splitter, default=None
            ``None`` for the single run, else the folds.
        n_jobs : int or None, default=None
            With ``cv``: folds trained at once by joblib.

        Returns
        -------
        label_issues : ndarray
            Boolean mask of shape (n_samples,), or int indices worst first.
        """
        return find_label_issues(
            self, X, y, return_indices_ranked_by=return_indices_ranked_by, cv=cv, n_jobs=n_jobs
        )
