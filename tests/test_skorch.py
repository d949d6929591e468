"""P-DIFF in a skorch net of the user's: ``criterion=PDiffLoss`` and ``PDiffCallback``."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from skorch import NeuralNetClassifier
from skorch.callbacks import Checkpoint, LoadInitState
from skorch.dataset import ValidSplit
from skorch.helper import SliceDict
from torch import nn

from cleanlab_pdiff import make_noisy_labels
from cleanlab_pdiff.loss import PDiffLoss
from cleanlab_pdiff.skorch import PDiffCallback

N_ROWS = 400
NOISE = 0.3


class TwoLayers(nn.Module):
    """A user's module: P-DIFF's per-row entries of X come as keyword arguments too."""

    def __init__(self, hidden=32):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))

    def forward(self, x, index=None, sample_weight=None):
        return self.layers(x)


class IndexedDigits(torch.utils.data.Dataset):
    """A user's Dataset whose items carry their index next to the sample."""

    def __init__(self, X, y):
        self.X, self.y = torch.as_tensor(X), torch.as_tensor(y)

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return {"x": self.X[i], "index": i}, self.y[i]


@pytest.fixture(scope="module")
def noisy():
    X, y = load_digits(return_X_y=True)
    X, y = X[:N_ROWS].astype(np.float32) / 16, y[:N_ROWS]
    y_noisy = make_noisy_labels(y, NOISE, random_state=0)
    return X, y_noisy, y_noisy != y


def make_net(callbacks=(), **params):
    torch.manual_seed(0)
    settings = {
        "criterion": PDiffLoss,
        "criterion__noise_rate": NOISE,
        "criterion__t_k": 3,
        "optimizer": torch.optim.Adam,
        "lr": 0.01,
        "max_epochs": 8,
        "batch_size": 64,
        "train_split": None,
        "verbose": 0,
        **params,
    }
    return NeuralNetClassifier(TwoLayers, callbacks=list(callbacks), **settings)


def indexed(X):
    return {"x": X, "index": np.arange(len(X))}


def test_a_user_dataset_and_module_find_the_wrong_labels(noisy):
    X, y_noisy, flipped = noisy
    pdiff = PDiffCallback()
    net = make_net([pdiff]).fit(IndexedDigits(X, y_noisy), None)
    quality, issues = pdiff.training_label_quality_, pdiff.label_issues_
    assert quality.shape == issues.shape == (N_ROWS,)
    assert np.all((quality >= 0) & (quality <= 1))
    assert pdiff.noise_rate_ == NOISE
    assert issues.sum() == round(NOISE * N_ROWS)
    assert (issues & flipped).sum() / issues.sum() > 0.6  # chance: 0.3
    # The history has P-DIFF's diagnostics, and the drop rate reached the noise rate.
    assert net.history[-1, "drop_rate"] == pytest.approx(NOISE)
    assert net.history[-1, "weighting"]
    # The window is capped at the 7 batches of an epoch (100 by default).
    assert net.criterion_.pdiff.window == 7


def test_predict_proba_is_the_softmax(noisy):
    X, y_noisy, _ = noisy
    net = make_net([PDiffCallback()], max_epochs=1).fit(indexed(X), y_noisy)
    proba = net.predict_proba(X[:5])
    assert np.allclose(proba.sum(axis=1), 1, atol=1e-5)


def test_the_validation_rows_are_not_scored(noisy):
    X, y_noisy, _ = noisy
    pdiff = PDiffCallback()
    # skorch's default split holds a fifth of the rows out.
    make_net([pdiff], train_split=ValidSplit(5), max_epochs=2).fit(indexed(X), y_noisy)
    trained = ~np.isnan(pdiff.training_label_quality_)
    assert trained.sum() == N_ROWS * 4 // 5
    assert pdiff.label_issues_.sum() == round(NOISE * trained.sum())
    assert not pdiff.label_issues_[~trained].any()


def test_without_an_index_it_trains_and_warns(noisy):
    X, y_noisy, _ = noisy
    pdiff = PDiffCallback()
    with pytest.warns(UserWarning, match="'index' entry"):
        make_net([pdiff], max_epochs=2).fit(X, y_noisy)
    assert np.isnan(pdiff.training_label_quality_).all()


def test_it_needs_the_pdiff_criterion(noisy):
    X, y_noisy, _ = noisy
    net = NeuralNetClassifier(
        TwoLayers, criterion=nn.CrossEntropyLoss, callbacks=[PDiffCallback()], max_epochs=1
    )
    with pytest.raises(TypeError, match="criterion=PDiffLoss"):
        net.fit(indexed(X), y_noisy)


def test_sample_weight_is_routed_to_the_criterion(noisy):
    X, y_noisy, _ = noisy
    weight = np.where(np.arange(N_ROWS) % 2 == 0, 1.0, 0.0).astype(np.float32)
    # One batch, nothing learnt: the epoch's loss is the batch's first.
    net = make_net([PDiffCallback()], lr=0.0, max_epochs=1, batch_size=N_ROWS)
    net.fit({**indexed(X), "sample_weight": weight}, y_noisy)
    with torch.no_grad():
        logits = net.module_(torch.as_tensor(X))
    losses = nn.functional.cross_entropy(logits, torch.as_tensor(y_noisy), reduction="none")
    expected = float((losses * torch.as_tensor(weight)).sum() / weight.sum())
    assert net.history[-1, "train_loss"] == pytest.approx(expected, rel=1e-5)


def test_grid_search_with_a_slice_dict(noisy):
    X, y_noisy, _ = noisy
    net = make_net([("pdiff", PDiffCallback())], max_epochs=3)
    search = GridSearchCV(net, {"criterion__noise_rate": [0.1, 0.3]}, cv=2, refit=True)
    search.fit(SliceDict(x=X, index=np.arange(N_ROWS)), y_noisy)
    pdiff = dict(search.best_estimator_.callbacks_)["pdiff"]
    assert pdiff.training_label_quality_.shape == (N_ROWS,)
    assert pdiff.label_issues_.sum() == round(pdiff.noise_rate_ * N_ROWS)


def test_a_checkpointed_run_resumes_with_its_pdiff_state(noisy, tmp_path):
    X, y_noisy, _ = noisy
    checkpoint = Checkpoint(monitor=None, dirname=str(tmp_path))
    first = make_net([PDiffCallback(), checkpoint], max_epochs=3).fit(indexed(X), y_noisy)
    pdiff = PDiffCallback()
    resumed = make_net([pdiff, LoadInitState(checkpoint)], max_epochs=2)
    resumed.fit(indexed(X), y_noisy)
    criterion = resumed.criterion_
    assert len(resumed.history) == 5
    assert criterion.pdiff.window == first.criterion_.pdiff.window == 7
    assert criterion.pdiff.steps == 5 * 7
    # Every row's label quality averages its five epochs.
    assert torch.equal(criterion.confidence_count, torch.full((N_ROWS,), 5.0))
    assert pdiff.training_label_quality_.shape == (N_ROWS,)
