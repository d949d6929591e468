"""Resuming training: partial_fit in a fresh process, skorch checkpoints, partial_fit rules."""

import pickle
import shutil
import subprocess
import sys

import numpy as np
import pytest
from settings import ONE_EPOCH
from sklearn.datasets import load_digits
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import Callback, Checkpoint, LoadInitState

from cleanlab_pdiff import PDiffClassifier, make_noisy_labels

#: Epochs before and after the interruption. With t_k = 3 the drop-rate ramp is still
#: climbing at the resume point (T = 2) and completes after it (T = 3).
A, B = 2, 3

#: 300 rows in batches of 32: 10 batches an epoch, a window of 5 of them, so weighting is on
#: from the middle of the first epoch and the window straddles every epoch boundary.
#: "auto" is the online estimate (probe_folds=0), part of the state that must survive; the
#: held-out estimate is made once, at the first fit (test_noise_rate.py).
RESUMABLE = {
    "t_k": 3,
    "window": 5,
    "batch_size": 32,
    "random_state": 0,
    "device": "cpu",
    "probe_folds": 0,
}

NOISE_RATES = pytest.mark.parametrize("noise_rate", ["auto", 0.2])


@pytest.fixture(scope="module")
def digits_300_flipped20():
    """300 digits with 20% of labels flipped."""
    X, y = load_digits(return_X_y=True)
    X, y = X[:300] / 16.0, y[:300]
    return X, make_noisy_labels(y, 0.2, random_state=0)


@pytest.fixture(scope="module")
def uninterrupted(digits_300_flipped20):
    """One fit of A + B epochs per noise rate: the runs every resumed run must reproduce."""
    X, y = digits_300_flipped20
    runs = {}
    for noise_rate in ["auto", 0.2]:
        runs[noise_rate] = PDiffClassifier(
            noise_rate=noise_rate, max_epochs=A + B, **RESUMABLE
        ).fit(X, y)
    return runs


def _assert_same_run(resumed, expected, X):
    np.testing.assert_array_equal(resumed.predict_proba(X), expected.predict_proba(X))
    assert resumed.noise_rate_ == expected.noise_rate_
    np.testing.assert_array_equal(resumed.training_label_quality_, expected.training_label_quality_)
    np.testing.assert_array_equal(resumed.label_issues_, expected.label_issues_)
    assert len(resumed.history_) == len(expected.history_) == A + B
    assert resumed.history_[:, "drop_rate"] == expected.history_[:, "drop_rate"]


@pytest.mark.slow
@NOISE_RATES
def test_uninterrupted_run_exercises_the_state_that_must_survive(uninterrupted, noise_rate):
    # Guards against a vacuous resume test: the drop rate moves across the resume point and
    # P-DIFF really excludes samples by the end.
    drop_rate = uninterrupted[noise_rate].history_[:, "drop_rate"]
    assert drop_rate[A - 1] < drop_rate[A + B - 1]
    assert 0 < uninterrupted[noise_rate].label_issues_.sum() < 150


RESUME_SCRIPT = """
import pickle, sys
import numpy as np
import torch
torch.set_num_threads(1)  # as the tests' process: a thread count is part of a CPU run's rounding
data_path, epochs, *names = sys.argv[1:]
data = np.load(data_path)
for name in names:
    with open(name + ".pkl", "rb") as f:
        clf = pickle.load(f)
    clf.set_params(max_epochs=int(epochs)).partial_fit(data["X"], data["y"])
    np.savez(
        name + ".npz",
        proba=clf.predict_proba(data["X"]),
        noise_rate=clf.noise_rate_,
        quality=clf.training_label_quality_,
        issues=clf.label_issues_,
        n_epochs=len(clf.history_),
        drop_rate=clf.history_[:, "drop_rate"],
    )
"""


@pytest.mark.slow
def test_partial_fit_in_a_fresh_process_equals_one_long_fit(
    digits_300_flipped20, uninterrupted, tmp_path
):
    X, y = digits_300_flipped20
    np.savez(tmp_path / "data.npz", X=X, y=y)
    names = {"auto": "auto", 0.2: "rate"}
    for noise_rate, name in names.items():
        first = PDiffClassifier(noise_rate=noise_rate, max_epochs=A, **RESUMABLE).fit(X, y)
        with open(tmp_path / f"{name}.pkl", "wb") as f:
            pickle.dump(first, f)

    # One interpreter for both runs: starting one costs seconds.
    done = subprocess.run(
        [sys.executable, "-c", RESUME_SCRIPT, "data.npz", str(B), *names.values()],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr

    for noise_rate, name in names.items():
        out, expected = np.load(tmp_path / f"{name}.npz"), uninterrupted[noise_rate]
        where = f"noise_rate={noise_rate!r}"
        np.testing.assert_array_equal(out["proba"], expected.predict_proba(X), err_msg=where)
        assert float(out["noise_rate"]) == expected.noise_rate_, where
        np.testing.assert_array_equal(
            out["quality"], expected.training_label_quality_, err_msg=where
        )
        np.testing.assert_array_equal(out["issues"], expected.label_issues_, err_msg=where)
        assert int(out["n_epochs"]) == len(expected.history_) == A + B, where
        assert out["drop_rate"].tolist() == expected.history_[:, "drop_rate"], where


class Killed(Exception):
    """Stands for the process being killed."""


class KillAfter(Callback):
    """Abort training when epoch ``epochs + 1`` begins, after ``epochs`` have ended."""

    def __init__(self, epochs):
        self.epochs = epochs

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        if len(net.history) > self.epochs:
            raise Killed(f"killed after epoch {self.epochs}")


def _checkpoint(dirname, **kwargs):
    # No validation set, so no 'valid_loss_best': monitor=None saves at every epoch end.
    return Checkpoint(dirname=str(dirname), monitor=None, **kwargs)


@pytest.mark.slow
@NOISE_RATES
def test_checkpoint_and_load_init_state_resume_a_killed_run_exactly(
    digits_300_flipped20, uninterrupted, noise_rate, tmp_path
):
    X, y = digits_300_flipped20
    params = {"noise_rate": noise_rate, **RESUMABLE}
    killed = PDiffClassifier(
        max_epochs=A + B, callbacks=[_checkpoint(tmp_path / "cp"), KillAfter(A)], **params
    )
    with pytest.raises(Killed, match=f"killed after epoch {A}"):
        killed.fit(X, y)
    assert not hasattr(killed, "net_")
    saved = {p.name for p in (tmp_path / "cp").iterdir()}
    assert saved == {"params.pt", "optimizer.pt", "criterion.pt", "history.json"}
    shutil.copytree(tmp_path / "cp", tmp_path / "control")

    checkpoint = _checkpoint(tmp_path / "cp")
    resumed = PDiffClassifier(
        max_epochs=B, callbacks=[checkpoint, LoadInitState(checkpoint)], **params
    ).fit(X, y)
    _assert_same_run(resumed, uninterrupted[noise_rate], X)

    # Control: without the criterion (P-DIFF window, per-example state, RNG state) the same
    # resume does not reproduce the run, so the equality above is not a trivial one.
    control = _checkpoint(tmp_path / "control", f_criterion=None)
    lossy = PDiffClassifier(
        max_epochs=B, callbacks=[control, LoadInitState(control)], **params
    ).fit(X, y)
    assert len(lossy.history_) == A + B
    assert not np.array_equal(lossy.predict_proba(X), resumed.predict_proba(X))


# partial_fit semantics --------------------------------------------------------------------------


def test_partial_fit_classes_on_first_call_covers_a_class_missing_from_y(three_classes_120x8):
    X, y = three_classes_120x8
    seen = y != 2
    clf = PDiffClassifier(**ONE_EPOCH).partial_fit(X[seen], y[seen], classes=[0, 1, 2])
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert clf.predict_proba(X).shape == (len(X), 3)
    # Class 2 can come later; the ordering of `classes` does not matter.
    clf.partial_fit(X, y, classes=[2, 0, 1])
    assert len(clf.history_) == 2
    assert clf.predict_proba(X).shape == (len(X), 3)


def test_partial_fit_without_classes_learns_only_the_classes_of_y(three_classes_120x8):
    X, y = three_classes_120x8
    seen = y != 2
    clf = PDiffClassifier(**ONE_EPOCH).partial_fit(X[seen], y[seen])
    np.testing.assert_array_equal(clf.classes_, [0, 1])
    with pytest.raises(ValueError, match=r"y holds labels not seen in fit: \[2\]"):
        clf.partial_fit(X, y)


def test_partial_fit_first_call_rejects_labels_outside_classes(three_classes_120x8):
    X, y = three_classes_120x8
    clf = PDiffClassifier(**ONE_EPOCH)
    with pytest.raises(ValueError, match=r"y holds labels not seen in fit: \[2\]"):
        clf.partial_fit(X, y, classes=[0, 1])
    assert not hasattr(clf, "net_")


@pytest.fixture
def partially_fitted(three_classes_120x8):
    X, y = three_classes_120x8
    return PDiffClassifier(**ONE_EPOCH).partial_fit(X, y)


@pytest.mark.parametrize("classes", [[0, 1], [0, 1, 2, 3], ["a", "b", "c"]])
def test_partial_fit_with_different_classes_raises(partially_fitted, three_classes_120x8, classes):
    X, y = three_classes_120x8
    with pytest.raises(ValueError, match=r"classes must equal classes_ \[0, 1, 2\] once fitted"):
        partially_fitted.partial_fit(X, y, classes=classes)


def test_partial_fit_with_unseen_labels_raises(partially_fitted, three_classes_120x8):
    X, y = three_classes_120x8
    y = np.where(y == 1, 7, y)
    with pytest.raises(ValueError, match=r"y holds labels not seen in fit: \[7\]"):
        partially_fitted.partial_fit(X, y)


def test_partial_fit_with_another_number_of_features_raises(partially_fitted, three_classes_120x8):
    X, y = three_classes_120x8
    with pytest.raises(ValueError, match="X has 5 features, but PDiffClassifier is expecting 8"):
        partially_fitted.partial_fit(X[:, :5], y)


def test_rejected_partial_fit_leaves_the_model_as_it_was(partially_fitted, three_classes_120x8):
    X, y = three_classes_120x8
    before = partially_fitted.predict_proba(X)
    with pytest.raises(ValueError, match="classes must equal classes_"):
        partially_fitted.partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="expecting 8 features"):
        partially_fitted.partial_fit(X[:, :5], y)
    check_is_fitted(partially_fitted)
    assert len(partially_fitted.history_) == 1
    np.testing.assert_array_equal(partially_fitted.predict_proba(X), before)


def test_partial_fit_on_other_rows_restarts_the_per_example_results(
    partially_fitted, three_classes_120x8
):
    X, y = three_classes_120x8
    clf = partially_fitted
    assert clf.training_label_quality_.shape == clf.label_issues_.shape == (120,)

    clf.partial_fit(X[:50], y[:50])
    assert len(clf.history_) == 2
    assert clf.training_label_quality_.shape == clf.label_issues_.shape == (50,)
    assert np.isfinite(clf.training_label_quality_).all()
    # Only the latest call's single epoch is recorded: nothing carried over from the 120 rows.
    recorded = np.isfinite(clf.net_.criterion_.recent_deltas.numpy()).sum(axis=1)
    assert sorted(recorded.tolist()) == [0, 0, 0, 0, 50]

    clf.partial_fit(X, y)
    assert clf.training_label_quality_.shape == clf.label_issues_.shape == (120,)
    assert np.isfinite(clf.training_label_quality_).all()


def test_partial_fit_on_the_same_rows_keeps_averaging_the_per_example_results(
    partially_fitted, three_classes_120x8
):
    X, y = three_classes_120x8
    partially_fitted.partial_fit(X, y)
    recorded = np.isfinite(partially_fitted.net_.criterion_.recent_deltas.numpy()).sum(axis=1)
    assert sorted(recorded.tolist()) == [0, 0, 0, 120, 120]


def test_partial_fit_with_a_validation_split_continues_as_one_long_fit(three_classes_120x8):
    # The same rows are held out at each call, and only the others train.
    X, y = three_classes_120x8
    params = {**ONE_EPOCH, "noise_rate": 0.1, "t_k": 1, "validation_fraction": 0.25}
    long = PDiffClassifier(**{**params, "max_epochs": 4}).fit(X, y)
    continued = PDiffClassifier(**{**params, "max_epochs": 2}).fit(X, y).partial_fit(X, y)
    np.testing.assert_array_equal(continued.predict_proba(X), long.predict_proba(X))
    for column in ("train_loss", "valid_loss", "valid_acc"):
        np.testing.assert_array_equal(continued.history_[:, column], long.history_[:, column])
