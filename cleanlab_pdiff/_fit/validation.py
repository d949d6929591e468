"""Checks of the data scikit-learn's helpers skip, and the wrapping of ``X`` once per call.

:func:`validate_input` is the front door of ``fit``, ``partial_fit`` and the predictions:
an array goes through scikit-learn's ``validate_data``, a torch Dataset through the
checks below, and either comes out as :class:`~cleanlab_pdiff._fit.inputs.Inputs`.
The estimator's hyper-parameters are checked by its own table
(:class:`~cleanlab_pdiff.PDiffClassifier`), the labels and weights in
:mod:`~cleanlab_pdiff._fit.targets`.
"""

import numpy as np
from sklearn.utils.validation import column_or_1d, validate_data
from torch.utils.data import Dataset

from .inputs import ArrayInputs, DatasetInputs, check_dataset, file_mapping

__all__ = ["NO_LABELS", "dataset_labels", "validate_input"]

#: ``y`` of a call without labels (a prediction), as scikit-learn's ``validate_data`` names it.
NO_LABELS = "no_validation"

#: How ``validate_data`` checks ``X``: float32 or float64 as given (other types become
#: float32; batches go to the network as float32), images allowed, sparse kept in CSR.
_X_CHECKS = {"dtype": (np.float32, np.float64), "allow_nd": True, "accept_sparse": "csr"}


def validate_input(estimator, X, y=NO_LABELS, *, reset):
    """Validate ``X`` (and ``y``, unless :data:`NO_LABELS`); return ``(inputs, y)``.

    An array goes through scikit-learn's ``validate_data``: it becomes float32 or
    float64, except uint8 images and file-backed arrays (``numpy.memmap``), which
    keep their dtype (each batch becomes float32 on its own) and are checked a
    block at a time. Of a torch Dataset only the first item is read here (each batch
    checks the shape of its samples); ``y=None`` takes its ``targets``, and
    ``n_features_in_`` is the length of the samples' first axis, as for arrays. Unless
    ``reset``, the samples must have the shape of the training samples. With ``y``
    (training), features far from unit scale are refused unless the estimator
    standardises them.

    Returns
    -------
    inputs : Inputs
        ``X``, wrapped: what every later step of the call reads.
    y : ndarray or str
        The labels, or :data:`NO_LABELS`.
    """
    training = not (isinstance(y, str) and y == NO_LABELS)
    if isinstance(X, Dataset):
        inputs = DatasetInputs(X)
        if training:
            y = dataset_labels(X, y)
        if reset:
            estimator.n_features_in_ = inputs.sample_shape[0] if inputs.sample_shape else 1
    else:
        check_not_datetime(X)
        as_is = isinstance(X, np.ndarray) and X.dtype.kind in "iuf"
        as_is = as_is and (X.dtype == np.uint8 or file_mapping(X) is not None)
        checks = {**_X_CHECKS, "dtype": None, "ensure_all_finite": False} if as_is else _X_CHECKS
        if training:
            X, y = validate_data(estimator, X, y, reset=reset, **checks)
        else:
            X = validate_data(estimator, X, reset=reset, **checks)
        inputs = ArrayInputs(X)
        if as_is and X.dtype.kind == "f":
            check_finite(inputs)
    if training:
        check_augment(estimator.augment, inputs.sample_shape)
        if not estimator.standardize:
            check_feature_scale(inputs)
    if not reset and inputs.sample_shape != estimator._input_shape_:
        raise ValueError(
            f"X has shape {inputs.shape}; the model was fitted on samples of shape "
            f"{estimator._input_shape_}."
        )
    return inputs, y


def dataset_labels(X, y):
    """Return the labels of the Dataset ``X``: ``y``, or its ``targets`` if None; one per item."""
    if y is None:
        y = getattr(X, "targets", None)
        if y is None:
            raise ValueError(
                "y is None and the Dataset X has no `targets` attribute: give the labels as y."
            )
    y = column_or_1d(y, warn=True)
    n_items = check_dataset(X)
    if y.shape[0] != n_items:
        raise ValueError(f"X (a Dataset) has {n_items} items but y has {y.shape[0]} labels.")
    return y


def check_augment(augment, sample_shape):
    """Raise if ``augment`` is set and the samples, of ``sample_shape``, aren't images."""
    if augment and len(sample_shape) != 3:
        raise ValueError(
            f"augment=True crops and flips images, of shape (n_samples, C, H, W); X has "
            f"samples of shape {sample_shape}."
        )


#: Feature magnitudes outside this range make the network's training fail silently.
FEATURE_SCALE = (1e-6, 1e6)


def check_feature_scale(inputs):
    """Raise unless the largest ``|X|`` is zero or within ``FEATURE_SCALE``."""
    # Block by block, min and max: np.abs(X).max() would copy the whole of X.
    largest = max(
        (max(abs(float(block.min())), abs(float(block.max()))) for block in inputs.blocks()),
        default=0.0,
    )
    low, high = FEATURE_SCALE
    if largest > high or 0 < largest < low:
        raise ValueError(
            f"X has features of magnitude up to {largest:.3g}; a neural network needs them "
            f"roughly within [{low:g}, {high:g}] to train. Scale the features first, e.g. "
            f"with sklearn.preprocessing.StandardScaler in a Pipeline."
        )


def check_finite(inputs):
    """Raise unless every value of a (file-backed) float array is finite, block by block."""
    if not all(np.isfinite(block).all() for block in inputs.blocks()):
        raise ValueError("Input X contains NaN or infinity.")


def check_not_datetime(X):
    """Raise ``TypeError`` for datetime or timedelta features, which would become raw ticks."""
    dtypes = X.dtypes if hasattr(X, "dtypes") else [getattr(X, "dtype", None)]
    if any(getattr(dtype, "kind", None) in ("M", "m") for dtype in dtypes):
        raise TypeError(
            "X holds datetime or timedelta values; turn them into numeric features (e.g. "
            "elapsed seconds, day of week) before fitting."
        )
