"""Synthetic label noise for experiments, at an exact rate."""

import numbers
from collections.abc import Mapping

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import column_or_1d

from ._params import Param, check_param

__all__ = ["make_noisy_labels"]

_KINDS = ("symmetric", "pair", "asymmetric")
#: Mixed into an integer seed, so that the flips are not the rows that scikit-learn's
#: splitters (which draw ``RandomState(seed).permutation``) put aside with the same seed.
_SALT = int.from_bytes(b"cleanlab_pdiff.make_noisy_labels", "big")


def _noise_random_state(random_state):
    """Return the RandomState that draws the flips: salted from an int seed.

    ``make_noisy_labels(y, 0.3, random_state=0)`` drew ``RandomState(0)``'s first
    permutation, the one ``train_test_split(..., test_size=0.3, random_state=0)`` draws:
    every flipped row landed in the test split. An integer seed now seeds the generator
    through a ``SeedSequence`` keyed by the package; None and a RandomState instance are
    used as scikit-learn uses them (the global generator, or the instance itself).
    """
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(
                f"random_state must be None, a non-negative integer or a numpy RandomState, "
                f"got {random_state!r}."
            )
        sequence = np.random.SeedSequence(int(random_state), spawn_key=(_SALT,))
        return np.random.RandomState(np.random.MT19937(sequence))
    return check_random_state(random_state)


def make_noisy_labels(y, noise_rate, *, kind="symmetric", mapping=None, random_state=None):
    """Flip exactly ``round(noise_rate * n_samples)`` labels.

    The flipped samples are drawn uniformly without replacement. Their new
    label is, for ``kind="symmetric"``, a uniformly drawn *other* class
    (Co-teaching's symmetric noise, at an exact rate); for ``kind="pair"``,
    the next class in sorted order, the last class going to the first; for
    ``kind="asymmetric"``, ``mapping[class]``: class-conditional noise
    between confusable classes (e.g. cat -> dog), the flipped samples being
    drawn among those whose class is a key of ``mapping`` only.
    ``noise_rate`` is always the share of *all* samples flipped, so with
    ``kind="asymmetric"`` the source classes flip at a higher rate (0.2
    overall is 0.4 within source classes that make up half the data).

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Clean labels (integers or strings), at least two classes.
    noise_rate : float
        Share of labels to flip, in [0, 1].
    kind : {"symmetric", "pair", "asymmetric"}, default="symmetric"
        How a flipped label is chosen.
    mapping : dict, default=None
        For ``kind="asymmetric"`` only (and then required): source class ->
        the class its flipped samples get, both among the labels of ``y``.
    random_state : int, RandomState instance or None, default=None
        Seeds which samples flip and to what. An int seeds a generator of this
        function's own (through ``numpy.random.SeedSequence``), so that the flips do
        not follow scikit-learn's splitters given the same seed: with ``random_state=0``
        here and in ``train_test_split``, the flipped rows fall in the test split at
        the test share, as by chance. A RandomState instance is drawn from as it is.

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
    >>> y_noisy = make_noisy_labels(y, 0.2, kind="asymmetric", mapping={2: 1}, random_state=0)
    >>> sorted(set(zip(y[y_noisy != y].tolist(), y_noisy[y_noisy != y].tolist())))
    [(2, 1)]
    """
    y = column_or_1d(y)
    check_param("noise_rate", noise_rate, Param(numbers.Real, 0, 1))
    check_param("kind", kind, Param(options=_KINDS))
    classes, index = np.unique(y, return_inverse=True)
    n_classes = classes.size
    if n_classes < 2:
        raise ValueError(f"y must hold at least 2 classes to flip labels, got {n_classes}.")
    n_flips = round(noise_rate * y.shape[0])
    if kind == "asymmetric":
        targets = _check_mapping(mapping, classes)
        rng = _noise_random_state(random_state)
        (eligible,) = np.nonzero(targets[index] >= 0)
        if n_flips > eligible.size:
            raise ValueError(
                f"noise_rate={noise_rate!r} asks for {n_flips} flips, but only "
                f"{eligible.size} samples belong to the classes of mapping."
            )
        flip = eligible[rng.choice(eligible.size, size=n_flips, replace=False)]
        noisy = index.copy()
        noisy[flip] = targets[index[flip]]
        return classes[noisy]
    if mapping is not None:
        raise ValueError(f"mapping is only used with kind='asymmetric', got kind={kind!r}.")
    rng = _noise_random_state(random_state)
    flip = rng.choice(y.shape[0], size=n_flips, replace=False)
    if kind == "pair":
        shift = np.ones(flip.size, dtype=np.int64)
    else:
        shift = rng.randint(1, n_classes, size=flip.size)
    noisy = index.copy()
    noisy[flip] = (index[flip] + shift) % n_classes
    return classes[noisy]


def _check_mapping(mapping, classes):
    """Return, per class index, the index of the class it flips to (-1: never flips)."""
    if not isinstance(mapping, Mapping) or not mapping:
        raise ValueError(
            f"kind='asymmetric' needs mapping, a non-empty dict of source class -> noisy "
            f"class, got {mapping!r}."
        )
    lookup = {value: position for position, value in enumerate(classes.tolist())}
    targets = np.full(classes.size, -1, dtype=np.int64)
    for source, target in mapping.items():
        if source not in lookup or target not in lookup:
            raise ValueError(
                f"mapping must map classes of y to classes of y; {source!r} -> {target!r} "
                f"is not among the classes {classes.tolist()}."
            )
        if lookup[source] == lookup[target]:
            raise ValueError(f"mapping must not map a class to itself, got {source!r}.")
        targets[lookup[source]] = lookup[target]
    return targets
