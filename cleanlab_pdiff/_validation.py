"""Validation of the estimator's hyper-parameters and of inputs scikit-learn's helpers skip.

The P-DIFF parameters (``noise_rate``, ``t_k``, ``window``, ``zeta``) are checked
by :class:`~cleanlab_pdiff.pdiff.PDiff` itself, which the estimator builds (the
held-out probes check ``noise_rate`` with PDiff's declaration before they use it).
"""

import numbers

import numpy as np
import torch
from sklearn.utils import check_array
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d, validate_data

from ._checks import Param, check_params
from ._rows import blocks, check_dataset, data_shape, file_mapping, is_dataset

#: The estimator's parameters checked by one table (the others: see the module docstring).
PARAMETERS = {
    "augment": Param(bool),
    "per_class": Param(bool),
    "probe_folds": Param(numbers.Integral, low=2, options=(0,)),
    "retrain": Param(numbers.Real, low=1, options=(None, "auto")),
    "standardize": Param(bool),
    "validation_fraction": Param(
        numbers.Real, 0, 1, low_open=True, high_open=True, options=(None,)
    ),
    "early_stopping": Param(numbers.Integral, low=1, options=(False, True)),
    "n_threads": Param(numbers.Integral, low=1, options=(None,)),
    "max_epochs": Param(numbers.Integral, low=1),
    "batch_size": Param(numbers.Integral, low=1),
    "lr": Param(numbers.Real, low=0, low_open=True),
    "weight_decay": Param(numbers.Real, low=0),
    "optimizer": Param(callable, what="a torch optimizer class or callable"),
    "num_workers": Param(numbers.Integral, low=0),
    "pin_memory": Param(bool),
    "precision": Param(options=("float32", "bf16")),
}

#: Values of ``precision``: the autocast dtype of the forward pass, and the matching
#: ``mixed_precision`` of an ``accelerate.Accelerator``.
PRECISIONS = {"float32": (None, "no"), "bf16": (torch.bfloat16, "bf16")}


def check_hyperparameters(params):
    """Check the estimator's parameters; return ``(device, accelerator, autocast_dtype)``.

    Parameters
    ----------
    params : dict
        The estimator's ``get_params()``.
    """
    check_params(params, PARAMETERS)
    accelerator = check_accelerator(params["accelerator"], params["device"])
    device = check_device(params["device"]) if accelerator is None else accelerator.device
    return device, accelerator, check_precision(params["precision"], device, accelerator)


def check_accelerator(accelerator, device):
    """Return the accelerator, or None; Accelerate is imported only when one is given."""
    if accelerator is None:
        return None
    try:
        from accelerate import Accelerator
    except ImportError as exc:
        raise ImportError(
            "accelerator needs Hugging Face Accelerate: pip install 'cleanlab-pdiff[distributed]'."
        ) from exc
    if not isinstance(accelerator, Accelerator):
        raise TypeError(
            f"accelerator must be None or an accelerate.Accelerator, got "
            f"{type(accelerator).__name__}."
        )
    if not (isinstance(device, str) and device == "auto"):
        raise ValueError(
            f"device must be 'auto' with an accelerator, which places the network "
            f"itself; got device={device!r}."
        )
    return accelerator


def check_precision(precision, device, accelerator):
    """Return the autocast dtype meant by a valid ``precision`` (None for float32)."""
    dtype, mixed_precision = PRECISIONS[precision]
    if accelerator is not None and str(accelerator.mixed_precision) != mixed_precision:
        raise ValueError(
            f"precision={precision!r} needs the accelerator's mixed_precision to be "
            f"{mixed_precision!r}, got {str(accelerator.mixed_precision)!r}; give both "
            f"the same precision."
        )
    if dtype is torch.bfloat16 and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise ValueError(f"precision='bf16' but the CUDA device {device} lacks bfloat16.")
    return dtype


#: How ``validate_data`` checks ``X``: float32 or float64 as given (other types become
#: float32; batches go to the network as float32), images allowed, sparse kept in CSR.
_X_CHECKS = {"dtype": (np.float32, np.float64), "allow_nd": True, "accept_sparse": "csr"}


def validate_input(estimator, X, y="no_validation", *, reset):
    """Validate ``X`` (and ``y``, unless ``"no_validation"``); return them.

    An array goes through scikit-learn's ``validate_data``: it becomes float32 or
    float64, except uint8 images and file-backed arrays (``numpy.memmap``), which
    keep their dtype (each batch becomes float32 on its own) and are checked a
    block at a time. A torch Dataset is checked by :func:`validate_dataset`. Unless
    ``reset``, the samples must have the shape of the training samples. With ``y``
    (training), features far from unit scale are refused unless the estimator
    standardises them.
    """
    if is_dataset(X):
        X, y = validate_dataset(estimator, X, y, reset=reset)
    else:
        check_not_datetime(X)
        as_is = isinstance(X, np.ndarray) and X.dtype.kind in "iuf"
        as_is = as_is and (X.dtype == np.uint8 or file_mapping(X) is not None)
        checks = {**_X_CHECKS, "dtype": None, "ensure_all_finite": False} if as_is else _X_CHECKS
        if isinstance(y, str) and y == "no_validation":
            X = validate_data(estimator, X, reset=reset, **checks)
        else:
            X, y = validate_data(estimator, X, y, reset=reset, **checks)
        if as_is and X.dtype.kind == "f":
            check_finite(X)
    shape = data_shape(X)  # a Dataset's reads its first item
    if not isinstance(y, str):  # training
        check_augment(estimator.augment, shape)
        if not estimator.standardize:
            check_feature_scale(X)
    if not reset and shape[1:] != estimator._input_shape_:
        raise ValueError(
            f"X has shape {shape}; the model was fitted on samples of shape "
            f"{estimator._input_shape_}."
        )
    return X, y


def validate_dataset(estimator, X, y="no_validation", *, reset):
    """Check a torch Dataset ``X`` and its labels ``y`` (None: ``X.targets``); return them.

    Only the first item is read; each batch checks the shape of its samples.
    ``n_features_in_`` is the length of the samples' first axis, as for arrays.
    """
    n_items = check_dataset(X)
    y = dataset_labels(X, y)
    if not (isinstance(y, str) and y == "no_validation"):
        y = column_or_1d(y, warn=True)
        if y.shape[0] != n_items:
            raise ValueError(f"X (a Dataset) has {n_items} items but y has {y.shape[0]} labels.")
    if reset:
        _, *sample_shape = data_shape(X)
        estimator.n_features_in_ = sample_shape[0] if sample_shape else 1
    return X, y


def dataset_labels(X, y):
    """Return ``y``, or when it is None the ``targets`` of the Dataset ``X``."""
    if y is None:
        y = getattr(X, "targets", None)
        if y is None:
            raise ValueError(
                "y is None and the Dataset X has no `targets` attribute: give the labels as y."
            )
    return y


def check_augment(augment, shape):
    """Raise if ``augment`` is set and the samples, of the data's ``shape``, aren't images."""
    if augment and len(shape) != 4:
        raise ValueError(
            f"augment=True crops and flips images, of shape (n_samples, C, H, W); X has "
            f"samples of shape {shape[1:]}."
        )


def encode_targets(y, classes, sample_weight, class_weight=None):
    """Return ``(classes, labels, weight)``: the classes, each label's index, checked weights.

    ``classes`` is None to take those of ``y``, or all the classes (a superset
    of ``y``'s, for ``partial_fit``). ``class_weight`` (None, ``"balanced"`` or
    a dict of class to weight, as in scikit-learn) multiplies the sample weights.
    """
    check_classification_targets(y)
    if classes is None:
        classes, labels = np.unique(y, return_inverse=True)
    else:
        classes = np.unique(classes)
        labels = encode_labels(y, classes)
    if class_weight is not None:
        balanced = isinstance(class_weight, str) and class_weight == "balanced"
        if not (balanced or isinstance(class_weight, dict)):
            raise ValueError(
                f"class_weight must be None, 'balanced' or a dict of class to weight, got "
                f"{class_weight!r}."
            )
        unknown = (
            [key for key in class_weight if key not in classes]
            if isinstance(class_weight, dict)
            else []
        )
        if unknown:
            raise ValueError(
                f"class_weight names classes not in y: {unknown[:5]}; the classes are "
                f"{classes.tolist()}."
            )
        by_class = compute_sample_weight(class_weight, y)
        sample_weight = (
            by_class
            if sample_weight is None
            else by_class * _check_weight_values(sample_weight, labels.shape[0])
        )
    return classes, labels, check_sample_weight(sample_weight, labels, classes)


def encode_labels(y, classes):
    """Return the index of each label in ``classes``; unknown labels raise."""
    try:
        unknown = np.setdiff1d(y, classes)
    except TypeError as exc:
        raise TypeError(
            f"y mixes label types that can't be compared with classes_ "
            f"{classes.tolist()}; give labels of one type, as in fit."
        ) from exc
    if unknown.size:
        raise ValueError(
            f"y holds labels not seen in fit: {unknown[:5].tolist()}; classes_ are "
            f"{classes.tolist()}."
        )
    return np.searchsorted(classes, y)


def check_device(device):
    """Return the ``torch.device`` meant by ``device`` ("auto", "cpu", "cuda", "cuda:1", ...)."""
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device must be 'auto', 'cpu', 'cuda' or 'cuda:<index>', got {device!r}."
        ) from exc
    if resolved.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be a CPU or CUDA device, got {device!r}.")
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device={device!r} but CUDA is not available; use 'cpu' or 'auto'.")
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} but only {torch.cuda.device_count()} CUDA device(s) exist."
            )
    return resolved


def check_sample_weight(sample_weight, labels, classes):
    """Return sample weights as float32 of shape (n_samples,), or None if None.

    Weights must be finite, non-negative and not all zero, and at least two
    classes (``labels`` index ``classes``) must keep a positive weight. They
    are divided by their maximum: the loss is normalised by the weights' sum
    and the delta distribution by its mass, so only their ratios matter, and
    this keeps extreme but valid scales (1e-30, 1e38) representable in float32.
    """
    weight = _check_weight_values(sample_weight, labels.shape[0])
    n_weighted = np.unique(labels if weight is None else labels[weight > 0]).size
    if n_weighted < 2:
        raise ValueError(
            f"y must hold at least 2 classes with positive sample weight; got "
            f"{n_weighted} class(es) ({classes.size} in classes_). A classifier can't "
            f"train when only one class is present."
        )
    return weight


def _check_weight_values(sample_weight, n_samples):
    if sample_weight is None:
        return None
    weight = check_array(
        sample_weight,
        ensure_2d=False,
        dtype=np.float64,
        input_name="sample_weight",
        ensure_min_samples=0,
    )
    if weight.ndim != 1 or weight.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight must have shape ({n_samples},) to match X, got {weight.shape}."
        )
    if (weight < 0).any():
        raise ValueError("sample_weight must be non-negative; negative weights were given.")
    if not weight.any():
        raise ValueError("sample_weight must not be all zero: no sample would be learned from.")
    return (weight / weight.max()).astype(np.float32)


#: Feature magnitudes outside this range make the network's training fail silently.
FEATURE_SCALE = (1e-6, 1e6)


def check_feature_scale(X):
    """Raise unless the largest ``|X|`` is zero or within ``FEATURE_SCALE``."""
    # Block by block, min and max: np.abs(X).max() would copy the whole of X.
    largest = max(
        (max(abs(float(block.min())), abs(float(block.max()))) for block in blocks(X)),
        default=0.0,
    )
    low, high = FEATURE_SCALE
    if largest > high or 0 < largest < low:
        raise ValueError(
            f"X has features of magnitude up to {largest:.3g}; a neural network needs them "
            f"roughly within [{low:g}, {high:g}] to train. Scale the features first, e.g. "
            f"with sklearn.preprocessing.StandardScaler in a Pipeline."
        )


def check_finite(X):
    """Raise unless every value of a (file-backed) float array is finite, block by block."""
    if not all(np.isfinite(block).all() for block in blocks(X)):
        raise ValueError("Input X contains NaN or infinity.")


def check_not_datetime(X):
    """Raise ``TypeError`` for datetime or timedelta features, which would become raw ticks."""
    dtypes = X.dtypes if hasattr(X, "dtypes") else [getattr(X, "dtype", None)]
    if any(getattr(dtype, "kind", None) in ("M", "m") for dtype in dtypes):
        raise TypeError(
            "X holds datetime or timedelta values; turn them into numeric features (e.g. "
            "elapsed seconds, day of week) before fitting."
        )
