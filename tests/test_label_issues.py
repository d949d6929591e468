"""Label-issue finding: training-time quality, find_label_issues, and cleanlab workflows."""

import numpy as np
import pytest
import torch
from cleanlab import Datalab
from cleanlab.classification import CleanLearning
from cleanlab.filter import find_label_issues
from cleanlab.rank import get_label_quality_scores
from scipy.stats import spearmanr
from sklearn.datasets import load_digits
from sklearn.metrics import f1_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from cleanlab_pdiff import PDiffClassifier, make_noisy_labels
from cleanlab_pdiff._fit import probes as _probes
from cleanlab_pdiff.label_issues import cross_val_pred_probs
from cleanlab_pdiff.pdiff import probability_difference


@pytest.fixture(scope="module")
def digits_600_flipped30():
    """600 digits with 30% of labels flipped: (X, noisy labels, flipped mask)."""
    X, y = load_digits(return_X_y=True)
    X, y = X[:600] / 16.0, y[:600]
    y_noisy = make_noisy_labels(y, 0.3, random_state=0)
    return X, y_noisy, y_noisy != y


@pytest.fixture(scope="module")
def fitted(digits_600_flipped30):
    X, y_noisy, _ = digits_600_flipped30
    return PDiffClassifier(noise_rate=0.3, max_epochs=40, random_state=0).fit(X, y_noisy)


@pytest.mark.parametrize(
    "method", ["normalized_margin", "self_confidence", "confidence_weighted_entropy"]
)
def test_label_quality_scores_delegate_to_cleanlab(fitted, digits_600_flipped30, method):
    X, y_noisy, _ = digits_600_flipped30
    scores = fitted.label_quality_scores(X, y_noisy, method=method)
    expected = get_label_quality_scores(y_noisy, fitted.predict_proba(X), method=method)
    np.testing.assert_array_equal(scores, expected)
    assert scores.shape == (len(y_noisy),)
    assert scores.min() >= 0 and scores.max() <= 1


def test_normalized_margin_is_delta_mapped_to_unit_interval(fitted, digits_600_flipped30):
    X, y_noisy, _ = digits_600_flipped30
    delta = probability_difference(
        torch.from_numpy(fitted.predict_proba(X)), torch.from_numpy(y_noisy)
    )
    np.testing.assert_allclose(
        fitted.label_quality_scores(X, y_noisy), (delta.numpy() + 1) / 2, atol=1e-6
    )


def test_label_quality_scores_encode_string_labels():
    X, y = load_digits(return_X_y=True)
    X, y = X[:300] / 16.0, y[:300]
    names = np.array(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    )
    clf = PDiffClassifier(max_epochs=5, random_state=0).fit(X, names[y])
    by_name = clf.label_quality_scores(X, names[y])
    by_code = get_label_quality_scores(
        np.searchsorted(clf.classes_, names[y]), clf.predict_proba(X), method="normalized_margin"
    )
    np.testing.assert_array_equal(by_name, by_code)


def test_label_quality_scores_bad_input(fitted, digits_600_flipped30):
    X, y_noisy, _ = digits_600_flipped30
    with pytest.raises(ValueError, match="method must be one of"):
        fitted.label_quality_scores(X, y_noisy, method="margin")
    with pytest.raises(ValueError, match=r"labels not seen in fit: \[10\]"):
        fitted.label_quality_scores(X[:3], np.array([1, 2, 10]))
    with pytest.raises(ValueError, match="X has 600 samples but y has 599"):
        fitted.label_quality_scores(X, y_noisy[:-1])


def test_training_label_quality_follows_rows_through_shuffling(fitted, digits_600_flipped30):
    X, y_noisy, flipped = digits_600_flipped30
    quality = fitted.training_label_quality_
    assert quality.shape == (len(y_noisy),)
    assert quality.min() >= 0 and quality.max() <= 1
    # A row mix-up in the index bookkeeping would push both numbers to chance level.
    assert roc_auc_score(flipped, -quality) > 0.95
    in_sample = fitted.label_quality_scores(X, y_noisy)
    assert spearmanr(quality, in_sample).statistic > 0.8


def test_label_issues_are_the_excluded_share(fitted, digits_600_flipped30):
    _, y_noisy, flipped = digits_600_flipped30
    issues = fitted.label_issues_
    assert issues.dtype == bool and issues.shape == (len(y_noisy),)
    # The threshold is bin-granular, so the excluded share is near, not at, the rate.
    assert 0.2 < issues.mean() < 0.4
    assert f1_score(flipped, issues) > 0.85


def test_plain_training_flags_nothing(digits_600_flipped30):
    X, y_noisy, _ = digits_600_flipped30
    clf = PDiffClassifier(noise_rate=0.0, max_epochs=5, random_state=0)
    assert not clf.find_label_issues(X, y_noisy).any()
    assert not clf.label_issues_.any()


def test_find_label_issues_cuts_at_the_noise_rate(digits_600_flipped30):
    X, y_noisy, flipped = digits_600_flipped30
    clf = PDiffClassifier(max_epochs=25, random_state=0)  # past the ramp (t_k=20)
    mask = clf.find_label_issues(X, y_noisy)
    assert mask.dtype == bool and mask.shape == (len(y_noisy),)
    assert mask.sum() == round(clf.noise_rate_ * len(y_noisy))
    assert f1_score(flipped, mask) > 0.85
    ranked = clf.find_label_issues(X, y_noisy, return_indices_ranked_by="self_confidence")
    np.testing.assert_array_equal(np.sort(ranked), np.flatnonzero(mask))
    assert np.all(np.diff(clf.training_label_quality_[ranked]) >= 0)


def test_find_label_issues_cuts_at_a_given_rate_even_before_the_ramp_ends(digits_600_flipped30):
    X, y_noisy, _ = digits_600_flipped30
    clf = PDiffClassifier(noise_rate=0.3, max_epochs=5, t_k=20, random_state=0)
    mask = clf.find_label_issues(X, y_noisy)
    assert clf.history_[-1, "drop_rate"] < 0.3  # the drop rate was still ramping up
    assert clf.noise_rate_ == 0.3
    assert mask.sum() == round(0.3 * len(y_noisy))


def test_find_label_issues_with_cv_uses_cleanlab_and_leaves_self_unfitted(digits_600_flipped30):
    X, y_noisy, flipped = digits_600_flipped30
    clf = PDiffClassifier(max_epochs=20, random_state=0)
    mask = clf.find_label_issues(X, y_noisy, cv=3)
    assert mask.dtype == bool and mask.shape == (len(y_noisy),)
    assert f1_score(flipped, mask) > 0.7
    assert not hasattr(clf, "net_")
    ranked = clf.find_label_issues(X, y_noisy, cv=3, return_indices_ranked_by="self_confidence")
    np.testing.assert_array_equal(np.sort(ranked), np.flatnonzero(mask))


def test_cv_folds_skip_the_probes_and_keep_their_probabilities(three_classes_120x8, monkeypatch):
    X, y = three_classes_120x8
    clf = PDiffClassifier(max_epochs=3, random_state=0)
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    with_probes = cross_val_predict(clf, X, y, cv=folds, method="predict_proba")

    def no_probes(*args, **kwargs):
        raise AssertionError("a fold ran the held-out probes")

    monkeypatch.setattr(_probes, "held_out_probabilities", no_probes)
    _, pred_probs = cross_val_pred_probs(clf, X, y, cv=folds)
    np.testing.assert_array_equal(pred_probs, with_probes)
    assert clf.probe_folds == 3


def test_find_label_issues_bad_input(digits_600_flipped30):
    X, y_noisy, _ = digits_600_flipped30
    clf = PDiffClassifier(max_epochs=2)
    with pytest.raises(ValueError, match="without cv"):
        clf.find_label_issues(X, y_noisy, return_indices_ranked_by="normalized_margin")
    with pytest.raises(ValueError, match="return_indices_ranked_by must be"):
        clf.find_label_issues(X, y_noisy, cv=2, return_indices_ranked_by="margin")
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        clf.find_label_issues(X, y_noisy[:-1], cv=2)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        clf.find_label_issues(X, y_noisy[:-1])


def test_clean_learning_with_pdiff(digits_600_flipped30):
    X, y_noisy, flipped = digits_600_flipped30
    cl = CleanLearning(
        clf=PDiffClassifier(max_epochs=20, probe_folds=0, random_state=0), seed=0, cv_n_folds=3
    )
    cl.fit(X, y_noisy)
    found = cl.label_issues_df["is_label_issue"].to_numpy()
    assert f1_score(flipped, found) > 0.7
    assert cl.predict(X).shape == (len(y_noisy),)
    issues = cl.find_label_issues(X, y_noisy)
    assert len(issues) == len(y_noisy)


@pytest.fixture(scope="module")
def cv_pred_probs(digits_600_flipped30):
    """3-fold ``cross_val_predict`` probabilities of P-DIFF on ``digits_600_flipped30``."""
    X, y_noisy, _ = digits_600_flipped30
    return cross_val_predict(
        PDiffClassifier(max_epochs=20, probe_folds=0, random_state=0),
        X,
        y_noisy,
        cv=StratifiedKFold(3, shuffle=True, random_state=0),
        method="predict_proba",
    )


def test_cross_val_predict_feeds_cleanlab_filter(digits_600_flipped30, cv_pred_probs):
    _, y_noisy, flipped = digits_600_flipped30
    mask = find_label_issues(y_noisy, cv_pred_probs)
    assert f1_score(flipped, mask) > 0.7


# cleanlab 2.9's label check calls DataFrame.rename(inplace=True), which pandas 3.1
# deprecates; the suite turns deprecations into errors, which Datalab would swallow.
@pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning")
def test_datalab_with_pdiff_pred_probs(digits_600_flipped30, cv_pred_probs):
    X, y_noisy, flipped = digits_600_flipped30
    lab = Datalab(data={"label": y_noisy}, label_name="label", verbosity=0)
    lab.find_issues(pred_probs=cv_pred_probs, features=X)
    found = lab.get_issues("label")["is_label_issue"].to_numpy()
    assert f1_score(flipped, found) > 0.7
    assert "outlier" in set(lab.get_issue_summary()["issue_type"])


@pytest.mark.slow
def test_digits_40_percent_one_run_matches_cleanlab_five_fold_recipe():
    """Issue acceptance: one P-DIFF fit vs cleanlab's 5-fold recipe on the same network."""
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    y_noisy = make_noisy_labels(y, 0.4, random_state=0)
    flipped = y_noisy != y
    clf = PDiffClassifier(random_state=0)
    mask = clf.find_label_issues(X, y_noisy)
    assert roc_auc_score(flipped, -clf.training_label_quality_) >= 0.98
    pred_probs = cross_val_predict(
        PDiffClassifier(noise_rate=0.0, random_state=0),
        X,
        y_noisy,
        cv=StratifiedKFold(5, shuffle=True, random_state=0),
        method="predict_proba",
    )
    recipe = find_label_issues(y_noisy, pred_probs)
    assert f1_score(flipped, mask) >= f1_score(flipped, recipe)
