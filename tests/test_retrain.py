"""retrain: a fresh network trained plainly on the rows the P-DIFF run did not flag."""

import numpy as np
import pytest
from skorch.callbacks import EarlyStopping

from cleanlab_pdiff import PDiffClassifier, make_noisy_labels
from cleanlab_pdiff._fit import probes as _probes
from cleanlab_pdiff._fit import retrain as _retrain

#: A given rate (no probes), few epochs, unscaled features already near unit scale.
SETTINGS = {"noise_rate": 0.2, "max_epochs": 6, "t_k": 2, "standardize": False, "lr": 1e-2}


@pytest.fixture(scope="module")
def noisy(three_classes_200x8):
    X, y = three_classes_200x8
    return X / np.abs(X).max(), make_noisy_labels(y, 0.2, random_state=0)


def test_retrained_model_is_a_plain_fit_of_the_kept_rows(noisy):
    X, y = noisy
    clf = PDiffClassifier(retrain=1.0, random_state=0, **SETTINGS).fit(X, y)
    np.testing.assert_array_equal(clf.retrained_on_, ~clf.label_issues_)
    kept = clf.retrained_on_
    # Stopped by the loss of a tenth of the kept rows, held out; the best epoch's network.
    stop = EarlyStopping("valid_loss", _retrain.PATIENCE, load_best=True)
    plain = PDiffClassifier(
        **{**SETTINGS, "noise_rate": 0.0}, validation_fraction=0.1, callbacks=[stop], random_state=0
    )
    plain.fit(X[kept], y[kept])
    np.testing.assert_array_equal(clf.predict_proba(X), plain.predict_proba(X))
    # The run's own results stay: its history drops, the retraining's would not.
    assert clf.history_[-1, "drop_rate"] == pytest.approx(0.2)
    assert clf.net_.history[-1, "drop_rate"] == 0.0


def test_retraining_stops_once_the_held_out_loss_has_not_fallen_for_patience_epochs(noisy):
    X, y = noisy
    clf = PDiffClassifier(retrain=1.0, random_state=0, **{**SETTINGS, "max_epochs": 60}).fit(X, y)
    assert len(clf.history_) == 60  # the P-DIFF run trains to the end
    losses = clf.net_.history[:, "valid_loss"]
    assert len(losses) == int(np.argmin(losses)) + 1 + _retrain.PATIENCE < 60


def test_fewer_kept_rows_than_a_split_needs_train_them_all_for_max_epochs(noisy):
    X, y = noisy
    rows = np.flatnonzero(y == 0)[:6].tolist() + np.flatnonzero(y == 1)[:6].tolist()
    clf = PDiffClassifier(retrain=2.0, random_state=0, **SETTINGS).fit(X[rows], y[rows])
    assert clf.retrained_on_.sum() == 12 - round(0.4 * 12) < _retrain.FEWEST_TO_SPLIT
    assert len(clf.net_.history) == SETTINGS["max_epochs"]
    assert "valid_loss" not in clf.net_.history[-1]


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
    clf = PDiffClassifier(random_state=0, **SETTINGS).fit(X, y)
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

    class CountEpochs(Callback):
        epochs = 0

        def on_epoch_end(self, net, **kwargs):
            CountEpochs.epochs += 1

    X, y = noisy
    PDiffClassifier(retrain=1.0, callbacks=[CountEpochs()], random_state=0, **SETTINGS).fit(X, y)
    assert CountEpochs.epochs == 2 * SETTINGS["max_epochs"]


@pytest.mark.parametrize(("agreement", "larger"), [(0.4, "disagreement"), (0.95, "estimate")])
def test_auto_leaves_out_the_larger_of_the_estimate_and_the_probes_disagreement(
    noisy, monkeypatch, agreement, larger
):
    X, y = noisy

    def probes(estimator, data, *args, **kwargs):
        # Sure of the given label, but of the next class for the first 10% of the rows.
        labels = data.labels
        pred_probs = np.eye(3)[labels]
        pred_probs[: labels.size // 10] = np.eye(3)[(labels[: labels.size // 10] + 1) % 3]
        return pred_probs, agreement

    monkeypatch.setattr(_probes, "held_out_probabilities", probes)
    settings = {**SETTINGS, "noise_rate": "auto"}
    clf = PDiffClassifier(retrain="auto", random_state=0, **settings).fit(X, y)
    estimate, disagreement = clf.noise_rate_, 1 - agreement
    share = disagreement if larger == "disagreement" else estimate
    assert share == max(estimate, disagreement)
    assert (~clf.retrained_on_).sum() == round(share * len(y))


def test_auto_without_probes_leaves_out_the_estimate(noisy):
    X, y = noisy
    settings = {**SETTINGS, "noise_rate": "auto", "probe_folds": 0}
    clf = PDiffClassifier(retrain="auto", random_state=0, **settings).fit(X, y)
    np.testing.assert_array_equal(clf.retrained_on_, ~clf.label_issues_)
