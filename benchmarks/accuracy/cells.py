"""A suite cell's data: a dataset's clean split, and the given labels of one noise."""

import functools
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from cleanlab_pdiff import CNN9, MLP, make_noisy_labels

from ..data import cifar
from ..data.kmeans import kmeans_features
from ..data.tabular import load_digits_data, load_mnist1d
from .networks import paper_cnn, small_cnn

__all__ = ["CIFAR_PAIRS", "DIGIT_PAIRS", "load_data", "noisy_labels"]

#: Confusable digits (Patrini et al., 2017): 2 -> 7, 3 -> 8, 5 <-> 6, 7 -> 1.
DIGIT_PAIRS = {2: 7, 3: 8, 5: 6, 6: 5, 7: 1}
#: Confusable CIFAR-10 classes (Patrini et al., 2017): truck -> automobile,
#: bird -> airplane, deer -> horse, cat <-> dog.
CIFAR_PAIRS = {9: 1, 2: 0, 4: 7, 3: 5, 5: 3}


@functools.cache
def load_data(spec, data_dir=None, cache_dir=None):
    """Load a dataset's clean train/test split (cached per process).

    Parameters
    ----------
    spec : DataSpec
        The data.
    data_dir : str, default=None
        Folder of the CIFAR-10 files (default: ``../shared/data``).
    cache_dir : str, default=None
        Where decoded CIFAR-10 arrays are kept.

    Returns
    -------
    data : dict
        ``X``, ``y``, ``X_test``, ``y_test``, ``human`` (CIFAR-10N label sets of the
        training rows; empty for other data), ``module`` (the network factory).
    """
    human = {}
    if spec.source == "cifar10" and spec.features == "efficientnet":
        loaded = cifar.load_embedded(spec.n_samples, spec.n_test, data_dir, cache_dir)
        X, y, X_test, y_test = (loaded[key] for key in ("X_train", "y_train", "X_test", "y_test"))
        human, module = loaded["noisy"], MLP
    elif spec.source == "cifar10":
        loaded = cifar.load_cifar10n(
            spec.n_samples,
            spec.n_test,
            data_dir=data_dir,
            size=spec.image_size,
            cache_dir=cache_dir,
        )
        X, y, X_test, y_test = (loaded[key] for key in ("X_train", "y_train", "X_test", "y_test"))
        human = loaded["noisy"]
        if spec.features == "kmeans":
            X, X_test = _cached_kmeans_features(spec, X, X_test, cache_dir)
            module = MLP
        elif spec.cnn_width == 128 and spec.image_size >= CNN9.MIN_SIZE:
            module = paper_cnn
        else:
            module = functools.partial(
                small_cnn, width=spec.cnn_width, padded=spec.image_size < CNN9.MIN_SIZE
            )
    else:
        if spec.source == "digits":
            X_all, y_all = load_digits_data()
        elif spec.source == "mnist1d":
            X_all, y_all = load_mnist1d(spec.n_samples)
        else:
            raise ValueError(f"unknown data source {spec.source!r}")
        X, X_test, y, y_test = train_test_split(
            X_all, y_all, test_size=0.3, stratify=y_all, random_state=0
        )
        module = MLP
    return {"X": X, "y": y, "X_test": X_test, "y_test": y_test, "human": human, "module": module}


def _cached_kmeans_features(spec, X, X_test, cache_dir):
    """:func:`benchmarks.data.kmeans.kmeans_features` of the images, kept under ``cache_dir``."""
    path = None
    if cache_dir is not None:
        path = Path(cache_dir) / (
            f"cifar10_kmeans{spec.n_centroids}_{spec.n_samples}_"
            f"{spec.n_test}_{spec.image_size}px_seed0.npz"
        )
        if path.exists():
            with np.load(path) as stored:
                return stored["X"], stored["X_test"]
    X, X_test = kmeans_features(X, X_test, n_centroids=spec.n_centroids)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, X=X, X_test=X_test)
    return X, X_test


def noisy_labels(data, noise, seed):
    """Return the given labels of a cell: CIFAR-10N's, or synthetic noise seeded by ``seed``."""
    if noise.kind == "human":
        return data["human"][noise.human]
    if noise.kind == "clean":
        return data["y"]
    mapping = None
    if noise.kind == "asymmetric":
        mapping = CIFAR_PAIRS if data["human"] else DIGIT_PAIRS
    return make_noisy_labels(
        data["y"], noise.rate, kind=noise.kind, mapping=mapping, random_state=seed
    )
