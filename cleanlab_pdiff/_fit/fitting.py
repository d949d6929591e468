"""What ``fit`` and ``partial_fit`` do once the estimator has checked and encoded the data.

:func:`fit_new` runs a fresh fit: the standardisation's moments, the held-out probes'
estimate, the held-out choice of the model (``retrain="auto"``), the P-DIFF run and,
where it is the model, the retrained network. :func:`fit_more` continues one
(``partial_fit``), after :func:`check_continuable`. Both return a :class:`Fitted`, whose
fields the estimator turns into its fitted attributes.
"""

import copy
import numbers
from dataclasses import dataclass

import numpy as np

from .._warnings import warn
from .net import AcceleratedPDiffNet
from .probes import fitted_noise_rate, held_out_noise_rate
from .retrain import retrain
from .scaling import feature_moments
from .selection import ranking_epochs, select
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
    selection : ModelSelection or None
        The held-out choice of the model (``retrain="auto"``), if one was made.
    """

    run: object
    model: object
    kept: np.ndarray | None
    held_out: object
    noise_rate: float
    quality: np.ndarray
    selection: object = None


def fit_new(estimator, data, placement):
    """Fit afresh on ``data`` (TrainingData), placed by ``placement``; return :class:`Fitted`."""
    _warn_if_the_ramp_cannot_end(estimator)
    scaling = feature_moments(data.inputs) if estimator.standardize else None
    setup = NetSetup(data.inputs.sample_shape, data.n_classes, placement, scaling)
    held_out = held_out_noise_rate(estimator, data, setup)
    selection = _selection(estimator, data, setup, held_out)
    chosen = None if selection is None else selection.chosen
    run = estimator
    if chosen == "plain":
        run = copy.copy(estimator).set_params(noise_rate=0.0)
    elif chosen == "retrained":
        # Its ranking is all the run gives: after the ramp it would only memorise.
        run = copy.copy(estimator).set_params(max_epochs=ranking_epochs(estimator))
    net = build_net(run, setup, data.n_rows)
    train_new_net(net, data, estimator.random_state, validation_share(estimator))
    noise_rate, quality = _results(estimator, net, held_out)
    if selection is not None and selection.upper_bound:
        _warn_of_an_upper_bound(noise_rate, selection)
    model, kept = net, None
    if chosen == "retrained":
        model, kept = retrain(estimator, data, setup, quality, selection.left_out)
    elif isinstance(estimator.retrain, numbers.Real):
        left_out = estimator.retrain * noise_rate
        model, kept = retrain(estimator, data, setup, quality, left_out)
    return Fitted(net, model, kept, held_out, noise_rate, quality, selection)


def _selection(estimator, data, setup, held_out):
    """Return the held-out choice of the model, or None where ``retrain`` leaves none."""
    if not (isinstance(estimator.retrain, str) and estimator.retrain == "auto"):
        return None
    if held_out is not None:
        return select(estimator, data, setup, held_out.noise_rate, held_out.disagreement)
    if isinstance(estimator.noise_rate, str) or estimator.noise_rate == 0:
        return None  # no share to leave out before the run: the run is the model
    return select(estimator, data, setup, estimator.noise_rate, None)


def _warn_of_an_upper_bound(noise_rate, selection):
    agreement = selection.agreement
    kept = next(name for name in agreement if name.startswith("retrained"))
    model = "plain training on every row" if selection.chosen == "plain" else "the P-DIFF run"
    warn(
        f"noise_rate_ = {noise_rate:.3f} is an upper bound: leaving that share of the rows "
        f"out of training lowered the agreement with the given labels of {selection.n_scored} "
        f"held-out rows from {agreement['plain, early-stopped']:.3f} to {agreement[kept]:.3f}, "
        f"so many of them are hard examples the network gets wrong, not wrong labels. The "
        f"model is {model}. "
        f"For a count of wrong labels, use a stronger network or better features, or pass "
        f"noise_rate if you know it."
    )


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
