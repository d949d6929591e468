"""How well a method's verdicts find the wrong labels: the scores of both accuracy studies."""

import numpy as np

__all__ = ["detection_scores"]


def detection_scores(wrong, issues, quality):
    """Score a method's flagged mask, and its quality ranking, against the wrong labels.

    Parameters
    ----------
    wrong : ndarray of shape (n_samples,), bool
        True where the given label is wrong.
    issues : ndarray of shape (n_samples,), bool, or None
        True where the method flags a label issue; None if it flags none.
    quality : ndarray of shape (n_samples,) or None
        Label quality, lower = more likely wrong; None if the method gives none.

    Returns
    -------
    scores : dict
        ``auroc`` and ``average_precision`` of ``-quality``; ``precision``,
        ``recall`` and ``f1`` of the flagged set (0 when nothing is flagged);
        ``flagged_share``. NaN where the method gives nothing to score, or
        (the ranking's and recall) when no label is wrong.

    Examples
    --------
    >>> wrong = np.array([True, False, False, False])
    >>> scores = detection_scores(wrong, wrong.copy(), np.array([0.1, 0.9, 0.8, 0.2]))
    >>> scores["auroc"], scores["f1"], scores["flagged_share"]
    (1.0, 1.0, 0.25)
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    nan = float("nan")
    scores = dict.fromkeys(
        ("auroc", "average_precision", "precision", "recall", "f1", "flagged_share"), nan
    )
    ranked = quality is not None and wrong.any() and not wrong.all()
    if ranked:
        scores["auroc"] = float(roc_auc_score(wrong, -quality))
        scores["average_precision"] = float(average_precision_score(wrong, -quality))
    if issues is not None:
        hits = int(np.count_nonzero(issues & wrong))
        flagged, actual = int(np.count_nonzero(issues)), int(np.count_nonzero(wrong))
        scores["flagged_share"] = flagged / issues.size
        scores["precision"] = hits / flagged if flagged else 0.0
        if actual:
            scores["recall"] = hits / actual
            total = flagged + actual
            scores["f1"] = 2 * hits / total
    return scores
