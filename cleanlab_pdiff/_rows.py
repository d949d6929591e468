"""Reading the training data a block of rows at a time, never as a whole float copy.

``X`` is an array (in memory, or backed by a file: a ``numpy.memmap``), a sparse
matrix, or a map-style ``torch.utils.data.Dataset`` whose items are samples (tensors
or arrays) or tuples whose first element is the sample. Rows are read as they are
needed, in their own dtype (the loader turns each batch into float32). The pages of a
memory-mapped file that reads brought into this process are handed back to the
operating system every :data:`RELEASE_BYTES` (they stay in its page cache): otherwise
they would count in the process's resident memory until the whole file did.
"""

import math
import mmap

import numpy as np
import torch
from torch.utils.data import Dataset, IterableDataset

#: Elements per block of :func:`blocks` (float64 temporaries of 8 MB), at most BLOCK_ROWS rows.
BLOCK_ELEMENTS = 2**20
BLOCK_ROWS = 8192
#: Bytes of a memory-mapped file brought in between two hand-backs of its pages.
RELEASE_BYTES = 64 * 2**20
#: Bytes around a page read from a mapped file that Linux maps in with it ("fault-around").
FAULT_AROUND = 64 * 2**10


def is_dataset(X):
    """Return whether ``X`` is a torch Dataset (not an array)."""
    return isinstance(X, Dataset)


def data_shape(X):
    """Return ``(n_samples, *sample_shape)`` of an array, a sparse matrix or a Dataset."""
    if hasattr(X, "shape"):
        return tuple(X.shape)
    return (len(X), *sample_of(X[0], 0).shape)


def check_dataset(X):
    """Raise unless ``X`` is a non-empty map-style Dataset; return its number of items."""
    if isinstance(X, IterableDataset):
        raise TypeError(
            "X is an IterableDataset; give a map-style torch Dataset (with __getitem__ and "
            "__len__): P-DIFF follows each example by its index."
        )
    try:
        n_items = len(X)
    except TypeError as exc:
        raise TypeError("X is a torch Dataset without __len__; give it one.") from exc
    if n_items == 0:
        raise ValueError("X is an empty Dataset: there is nothing to fit or predict.")
    return n_items


def sample_of(item, index):
    """Return the sample of a Dataset item (the item, or its first element) as an array."""
    sample = item[0] if isinstance(item, tuple) else item
    if isinstance(sample, torch.Tensor):
        sample = sample.detach().cpu().numpy()
    if not isinstance(sample, np.ndarray) or sample.dtype.kind not in "biuf":
        raise TypeError(
            f"item {index} of X holds a {type(sample).__name__}"
            f"{f' of {sample.dtype}' if isinstance(sample, np.ndarray) else ''}; the samples "
            f"of a Dataset must be numeric tensors or arrays (or tuples whose first element is "
            f"one)."
        )
    return sample


def stack_samples(dataset, rows, shape):
    """Return the samples of ``dataset[i]`` for ``i`` in ``rows``, stacked: each of ``shape``."""
    samples = []
    for row in rows:
        sample = sample_of(dataset[int(row)], int(row))
        if sample.shape != tuple(shape):
            raise ValueError(
                f"item {int(row)} of X has shape {sample.shape}, but the samples have shape "
                f"{tuple(shape)}; every sample must have the same shape (e.g. resize images)."
            )
        samples.append(sample)
    return np.stack(samples)


class RowReader:
    """Reads rows of ``X`` by index, handing a memory-mapped file's pages back as it goes.

    Parameters
    ----------
    X : ndarray, sparse matrix or Dataset
        The data; a Dataset's samples are checked against ``shape``.
    shape : tuple of int
        Shape of one sample.
    """

    def __init__(self, X, shape):
        self.X, self.shape, self.n_rows = X, tuple(shape), data_shape(X)[0]
        self.mapping = file_mapping(X)
        self.row_bytes = math.prod(self.shape) * getattr(getattr(X, "dtype", None), "itemsize", 0)
        self.unreleased = 0

    def __call__(self, rows):
        """Return the rows ``rows`` (an int array or a slice) as an array of their dtype."""
        indices = range(self.n_rows)[rows] if isinstance(rows, slice) else rows
        if is_dataset(self.X):
            return stack_samples(self.X, indices, self.shape)
        if self.mapping is not None:
            if self.unreleased >= RELEASE_BYTES:
                self.mapping.madvise(mmap.MADV_DONTNEED)
                self.unreleased = 0
            self.unreleased += (
                len(indices) * self.row_bytes + 2 * FAULT_AROUND
                if isinstance(rows, slice)
                else len(indices) * (self.row_bytes + FAULT_AROUND)
            )
        return self.X[rows]


def file_mapping(X):
    """Return the memory map behind ``X`` if its pages may be handed back, else None.

    That is a ``numpy.memmap`` (or a view of one) opened read-only or shared
    (``"r"``, ``"r+"``, ``"w+"``): the file holds every byte of it. A copy-on-write
    map (``"c"``) holds changes of its own, which handing back would lose.
    """
    node = X
    while isinstance(node, np.ndarray):
        if isinstance(node, np.memmap) and isinstance(node.base, mmap.mmap):
            usable = node.mode != "c" and hasattr(mmap, "MADV_DONTNEED")
            return node.base if usable else None
        node = node.base
    return None


def blocks(X):
    """Yield ``X`` a block of rows at a time (at most :data:`BLOCK_ELEMENTS` elements).

    A block of an in-memory array is a view; of a Dataset, its samples stacked.
    """
    n_samples, *shape = data_shape(X)
    per_row = max(math.prod(shape), 1)
    step = max(1, min(BLOCK_ROWS, BLOCK_ELEMENTS // per_row))
    read = RowReader(X, shape)
    for start in range(0, n_samples, step):
        yield read(slice(start, min(start + step, n_samples)))
