"""P-DIFF as an issue type of cleanlab's Datalab: ``issue_types={"pdiff": {"features": X}}``.

Importing this module registers the issue type ``"pdiff"`` (the ``datalab`` extra).
``Datalab(data, label_name=...).find_issues(issue_types={"pdiff": {"features": X}})``
then trains one :class:`~cleanlab_pdiff.PDiffClassifier` on ``X`` and the Datalab's
labels: no ``pred_probs``, no folds. cleanlab gives ``find_issues(features=...)`` to
its own issue types only, so the features go in the issue type's options, with any
parameter of the classifier (``docs/datalab.md``).
"""

import warnings

import numpy as np
import pandas as pd
from cleanlab.datalab.internal.issue_manager import IssueManager
from cleanlab.datalab.internal.issue_manager_factory import register

from ._params import check_params
from .classifier import PDiffClassifier

__all__ = ["PDiffIssueManager"]

#: Most classes listed in the report, those with the most flagged examples first.
CLASSES_SHOWN = 10


class PDiffIssueManager(IssueManager):
    """Datalab's ``"pdiff"`` issue type: wrong labels found by one P-DIFF training run.

    Datalab makes it from ``issue_types={"pdiff": {...}}``, whose entries are
    ``features`` (required) and any :class:`~cleanlab_pdiff.PDiffClassifier`
    parameter (``module``, ``max_epochs``, ``noise_rate``, ``retrain``,
    ``random_state``, ...). Everything is checked here, before anything trains:
    Datalab raises these errors (a failure while training it prints, as for its
    own types).

    Per example, ``get_issues("pdiff")`` has ``pdiff_score``, the fit's
    ``training_label_quality_`` (in [0, 1], lower = worse; NaN for a row held out
    for validation), and ``is_pdiff_issue``, its ``label_issues_``. The summary
    score is ``1 - noise_rate_``, the estimated share of correct labels.
    ``get_info("pdiff")`` holds ``noise_rate``, ``num_label_issues``,
    ``issues_per_class`` (flagged examples per given label), ``given_label`` and
    ``suggested_label`` (each example's most likely label), and ``warnings``, the
    messages of the warnings the fit issued.

    Parameters
    ----------
    datalab : cleanlab.Datalab
        A classification Datalab with labels.
    features : array-like, sparse matrix or torch Dataset of n_examples rows
        What the network trains on, in the Datalab's order.
    **options
        Parameters of :class:`~cleanlab_pdiff.PDiffClassifier`.
    """

    description = """Examples whose given label is probably wrong, found by P-DIFF in one \
training run of a neural network on the features (Hu et al., ICPR 2020).

While it trains, the network leaves out of its gradient the examples it finds most \
likely mislabelled. An example's score is its probability of its given label averaged \
over the training; the flagged examples are the estimated share of wrong labels \
(noise_rate) of lowest score."""
    issue_name = "pdiff"

    def __init__(self, datalab, features=None, **options):
        super().__init__(datalab)
        task = str(datalab.task)
        if task != "classification":
            raise ValueError(
                f"the 'pdiff' issue type finds the wrong labels of a classification task, "
                f"but this Datalab's task is {task!r}."
            )
        if not datalab.has_labels:
            raise ValueError(
                "the 'pdiff' issue type needs the given labels: create the Datalab with "
                "label_name, the name of their column."
            )
        _check_features(features, len(datalab.labels))
        self.options = _checked_options(options)

    def find_issues(self, features=None, **options):
        """Train P-DIFF on ``features`` and the Datalab's labels; keep what it finds.

        Parameters
        ----------
        features : array-like, sparse matrix or torch Dataset
            As given to the constructor.
        **options
            As given to the constructor, which used them.
        """
        labels = np.asarray(self.datalab.labels)
        clf = PDiffClassifier(**self.options)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            clf.fit(features, labels)
        for warning in caught:  # shown as if uncaught, and kept
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
        names = [_plain(name) for name in self.datalab.class_names]
        flagged = np.bincount(labels[clf.label_issues_], minlength=len(names))
        self.issues = pd.DataFrame(
            {
                f"is_{self.issue_name}_issue": clf.label_issues_,
                self.issue_score_key: clf.training_label_quality_,
            }
        )
        self.summary = self.make_summary(score=1.0 - clf.noise_rate_)
        self.info = {
            "noise_rate": float(clf.noise_rate_),
            "num_label_issues": int(clf.label_issues_.sum()),
            "issues_per_class": {name: int(n) for name, n in zip(names, flagged, strict=True)},
            "given_label": [names[label] for label in labels],
            "suggested_label": [names[label] for label in _suggested_labels(clf, features)],
            "warnings": [
                str(warning.message)
                for warning in caught
                if issubclass(warning.category, UserWarning)
            ],
            # A saved Datalab holds this class: loading it imports this module, which
            # registers the issue type that get_issues and report look up.
            "issue_manager": type(self),
        }

    @classmethod
    def report(cls, issues, summary, info, num_examples=5, verbosity=0, **kwargs):
        """Return the report's section: Datalab's, the labels, and what P-DIFF estimated.

        Parameters
        ----------
        issues, summary, info
            The issue type's results, from the Datalab.
        num_examples : int, default=5
            Worst examples shown, with their given and suggested labels.
        verbosity : int, default=0
            Datalab's verbosity: from 1 on, the flagged examples per class.
        **kwargs
            Datalab's other options (``include_description``).

        Returns
        -------
        report : str
        """
        omit = ["issue_manager", "warnings", "noise_rate", "issues_per_class"]
        labelled = issues.assign(
            given_label=info["given_label"], suggested_label=info["suggested_label"]
        )
        text = super().report(
            labelled, summary, info, num_examples, verbosity, info_to_omit=omit, **kwargs
        )
        lines = [f"Estimated share of wrong labels (noise_rate): {info['noise_rate']:.1%}"]
        if verbosity >= 1:
            counts = sorted(info["issues_per_class"].items(), key=lambda item: -item[1])
            shown = ", ".join(f"{name}: {n}" for name, n in counts[:CLASSES_SHOWN])
            more = (
                f" (and {len(counts) - CLASSES_SHOWN} more)" if len(counts) > CLASSES_SHOWN else ""
            )
            lines.append(f"Flagged examples per given label: {shown}{more}")
        lines += [f"The fit warned: {message}" for message in info["warnings"]]
        return text + "\n\n" + "\n".join(lines)


def _check_features(features, n_examples):
    if features is None:
        raise ValueError(
            "Required argument {'features'} for issue type pdiff was not provided: P-DIFF "
            "trains a network on them. cleanlab gives find_issues(features=...) to its own "
            "issue types only; pass issue_types={'pdiff': {'features': X}}."
        )
    n_rows = features.shape[0] if hasattr(features, "shape") else len(features)
    if n_rows != n_examples:
        raise ValueError(
            f"features has {n_rows} rows but the Datalab has {n_examples} examples: give "
            f"one row of features per example, in the Datalab's order."
        )


def _checked_options(options):
    parameters = PDiffClassifier().get_params()
    unknown = sorted(set(options) - set(parameters))
    if unknown:
        raise ValueError(
            f"issue_types['pdiff'] has unknown option(s) {unknown}: it takes 'features' and "
            f"the parameters of PDiffClassifier ({', '.join(sorted(parameters))})."
        )
    try:
        check_params({**parameters, **options}, PDiffClassifier._parameter_table)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"issue_types['pdiff']: {exc}") from exc
    return options


def _suggested_labels(clf, features):
    """Return each training row's most likely label, from ``clf.classes_``."""
    suggested = getattr(clf, "suggested_labels_", None)
    if suggested is None:  # a PDiffClassifier without suggested_labels_ yet
        suggested = clf.classes_[clf.predict_proba(features).argmax(axis=1)]
    return suggested


def _plain(name):
    """Return a class name as a Python scalar (readable, and JSON's for Datalab's report)."""
    return name.item() if isinstance(name, np.generic) else name


for _task in ("classification", "regression", "multilabel"):
    # Registered for every task, to tell a regression or multilabel Datalab why it can't.
    register(PDiffIssueManager, task=_task)
