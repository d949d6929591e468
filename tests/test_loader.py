"""The batch loader of the skorch net (``cleanlab_pdiff.loader.batch_loader``)."""

import numpy as np
import pandas as pd
import pytest
import torch
from skorch.dataset import Dataset

from cleanlab_pdiff.loader import batch_loader

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
