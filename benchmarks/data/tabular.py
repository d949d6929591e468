"""Data sets shared by the benchmark scripts, built locally with no download.

Sizes: ``load_digits_data`` returns scikit-learn's 1797 8x8 digits (64
features, 10 classes); ``load_mnist1d`` returns ``n_samples`` (default 4000)
MNIST-1D signals of 40 points (10 classes, balanced).
"""

import os
import random
import tempfile

import numpy as np
from sklearn.datasets import load_digits

__all__ = ["load_digits_data", "load_mnist1d"]


def load_digits_data():
    """Load scikit-learn's digits, pixels scaled to [0, 1].

    Returns
    -------
    X : ndarray of shape (1797, 64), float32
        Pixel intensities divided by 16.
    y : ndarray of shape (1797,), int
        Digit classes 0-9.

    Examples
    --------
    >>> X, y = load_digits_data()
    >>> X.shape, X.dtype.name, float(X.max()), np.unique(y).size
    ((1797, 64), 'float32', 1.0, 10)
    """
    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32), y.astype(np.int64)


def load_mnist1d(n_samples=4000, *, seed=42):
    """Generate MNIST-1D signals procedurally with the ``mnist1d`` package.

    The data come from ``mnist1d.data.make_dataset`` with the package's
    default generation arguments (40-point signals) except the size, the
    seed and a train split of 1 (every sample is returned). That function
    computes in memory: it neither downloads nor writes a file, unlike
    ``mnist1d.get_dataset``, which is not used. Each of the 40 features is
    then standardised to zero mean and unit variance.

    Parameters
    ----------
    n_samples : int, default=4000
        Number of signals, a multiple of 10 (the same number per class).
    seed : int, default=42
        Seed of the generator (mnist1d's default is 42).

    Returns
    -------
    X : ndarray of shape (n_samples, 40), float32
        Standardised signals.
    y : ndarray of shape (n_samples,), int
        Digit classes 0-9.

    Examples
    --------
    >>> X, y = load_mnist1d(100, seed=0)
    >>> X.shape, X.dtype.name, np.bincount(y).tolist() == [10] * 10
    ((100, 40), 'float32', True)
    """
    if n_samples <= 0 or n_samples % 10:
        raise ValueError(f"n_samples must be a positive multiple of 10, got {n_samples!r}.")
    make_dataset, get_dataset_args = _import_mnist1d()
    args = get_dataset_args()
    args.num_samples = n_samples
    args.seed = seed
    args.train_split = 1.0
    # make_dataset seeds numpy's and Python's global generators; put them back.
    np_state, py_state = np.random.get_state(), random.getstate()  # noqa: NPY002
    try:
        data = make_dataset(args)
    finally:
        np.random.set_state(np_state)  # noqa: NPY002
        random.setstate(py_state)
    X = data["x"]
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X.astype(np.float32), data["y"].astype(np.int64)


def _import_mnist1d():
    # mnist1d's __init__ imports matplotlib.pyplot, which may write a font cache
    # to its config dir: point that at a temporary directory unless one is set.
    if "MPLCONFIGDIR" in os.environ:
        from mnist1d.data import get_dataset_args, make_dataset
    else:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["MPLCONFIGDIR"] = tmp
            try:
                from mnist1d.data import get_dataset_args, make_dataset
            finally:
                del os.environ["MPLCONFIGDIR"]
    return make_dataset, get_dataset_args
