"""What a scikit-learn, skorch or cleanlab user does off the documented path, and gets."""

import warnings

import numpy as np
import pytest
import torch
from scipy import sparse
from settings import THREE_EPOCHS
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.utils.class_weight import compute_sample_weight
from skorch.callbacks import EarlyStopping

from cleanlab_pdiff import PDiffClassifier, make_noisy_labels

# Features on any scale ----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("load", "accuracy"), [(load_breast_cancer, 0.93), (load_wine, 0.95)], ids=["cancer", "wine"]
)
def test_raw_clean_features_train_well_with_the_defaults(load, accuracy):
    X, y = load(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0
    )
    clf = PDiffClassifier(random_state=0).fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= accuracy
    assert clf.noise_rate_ <= 0.03


#: Features on scales a thousandfold apart, as raw tabular columns often are.
UNITS = np.array([1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0, 1e3, 1e4])


def test_standardisation_is_fitted_and_applied_at_prediction(three_classes_200x8):
    X, y = three_classes_200x8
    X = X * UNITS
    shifted = X * 1000 + 500
    unit = PDiffClassifier(**THREE_EPOCHS).fit(X, y)
    raw = PDiffClassifier(**THREE_EPOCHS).fit(shifted, y)
    np.testing.assert_allclose(raw.mean_, shifted.mean(axis=0))
    np.testing.assert_allclose(raw.scale_, shifted.std(axis=0))
    # The same standardised inputs, so the same model: a scale-free fit.
    np.testing.assert_allclose(raw.predict_proba(shifted), unit.predict_proba(X), atol=1e-5)


def test_features_on_one_scale_share_one_deviation():
    # Pixel-like: the same range for every feature, and a few pixels almost never lit.
    rng = np.random.default_rng(0)
    X = rng.random((300, 6))
    X[:, :2] = np.where(rng.random((300, 2)) < 0.01, 1.0, 0.0)
    clf = PDiffClassifier(**{**THREE_EPOCHS, "max_epochs": 1, "noise_rate": 0.0})
    clf.fit(X, np.arange(300) % 2)
    rms = np.sqrt(np.mean(np.square(X.std(axis=0))))
    np.testing.assert_allclose(clf.scale_, np.full(6, rms))
    np.testing.assert_allclose(clf.mean_, X.mean(axis=0))
    # Nothing is blown up: the rare pixel stays within a few shared deviations.
    assert np.abs((X - clf.mean_) / clf.scale_).max() < 5


def test_standardize_off_keeps_the_features_as_they_are(three_classes_200x8):
    X, y = three_classes_200x8
    clf = PDiffClassifier(standardize=False, **THREE_EPOCHS).fit(X, y)
    assert clf.mean_ is None and clf.scale_ is None
    with pytest.raises(ValueError, match="Scale the features first"):
        PDiffClassifier(standardize=False, **THREE_EPOCHS).fit(X * 1e9, y)


def test_images_are_standardised_per_channel():
    rng = np.random.default_rng(0)
    X = rng.random((8, 3, 28, 28)).astype(np.float32) * np.array([1, 10, 100])[:, None, None]
    params = {"max_epochs": 1, "noise_rate": 0.0, "random_state": 0, "device": "cpu"}
    clf = PDiffClassifier(**params).fit(X, np.arange(8) % 2)
    np.testing.assert_allclose(clf.mean_, X.mean(axis=(0, 2, 3)), rtol=1e-5)
    assert clf.scale_.shape == (3,)


# The drop-rate ramp and tiny data -----------------------------------------------------------


def test_max_epochs_below_t_k_warns_that_the_ramp_does_not_end(three_classes_200x8):
    X, y = three_classes_200x8
    with pytest.warns(
        UserWarning, match=r"max_epochs=3 ends before .*\(t_k=20 epochs\).* only 10%"
    ) as caught:
        PDiffClassifier(noise_rate=0.2, **THREE_EPOCHS).fit(X, y)
    assert caught[0].filename == __file__  # the user's line, not the package's
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        PDiffClassifier(noise_rate=0.2, t_k=2, **THREE_EPOCHS).fit(X, y)
        PDiffClassifier(noise_rate=0.0, **THREE_EPOCHS).fit(X, y)  # no ramp to end


def test_tiny_data_warns_that_the_estimate_is_a_guess():
    X, y = np.arange(12.0).reshape(6, 2), np.array([0, 0, 1, 1, 2, 2])
    with pytest.warns(UserWarning, match="smallest class has 2 example.*rough guess") as caught:
        PDiffClassifier(**{**THREE_EPOCHS, "max_epochs": 25, "t_k": 2}).fit(X, y)
    assert caught[0].filename == __file__


def test_a_warning_through_scikit_learn_names_the_user_s_call(three_classes_200x8):
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline

    X, y = three_classes_200x8
    pipeline = make_pipeline(PDiffClassifier(noise_rate=0.2, **THREE_EPOCHS))
    with pytest.warns(UserWarning, match="ends before") as caught:
        cross_val_score(pipeline, X, y, cv=2)
    assert {warning.filename for warning in caught} == {__file__}


# skorch's callbacks and a validation split --------------------------------------------------


def test_skorch_early_stopping_works_with_a_validation_split(three_classes_200x8):
    X, y = three_classes_200x8
    stop = EarlyStopping(patience=2)
    clf = PDiffClassifier(
        callbacks=[stop], validation_fraction=0.2, **{**THREE_EPOCHS, "max_epochs": 200}
    ).fit(X, y)
    assert len(clf.history_) < 200  # the validation loss stopped falling
    assert {"valid_loss", "valid_acc"} <= clf.history_[-1].keys()


def test_a_validation_monitor_without_a_split_says_what_to_do(three_classes_200x8):
    X, y = three_classes_200x8
    with pytest.raises(ValueError, match="monitors 'valid_loss'.*set validation_fraction"):
        PDiffClassifier(callbacks=[EarlyStopping()], **THREE_EPOCHS).fit(X, y)


def test_early_stopping_watches_the_validation_accuracy(three_classes_200x8):
    X, y = three_classes_200x8
    clf = PDiffClassifier(early_stopping=2, **{**THREE_EPOCHS, "max_epochs": 200}).fit(X, y)
    accuracy = clf.history_[:, "valid_acc"]
    assert len(accuracy) < 200 and max(accuracy) >= 0.9
    # Validation rows (10%) get no training-time quality, and are never flagged.
    held_out = np.isnan(clf.training_label_quality_)
    assert held_out.sum() == 20 and not clf.label_issues_[held_out].any()


# class_weight, sparse input, threads --------------------------------------------------------


def test_class_weight_multiplies_the_sample_weights(three_classes_200x8):
    X, y = three_classes_200x8
    keep = np.r_[np.flatnonzero(y == 0), np.flatnonzero(y != 0)[:60]]
    X, y = X[keep], y[keep]
    balanced = PDiffClassifier(class_weight="balanced", **THREE_EPOCHS).fit(X, y)
    by_hand = PDiffClassifier(**THREE_EPOCHS).fit(
        X, y, sample_weight=compute_sample_weight("balanced", y)
    )
    np.testing.assert_array_equal(balanced.predict_proba(X), by_hand.predict_proba(X))
    weights = {0: 1.0, 1: 3.0, 2: 3.0}
    both = PDiffClassifier(class_weight=weights, **THREE_EPOCHS).fit(
        X, y, sample_weight=np.full(len(y), 2)
    )
    alone = PDiffClassifier(class_weight=weights, **THREE_EPOCHS).fit(X, y)
    np.testing.assert_array_equal(both.predict_proba(X), alone.predict_proba(X))
    assert not np.array_equal(alone.predict_proba(X), by_hand.predict_proba(X))


@pytest.mark.parametrize(
    ("class_weight", "match"),
    [("heavy", "class_weight must be None, 'balanced' or a dict"), ({7: 2.0}, r"not in y: \[7\]")],
)
def test_bad_class_weight_raises(three_classes_200x8, class_weight, match):
    X, y = three_classes_200x8
    with pytest.raises(ValueError, match=match):
        PDiffClassifier(class_weight=class_weight, **THREE_EPOCHS).fit(X, y)


def test_sparse_input_gives_the_dense_result(three_classes_200x8):
    X, y = three_classes_200x8
    X = np.where(np.abs(X) > 1, X, 0.0)  # mostly zeros
    dense = PDiffClassifier(**THREE_EPOCHS).fit(X, y)
    fitted = PDiffClassifier(**THREE_EPOCHS).fit(sparse.csr_matrix(X), y)
    # Sparse data are scaled, not centred: the same only up to that shift.
    np.testing.assert_allclose(fitted.scale_, dense.scale_, rtol=1e-6)
    assert (fitted.predict(sparse.csr_matrix(X)) == y).mean() >= 0.8


def _sentences(rng, words, n):
    return [" ".join(rng.choice(words, size=12)) for _ in range(n)]


def test_tfidf_pipeline_finds_planted_label_errors():
    rng = np.random.default_rng(0)
    topics = {
        "sport": "goal match team score league coach player ball season win".split(),
        "food": "bread cheese soup salad recipe oven sauce spice dinner bake".split(),
        "music": "guitar song band chord album drums melody concert tune piano".split(),
    }
    texts = [text for words in topics.values() for text in _sentences(rng, words, 100)]
    y = np.repeat(list(topics), 100)
    y_noisy = make_noisy_labels(y, 0.15, random_state=0)
    pipe = make_pipeline(TfidfVectorizer(), PDiffClassifier(max_epochs=40, random_state=0))
    pipe.fit(texts, y_noisy)
    clf = pipe[-1]
    flipped = y_noisy != y
    assert roc_auc_score(flipped, -clf.training_label_quality_) >= 0.95  # the ranking
    found = clf.label_issues_  # cut at the estimated rate: 0.12 here, for 0.15
    assert (found & flipped).sum() / max(found.sum(), 1) >= 0.9
    assert (found & flipped).sum() / flipped.sum() >= 0.7


def test_n_threads_applies_while_fitting_and_predicting_only(three_classes_200x8, monkeypatch):
    X, y = three_classes_200x8
    seen = []
    real = torch.set_num_threads
    monkeypatch.setattr(torch, "set_num_threads", lambda n: (seen.append(n), real(n)))
    before = torch.get_num_threads()
    clf = PDiffClassifier(n_threads=2, **{**THREE_EPOCHS, "noise_rate": 0.0}).fit(X, y)
    clf.predict(X)
    assert 2 in seen and torch.get_num_threads() == before
    with pytest.raises(ValueError, match=r"n_threads must be in \[1, inf\], got 0"):
        PDiffClassifier(n_threads=0, **THREE_EPOCHS).fit(X, y)


# find_label_issues after fit ----------------------------------------------------------------


def test_label_issues_after_fit_are_what_find_label_issues_returns(three_classes_200x8):
    X, y = three_classes_200x8
    y_noisy = make_noisy_labels(y, 0.2, random_state=0)
    fitted = PDiffClassifier(**THREE_EPOCHS).fit(X, y_noisy)
    found = PDiffClassifier(**THREE_EPOCHS).find_label_issues(X, y_noisy)
    np.testing.assert_array_equal(fitted.label_issues_, found)
