"""The training data's one representation: ``X`` wrapped once, read a block of rows at a time.

``X`` is an array (in memory, or backed by a file: a ``numpy.memmap``), a sparse
matrix, or a map-style ``torch.utils.data.Dataset`` whose items are samples (tensors
or arrays) or tuples whose first element is the sample. :func:`wrap` turns it into an
:class:`Inputs` at the front door of each call (``fit``, ``predict_proba``); everything
downstream takes that object, which knows the number of rows, the shape and dtype of a
sample, and reads rows, blocks and subsets in their own dtype (the loader turns each
batch into float32). A Dataset's first item is decoded once, for the sample shape.

The pages of a memory-mapped file that reads brought into this process are handed
back to the operating system every :data:`RELEASE_BYTES` (they stay in its page
cache): otherwise they would count in the process's resident memory until the whole
file did.
"""

import math
import mmap

import numpy as np
import torch
from skorch.utils import multi_indexing
from torch.utils.data import Dataset, IterableDataset

__all__ = ["ArrayInputs", "DatasetInputs", "Inputs", "RowSubset", "file_mapping", "wrap"]

#: Elements per block of :meth:`Inputs.blocks` (float64 temporaries of 8 MB), at most
#: BLOCK_ROWS rows.
BLOCK_ELEMENTS = 2**20
BLOCK_ROWS = 8192
#: Bytes of a memory-mapped file brought in between two hand-backs of its pages.
RELEASE_BYTES = 64 * 2**20
#: Bytes around a page read from a mapped file that Linux maps in with it ("fault-around").
FAULT_AROUND = 64 * 2**10


def wrap(X):
    """Return ``X`` as :class:`Inputs` (``X`` itself if it is one).

    Parameters
    ----------
    X : ndarray, sparse matrix, torch Dataset or Inputs
        Checked data (see :mod:`cleanlab_pdiff._fit.validation`).

    Returns
    -------
    inputs : ArrayInputs or DatasetInputs
    """
    if isinstance(X, Inputs):
        return X
    return DatasetInputs(X) if isinstance(X, Dataset) else ArrayInputs(X)


class Inputs:
    """Rows of ``X``, read in place: the base of :class:`ArrayInputs` and :class:`DatasetInputs`.

    Attributes
    ----------
    data : ndarray, sparse matrix or Dataset
        The wrapped ``X``.
    n_rows : int
        Number of rows (samples).
    sample_shape : tuple of int
        Shape of one sample: ``(n_features,)`` or ``(C, H, W)``.
    dtype : numpy.dtype
        dtype of the rows read (a Dataset's: that of its first sample).
    """

    data = None
    n_rows = 0
    sample_shape = ()
    dtype = np.dtype(np.float32)

    @property
    def shape(self):
        """``(n_rows, *sample_shape)``, as of an array of every row."""
        return (self.n_rows, *self.sample_shape)

    def read(self, rows):
        """Return the rows ``rows`` (an int array or a slice) as an array of their dtype."""
        raise NotImplementedError

    def blocks(self):
        """Yield every row in order, a block at a time (at most :data:`BLOCK_ELEMENTS` values)."""
        step = max(1, min(BLOCK_ROWS, BLOCK_ELEMENTS // max(math.prod(self.sample_shape), 1)))
        for start in range(0, self.n_rows, step):
            yield self.read(slice(start, min(start + step, self.n_rows)))


class ArrayInputs(Inputs):
    """An array or sparse matrix; a memory-mapped file's pages are handed back as rows are read.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_rows, *sample_shape)
    """

    def __init__(self, X):
        self.data = X
        self.n_rows, *sample_shape = X.shape
        self.sample_shape = tuple(sample_shape)
        self.dtype = X.dtype
        self.mapping = file_mapping(X)
        self.row_bytes = math.prod(self.sample_shape) * X.dtype.itemsize
        self.unreleased = 0

    def read(self, rows):
        """Return the rows ``rows`` (an int array or a slice), a view where indexing gives one."""
        if self.mapping is not None:
            if self.unreleased >= RELEASE_BYTES:
                self.mapping.madvise(mmap.MADV_DONTNEED)
                self.unreleased = 0
            if isinstance(rows, slice):
                n_rows = len(range(self.n_rows)[rows])
                self.unreleased += n_rows * self.row_bytes + 2 * FAULT_AROUND
            else:
                self.unreleased += len(rows) * (self.row_bytes + FAULT_AROUND)
        return self.data[rows]

    def __getstate__(self):
        # A memory map is this process's handle on the file; a worker process finds its own.
        return {**vars(self), "mapping": None, "unreleased": 0}

    def __setstate__(self, state):
        vars(self).update(state)
        self.mapping = file_mapping(self.data)


class DatasetInputs(Inputs):
    """A map-style torch Dataset, read item by item; each sample's shape is checked.

    Parameters
    ----------
    X : torch.utils.data.Dataset
        Non-empty; its first item is decoded here, once, for the sample shape and dtype.
    """

    def __init__(self, X):
        self.data = X
        self.n_rows = check_dataset(X)
        first = sample_of(X[0], 0)
        self.sample_shape, self.dtype = first.shape, first.dtype

    def read(self, rows):
        """Return the samples of the items ``rows`` (an int array or a slice), stacked."""
        indices = range(self.n_rows)[rows] if isinstance(rows, slice) else rows
        samples = []
        for row in indices:
            sample = sample_of(self.data[int(row)], int(row))
            if sample.shape != self.sample_shape:
                raise ValueError(
                    f"item {int(row)} of X has shape {sample.shape}, but the samples have "
                    f"shape {self.sample_shape}; every sample must have the same shape (e.g. "
                    f"resize images)."
                )
            samples.append(sample)
        return np.stack(samples)


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


class RowSubset(torch.utils.data.Dataset):
    """The rows ``rows`` of :class:`Inputs` with their targets ``y``, without copying them.

    ``y`` (None, an array or a dict of arrays) holds one entry per row of ``rows``,
    in its order; item ``i`` is ``(inputs.read(rows[i:i+1])[0], y[i])``. The loader
    (:func:`~cleanlab_pdiff.loader.batch_loader`) reads a batch of rows at once.

    Parameters
    ----------
    inputs : Inputs
    y : None, ndarray or dict of ndarray
    rows : ndarray of int, default=None
        Row numbers in ``inputs``; ``None``: every row, in order.
    """

    def __init__(self, inputs, y=None, rows=None):
        self.inputs, self.y = inputs, y
        self.rows = np.arange(inputs.n_rows) if rows is None else np.asarray(rows)

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        return self.inputs.read(self.rows[i : i + 1])[0], multi_indexing(self.y, i, None)
