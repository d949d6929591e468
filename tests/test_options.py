"""The options beyond the paper (PDIFF.md section 6), through the estimator."""

import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from cleanlab_pdiff import PDiffClassifier, make_noisy_labels


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"per_class": 1}, TypeError, "per_class must be True or False"),
        ({"negative_learning": "yes"}, TypeError, "negative_learning must be True or False"),
        ({"weighting": "smooth"}, ValueError, r"weighting must be one of \['hard', 'soft'\]"),
    ],
)
def test_option_validation(params, error, match):
    with pytest.raises(error, match=match):
        PDiffClassifier(max_epochs=1, **params).fit([[0.0], [1.0]], [0, 1])


@pytest.mark.parametrize(
    "params", [{"per_class": True}, {"weighting": "soft"}, {"negative_learning": True}]
)
def test_options_train_and_drop(params):
    X, y = load_digits(return_X_y=True)
    X, y = X[:400] / 16.0, y[:400]
    y_noisy = make_noisy_labels(y, 0.3, random_state=0)
    clf = PDiffClassifier(noise_rate=0.3, t_k=5, max_epochs=15, random_state=0, **params)
    clf.fit(X, y_noisy)
    assert clf.history_[-1, "kept_fraction"] < 0.9
    assert clf.score(X, y) > 0.8


@pytest.mark.slow
def test_per_class_thresholds_rescue_pair_noise():
    """Pair noise at 45% defeats one global threshold; one per class copes (PDIFF.md 7)."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16.0, y, test_size=0.3, stratify=y, random_state=0
    )
    y_noisy = make_noisy_labels(y_train, 0.45, kind="pair", random_state=0)
    scores = {
        per_class: PDiffClassifier(noise_rate=0.45, per_class=per_class, random_state=0)
        .fit(X_train, y_noisy)
        .score(X_test, y_test)
        for per_class in (False, True)
    }
    assert scores[True] >= 0.88
    assert scores[True] - scores[False] >= 0.08
