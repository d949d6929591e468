"""The labels and weights of a fit, checked and encoded, and the training data they make.

:func:`encode_targets` turns the given labels into class indices and the sample and
class weights into one float32 weight per row; :class:`TrainingData` bundles them with
the rows (:class:`~cleanlab_pdiff._fit.inputs.Inputs`), and gives each subset of rows
with the targets routed with each batch (skorch's FAQ recipe for per-sample data):
``{"label": ..., "index": ..., "weight": ...}``, the weight only when there is one.
"""

from dataclasses import dataclass

import numpy as np
from sklearn.utils import check_array
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets

from .inputs import Inputs, RowSubset

__all__ = ["TrainingData", "encode_labels", "encode_targets"]


@dataclass(frozen=True)
class TrainingData:
    """The rows a fit trains on, with their labels and weights.

    Attributes
    ----------
    inputs : Inputs
        The rows.
    labels : ndarray of shape (n_rows,), int
        Each row's given label, an index of the classes.
    weight : ndarray of shape (n_rows,), float32, or None
        Each row's sample weight (times its class's), None for unit weights.
    n_classes : int
        Number of classes.
    """

    inputs: Inputs
    labels: np.ndarray
    weight: np.ndarray | None
    n_classes: int

    @property
    def n_rows(self):
        """Number of rows."""
        return self.inputs.n_rows

    def rows(self, rows=None):
        """Return the rows ``rows`` (default: all) with their targets, read in place.

        Each row keeps its number among all the rows (``index``), by which P-DIFF
        follows it.
        """
        rows = np.arange(self.n_rows) if rows is None else np.asarray(rows)
        routed = {"label": self.labels[rows], "index": rows}
        if self.weight is not None:
            routed["weight"] = self.weight[rows]
        return RowSubset(self.inputs, routed, rows)


def encode_targets(y, classes, sample_weight, class_weight=None):
    """Return ``(classes, labels, weight)``: the classes, each label's index, checked weights.

    ``classes`` is None to take those of ``y``, or all the classes (a superset
    of ``y``'s, for ``partial_fit``). ``class_weight`` (None, ``"balanced"`` or
    a dict of class to weight, as in scikit-learn; its kind is checked with the
    estimator's parameters) multiplies the sample weights.
    """
    check_classification_targets(y)
    if classes is None:
        classes, labels = np.unique(y, return_inverse=True)
    else:
        classes = np.unique(classes)
        labels = encode_labels(y, classes)
    if class_weight is not None:
        named = class_weight if isinstance(class_weight, dict) else {}
        unknown = [key for key in named if key not in classes]
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
