"""Batches for the fit's skorch nets: one index per mini-batch.

:func:`batch_loader` and :class:`EpochShuffle` are public through
:mod:`cleanlab_pdiff.loader`; :class:`JoinedBatches` and :func:`training_batches` are
the fit's own.
"""

import numpy as np
import torch
from scipy import sparse
from skorch.dataset import Dataset as SkorchDataset
from torch import distributed as dist
from torch.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    Sampler,
    SequentialSampler,
    default_convert,
)

from ..augment import random_crop_flip
from ..pdiff import is_synchronised
from .inputs import RowSubset, wrap
from .scaling import standardise

__all__ = ["EpochShuffle", "JoinedBatches", "batch_loader", "training_batches"]


class EpochShuffle(Sampler):
    """A random order of ``range(n)``, drawn afresh each epoch from the global torch generator.

    It draws exactly as ``RandomSampler`` without a generator does (one seed
    from the global generator per epoch), so the order follows the
    estimator's seeded, saved and restored random state. Under
    ``torch.distributed`` the seed of the first process is broadcast (once
    an epoch), so every process shuffles alike and a sharding batch sampler
    (Accelerate's) deals out disjoint batches. Having no ``generator``
    attribute, it is left as it is by Accelerate, which would otherwise
    give it a generator of its own.

    Parameters
    ----------
    n : int
        Number of rows.
    """

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __iter__(self):
        seed = int(torch.empty((), dtype=torch.int64).random_().item())
        if is_synchronised():
            seeds = [seed]
            dist.broadcast_object_list(seeds, src=0)
            seed = seeds[0]
        generator = torch.Generator()
        generator.manual_seed(seed)
        yield from torch.randperm(self.n, generator=generator).tolist()


class _BatchFetch(Dataset):
    """``dataset`` with ``__getitems__``: the DataLoader fetches a batch with one index.

    Rows are read in their own dtype (a sparse ``X`` made dense, a Dataset's
    samples stacked) and become float32 a batch at a time: ``scaling``, a
    ``(mean, scale)`` pair, standardises each batch on the way, then ``augment``
    crops and flips images (:func:`~cleanlab_pdiff.augment.random_crop_flip`).
    ``dataset`` is a :class:`~cleanlab_pdiff._fit.inputs.RowSubset`, a skorch Dataset of
    arrays (its ``X`` wrapped here, once), or any Dataset (read item by item, unscaled).
    """

    def __init__(self, dataset, scaling=None, augment=False):
        self.dataset = dataset
        self.scaling = scaling
        self.augment = augment
        if isinstance(dataset, RowSubset):
            self.inputs, self.rows, self.y = dataset.inputs, dataset.rows, dataset.y
            self.transform = _with_placeholder
        elif (
            isinstance(dataset, SkorchDataset)
            and _are_arrays(dataset.y)
            and (_is_array(dataset.X) or sparse.issparse(dataset.X))
        ):
            self.inputs, self.rows, self.y = wrap(dataset.X), None, dataset.y
            self.transform = dataset.transform  # a subclass's, batch by batch
        else:
            self.inputs = None

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        return self.dataset[index]

    def __getitems__(self, indices):
        if self.inputs is None:
            if self.scaling is not None or self.augment:
                raise TypeError("scaling and augment need a skorch Dataset of arrays or of rows.")
            return self.dataset[indices]
        # A NumPy index: skorch's Dataset would turn it into a list of ints, which
        # scikit-learn's indexing then checks one int at a time (about 80 us a batch of
        # 128, half of P-DIFF's own cost per step).
        index = np.asarray(indices)
        X = self.inputs.read(index if self.rows is None else self.rows[index])
        if sparse.issparse(X):
            X = X.toarray()
        if self.scaling is not None:
            X = standardise(X, *self.scaling)
        # Standardised in the data's own precision, then float32 for the network.
        X = X.astype(np.float32, copy=False)
        if self.augment:
            X = random_crop_flip(X)
        return self.transform(X, _take(self.y, index))


def _with_placeholder(X, y):
    # The DataLoader can't carry None: skorch's placeholder for "no targets".
    return X, torch.Tensor([0]) if y is None else y


def _is_array(data):
    return isinstance(data, np.ndarray)


def _are_arrays(y):
    return (
        y is None
        or _is_array(y)
        or (isinstance(y, dict) and all(_is_array(value) for value in y.values()))
    )


def _take(y, index):
    if isinstance(y, dict):
        return {key: value[index] for key, value in y.items()}
    return None if y is None else y[index]


def training_batches(n_rows, batch_size, join_single=True):
    """Return the number of batches in an epoch of ``n_rows`` (see :class:`JoinedBatches`)."""
    n = -(-n_rows // batch_size)
    return n - 1 if join_single and n > 1 and n_rows % batch_size == 1 else n


class JoinedBatches(BatchSampler):
    """Batches of ``batch_size`` rows, the last of which joins the one before if it has one row.

    A training batch of one example breaks BatchNorm ("Expected more than 1 value per
    channel when training"), which the 9-layer CNN has; leaving the row out would leave it
    without a ``delta`` in that epoch. It happens once in ``batch_size`` data sizes, and the
    held-out probes and the validation split each train on a size of their own.
    """

    def __init__(self, sampler, batch_size):
        super().__init__(sampler, batch_size, drop_last=False)

    def __iter__(self):
        batches = super().__iter__()
        previous = next(batches, None)
        for batch in batches:
            if len(batch) == 1 < self.batch_size:  # only the last batch can be short
                previous += batch
            else:
                yield previous
                previous = batch
        if previous is not None:
            yield previous

    def __len__(self):
        return training_batches(len(self.sampler), self.batch_size)


def batch_loader(
    dataset, batch_size, shuffle=False, scaling=None, augment=False, join_single=False, **kwargs
):
    """Return a DataLoader that indexes ``dataset`` once per batch, not once per row.

    skorch's default loader fetches and collates every row on its own, which
    costs more than a small network's step. Fetching a batch with one fancy
    index of the arrays is exact (the sampler draws the same order) and
    much faster; ``default_convert`` turns the arrays into tensors, as a
    loader without batching does. Passed to the net as
    ``iterator_train``/``iterator_valid``, with ``num_workers`` and
    ``pin_memory`` among ``kwargs``. Accelerate shards its batch sampler.
    A sparse ``X`` is made dense one batch at a time. ``scaling``, a
    ``(mean, scale)`` pair of arrays along axis 1 (features, or the channels
    of images), standardises each batch: ``(X - mean) / scale``; ``augment``
    then crops and flips each image at random (training only). ``join_single`` joins a last
    batch of one row to the one before (:class:`JoinedBatches`; not under Accelerate, which
    deals out whole batches and evens out the last ones itself).
    """
    rows = EpochShuffle(len(dataset)) if shuffle else SequentialSampler(dataset)
    if join_single:
        batches = JoinedBatches(rows, batch_size)
    else:
        batches = BatchSampler(rows, batch_size, drop_last=False)
    return DataLoader(
        _BatchFetch(dataset, scaling, augment),
        batch_sampler=batches,
        collate_fn=default_convert,
        **kwargs,
    )
