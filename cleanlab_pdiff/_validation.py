"""Validation of hyper-parameters and of inputs that scikit-learn's helpers do not cover."""

import numbers

import numpy as np
import torch
from sklearn.utils import check_array


def check_number(
    name, value, *, kind=numbers.Real, low=None, high=None, low_open=False, high_open=False
):
    """Raise unless ``value`` is a ``kind`` number within the given bounds.

    Booleans are rejected even though Python counts them as integers.
    """
    if isinstance(value, bool) or not isinstance(value, kind):
        what = "an integer" if kind is numbers.Integral else "a number"
        raise TypeError(f"{name} must be {what}, got {value!r} of type {type(value).__name__}.")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high or not np.isfinite(value):
        lo = "(" if low_open else "["
        hi = ")" if high_open else "]"
        bounds = f"{lo}{'-inf' if low is None else low}, {'inf' if high is None else high}{hi}"
        raise ValueError(f"{name} must be in {bounds}, got {value!r}.")
    return value


def check_noise_rate(noise_rate):
    """Return ``"auto"`` or the noise rate as a float in [0, 1)."""
    if isinstance(noise_rate, str):
        if noise_rate != "auto":
            raise ValueError(f"noise_rate must be 'auto' or a float in [0, 1), got {noise_rate!r}.")
        return noise_rate
    return float(check_number("noise_rate", noise_rate, low=0, high=1, high_open=True))


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


def check_sample_weight(sample_weight, n_samples):
    """Return sample weights as float32 of shape (n_samples,), or None if None.

    Weights must be finite, non-negative and not all zero. They are divided
    by their maximum: the loss is normalised by the weights' sum and the
    delta distribution by its mass, so only their ratios matter, and this
    keeps extreme but valid scales (1e-30, 1e38) representable in float32.
    """
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
    # Not np.abs(X).max(): that copies the whole of X, for a moment doubling fit's memory.
    largest = max(abs(float(X.min())), abs(float(X.max()))) if X.size else 0.0
    low, high = FEATURE_SCALE
    if largest > high or 0 < largest < low:
        raise ValueError(
            f"X has features of magnitude up to {largest:.3g}; a neural network needs them "
            f"roughly within [{low:g}, {high:g}] to train. Scale the features first, e.g. "
            f"with sklearn.preprocessing.StandardScaler in a Pipeline."
        )


def check_not_datetime(X):
    """Raise ``TypeError`` for datetime or timedelta features, which would become raw ticks."""
    dtypes = X.dtypes if hasattr(X, "dtypes") else [getattr(X, "dtype", None)]
    if any(getattr(dtype, "kind", None) in ("M", "m") for dtype in dtypes):
        raise TypeError(
            "X holds datetime or timedelta values; turn them into numeric features (e.g. "
            "elapsed seconds, day of week) before fitting."
        )
