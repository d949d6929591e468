"""The methods the benchmark compares, each trained with the same network and schedule.

:data:`METHODS` maps a method's key to its label in the tables, its runner and the
runner's options: P-DIFF's configurations (:func:`run_pdiff`: plain cross-entropy, the
oracles and P-DIFF with its options) and the rivals of :mod:`.rivals`. A runner takes a
:class:`~benchmarks.accuracy.protocol.Fit` (how every method trains is in
:mod:`.protocol`) and its options; :func:`run_method` runs one.
"""

import math
import time
from dataclasses import dataclass, field

from cleanlab_pdiff.recording import DeltaRecorder

from .protocol import Fit, NoisyData, Schedule, fit_result
from .rivals import run_cleanlearning, run_coteaching, run_cv_recipe, run_gce

__all__ = ["METHODS", "Fit", "Method", "NoisyData", "Schedule", "run_method", "run_pdiff"]


def run_pdiff(fit, *, clean_only=False, true_labels=False, **params):
    """Train a :class:`~cleanlab_pdiff.PDiffClassifier`; ``params`` are its options.

    Parameters
    ----------
    fit : Fit
        The training; with ``fit.record``, a
        :class:`~cleanlab_pdiff.recording.DeltaRecorder` is added and the fitted
        classifier returned as ``model`` (for the delta figure).
    clean_only : bool, default=False
        Train on the examples whose given label is the true one only (the oracle).
    true_labels : bool, default=False
        Train on every example with its true label (the oracle of real noise).
    **params
        ``noise_rate``, ``per_class``, ... of the classifier. ``noise_rate="true"``
        means the cell's actual noise rate.

    Returns
    -------
    result : dict
        :func:`~benchmarks.accuracy.protocol.fit_result`'s: the estimate is
        ``noise_rate_`` with ``"auto"`` (else NaN), ``quality`` is
        ``training_label_quality_`` and ``issues`` is ``label_issues_`` (None for the
        oracles).
    """
    data = fit.data
    X, y = data.X, data.y_true if true_labels else data.y_noisy
    if clean_only:
        keep = data.y_noisy == data.y_true
        X, y = X[keep], y[keep]
    if params.get("noise_rate") == "true":
        params["noise_rate"] = data.noise_rate
    tester = fit.test_accuracy()
    callbacks = [("test_accuracy", tester)]
    if fit.record:
        callbacks.append(("deltas", DeltaRecorder()))
    clf = fit.pdiff_classifier(*callbacks, **params)
    start = time.perf_counter()
    clf.fit(X, y)
    seconds = time.perf_counter() - start
    if clf.retrained_on_ is not None:  # the model is the retrained networks, not the run
        tester.measure_model(clf)
    estimate = clf.noise_rate_ if isinstance(clf.noise_rate, str) else math.nan
    # An oracle trains on other rows or labels than the given ones: nothing to detect.
    oracle = clean_only or true_labels
    return fit_result(
        tester,
        seconds,
        estimate,
        model=clf if fit.record else None,
        quality=None if oracle else clf.training_label_quality_,
        issues=None if oracle else clf.label_issues_,
    )


@dataclass(frozen=True)
class Method:
    """A benchmarked method: its label in tables, runner and runner options."""

    label: str
    runner: object
    options: dict = field(default_factory=dict)
    #: Whether the method is an option of P-DIFF beyond the paper (``docs/pdiff.md``,
    #: "Options beyond the paper"); ``benchmarks.accuracy.results`` compares it with
    #: ``pdiff_auto``.
    option: bool = False


#: Key -> method, in table order.
METHODS = {
    "ce": Method("cross-entropy", run_pdiff, {"noise_rate": 0.0}),
    "coteaching": Method("Co-teaching (true rate)", run_coteaching),
    "gce": Method("GCE (q=0.7)", run_gce),
    "cleanlearning": Method("CleanLearning", run_cleanlearning),
    "pdiff_true": Method("P-DIFF, true rate", run_pdiff, {"noise_rate": "true", "retrain": None}),
    "pdiff_auto": Method("P-DIFF auto (the default)", run_pdiff, {"noise_rate": "auto"}),
    "pdiff_paper": Method(
        "P-DIFF paper, online estimate",
        run_pdiff,
        {"noise_rate": "auto", "probe_folds": 0, "retrain": None},
    ),
    "pdiff_run": Method(
        "P-DIFF auto, the run as the model", run_pdiff, {"noise_rate": "auto", "retrain": None}
    ),
    "pdiff_per_class": Method(
        "P-DIFF auto, per_class", run_pdiff, {"noise_rate": "auto", "per_class": True}, option=True
    ),
    "pdiff_retrain": Method(
        "P-DIFF auto, retrained x1", run_pdiff, {"noise_rate": "auto", "retrain": 1.0}
    ),
    "pdiff_retrain2": Method(
        "P-DIFF auto, retrained x2", run_pdiff, {"noise_rate": "auto", "retrain": 2.0}
    ),
    "cv_recipe": Method("cleanlab 5-fold recipe", run_cv_recipe),
    "oracle": Method(
        "oracle (clean examples only)", run_pdiff, {"noise_rate": 0.0, "clean_only": True}
    ),
    "oracle_labels": Method(
        "oracle (clean labels)", run_pdiff, {"noise_rate": 0.0, "true_labels": True}
    ),
}


def run_method(key, fit):
    """Run the method ``key`` (of :data:`METHODS`) as ``fit`` (a :class:`Fit`) says.

    Returns
    -------
    result : dict
        :func:`~benchmarks.accuracy.protocol.fit_result`'s (``model`` is None unless
        ``fit.record``).
    """
    method = METHODS[key]
    return method.runner(fit, **method.options)
