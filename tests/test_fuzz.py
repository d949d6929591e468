"""Fuzzing (hypothesis) of fit, predict_proba and label_quality_scores with malformed input.

Every malformed input must be rejected with a ValueError or TypeError whose message says
what is wrong: never another exception type, a hang, or a silent success. Each strategy
draws an input together with the pattern its error message must match.
"""

import string

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from settings import ONE_EPOCH

from cleanlab_pdiff import PDiffClassifier

# NumPy warns while casting some hostile values (1e39 to float32, NaN in reductions).
pytestmark = pytest.mark.filterwarnings("ignore:.*encountered in:RuntimeWarning")

N, D = 12, 3
TINY_BATCHES = {**ONE_EPOCH, "batch_size": 8}  # a few rows make several batches
FUZZ = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    return rng.rand(N, D), np.array([0, 1, 2] * (N // 3))


@pytest.fixture(scope="module")
def fitted(data):
    """Fitted on 12 x 3 features, classes 0, 1, 2; tests must only read it."""
    return PDiffClassifier(**TINY_BATCHES).fit(*data)


# Strategies: each draws (malformed value, pattern of the error message) --------------------------

FINITE = st.floats(-1e6, 1e6)
LETTERS = st.text(string.ascii_letters, min_size=1, max_size=6)
SHAPE = st.tuples(st.just(N), st.integers(1, 4))


def _valid(draw, shape=None):
    return draw(hnp.arrays(np.float64, shape or draw(SHAPE), elements=FINITE))


def _poke(draw, array, values):
    """``array`` as object dtype, with 1-3 entries replaced by draws from ``values``."""
    array = array.astype(object)
    for _ in range(draw(st.integers(1, 3))):
        index = tuple(draw(st.integers(0, size - 1)) for size in array.shape)
        array[index] = draw(values)
    return array


@st.composite
def strings_in_X(draw):
    array = _poke(draw, _valid(draw), LETTERS)
    if draw(st.booleans()):
        array = array.astype(str)  # a unicode array: the numbers become numeric strings
    # "nan", "inf" and "infinity" do convert, to non-finite values.
    return array, r"could not convert string to float|Input X contains (NaN|infinity)"


@st.composite
def complex_X(draw):
    value = st.complex_numbers(max_magnitude=1e6, allow_nan=False, allow_infinity=False)
    if draw(st.booleans()):
        return draw(hnp.arrays(np.complex128, draw(SHAPE), elements=value)), (
            "Complex data not supported"
        )
    return _poke(draw, _valid(draw), value), r"not 'complex'|Complex data not supported"


@st.composite
def ragged_X(draw):
    lengths = draw(
        st.lists(st.integers(1, 4), min_size=N, max_size=N).filter(
            lambda lengths: len(set(lengths)) > 1
        )
    )
    rows = [draw(st.lists(FINITE, min_size=n, max_size=n)) for n in lengths]
    if draw(st.booleans()):  # a nested list in place of one number
        row = draw(st.integers(0, N - 1))
        rows[row][0] = draw(st.lists(FINITE, min_size=2, max_size=3))
    return rows, r"inhomogeneous shape|setting an array element with a sequence"


@st.composite
def non_finite_X(draw):
    # 1e39 is finite in float64, which X keeps: standardised, it trains (test_divergence).
    bad = st.sampled_from([np.nan, np.inf, -np.inf, None])
    array = _poke(draw, _valid(draw), bad)
    if all(v is not None for v in array.flat):
        array = array.astype(np.float64)
    return array, r"Input X contains (NaN|infinity)"


@st.composite
def empty_X(draw):
    d = draw(st.integers(0, 3))
    value = draw(
        st.sampled_from(
            [
                np.empty((0,)),
                np.empty((0, d)),
                np.empty((N, 0)),
                np.empty((0, d, 2, 2)),
                [],
                [[]],
            ]
        )
    )
    return value, r"0 sample\(s\)|0 feature\(s\)|Expected 2D array, got 1D array"


@st.composite
def wrong_ndim_X(draw):
    kind = draw(st.sampled_from(["0-d", "1-d", "3-d", "4-d", "5-d", "6-d"]))
    if kind == "0-d":
        return draw(st.one_of(FINITE, st.just(np.nan), st.none())), (
            "Expected 2D array, got scalar array"
        )
    if kind == "1-d":
        return _valid(draw, (N,)), "Expected 2D array, got 1D array"
    # Images smaller than CNN9's 28 pixels, and other dimensions: no default network.
    rest = draw(st.lists(st.integers(1, 5), min_size=int(kind[0]) - 1, max_size=int(kind[0]) - 1))
    return _valid(draw, (N, *rest)), (
        r"X has \d dimensions; the default network|CNN9 needs images of at least 28"
        r"|the model was fitted on samples of shape \(3,\)|expecting 3 features"
    )


@st.composite
def other_objects_X(draw):
    value = draw(st.sampled_from([{}, {"a": 1}, {1, 2}, frozenset(), object(), b"abc", "abc", ...]))
    return value, (
        r"float\(\) argument must be|could not convert string to float|"
        r"Expected 2D array, got scalar array"
    )


MALFORMED_X = st.one_of(
    strings_in_X(),
    complex_X(),
    ragged_X(),
    non_finite_X(),
    empty_X(),
    wrong_ndim_X(),
    other_objects_X(),
)


#: Label kinds whose rejection fit and label_quality_scores share (see ``_misshapen``).
MISSHAPEN = ("complex", "2-d", "ragged")


def _misshapen(draw, kind, labels):
    """Return ``labels`` made complex, 2-D or ragged, and the error message expected."""
    if kind == "complex":
        return labels + 1j * draw(FINITE), "Complex data not supported"
    if kind == "2-d":
        width = draw(st.integers(2, 4))
        return np.repeat(labels[:, None], width, axis=1), "y should be a 1d array"
    lengths = draw(
        st.lists(st.integers(1, 3), min_size=N, max_size=N).filter(
            lambda lengths: len(set(lengths)) > 1
        )
    )
    return [list(range(n)) for n in lengths], (
        r"inhomogeneous shape|setting an array element with a sequence"
    )


@st.composite
def malformed_y_for_fit(draw):
    kind = draw(
        st.sampled_from(
            [
                "none",
                "non-finite",
                "continuous",
                "complex",
                "2-d",
                "ragged",
                "mixed",
                "nones",
                "single",
                "scalar",
            ]
        )
    )
    labels = draw(hnp.arrays(np.int64, N, elements=st.integers(0, 2)))
    if kind == "none":
        return None, "requires y to be passed"
    if kind == "non-finite":
        y = _poke(draw, labels.astype(np.float64), st.sampled_from([np.nan, np.inf, -np.inf]))
        return y.astype(np.float64), r"Input y contains (NaN|infinity)"
    if kind == "continuous":
        fraction = draw(st.floats(0.01, 0.99))
        return labels + fraction, "Unknown label type: continuous"
    if kind in MISSHAPEN:
        return _misshapen(draw, kind, labels)
    if kind == "mixed":
        return _poke(draw, labels, LETTERS), (
            r"not supported between instances of|Unknown label type"
        )
    if kind == "nones":
        return _poke(draw, labels, st.none()), (
            r"not supported between instances of|Unknown label type"
        )
    if kind == "single":
        return np.full(N, draw(st.integers(-(2**62), 2**62))), "y must hold at least 2 classes"
    return draw(st.one_of(FINITE, st.just({}))), "y should be a 1d array"


@st.composite
def malformed_y_for_scoring(draw):
    """Labels label_quality_scores must reject, given a model fitted on classes 0, 1, 2."""
    kind = draw(
        st.sampled_from(
            ["none", "non-finite", "unseen", "complex", "2-d", "ragged", "mixed", "scalar"]
        )
    )
    labels = draw(hnp.arrays(np.int64, N, elements=st.integers(0, 2)))
    unseen = r"y holds labels not seen in fit"
    if kind == "none":
        return None, "y should be a 1d array"
    if kind == "non-finite":
        y = _poke(draw, labels.astype(np.float64), st.sampled_from([np.nan, np.inf, -np.inf]))
        return y.astype(np.float64), unseen
    if kind == "unseen":
        other = st.one_of(
            st.integers().filter(lambda v: v not in (0, 1, 2)),
            LETTERS,
            st.floats(0.01, 1.99).filter(lambda v: v != 1),
        )
        return _poke(draw, labels, other), rf"{unseen}|mixes label types"
    if kind in MISSHAPEN:
        return _misshapen(draw, kind, labels)
    if kind == "mixed":
        return _poke(draw, labels, st.one_of(LETTERS, st.none())), (
            r"mixes label types|labels not seen in fit"
        )
    return draw(st.one_of(FINITE, st.just({}), st.none())), "y should be a 1d array"


@st.composite
def mismatched_lengths(draw):
    n_X = draw(st.integers(1, 20))
    n_y = draw(st.integers(0, 20).filter(lambda n: n != n_X))
    X = draw(hnp.arrays(np.float64, (n_X, D), elements=FINITE))
    y = np.arange(n_y) % 3
    return X, y


@st.composite
def malformed_sample_weight(draw):
    kind = draw(
        st.sampled_from(
            ["non-finite", "negative", "all-zero", "strings", "complex", "2-d", "length"]
        )
    )
    weight = draw(hnp.arrays(np.float64, N, elements=st.floats(0.0, 10.0)))
    if kind == "non-finite":
        bad = st.sampled_from([np.nan, np.inf, -np.inf])
        return _poke(draw, weight, bad).astype(np.float64), r"sample_weight contains (NaN|inf)"
    if kind == "negative":
        negative = st.floats(-1e6, -1e-6)
        return _poke(draw, weight, negative).astype(np.float64), "must be non-negative"
    if kind == "all-zero":
        return np.zeros(N), "must not be all zero"
    if kind == "strings":
        return _poke(draw, weight, LETTERS), (
            r"could not convert string to float|sample_weight contains (NaN|inf)"
        )
    if kind == "complex":
        return weight + 1j, "Complex data not supported"
    if kind == "2-d":
        return np.ones((N, draw(st.integers(2, 3)))), r"sample_weight must have shape \(12,\)"
    length = draw(st.integers(0, 30).filter(lambda n: n != N))
    return np.ones(length), r"sample_weight must have shape \(12,\)|0 sample\(s\)"


# Tests -------------------------------------------------------------------------------------------


@settings(max_examples=25, **FUZZ)
@given(case=MALFORMED_X)
def test_fit_rejects_malformed_X(data, case):
    X, match = case
    clf = PDiffClassifier(**TINY_BATCHES)
    with pytest.raises((ValueError, TypeError), match=match):
        clf.fit(X, data[1])
    assert not hasattr(clf, "net_")


@settings(max_examples=25, **FUZZ)
@given(case=malformed_y_for_fit())
def test_fit_rejects_malformed_y(data, case):
    y, match = case
    clf = PDiffClassifier(**TINY_BATCHES)
    with pytest.raises((ValueError, TypeError), match=match):
        clf.fit(data[0], y)
    assert not hasattr(clf, "net_")


@settings(max_examples=15, **FUZZ)
@given(case=mismatched_lengths())
def test_fit_rejects_mismatched_lengths(case):
    X, y = case
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        PDiffClassifier(**TINY_BATCHES).fit(X, y)


@settings(max_examples=20, **FUZZ)
@given(case=malformed_sample_weight())
def test_fit_rejects_malformed_sample_weight(data, case):
    weight, match = case
    clf = PDiffClassifier(**TINY_BATCHES)
    with pytest.raises((ValueError, TypeError), match=match):
        clf.fit(*data, sample_weight=weight)
    assert not hasattr(clf, "net_")


@settings(max_examples=25, **FUZZ)
@given(case=MALFORMED_X)
def test_predict_proba_rejects_malformed_X(fitted, case):
    X, match = case
    with pytest.raises((ValueError, TypeError), match=match):
        fitted.predict_proba(X)


@settings(max_examples=20, **FUZZ)
@given(case=MALFORMED_X)
def test_label_quality_scores_rejects_malformed_X(fitted, data, case):
    X, match = case
    with pytest.raises((ValueError, TypeError), match=match):
        fitted.label_quality_scores(X, data[1])


@settings(max_examples=25, **FUZZ)
@given(case=malformed_y_for_scoring())
def test_label_quality_scores_rejects_malformed_y(fitted, data, case):
    y, match = case
    with pytest.raises((ValueError, TypeError), match=match):
        fitted.label_quality_scores(data[0], y)


@settings(max_examples=15, **FUZZ)
@given(case=mismatched_lengths())
def test_label_quality_scores_rejects_mismatched_lengths(fitted, case):
    X, y = case
    with pytest.raises(ValueError, match=rf"X has {len(X)} samples but y has {len(y)}"):
        fitted.label_quality_scores(X, y)


DATETIME_UNITS = st.sampled_from(["D", "s", "ms", "ns"])


@st.composite
def datetime_X(draw):
    unit = draw(DATETIME_UNITS)
    kind = draw(st.sampled_from(["datetime64", "timedelta64"]))
    # The fitted model's 3 features, so that only the dtype can be the reason to reject.
    ticks = draw(hnp.arrays(np.int64, (N, D), elements=st.integers(0, 10**9)))
    return ticks.astype(f"{kind}[{unit}]")


@pytest.mark.parametrize("method", ["fit", "predict_proba", "label_quality_scores"])
@settings(max_examples=15, phases=[Phase.explicit, Phase.generate], **FUZZ)
@given(X=datetime_X())
def test_datetime_X_is_rejected(fitted, data, method, X):
    calls = {
        "fit": lambda: PDiffClassifier(**TINY_BATCHES).fit(X, data[1]),
        "predict_proba": lambda: fitted.predict_proba(X),
        "label_quality_scores": lambda: fitted.label_quality_scores(X, data[1]),
    }
    with pytest.raises((ValueError, TypeError), match=r"[Dd]atetime|timedelta|dtype"):
        calls[method]()
