"""retrain="auto": held-out evidence picks the model, and tests the noise-rate estimate."""

import warnings

import numpy as np
import pytest
from settings import THREE_EPOCHS
from sklearn.datasets import make_classification

from cleanlab_pdiff import PDiffClassifier
from cleanlab_pdiff._fit import fitting, selection
from cleanlab_pdiff._fit.selection import ModelSelection, choose
from cleanlab_pdiff.networks import Ensemble


@pytest.fixture(scope="module")
def data_600():
    """(X, y): 600 rows, 3 classes, enough for a choice (``FEWEST_ROWS``)."""
    X, y = make_classification(
        n_samples=600, n_features=8, n_informative=5, n_redundant=0, n_classes=3,
        class_sep=2.0, random_state=0,
    )  # fmt: skip
    return X, y


def _hits(agree, n=1000):
    """Per-row hits: the first ``agree`` share of ``n`` rows agree."""
    return np.arange(n) < round(agree * n)


def test_the_run_stays_unless_a_rival_agrees_better_by_the_margin():
    run = _hits(0.70)
    rivals = {"retrained (0.200)": 0.2, "retrained (0.300)": 0.3}
    # Ahead on 3% of 1,000 rows, and behind nowhere: far beyond two standard errors.
    clear = {"run": run, "retrained (0.200)": _hits(0.73), "retrained (0.300)": _hits(0.71)}
    assert choose(clear, rivals) == ("retrained", 0.2)
    # Ahead on 30 rows and behind on 25: within the noise.
    mixed = _hits(0.73)
    mixed[:25] = False
    noisy = {"run": run, "retrained (0.200)": mixed, "retrained (0.300)": run}
    assert mixed.mean() > run.mean()
    assert choose(noisy, rivals) == ("run", 0.0)
    assert choose({"run": run}, {}) == ("run", 0.0)
    assert choose({"run": run, "plain": _hits(0.8)}, {"plain": 0.0}) == ("plain", 0.0)


def _fit_choosing(monkeypatch, data, chosen, left_out=0.0, upper_bound=False):
    X, y = data
    agreement = {"run": 0.5, "plain, early-stopped": 0.6, "retrained (0.300)": 0.4}
    picked = ModelSelection(chosen, left_out, agreement, 200, upper_bound)
    monkeypatch.setattr(fitting, "select", lambda *args: picked)
    params = {**THREE_EPOCHS, "max_epochs": 8, "t_k": 3}
    return PDiffClassifier(**params).fit(X, y)


def test_a_retrained_model_trains_on_the_rows_the_ramp_ranks_best(monkeypatch, data_600):
    clf = _fit_choosing(monkeypatch, data_600, "retrained", left_out=0.25)
    assert clf.model_selection_.chosen == "retrained"
    assert len(clf.history_) == 3  # the run only ranks: it stops when its ramp (t_k) ends
    assert (~clf.retrained_on_).sum() == round(0.25 * 600)
    worst = np.argsort(clf.training_label_quality_, kind="stable")[:150]
    assert not clf.retrained_on_[worst].any()
    assert isinstance(clf.net_.module_, Ensemble)
    with pytest.raises(NotImplementedError, match="can't continue a fit with retrain"):
        clf.partial_fit(*data_600)


def test_the_run_is_the_model_when_it_is_chosen(monkeypatch, data_600):
    clf = _fit_choosing(monkeypatch, data_600, "run")
    assert len(clf.history_) == 8 and clf.retrained_on_ is None
    assert clf.net_.history is clf.history_  # the run predicts


def test_an_estimate_that_fails_the_held_out_test_is_called_an_upper_bound(monkeypatch, data_600):
    with pytest.warns(UserWarning, match=r"noise_rate_ = 0\.\d+ is an upper bound") as caught:
        clf = _fit_choosing(monkeypatch, data_600, "plain", upper_bound=True)
    message = str(caught[0].message)
    assert "from 0.600 to 0.400" in message and "200 held-out rows" in message
    assert "The model is plain training on every row" in message
    assert caught[0].filename == __file__  # the user's line, through _fit_choosing
    # Plain training: the run drops nothing, and it is the model.
    assert clf.net_.criterion_.pdiff.noise_rate == 0.0
    assert clf.history_[-1, "drop_rate"] == 0.0 and clf.retrained_on_ is None
    assert clf.model_selection_.upper_bound


def test_a_choice_is_made_on_enough_rows_and_recorded(data_600):
    X, y = data_600
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # clean, easy data: the estimate passes the test
        clf = PDiffClassifier(**{**THREE_EPOCHS, "t_k": 2}).fit(X, y)
    picked = clf.model_selection_
    assert picked.chosen in ("run", "retrained", "plain")
    assert picked.n_scored == 600  # 3 folds of 200, fewer than FEWEST_SCORED each
    assert "run" in picked.agreement and "plain, early-stopped" in picked.agreement
    assert all(0 <= value <= 1 for value in picked.agreement.values())
    assert not picked.upper_bound


def test_no_choice_on_few_rows_or_without_retrain_auto(data_600):
    X, y = data_600
    few = PDiffClassifier(**THREE_EPOCHS).fit(X[: selection.FEWEST_ROWS - 1], y[:299])
    assert few.model_selection_ is None and few.retrained_on_ is None
    off = PDiffClassifier(retrain=None, **THREE_EPOCHS).fit(X, y)
    assert off.model_selection_ is None and off.retrained_on_ is None
    plain = PDiffClassifier(noise_rate=0.0, **THREE_EPOCHS).fit(X, y)
    assert plain.model_selection_ is None  # plain training asked for: nothing to choose
