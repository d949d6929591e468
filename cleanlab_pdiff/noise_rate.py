"""The share of wrong labels, estimated from out-of-sample probabilities: pure NumPy.

:func:`held_out_noise_rate_estimate` takes the smaller of two estimates: the anchors'
count and a bound from the distribution of each example's given-label probability.

:func:`anchor_noise_rate` looks at the examples a held-out network finds most
typical of each class (its "anchors", Patrini et al. 2017; Liu and Tao 2016) and
counts how many of them carry another label. Typical examples are where a wrong
label shows most plainly, and where a network that is right about most of the
data is least often wrong itself; so the count estimates label noise rather than
the network's own errors. Human labelling errors gather on ambiguous examples,
which are not typical of their class: there the estimate falls short of the
truth (measured in ``docs/benchmarks.md``). And where the network is wrong about
much of the data, it is wrong about its anchors too, and the estimate counts
its errors as label noise.
"""

import numpy as np

__all__ = ["alternative_bound", "anchor_noise_rate", "held_out_noise_rate_estimate"]

#: Quantiles of the alternatives' probabilities at which :func:`alternative_bound` compares.
BOUND_QUANTILES = np.linspace(0.02, 0.5, 25)


def held_out_noise_rate_estimate(labels, pred_probs):
    """Estimate the share of wrong labels: the smaller of the two estimates below.

    The anchors count wrong labels well where the network is right about most of
    the data, and count its own errors as noise where it is not; the bound stays
    near zero on clean labels however weak the network (measured in
    ``docs/pdiff.md``) and is far above the anchors' count under noise.

    Parameters
    ----------
    labels : array-like of shape (N,)
        Given labels, integers in ``[0, K)``.
    pred_probs : array-like of shape (N, K)
        Out-of-sample class probabilities.

    Returns
    -------
    noise_rate : float
        In [0, 1].
    """
    return min(anchor_noise_rate(labels, pred_probs), alternative_bound(labels, pred_probs))


def alternative_bound(labels, pred_probs):
    """Bound the share of wrong labels by comparing given labels with the best alternatives.

    Let ``F(t)`` be the share of examples whose given label has an out-of-sample
    probability of at most ``t``, and ``G(t)`` the share whose likeliest other class
    (the strongest alternative to the given label) has a probability of at most ``t``.
    A wrong label is an alternative to the true class, and gets no more
    probability than the strongest one; if wrong labels fall on examples like
    the others, a share ``eta`` of them gives ``F(t) >= eta * G(t)`` at every
    ``t`` (mixture-proportion estimation, Blanchard et al. 2010, with the
    alternatives as the reference). The bound is the least ``F(t) / G(t)`` over
    ``t`` at the ``BOUND_QUANTILES`` of the alternatives' probabilities, at most 1.
    Clean labels leave few given-label probabilities as low as the alternatives'
    lowest, even from a network that is wrong about much of the data; where
    wrong labels gather on ambiguous examples the bound only loosens.

    Parameters
    ----------
    labels : array-like of shape (N,)
        Given labels, integers in ``[0, K)``.
    pred_probs : array-like of shape (N, K)
        Out-of-sample class probabilities.

    Returns
    -------
    bound : float
        In [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> pred_probs = np.array([[0.8, 0.2], [0.7, 0.3], [0.4, 0.6], [0.1, 0.9]])
    >>> alternative_bound(np.array([0, 0, 1, 1]), pred_probs)  # every label is likeliest
    0.0
    >>> alternative_bound(np.array([0, 0, 1, 0]), pred_probs)  # the last one is not
    0.5
    """
    labels, pred_probs = _checked(labels, pred_probs)
    rows = np.arange(labels.size)
    given = pred_probs[rows, labels]
    others = pred_probs.copy()
    others[rows, labels] = -np.inf
    alternative = others.max(axis=1)
    bound = 1.0
    for t in np.quantile(alternative, BOUND_QUANTILES) if labels.size else ():
        below = np.mean(alternative <= t)
        bound = min(bound, float(np.mean(given <= t)) / below)
    return float(bound)


def anchor_noise_rate(labels, pred_probs, *, share=0.3):
    """Estimate the share of wrong labels from out-of-sample ``pred_probs``.

    For each class ``k`` given to ``n_k`` examples, the anchors of ``k`` are the
    ``ceil(share * n_k)`` examples with the highest ``pred_probs[:, k]``,
    whatever their given label. The estimate is the share of all anchors whose
    given label is not the class they are anchors of.

    Parameters
    ----------
    labels : array-like of shape (N,)
        Given labels, integers in ``[0, K)``.
    pred_probs : array-like of shape (N, K)
        Each example's class probabilities from a model that was not trained
        on it (e.g. cross-validated).
    share : float, default=0.3
        Share of each class's examples taken as its anchors, in (0, 1].

    Returns
    -------
    noise_rate : float
        In [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> pred_probs = np.array([[0.9, 0.1], [0.1, 0.9], [0.3, 0.7], [0.2, 0.8]])
    >>> labels = np.array([0, 0, 1, 1])  # the second example looks like a 1
    >>> anchor_noise_rate(labels, pred_probs, share=0.5)  # anchors: examples 0 and 1
    0.5
    """
    labels, pred_probs = _checked(labels, pred_probs)
    if not 0 < share <= 1:
        raise ValueError(f"share must be in (0, 1], got {share!r}.")
    return _compute_anchor_noise_rate(labels, pred_probs, share)


def _checked(labels, pred_probs):
    labels = np.asarray(labels)
    pred_probs = np.asarray(pred_probs)
    if pred_probs.ndim != 2 or labels.shape != pred_probs.shape[:1]:
        raise ValueError(
            f"pred_probs must have shape (N, K) with labels of shape (N,), got "
            f"{pred_probs.shape} and {labels.shape}."
        )
    if labels.size and (labels.min() < 0 or labels.max() >= pred_probs.shape[1]):
        raise ValueError(
            f"labels must lie in [0, {pred_probs.shape[1]}), the columns of pred_probs."
        )
    return labels, pred_probs


def _compute_anchor_noise_rate(labels, pred_probs, share):
    wrong = anchors = 0
    for k, n_k in enumerate(np.bincount(labels, minlength=pred_probs.shape[1])):
        n_anchors = int(np.ceil(share * n_k))
        # Ties keep the examples' order, so the estimate does not depend on the sort's luck.
        top = np.argsort(-pred_probs[:, k], kind="stable")[:n_anchors]
        wrong += int(np.count_nonzero(labels[top] != k))
        anchors += n_anchors
    return wrong / anchors if anchors else 0.0
