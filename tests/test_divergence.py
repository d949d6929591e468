"""Divergence and edge sizes: training either works or fails with a message that says what to do."""

from functools import partial

import numpy as np
import pytest
import torch
from settings import THREE_EPOCHS
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted
from torch import nn

from cleanlab_pdiff import MLP, PDiffClassifier

#: 96 rows in batches of 32: three full batches an epoch. noise_rate=0 keeps every sample,
#: so a sample with an exploding loss can't be dropped by P-DIFF before it is seen.
PLAIN = {**THREE_EPOCHS, "noise_rate": 0.0}  # cross-entropy: divergence, not P-DIFF, is tested

DIVERGED = r"Training diverged: the loss is {loss} at epoch {epoch}, batch {batch}\. Scale"


class Explode(nn.Module):
    """A linear model whose training forward pass goes bad after ``after`` calls.

    ``mode="inf"``: finite logits (+1e38 for class 0, -1e38 for the others) whose
    cross-entropy, 2e38 a sample not labelled 0, overflows float32 once summed over a batch;
    the probabilities stay finite. ``mode="nan"``: NaN logits.
    """

    def __init__(self, n_features, n_classes, after, mode):
        super().__init__()
        self.linear = nn.Linear(n_features, n_classes)
        self.after, self.mode, self.calls = after, mode, 0

    def forward(self, x):
        logits = self.linear(x)
        if not self.training:
            return logits
        self.calls += 1
        if self.calls <= self.after:
            return logits
        if self.mode == "nan":
            return logits * float("nan")
        huge = torch.full_like(logits, -1e38)
        huge[:, 0] = 1e38
        return logits * 0 + huge


#: What a successful fit learns (n_features_in_ is set by input validation, before training).
LEARNED = (
    "net_",
    "classes_",
    "history_",
    "noise_rate_",
    "window_",
    "training_label_quality_",
    "label_issues_",
)


def _assert_unfitted(clf):
    with pytest.raises(NotFittedError, match="is not fitted yet"):
        check_is_fitted(clf)
    assert [name for name in LEARNED if hasattr(clf, name)] == []


# Divergence -------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["inf", "nan"])
def test_non_finite_loss_names_epoch_and_batch_and_leaves_unfitted(three_classes_96x6, mode):
    X, y = three_classes_96x6
    # Training call 5 is the second batch of the second epoch.
    clf = PDiffClassifier(partial(Explode, after=4, mode=mode), **PLAIN)
    with pytest.raises(FloatingPointError, match=DIVERGED.format(loss=mode, epoch=2, batch=2)):
        clf.fit(X, y)
    _assert_unfitted(clf)


def test_diverging_sgd_raises_floating_point_error(three_classes_96x6):
    X, y = three_classes_96x6
    clf = PDiffClassifier(**{**PLAIN, "optimizer": torch.optim.SGD, "lr": 1e6})
    with pytest.raises(
        FloatingPointError, match=DIVERGED.format(loss="nan", epoch=r"\d+", batch=r"\d+")
    ):
        clf.fit(X, y)
    _assert_unfitted(clf)


def test_failed_refit_forgets_the_earlier_successful_fit(three_classes_96x6):
    X, y = three_classes_96x6
    clf = PDiffClassifier(**PLAIN).fit(X, y)
    check_is_fitted(clf)
    clf.set_params(module=partial(Explode, after=0, mode="inf"))
    with pytest.raises(FloatingPointError, match=DIVERGED.format(loss="inf", epoch=1, batch=1)):
        clf.fit(X, y)
    _assert_unfitted(clf)


def test_diverging_partial_fit_leaves_unfitted_and_counts_epochs_on(three_classes_96x6):
    X, y = three_classes_96x6
    # fit makes training calls 1-3 (epoch 1); partial_fit's call 5 is epoch 2, batch 2.
    clf = PDiffClassifier(partial(Explode, after=4, mode="inf"), **{**PLAIN, "max_epochs": 1})
    clf.fit(X, y)
    check_is_fitted(clf)
    with pytest.raises(FloatingPointError, match=DIVERGED.format(loss="inf", epoch=2, batch=2)):
        clf.partial_fit(X, y)
    _assert_unfitted(clf)


class PoisonedSGD(torch.optim.SGD):
    """SGD that leaves NaN in every parameter after its step."""

    def step(self, closure=None):
        loss = super().step(closure)
        with torch.no_grad():
            for group in self.param_groups:
                for param in group["params"]:
                    param.fill_(float("nan"))
        return loss


def test_non_finite_parameters_at_train_end_raise_and_leave_unfitted(three_classes_96x6):
    X, y = three_classes_96x6
    # One batch, one step: the loss was finite, only the parameters went bad.
    clf = PDiffClassifier(**{**PLAIN, "max_epochs": 1, "batch_size": 128, "optimizer": PoisonedSGD})
    with pytest.raises(
        FloatingPointError,
        match=r"parameters are not finite after epoch 1\. Scale the features or lower lr",
    ):
        clf.fit(X, y)
    _assert_unfitted(clf)


# Edge sizes -------------------------------------------------------------------------------------


def test_fewer_samples_than_one_batch(three_classes_96x6):
    X, y = three_classes_96x6
    X, y = X[:10], y[:10]
    clf = PDiffClassifier(**{**PLAIN, "noise_rate": 0.2, "t_k": 0, "batch_size": 32}).fit(X, y)
    assert clf.window_ == 1
    assert all(len(clf.history_[e, "batches"]) == 1 for e in range(3))
    proba = clf.predict_proba(X)
    assert proba.shape == (10, np.unique(y).size)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    # The window is the whole data set: at most the drop rate of it is excluded.
    assert 0 < clf.label_issues_.sum() <= 2


def test_class_with_a_single_example(three_classes_96x6):
    X, y = three_classes_96x6
    y = y.copy()
    y[5] = 9
    clf = PDiffClassifier(**PLAIN).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2, 9])
    proba = clf.predict_proba(X)
    assert proba.shape == (96, 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    quality = clf.training_label_quality_
    assert np.isfinite(quality).all() and ((0 <= quality) & (quality <= 1)).all()
    scores = clf.label_quality_scores(X, y)
    assert scores.shape == (96,) and np.isfinite(scores).all()


def test_all_labels_identical_but_one(three_classes_96x6):
    X, _ = three_classes_96x6
    y = np.zeros(96, dtype=int)
    y[17] = 1
    clf = PDiffClassifier(**{**PLAIN, "noise_rate": "auto"}).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, [0, 1])
    assert clf.predict_proba(X).shape == (96, 2)
    assert (clf.predict(X) == 0).mean() >= 0.95
    # The lone label is the one the training run finds least plausible.
    assert np.argmin(clf.training_label_quality_) == 17


class ConstantLogits(nn.Module):
    """Zero logits for every row: every delta is exactly 0, in one histogram bin."""

    def __init__(self, n_features, n_classes):
        super().__init__()
        self.linear = nn.Linear(n_features, n_classes)

    def forward(self, x):
        return self.linear(x) * 0


def test_threshold_inside_a_single_bin_keeps_that_bin(three_classes_96x6):
    X, y = three_classes_96x6
    clf = PDiffClassifier(ConstantLogits, **{**PLAIN, "noise_rate": 0.3, "t_k": 0}).fit(X, y)
    # The drop rate is 0.3 throughout, but the bin that crosses it holds all the mass and
    # is kept (docs/pdiff.md, "The distribution, the threshold and the weights"): nothing is
    # dropped.
    assert clf.history_[:, "drop_rate"] == [0.3] * 3
    assert clf.history_[:, "kept_fraction"] == [1.0] * 3
    np.testing.assert_allclose(clf.history_[:, "delta_threshold"], 0.0, atol=1e-9)
    assert (clf.net_.criterion_.last_weights == 1).all()
    np.testing.assert_allclose(clf.training_label_quality_, 1 / 3)  # uniform probabilities
    assert clf.noise_rate_ == 0.3


def test_a_thousand_classes():
    rng = np.random.RandomState(0)
    n_classes = 1000
    y = np.repeat(np.arange(n_classes), 2)
    X = rng.randn(n_classes, 16)[y] + 0.1 * rng.randn(y.size, 16)
    clf = PDiffClassifier(
        partial(MLP, hidden=(32,)),
        max_epochs=3,
        batch_size=128,
        lr=1e-2,
        random_state=0,
        device="cpu",
    ).fit(X, y)
    proba = clf.predict_proba(X)
    assert clf.classes_.size == n_classes
    assert proba.shape == (2000, n_classes)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-4)
    assert (clf.predict(X) == y).mean() > 0.3  # chance is 0.001
    assert clf.label_quality_scores(X, y).shape == (2000,)
    assert 0 <= clf.noise_rate_ < 1


# Extreme scales ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def unit_scale_accuracy(three_classes_96x6):
    X, y = three_classes_96x6
    clf = PDiffClassifier(**{**PLAIN, "noise_rate": "auto", "lr": 1e-2}).fit(X, y)
    return (clf.predict(X) == y).mean()


def test_the_scale_tests_settings_learn_at_unit_scale(unit_scale_accuracy):
    # A control: these settings learn the data at unit scale, so what the scale tests see
    # comes from the scale alone.
    assert unit_scale_accuracy >= 0.9


@pytest.mark.parametrize(
    "scale", [1e300, 1e30, 1e-30, 1e-300], ids=["1e300", "1e30", "1e-30", "1e-300"]
)
def test_extreme_feature_scales_learn_as_at_unit_scale(
    three_classes_96x6, unit_scale_accuracy, scale
):
    X, y = three_classes_96x6
    clf = PDiffClassifier(**{**PLAIN, "noise_rate": "auto", "lr": 1e-2}).fit(X * scale, y)
    assert (clf.predict(X * scale) == y).mean() >= unit_scale_accuracy - 0.05
    assert clf.noise_rate_ <= 0.2  # the labels are clean


@pytest.mark.parametrize("scale", [1e30, 1e-30], ids=["huge", "tiny"])
def test_extreme_feature_scale_without_standardising_says_to_scale(three_classes_96x6, scale):
    X, y = three_classes_96x6
    clf = PDiffClassifier(**{**PLAIN, "standardize": False})
    with pytest.raises(ValueError, match="Scale the features first, e.g. with sklearn"):
        clf.fit(X * scale, y)


@pytest.fixture(scope="module")
def unit_weight_proba(three_classes_96x6):
    X, y = three_classes_96x6
    return PDiffClassifier(**PLAIN).fit(X, y).predict_proba(X)


@pytest.mark.parametrize(
    "scale",
    [
        2.0**-20,
        1e6,
        1e30,
        1e-30,
        1e38,
    ],
    ids=lambda scale: f"{scale:g}",
)
def test_uniform_sample_weight_scale_does_not_change_the_model(
    three_classes_96x6, unit_weight_proba, scale
):
    # The loss is normalised by the batch's summed sample weight and the P-DIFF CDF by the
    # window's, so scaling every weight by one constant must not change the model.
    X, y = three_classes_96x6
    clf = PDiffClassifier(**PLAIN).fit(X, y, sample_weight=np.full(len(y), scale))
    np.testing.assert_allclose(clf.predict_proba(X), unit_weight_proba, atol=1e-5)
