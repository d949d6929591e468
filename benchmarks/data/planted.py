"""Random features of any size with labels planted in them (the cost measurements' data)."""

import numpy as np

__all__ = ["make_planted"]


def make_planted(n_samples, shape, n_classes=10, *, seed=0):
    """Return standard-normal float32 features and labels planted in them.

    An example's label is the argmax of its first ``n_classes`` features, so a
    network can learn it and the classes are balanced in expectation.

    Parameters
    ----------
    n_samples : int
        Number of examples.
    shape : tuple of int
        Shape of one example, e.g. ``(128,)`` or ``(3, 32, 32)``; it holds at
        least ``n_classes`` values.
    n_classes : int, default=10
        Number of classes.
    seed : int, default=0
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    X : ndarray of shape (n_samples, *shape), float32
    y : ndarray of shape (n_samples,), int64

    Examples
    --------
    >>> X, y = make_planted(5, (2, 3), n_classes=4)
    >>> X.shape, X.dtype.name, y.dtype.name
    ((5, 2, 3), 'float32', 'int64')
    >>> bool((y == X.reshape(5, -1)[:, :4].argmax(axis=1)).all())
    True
    """
    X = np.random.default_rng(seed).standard_normal((n_samples, *shape), dtype=np.float32)
    y = X.reshape(n_samples, -1)[:, :n_classes].argmax(axis=1).astype(np.int64, copy=False)
    return X, y
