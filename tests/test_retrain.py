"""retrain: networks trained plainly on the rows the P-DIFF run did not flag, averaged."""

import numpy as np
import pytest
import torch
from skorch.callbacks import EarlyStopping

from cleanlab_pdiff import PDiffClassifier, make_noisy_labels
from cleanlab_pdiff._fit import retrain as _retrain

#: A given rate (no probes), few epochs, unscaled features already near unit scale.
SETTINGS = {"noise_rate": 0.2, "max_epochs": 6, "t_k": 2, "standardize": False, "lr": 1e-2}


@pytest.fixture(scope="module")
def noisy(three_classes_200x8):
    X, y = three_classes_200x8
    return X / np.abs(X).max(), make_noisy_labels(y, 0.2, random_state=0)


def _setup(X):
    from cleanlab_pdiff._fit.placement import Placement
    from cleanlab_pdiff._fit.training import NetSetup

    return NetSetup(X.shape[1:], 3, Placement(torch.device("cpu")))


def _data(X, y):
    from cleanlab_pdiff._fit.inputs import wrap
    from cleanlab_pdiff._fit.targets import TrainingData

    return TrainingData(wrap(X), y, None, 3)


def test_a_plain_network_on_chosen_rows_is_a_plain_early_stopped_fit_of_them(noisy):
    X, y = noisy
    rows = np.flatnonzero(np.arange(len(y)) % 4 != 0)
    estimator = PDiffClassifier(random_state=0, **SETTINGS)
    net = _retrain.train_plain(estimator, _data(X, y), _setup(X), rows)
    # Stopped by the loss of a tenth of the rows, held out; the best epoch's network.
    stop = EarlyStopping("valid_loss", _retrain.PATIENCE, load_best=True)
    plain = PDiffClassifier(
        **{**SETTINGS, "noise_rate": 0.0}, validation_fraction=0.1, callbacks=[stop], random_state=0
    )
    plain.fit(X[rows], y[rows])
    expected = plain.predict_proba(X)
    got = net.predict_proba(X).astype(np.float32)
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_a_plain_network_stops_once_the_held_out_loss_has_not_fallen_for_patience_epochs(noisy):
    X, y = noisy
    estimator = PDiffClassifier(random_state=0, **{**SETTINGS, "max_epochs": 60})
    net = _retrain.train_plain(estimator, _data(X, y), _setup(X), np.arange(len(y)))
    losses = net.history[:, "valid_loss"]
    assert len(losses) == int(np.argmin(losses)) + 1 + _retrain.PATIENCE < 60


def test_fewer_rows_than_a_split_needs_train_them_all_for_max_epochs(noisy):
    X, y = noisy
    rows = np.arange(_retrain.FEWEST_TO_SPLIT - 1)
    estimator = PDiffClassifier(random_state=0, **SETTINGS)
    net = _retrain.train_plain(estimator, _data(X, y), _setup(X), rows)
    assert len(net.history) == SETTINGS["max_epochs"]
    assert "valid_loss" not in net.history[-1]


def test_the_retrained_model_averages_networks_trained_on_the_kept_rows(noisy):
    X, y = noisy
    clf = PDiffClassifier(retrain=1.0, random_state=0, **SETTINGS).fit(X, y)
    np.testing.assert_array_equal(clf.retrained_on_, ~clf.label_issues_)
    members = clf.net_.module_.members
    assert len(members) == _retrain.MEMBERS
    with torch.no_grad():
        inputs = torch.as_tensor(X, dtype=torch.float32)
        average = torch.stack([member(inputs).softmax(-1) for member in members]).mean(0)
    np.testing.assert_allclose(clf.predict_proba(X), average.numpy(), rtol=1e-5, atol=1e-6)
    # Seeded apart: the networks differ.
    assert not torch.equal(members[0].layers[0].weight, members[1].layers[0].weight)
    # The run's own results stay: its history drops.
    assert clf.history_[-1, "drop_rate"] == pytest.approx(0.2)


def test_the_factor_scales_the_rows_left_out(noisy):
    X, y = noisy
    clf = PDiffClassifier(retrain=2.0, random_state=0, **SETTINGS).fit(X, y)
    left_out = np.flatnonzero(~clf.retrained_on_)
    assert left_out.size == round(0.4 * len(y))
    worst = np.argsort(clf.training_label_quality_, kind="stable")[: left_out.size]
    np.testing.assert_array_equal(np.sort(worst), left_out)
    huge = PDiffClassifier(retrain=10.0, random_state=0, **SETTINGS).fit(X, y)
    assert (~huge.retrained_on_).sum() == round(0.8 * len(y))  # at most 80% left out


def test_without_retrain_the_p_diff_network_is_the_model(noisy):
    X, y = noisy
    clf = PDiffClassifier(retrain=None, random_state=0, **SETTINGS).fit(X, y)
    assert clf.retrained_on_ is None
    assert clf.net_.history[-1, "drop_rate"] == pytest.approx(0.2)


def test_partial_fit_refuses_to_continue_a_retrained_fit(noisy):
    X, y = noisy
    clf = PDiffClassifier(retrain=1.0, random_state=0, **SETTINGS).fit(X, y)
    before = clf.predict_proba(X)
    with pytest.raises(NotImplementedError, match="can't continue a fit with retrain"):
        clf.partial_fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), before)  # the fit is kept


def test_the_user_s_callbacks_see_the_retraining_too(noisy):
    from skorch.callbacks import Callback

    class CountTrainings(Callback):
        trainings = 0

        def on_train_begin(self, net, **kwargs):
            CountTrainings.trainings += 1

    X, y = noisy
    callbacks = [CountTrainings()]
    PDiffClassifier(retrain=1.0, callbacks=callbacks, random_state=0, **SETTINGS).fit(X, y)
    assert CountTrainings.trainings == 1 + _retrain.MEMBERS  # the run, then each network
