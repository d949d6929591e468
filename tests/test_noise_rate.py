"""The noise-rate estimate: anchors of out-of-sample probabilities, and the probes behind them."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from cleanlab_pdiff import PDiffClassifier, make_noisy_labels
from cleanlab_pdiff._fit import probes as _probes
from cleanlab_pdiff._fit.inputs import wrap
from cleanlab_pdiff._fit.placement import Placement
from cleanlab_pdiff._fit.targets import TrainingData
from cleanlab_pdiff._fit.training import NetSetup
from cleanlab_pdiff.noise_rate import anchor_noise_rate


def test_anchors_are_each_class_s_most_typical_examples():
    # Class 0 (3 examples): anchors are the ceil(0.5 * 3) = 2 highest p0, rows 0 and 4 (given
    # 0 and 1). Class 1 (2 examples): the 1 highest p1, row 2 (given 0). 2 wrong of 3 anchors.
    labels = np.array([0, 0, 0, 1, 1])
    pred_probs = np.array([[0.9, 0.1], [0.6, 0.4], [0.1, 0.9], [0.2, 0.8], [0.8, 0.2]])
    assert anchor_noise_rate(labels, pred_probs, share=0.5) == pytest.approx(2 / 3)
    assert anchor_noise_rate(labels, np.eye(2)[labels], share=1.0) == 0.0


def test_uniform_noise_is_counted_among_confident_anchors():
    rng = np.random.default_rng(0)
    true = np.repeat(np.arange(4), 500)
    given = make_noisy_labels(true, 0.3, random_state=0)
    pred_probs = np.full((true.size, 4), 0.1)
    pred_probs[np.arange(true.size), true] = 0.7 + rng.uniform(0, 0.05, true.size)
    assert anchor_noise_rate(given, pred_probs) == pytest.approx(0.3, abs=0.03)


@pytest.mark.parametrize(
    ("labels", "pred_probs", "share", "match"),
    [
        (np.zeros(3, int), np.ones((3, 2)) / 2, 0.0, r"share must be in \(0, 1\]"),
        (np.zeros(3, int), np.ones((2, 2)) / 2, 0.3, "pred_probs must have shape"),
        (np.array([0, 2, 1]), np.ones((3, 2)) / 2, 0.3, r"labels must lie in \[0, 2\)"),
    ],
)
def test_bad_input_raises(labels, pred_probs, share, match):
    with pytest.raises(ValueError, match=match):
        anchor_noise_rate(labels, pred_probs, share=share)


def held_out_probabilities(estimator, X, labels, n_classes, *, folds, seed):
    """The probes' probabilities of the rows ``X`` on the CPU, unscaled."""
    data = TrainingData(wrap(X), labels, None, n_classes)
    setup = NetSetup(X.shape[1:], n_classes, Placement(torch.device("cpu")))
    return _probes.held_out_probabilities(estimator, data, setup, folds=folds, seed=seed)


def test_probes_predict_only_rows_they_did_not_train_on():
    # Each row is its own one-hot feature and its label is random: a network memorises the
    # rows it trains on and can only guess the others. Held-out agreement near chance means
    # no probe saw the rows it predicted.
    n = 240
    X = np.eye(n, dtype=np.float32)
    labels = np.random.default_rng(0).integers(0, 3, n)
    clf = PDiffClassifier(max_epochs=30, lr=1e-2, standardize=False, device="cpu")
    _, agreement = held_out_probabilities(clf, X, labels, 3, folds=3, seed=0)
    assert agreement < 0.45
    trained = PDiffClassifier(max_epochs=30, lr=1e-2, noise_rate=0.0, random_state=0)
    assert trained.fit(X, labels).score(X, labels) > 0.9  # it does memorise what it sees


class _LargestFetch(np.ndarray):
    """An array that remembers the most rows one index of it has fetched."""

    largest = 0

    def __getitem__(self, index):
        out = super().__getitem__(index)
        if isinstance(out, np.ndarray) and out.ndim == self.ndim:
            _LargestFetch.largest = max(_LargestFetch.largest, len(out))
        return out


def test_probes_fetch_batches_without_copying_the_folds():
    X, labels = np.random.default_rng(0).random((300, 4)), np.arange(300) % 3
    clf = PDiffClassifier(max_epochs=2, batch_size=32, standardize=False, device="cpu")
    _LargestFetch.largest = 0
    held_out_probabilities(clf, X.view(_LargestFetch), labels, 3, folds=3, seed=0)
    # Training and prediction batches only: a copy of a fold would fetch 100 or 200 rows.
    assert 0 < _LargestFetch.largest <= 32


@pytest.fixture(scope="module")
def digits_flipped30():
    X, y = load_digits(return_X_y=True)
    return X[:900], y[:900], make_noisy_labels(y[:900], 0.3, random_state=0)


@pytest.fixture(scope="module")
def probed_25_epochs(digits_flipped30):
    """A default fit (held-out probes) of 25 epochs on ``digits_flipped30``."""
    X, _, y_noisy = digits_flipped30
    return PDiffClassifier(max_epochs=25, random_state=0).fit(X, y_noisy)


def test_the_held_out_estimate_counts_synthetic_noise(digits_flipped30, probed_25_epochs):
    _, _, y_noisy = digits_flipped30
    clf = probed_25_epochs
    assert clf.noise_rate_ == pytest.approx(0.3, abs=0.05)
    assert clf.label_issues_.sum() == round(clf.noise_rate_ * len(y_noisy))


def test_probe_folds_zero_reports_the_online_estimate(digits_flipped30, probed_25_epochs):
    X, _, y_noisy = digits_flipped30
    clf = PDiffClassifier(probe_folds=0, max_epochs=25, random_state=0).fit(X, y_noisy)
    assert clf.noise_rate_ == pytest.approx(clf.history_[-1, "drop_rate"])
    probed = probed_25_epochs
    assert probed.probe_folds == 3
    # The probes only estimate: training is the same.
    np.testing.assert_array_equal(probed.predict_proba(X), clf.predict_proba(X))
    assert probed.noise_rate_ != clf.noise_rate_


def test_partial_fit_keeps_the_first_fit_s_held_out_estimate(digits_flipped30):
    X, _, y_noisy = digits_flipped30
    clf = PDiffClassifier(max_epochs=6, random_state=0).fit(X, y_noisy)
    first = clf.noise_rate_
    clf.set_params(max_epochs=1).partial_fit(X, y_noisy)
    assert len(clf.history_) == 7
    assert clf.noise_rate_ == first
    assert clf.label_issues_.sum() == round(first * len(y_noisy))
    # Probes capped at one epoch would estimate otherwise: the equality above means something.
    assert PDiffClassifier(max_epochs=1, random_state=0).fit(X, y_noisy).noise_rate_ != first


@pytest.mark.parametrize("folds", [2, 4])
def test_probe_folds_is_the_number_of_probes(digits_flipped30, folds, monkeypatch):
    X, _, y_noisy = digits_flipped30
    held_out = []
    original = _probes._probe

    def counting(plain, data, setup, split, seed):
        held_out.append(split[1])
        return original(plain, data, setup, split, seed)

    monkeypatch.setattr(_probes, "_probe", counting)
    PDiffClassifier(probe_folds=folds, max_epochs=1, random_state=0).fit(X, y_noisy)
    assert len(held_out) == folds
    # Each row is held out by exactly one probe.
    np.testing.assert_array_equal(np.sort(np.concatenate(held_out)), np.arange(len(y_noisy)))
