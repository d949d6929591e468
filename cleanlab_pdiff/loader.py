"""A DataLoader for skorch nets that fetches each mini-batch with one index.

``batch_loader`` is the training and prediction loader of
:class:`~cleanlab_pdiff.PDiffClassifier`'s skorch net. It also serves any skorch
net on in-memory arrays: pass it as ``iterator_train`` and ``iterator_valid``.
"""

from ._fit.batches import EpochShuffle, batch_loader

__all__ = ["EpochShuffle", "batch_loader"]
