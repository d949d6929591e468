"""What ``fit`` and ``partial_fit`` do once the estimator has checked and encoded the data.

:func:`fit_new` runs a fresh fit: the standardisation's moments, the held-out probes'
estimate, the P-DIFF run and, with ``retrain``, the retrained model. :func:`fit_more`
continues one (``partial_fit``), after :func:`check_continuable`. Both return a
:class:`Fitted`, whose fields the estimator turns into its fitted attributes.
"""

from dataclasses import dataclass

import numpy as np

from .._warnings import warn
from .net import AcceleratedPDiffNet
from .probes import fitted_noise_rate, held_out_noise_rate
from .retrain import retrain
from .scaling import feature_moments
from .training import NetSetup, build_net, continue_training, train_new_net, validation_share

__all__ = ["Fitted", "check_continuable", "fit_more", "fit_new"]


@dataclass(frozen=True)
class Fitted:
    """The results of a fit.

    Attributes
    ----------
    run : PDiffNet
        The P-DIFF run's net: its history and per-example statistics.
    model : PDiffNet
        The net that predicts: the run's, or the retrained one.
    kept : ndarray of shape (n_samples,), bool, or None
        The rows the model retrained on (None without ``retrain``).
    held_out : HeldOut or None
        What the held-out probes found.
    noise_rate : float
        The fit's noise rate (estimated or given).
    quality : ndarray of shape (n_samples,)
        Each training row's label quality from the run.
    """

    run: object
    model: object
    kept: np.ndarray | None
    held_out: object
    noise_rate: float
    quality: np.ndarray


def fit_new(estimator, data, placement):
    """Fit afresh on ``data`` (TrainingData), placed by ``placement``; return :class:`Fitted`."""
    _warn_if_the_ramp_cannot_end(estimator)
    scaling = feature_moments(data.inputs) if estimator.standardize else None
    setup = NetSetup(data.inputs.sample_shape, data.n_classes, placement, scaling)
    held_out = held_out_noise_rate(estimator, data, setup)
    net = build_net(estimator, setup, data.n_rows)
    train_new_net(net, data, estimator.random_state, validation_share(estimator))
    noise_rate, quality = _results(estimator, net, held_out)
    model, kept = net, None
    if estimator.retrain is not None:
        model, kept = retrain(estimator, data, setup, quality, noise_rate, held_out)
    return Fitted(net, model, kept, held_out, noise_rate, quality)


def fit_more(estimator, data, net, held_out):
    """Train the fitted ``net`` for ``max_epochs`` more epochs on ``data``; return Fitted."""
    validation = validation_share(estimator)
    continue_training(net, data, estimator.max_epochs, estimator.random_state, validation)
    return Fitted(net, net, None, held_out, *_results(estimator, net, held_out))


def _results(estimator, net, held_out):
    noise_rate = fitted_noise_rate(estimator.noise_rate, held_out, net.criterion_)
    return noise_rate, net.criterion_.training_quality().cpu().numpy()


def _warn_if_the_ramp_cannot_end(estimator):
    dropping = isinstance(estimator.noise_rate, str) or estimator.noise_rate > 0
    if dropping and estimator.max_epochs <= estimator.t_k:
        # The last epoch trains with max_epochs - 1 completed epochs.
        reached = (estimator.max_epochs - 1) / estimator.t_k
        warn(
            f"max_epochs={estimator.max_epochs} ends before P-DIFF's drop-rate ramp "
            f"(t_k={estimator.t_k} epochs): the last epoch drops only {reached:.0%} of the "
            f"noise rate. Raise max_epochs above t_k, or lower t_k."
        )


def check_continuable(estimator, classes):
    """Raise unless ``partial_fit`` can continue the fitted ``estimator`` with ``classes``.

    A data-parallel fit can't continue, nor a retrained one; ``classes``, if given,
    must be the fitted ``classes_``.
    """
    if classes is not None and not np.array_equal(np.unique(classes), estimator.classes_):
        raise ValueError(
            f"classes must equal classes_ {estimator.classes_.tolist()} once fitted, got "
            f"{np.unique(classes).tolist()}."
        )
    if estimator.retrained_on_ is not None:
        raise NotImplementedError(
            "partial_fit can't continue a fit with retrain: the model is the retrained "
            "network, the per-example results the P-DIFF run's. Fit again."
        )
    net = estimator.net_
    if isinstance(net, AcceleratedPDiffNet) and net.accelerator.num_processes > 1:
        raise NotImplementedError(
            "partial_fit can't continue a data-parallel fit: skorch unwraps the "
            "distributed network after training. Fit again with more max_epochs."
        )
