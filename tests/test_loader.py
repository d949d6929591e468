"""The batch loader of the skorch net (``cleanlab_pdiff.loader.batch_loader``)."""

import numpy as np
import pandas as pd
import pytest
import torch
from skorch.dataset import Dataset

from cleanlab_pdiff._fit.batches import batch_loader, training_batches

X = np.random.default_rng(0).standard_normal((10, 4)).astype(np.float32)
TARGETS = {"label": np.arange(10) % 3, "index": np.arange(10), "weight": np.linspace(0, 1, 10)}


@pytest.mark.parametrize("shuffle", [False, True])
def test_batches_hold_the_rows_skorch_s_dataset_gives_one_by_one(shuffle):
    dataset = Dataset(X, TARGETS)
    batches = list(batch_loader(dataset, batch_size=4, shuffle=shuffle))
    assert [len(Xb) for Xb, _ in batches] == [4, 4, 2]
    rows = np.concatenate([yb["index"].numpy() for _, yb in batches])
    assert sorted(rows.tolist()) == list(range(10))
    if not shuffle:
        assert rows.tolist() == list(range(10))
    for Xb, yb in batches:
        for position, row in enumerate(yb["index"].tolist()):
            Xi, yi = dataset[row]
            torch.testing.assert_close(Xb[position], torch.as_tensor(Xi))
            for key, value in yi.items():
                assert yb[key][position].item() == pytest.approx(value)


@pytest.mark.parametrize("y", [None, np.arange(10) % 3], ids=["no y", "array y"])
def test_batches_without_a_target_dict(y):
    ((Xb, yb),) = batch_loader(Dataset(X, y), batch_size=10)
    torch.testing.assert_close(Xb, torch.as_tensor(X))
    if y is not None:
        np.testing.assert_array_equal(yb.numpy(), y)


def test_other_data_fall_back_to_the_dataset_s_own_indexing():
    frame = pd.DataFrame({"a": np.arange(6.0), "b": np.arange(6.0) * 2})
    ((Xb, _),) = batch_loader(Dataset(frame, None), batch_size=6)
    np.testing.assert_array_equal(Xb["b"].numpy().ravel(), np.arange(6.0) * 2)


@pytest.mark.parametrize(
    ("n_rows", "batch_size", "sizes"),
    [(9, 4, [4, 5]), (8, 4, [4, 4]), (10, 4, [4, 4, 2]), (1, 4, [1]), (3, 1, [1, 1, 1])],
)
def test_a_last_training_batch_of_one_row_joins_the_one_before(n_rows, batch_size, sizes):
    dataset = Dataset(X[:n_rows], {"index": np.arange(n_rows)})
    loader = batch_loader(dataset, batch_size, shuffle=True, join_single=True)
    batches = list(loader)
    assert [len(Xb) for Xb, _ in batches] == sizes == [len(b) for b in loader.batch_sampler]
    assert len(loader) == len(sizes) == training_batches(n_rows, batch_size)
    rows = np.concatenate([yb["index"].numpy() for _, yb in batches])
    assert sorted(rows.tolist()) == list(range(n_rows))
    plain = batch_loader(dataset, batch_size, shuffle=True)
    assert len(plain) == -(-n_rows // batch_size)  # without join_single: a batch may hold one


def test_batchnorm_networks_train_on_any_number_of_rows():
    from sklearn.datasets import make_classification

    from cleanlab_pdiff import PDiffClassifier

    def with_batchnorm(n_features, n_classes):
        return torch.nn.Sequential(
            torch.nn.Linear(n_features, 16),
            torch.nn.BatchNorm1d(16),
            torch.nn.ReLU(),
            torch.nn.Linear(16, n_classes),
        )

    # 97 rows in batches of 32: 32 + 32 + 33, not 32 + 32 + 32 + 1.
    X, y = make_classification(97, 6, n_informative=4, n_classes=3, random_state=0)
    params = {"module": with_batchnorm, "batch_size": 32, "max_epochs": 2, "random_state": 0}
    clf = PDiffClassifier(noise_rate=0.1, **params).fit(X, y)
    assert clf.window_ == 3 == training_batches(97, 32)
    PDiffClassifier(**params).fit(X, y)  # the probes train on 64 or 65 rows: 32 + 33
