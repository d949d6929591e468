"""Standardisation of the inputs inside the estimator: moments in one pass, applied per batch.

A neural network trains on features of any scale only once they are brought near
unit scale; unscaled features look like label noise to P-DIFF (the network
saturates at once and disagrees with whole classes). The estimator therefore
standardises by default, as ``StandardScaler`` would, but without a scaled copy
of ``X``: the moments are summed over chunks, and each batch is scaled on its
way to the network.

Features that share one scale, as pixels do (every feature's range within
``SHARED_RANGE`` times the median range), are divided by one deviation for all of
them, not each by its own: a pixel that is almost never lit has a tiny deviation, and
dividing by it would turn its rare values into outliers that the network memorises
(measured in ``docs/pdiff.md``).
"""

import math

import numpy as np
from scipy import sparse

#: Features whose largest range is within this factor of the median range share one scale.
SHARED_RANGE = 10.0


def feature_moments(inputs):
    """Return the mean and standard deviation of each feature (each channel of images).

    Parameters
    ----------
    inputs : Inputs
        The training data (:mod:`~cleanlab_pdiff._fit.inputs`), read a block of rows at a
        time. Sparse matrices are not centred (the mean returned is 0), as
        ``StandardScaler(with_mean=False)`` would not centre them: centring makes them
        dense.

    Returns
    -------
    mean, scale : ndarray of shape (n_features,) or (C,), float64
        ``scale`` is 1 where the deviation is 0 (a constant feature); the root mean
        square of the deviations, for every feature, where they share one scale.

    Examples
    --------
    >>> from cleanlab_pdiff._fit.inputs import wrap
    >>> mean, scale = feature_moments(wrap(np.array([[0.0, 5.0], [2.0, 5.0]])))
    >>> mean.tolist(), scale.tolist()
    ([1.0, 5.0], [1.0, 1.0])
    >>> mean, scale = feature_moments(wrap(np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 0.5]])))
    >>> scale.round(3).tolist()  # one shared scale: 0.471 and 0.236 would make it 0.373
    [0.373, 0.373]
    """
    if sparse.issparse(inputs.data):
        return _sparse_moments(inputs.data)
    # Each feature over its largest magnitude first: the squares of values near float64's
    # limits (1e300) would overflow, and those near its smallest would vanish.
    high, low = _chunked_reduce(
        inputs,
        lambda chunk: np.stack(
            [chunk.max(axis=_other_axes(chunk)), -chunk.min(axis=_other_axes(chunk))]
        ),
        np.maximum,
    )
    low = -low
    peak = np.maximum(np.abs(high), np.abs(low))
    peak[~(peak > 0)] = 1.0
    # Two passes over chunks, the deviations taken from the mean: exact where the one-pass
    # E[x^2] - E[x]^2 would cancel (a large offset, a small spread).
    mean = _chunked_mean(inputs, lambda chunk: chunk / _along_axis_1(peak, chunk))
    variance = _chunked_mean(
        inputs,
        lambda chunk: np.square(chunk / _along_axis_1(peak, chunk) - _along_axis_1(mean, chunk)),
    )
    return mean * peak, _shared_or_own(np.sqrt(variance) * peak, high - low)


def _sparse_moments(X):
    """Moments of a sparse matrix without making it dense: mean 0 (no centring)."""
    peak = _dense(abs(X).max(axis=0))
    peak[~(peak > 0)] = 1.0
    scaled = sparse.csr_matrix(X.multiply(1.0 / peak), dtype=np.float64)
    mean = np.asarray(scaled.mean(axis=0)).ravel()
    squares = np.asarray(scaled.multiply(scaled).mean(axis=0)).ravel()
    scale = np.sqrt(np.maximum(squares - np.square(mean), 0.0)) * peak
    spread = _dense(X.max(axis=0)) - _dense(X.min(axis=0))
    return np.zeros(X.shape[1]), _shared_or_own(scale, spread)


def _dense(row):
    return np.asarray(row.todense(), dtype=np.float64).ravel()


def _shared_or_own(scale, spread):
    """Return one scale for every feature if their ranges ``spread`` share one, else ``scale``.

    The shared scale is the root mean square of the deviations of the features that vary;
    a deviation of 0 (a constant feature) becomes 1.
    """
    live = spread > 0
    if live.any() and spread[live].max() <= SHARED_RANGE * np.median(spread[live]):
        # Over the largest first: the squares of deviations near float64's limits overflow.
        largest = scale[live].max()
        scale = np.full_like(scale, largest * np.sqrt(np.mean(np.square(scale[live] / largest))))
    scale[~(scale > 0) | ~np.isfinite(scale)] = 1.0
    return scale


def _other_axes(chunk):
    return (0, *range(2, chunk.ndim))


def _chunked_reduce(inputs, function, combine):
    """Combine ``function`` of each block of rows of dense ``inputs`` with ``combine``."""
    result = None
    for chunk in inputs.blocks():
        value = function(chunk.astype(np.float64))
        result = value if result is None else combine(result, value)
    return result if result is not None else np.zeros(inputs.sample_shape[0])


def _along_axis_1(values, batch):
    return values.reshape((1, -1) + (1,) * (batch.ndim - 2))


def _chunked_mean(inputs, function):
    """Mean over every axis but 1 of ``function(chunk)``."""
    n_samples, _, *more = inputs.shape
    total = _chunked_reduce(
        inputs, lambda chunk: function(chunk).sum(axis=_other_axes(chunk)), np.add
    )
    return total / max(n_samples * math.prod(more), 1)


def standardise(batch, mean, scale):
    """Return ``(batch - mean) / scale`` along axis 1 (features or channels)."""
    return (batch - _along_axis_1(mean, batch)) / _along_axis_1(scale, batch)
