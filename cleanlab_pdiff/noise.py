"""Synthetic label noise for experiments, at an exact rate."""

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import column_or_1d

from ._validation import check_number

__all__ = ["make_noisy_labels"]

_KINDS = ("symmetric", "pair")


def make_noisy_labels(y, noise_rate, *, kind="symmetric", random_state=None):
    """Flip exactly ``round(noise_rate * n_samples)`` labels.

    The flipped samples are drawn uniformly without replacement. Their new
    label is, for ``kind="symmetric"``, a uniformly drawn *other* class
    (Co-teaching's symmetric noise, at an exact rate); for ``kind="pair"``,
    the next class in sorted order, the last class going to the first.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Clean labels (integers or strings), at least two classes.
    noise_rate : float
        Share of labels to flip, in [0, 1].
    kind : {"symmetric", "pair"}, default="symmetric"
        How a flipped label is chosen.
    random_state : int, RandomState instance or None, default=None
        Seeds which samples flip and to what.

    Returns
    -------
    y_noisy : ndarray of shape (n_samples,)
        Labels of the same dtype as ``y``; ``y_noisy != y`` marks the flips.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.repeat([0, 1, 2], 10)
    >>> y_noisy = make_noisy_labels(y, 0.2, kind="pair", random_state=0)
    >>> int((y_noisy != y).sum())
    6
    """
    y = column_or_1d(y)
    check_number("noise_rate", noise_rate, low=0, high=1)
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}.")
    classes, index = np.unique(y, return_inverse=True)
    n_classes = classes.size
    if n_classes < 2:
        raise ValueError(f"y must hold at least 2 classes to flip labels, got {n_classes}.")
    rng = check_random_state(random_state)
    flip = rng.choice(y.shape[0], size=round(noise_rate * y.shape[0]), replace=False)
    if kind == "pair":
        shift = np.ones(flip.size, dtype=np.int64)
    else:
        shift = rng.randint(1, n_classes, size=flip.size)
    noisy = index.copy()
    noisy[flip] = (index[flip] + shift) % n_classes
    return classes[noisy]
