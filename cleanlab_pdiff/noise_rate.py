"""The share of wrong labels: estimated from out-of-sample probabilities, and flagged.

Pure NumPy. :func:`issue_mask` flags the examples of lowest label quality at a noise rate.

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

__all__ = ["anchor_noise_rate", "issue_mask", "lowest_quality"]


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
    if not 0 < share <= 1:
        raise ValueError(f"share must be in (0, 1], got {share!r}.")
    return _compute_anchor_noise_rate(labels, pred_probs, share)


def _compute_anchor_noise_rate(labels, pred_probs, share):
    wrong = anchors = 0
    for k, n_k in enumerate(np.bincount(labels, minlength=pred_probs.shape[1])):
        n_anchors = int(np.ceil(share * n_k))
        # Ties keep the examples' order, so the estimate does not depend on the sort's luck.
        top = np.argsort(-pred_probs[:, k], kind="stable")[:n_anchors]
        wrong += int(np.count_nonzero(labels[top] != k))
        anchors += n_anchors
    return wrong / anchors if anchors else 0.0


def lowest_quality(quality, rate):
    """Return the indices of the ``round(rate * N)`` lowest ``quality`` scores, worst first.

    Parameters
    ----------
    quality : ndarray of shape (N,)
        Label-quality scores, lower = more likely wrong.
    rate : float
        Share of the examples to return, in [0, 1].

    Returns
    -------
    indices : ndarray of int
        Ties keep the examples' order.

    Examples
    --------
    >>> import numpy as np
    >>> lowest_quality(np.array([0.9, 0.1, 0.5, 0.2]), 0.5).tolist()
    [1, 3]
    """
    return np.argsort(quality, kind="stable")[: round(rate * quality.size)]


def issue_mask(quality, rate):
    """Return the boolean mask of the ``round(rate * N)`` examples of lowest ``quality``.

    Examples
    --------
    >>> import numpy as np
    >>> issue_mask(np.array([0.9, 0.1, 0.5, 0.2]), 0.5).tolist()
    [False, True, False, True]
    """
    mask = np.zeros(quality.size, dtype=bool)
    mask[lowest_quality(quality, rate)] = True
    return mask
