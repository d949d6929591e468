"""make_noisy_labels: exact counts, where flipped labels go, reproducibility and errors."""

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from cleanlab_pdiff import make_noisy_labels

#: Confusable digits (Patrini et al., 2017): 2 -> 7, 3 -> 8, 5 <-> 6, 7 -> 1.
DIGIT_PAIRS = {2: 7, 3: 8, 5: 6, 6: 5, 7: 1}


@pytest.fixture
def y():
    return np.repeat(np.arange(10), 30)


@pytest.mark.parametrize("noise_rate", [0.0, 0.1, 0.2, 0.45, 0.5, 1.0])
@pytest.mark.parametrize("kind", ["symmetric", "pair"])
def test_exactly_the_rate_is_flipped(y, kind, noise_rate):
    y_noisy = make_noisy_labels(y, noise_rate, kind=kind, random_state=0)
    assert (y_noisy != y).sum() == round(noise_rate * y.size)
    assert y_noisy.dtype == y.dtype


@pytest.mark.parametrize("noise_rate", [0.0, 0.1, 0.2, 0.3, 0.5])
def test_asymmetric_flips_exactly_the_rate_from_source_classes(y, noise_rate):
    y_noisy = make_noisy_labels(
        y, noise_rate, kind="asymmetric", mapping=DIGIT_PAIRS, random_state=0
    )
    flipped = y_noisy != y
    assert flipped.sum() == round(noise_rate * y.size)
    for given, noisy in zip(y[flipped], y_noisy[flipped], strict=True):
        assert DIGIT_PAIRS[given] == noisy
    assert not flipped[~np.isin(y, list(DIGIT_PAIRS))].any()


def test_asymmetric_spreads_flips_over_the_source_classes(y):
    y_noisy = make_noisy_labels(y, 0.4, kind="asymmetric", mapping=DIGIT_PAIRS, random_state=0)
    flipped_per_class = np.bincount(y[y_noisy != y], minlength=10)
    assert set(np.flatnonzero(flipped_per_class)) == set(DIGIT_PAIRS)


def test_symmetric_flips_to_every_other_class_and_never_to_itself(y):
    y_noisy = make_noisy_labels(y, 0.5, random_state=0)
    flipped = y_noisy != y
    for c in range(10):
        targets = set(y_noisy[flipped & (y == c)].tolist())
        assert c not in targets
    assert set(y_noisy[flipped].tolist()) == set(range(10))


def test_pair_flips_to_the_next_class_in_sorted_order():
    y = np.array(["b", "a", "c", "b", "c", "a"] * 5)
    y_noisy = make_noisy_labels(y, 0.5, kind="pair", random_state=0)
    following = {"a": "b", "b": "c", "c": "a"}
    flipped = y_noisy != y
    assert flipped.sum() == 15
    assert [following[given] for given in y[flipped]] == y_noisy[flipped].tolist()


def test_asymmetric_takes_string_labels():
    y = np.array(["cat", "dog", "truck", "automobile"] * 10)
    mapping = {"cat": "dog", "dog": "cat", "truck": "automobile"}
    y_noisy = make_noisy_labels(y, 0.25, kind="asymmetric", mapping=mapping, random_state=0)
    flipped = y_noisy != y
    assert flipped.sum() == 10
    assert [mapping[given] for given in y[flipped]] == y_noisy[flipped].tolist()


@pytest.mark.parametrize("kind", ["symmetric", "pair", "asymmetric"])
def test_same_random_state_same_labels(y, kind):
    mapping = DIGIT_PAIRS if kind == "asymmetric" else None
    first, second, other = (
        make_noisy_labels(y, 0.3, kind=kind, mapping=mapping, random_state=seed)
        for seed in (1, 1, 2)
    )
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("symmetric", [0, 0, 2, 0, 1, 3, 3, 3, 1, 1, 2, 2, 2, 2, 2, 3, 1, 0, 0, 3]),
        ("pair", [0, 0, 1, 0, 1, 2, 2, 2, 1, 1, 2, 2, 2, 2, 2, 3, 0, 0, 0, 3]),
    ],
)
def test_draws_are_unchanged(kind, expected):
    # Pinned so that benchmarks stay reproducible; repinned when an int seed got salted
    # (issue #24: the old draws followed train_test_split's with the same seed).
    y = np.repeat(np.arange(4), 5)
    assert make_noisy_labels(y, 0.4, kind=kind, random_state=3).tolist() == expected


@pytest.mark.parametrize("seed", range(10))
def test_flips_do_not_follow_train_test_split_with_the_same_seed(seed):
    # RandomState(seed).permutation drew both: every flip fell in the test split.
    y = np.repeat(np.arange(10), 180)
    flipped = make_noisy_labels(y, 0.3, random_state=seed) != y
    _, test = train_test_split(np.arange(y.size), test_size=0.3, random_state=seed)
    # By chance, the test split holds a hypergeometric share of the 540 flips: 162 +- 8.9.
    n, k, m = y.size, flipped.sum(), test.size
    mean = k * m / n
    sd = np.sqrt(m * k / n * (1 - k / n) * (n - m) / (n - 1))
    assert abs(flipped[test].sum() - mean) < 4 * sd, (flipped[test].sum(), mean)


def test_a_random_state_instance_is_drawn_from_as_it_is():
    y = np.repeat(np.arange(10), 30)
    rng = np.random.RandomState(5)
    flipped = np.flatnonzero(make_noisy_labels(y, 0.2, random_state=rng) != y)
    expected = np.random.RandomState(5).choice(y.size, size=60, replace=False)
    np.testing.assert_array_equal(flipped, np.sort(expected))
    again = make_noisy_labels(y, 0.2, random_state=rng)  # the instance moved on
    assert not np.array_equal(np.flatnonzero(again != y), flipped)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"noise_rate": 1.5}, ValueError, r"noise_rate must be in \[0, 1\]"),
        ({"noise_rate": "0.2"}, TypeError, "noise_rate must be a number"),
        ({"kind": "uniform"}, ValueError, "kind must be one of"),
        ({"kind": "asymmetric"}, ValueError, "needs mapping, a non-empty dict"),
        ({"kind": "asymmetric", "mapping": {}}, ValueError, "needs mapping, a non-empty dict"),
        ({"kind": "asymmetric", "mapping": [(2, 7)]}, ValueError, "needs mapping"),
        ({"kind": "asymmetric", "mapping": {2: 11}}, ValueError, "11 is not among the classes"),
        ({"kind": "asymmetric", "mapping": {"2": 7}}, ValueError, "'2' -> 7 is not among"),
        ({"kind": "asymmetric", "mapping": {3: 3}}, ValueError, "not map a class to itself"),
        ({"kind": "pair", "mapping": {2: 7}}, ValueError, "only used with kind='asymmetric'"),
        ({"random_state": -1}, ValueError, "random_state must be None, a non-negative integer"),
        ({"random_state": "0"}, ValueError, "'0' cannot be used to seed"),
        (
            {"kind": "asymmetric", "mapping": {2: 7}, "noise_rate": 0.2},
            ValueError,
            "asks for 60 flips, but only 30 samples belong to the classes of mapping",
        ),
    ],
)
def test_bad_arguments(y, kwargs, error, match):
    kwargs = {"noise_rate": 0.1, "random_state": 0, **kwargs}
    with pytest.raises(error, match=match):
        make_noisy_labels(y, **kwargs)


def test_one_class_is_refused():
    with pytest.raises(ValueError, match="at least 2 classes"):
        make_noisy_labels(np.zeros(10), 0.1)
