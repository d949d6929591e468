"""The ``find-issues`` command: read a table or an image folder, train P-DIFF once, write.

Called by :func:`cleanlab_pdiff.cli.main`, which turns a :class:`~cleanlab_pdiff._text.UsageError`
into exit status 2 and one line on stderr. Everything heavy is imported when the
command runs.
"""

import io
import os
import time
import warnings
from pathlib import Path

from .._text import UsageError, fail, warn
from . import folders

__all__ = ["find_issues"]

#: Most classes listed one per line in the summary.
MAX_CLASSES_SHOWN = 30


def _check_writable(path, option):
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{option} {path} is a directory; give a file name.")
    parent = path.parent
    if not parent.is_dir():
        raise UsageError(f"{option} {path}: the directory '{parent}' does not exist.")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UsageError(f"{option} {path}: permission denied.")


def _check_plot(path, option="--plot", page=False):
    """Check that the plot of ``option`` (or the HTML page holding it) can be written."""
    from ..plotting import require_matplotlib

    try:
        require_matplotlib()
    except ImportError as exc:
        raise UsageError(f"{option}: {exc}") from exc
    from matplotlib.backend_bases import FigureCanvasBase

    formats = ["html", "htm"] if page else FigureCanvasBase.get_supported_filetypes()
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in formats:
        raise UsageError(
            f"{option} {path}: can't tell the {'page' if page else 'image'} format from the "
            f"name; use one of {', '.join('.' + name for name in sorted(formats))}."
        )
    _check_writable(path, option)


def find_issues(args):
    """Run ``find-issues`` with the parsed ``args``; return the exit status."""
    import numpy as np
    import pandas as pd

    from .._fit.placement import check_device
    from ..classifier import PDiffClassifier
    from ..progress import ProgressBar
    from ..recording import DeltaRecorder

    folder = Path(args.data).is_dir()
    _check_writable(args.output, "--output")
    if args.plot:
        _check_plot(args.plot)
    if args.report:
        if not folder:
            raise UsageError("--report shows images: DATA must be a folder of class folders.")
        _check_plot(args.report, "--report", page=True)
    try:
        device = check_device(args.device)
    except ValueError as exc:
        raise UsageError(f"--device: {exc}") from exc

    def say(*lines):
        if not args.quiet:
            print(*lines, sep="\n")

    if folder:
        X, y, ids = _load_folder(args, device, say)
    else:
        X, y, ids = _load_table(args, say)
    classes = np.unique(y)
    callbacks = [ProgressBar(disable=args.quiet, desc="training")]
    if args.plot or args.report:
        callbacks.append(DeltaRecorder())
    clf = PDiffClassifier(
        noise_rate=args.noise_rate,
        max_epochs=args.epochs,
        augment=folder and args.pixels,
        device=args.device,
        n_threads=args.threads,
        callbacks=callbacks,
        random_state=args.seed,
    )
    start = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            issues = clf.find_label_issues(X, y)
    except FloatingPointError as exc:  # divergence, with its advice
        return fail(exc, status=1)
    except (ValueError, TypeError) as exc:  # the estimator's checks of the data
        return fail(exc, status=2)
    if not args.quiet:  # one line each, as errors are
        for warning in dict.fromkeys(str(w.message) for w in caught):
            warn(warning)
    seconds = time.perf_counter() - start
    quality = clf.training_label_quality_
    ranked = np.argsort(quality, kind="stable")
    table = pd.DataFrame(
        {
            **{name: np.asarray(values)[ranked] for name, values in ids.items()},
            "given_label": y[ranked],
            "suggested_label": clf.predict(X)[ranked],
            "label_quality": quality[ranked],
            "is_label_issue": issues[ranked],
        }
    )
    rows, flagged = _per_class_counts(y, issues, classes)
    try:
        table.to_csv(args.output, index=False, float_format="%.6g")
        if args.plot:
            _save_plot(clf, args.plot, args.data)
        if args.report:
            figure = io.BytesIO()
            _save_plot(clf, figure, args.data, format="png")
            per_class = list(zip(classes.tolist(), rows.tolist(), flagged.tolist(), strict=True))
            folders.write_html_report(args, table, clf.noise_rate_, per_class, figure.getvalue())
    except OSError as exc:
        return fail(f"can't write the output: {exc}", status=1)

    rate = (
        f"estimated noise rate: {clf.noise_rate_:.3f}"
        if args.noise_rate == "auto"
        else f"noise rate: {clf.noise_rate_:.3f} (given)"
    )
    say(
        f"trained P-DIFF for {args.epochs} epochs on {clf.net_.device} in {seconds:.1f} s",
        rate,
        f"label issues found: {issues.sum()} of {y.size} rows ({issues.mean():.1%})",
        *_per_class_lines(classes, rows, flagged),
        f"wrote {args.output}: every {'image' if folder else 'row'}, worst label first",
        *[f"wrote {path}" for path in (args.plot, args.report) if path],
    )
    return 0


def _load_table(args, say):
    """Return the features, labels and id columns of the table ``args.data``."""
    from ..io import read_table, select_columns

    if args.label_column is None:
        raise UsageError("the following arguments are required: --label-column (for a table)")
    table = read_table(args.data, delimiter=args.delimiter)
    excluded = [*args.exclude_columns, *([args.id_column] if args.id_column else [])]
    X, y, feature_names = select_columns(
        table,
        label_column=args.label_column,
        feature_columns=args.feature_columns,
        exclude_columns=excluded,
        source=f"'{args.data}'",
    )
    say(
        f"{args.data}: {y.size} rows, {len(feature_names)} feature column(s), "
        f"{len(set(y.tolist()))} classes (label column '{args.label_column}')"
    )
    ids = {args.id_column: table[args.id_column].to_numpy()} if args.id_column else {}
    return X, y, {"row": range(y.size), **ids}


def _load_folder(args, device, say):
    """Return the features, labels and file paths of the image folder ``args.data``."""
    table_options = ("label_column", "feature_columns", "exclude_columns", "id_column", "delimiter")
    given = [name for name in table_options if getattr(args, name)]
    if given:
        flag = "--" + given[0].replace("_", "-")
        raise UsageError(f"{flag} is for tables; an image folder's labels are its class folders.")
    try:
        X, y, paths = folders.features_and_labels(args, device, say)
    except (ValueError, ImportError) as exc:
        raise UsageError(exc) from exc
    return X, y, {"path": paths}


def _per_class_counts(y, issues, classes):
    import numpy as np

    rows = np.array([(y == label).sum() for label in classes])
    return rows, np.array([(issues & (y == label)).sum() for label in classes])


def _per_class_lines(classes, rows, flagged):
    import numpy as np

    order = np.arange(classes.size)
    hidden = 0
    if classes.size > MAX_CLASSES_SHOWN:
        order = np.argsort(-flagged, kind="stable")[:MAX_CLASSES_SHOWN]
        hidden = classes.size - MAX_CLASSES_SHOWN
    width = max(len("given label"), *(len(str(classes[i])) for i in order))
    lines = ["issues per given label:", f"  {'given label':>{width}}  {'rows':>6}  {'issues':>6}"]
    lines += [f"  {classes[i]!s:>{width}}  {rows[i]:>6}  {flagged[i]:>6}" for i in order]
    if hidden:
        lines.append(f"  ... and {hidden} more classes with fewer issues (see the CSV)")
    return lines


def _save_plot(clf, path, data, format=None):
    from matplotlib.figure import Figure

    from ..plotting import plot_delta_distribution, plot_noise_rate

    figure = Figure(figsize=(13, 4.5), layout="constrained")
    delta_ax, rate_ax = figure.subplots(1, 2)
    plot_delta_distribution(clf, ax=delta_ax)
    plot_noise_rate(clf, ax=rate_ax)
    figure.suptitle(f"cleanlab-pdiff find-issues {data}", fontsize="medium")
    figure.savefig(path, dpi=100, format=format)
