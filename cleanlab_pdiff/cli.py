"""The ``cleanlab-pdiff`` command line: find mislabelled rows in a table, or run the demo.

``cleanlab-pdiff find-issues DATA --label-column COL`` reads a CSV, Parquet or
NPZ file (see :mod:`cleanlab_pdiff.io`), trains P-DIFF once
(:class:`~cleanlab_pdiff.PDiffClassifier`, which standardises the features) and
writes every row, worst label first, to a CSV file. ``cleanlab-pdiff demo`` runs
the README's demo. Exit status: 0 on success, 2 for bad input or options (one
line on stderr), 1 when training fails or the output can't be written.
Everything heavy (pandas, torch) is imported only to run a command, so that
``--help`` and ``--version`` answer at once.
"""

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

from . import __version__
from ._text import one_line

__all__ = ["build_parser", "main"]

PROG = "cleanlab-pdiff"
#: Most classes listed one per line in the summary.
_MAX_CLASSES_SHOWN = 30


class _UsageError(Exception):
    """Options that can't work together with this machine or file system."""


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line on stderr, exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n")


def _rate(text):
    try:
        rate = float(text)
    except ValueError:
        rate = None
    if rate is None or not 0 <= rate < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}")
    return rate


def _noise_rate(text):
    if text == "auto":
        return text
    try:
        return _rate(text)
    except argparse.ArgumentTypeError as exc:
        raise argparse.ArgumentTypeError(
            f"expected 'auto' or a number in [0, 1), got {text!r}"
        ) from exc


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def build_parser():
    """Return the argument parser of ``cleanlab-pdiff``.

    Returns
    -------
    parser : argparse.ArgumentParser
    """
    parser = _Parser(
        prog=PROG,
        description="Find mislabelled rows in a labelled table with P-DIFF (one training run).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="{find-issues,demo}", required=True)

    find = commands.add_parser(
        "find-issues",
        help="rank the rows of a table by how likely their label is wrong",
        description=(
            "Train P-DIFF once on a table and write every row, worst label first, with its "
            "given label, the model's suggested label, its label-quality score and whether "
            "it is flagged as a label issue. Features must be numeric; they are standardised "
            "(zero mean, unit variance per column) before training."
        ),
        epilog=(
            "NPZ files: every 1-D array is a column; a 2-D array X of shape (N, d) gives the "
            "columns X[0] ... X[d-1]. So np.savez('data.npz', X=X, y=y) is read with "
            "--label-column y."
        ),
    )
    find.add_argument("data", metavar="DATA", help="CSV (.csv, .tsv), Parquet or NPZ file")
    find.add_argument(
        "--label-column",
        required=True,
        metavar="COL",
        help="column of the given labels (numbers or strings)",
    )
    find.add_argument(
        "--feature-columns",
        nargs="+",
        metavar="COL",
        help="numeric feature columns (default: every column but the label, the id and the "
        "excluded ones)",
    )
    find.add_argument(
        "--exclude-columns",
        nargs="+",
        default=[],
        metavar="COL",
        help="columns that are not features",
    )
    find.add_argument(
        "--id-column",
        metavar="COL",
        help="column naming each row (not a feature), copied to the output",
    )
    find.add_argument(
        "--delimiter", metavar="CHAR", help="CSV field delimiter (default: sniffed from the file)"
    )
    find.add_argument(
        "--noise-rate",
        type=_noise_rate,
        default="auto",
        metavar="auto|F",
        help="share of wrong labels if known, else 'auto' to estimate it (default: auto)",
    )
    find.add_argument(
        "--epochs",
        type=_positive_int,
        default=100,
        metavar="N",
        help="training epochs (default: 100)",
    )
    find.add_argument(
        "--device",
        default="auto",
        metavar="auto|cpu|cuda",
        help="where to train (default: auto, CUDA when present)",
    )
    find.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default: 0)")
    find.add_argument(
        "--threads",
        type=_positive_int,
        default=None,
        metavar="N",
        help="torch threads (default: torch's, one per core; on a busy machine 1 is often "
        "much faster)",
    )
    find.add_argument(
        "--output",
        default="issues.csv",
        metavar="PATH",
        help="ranked CSV to write (default: issues.csv)",
    )
    find.add_argument(
        "--plot",
        metavar="PATH",
        help="also save a plot of the delta distribution and the drop rate per "
        "epoch (e.g. delta.png; needs matplotlib)",
    )
    find.add_argument(
        "--quiet",
        action="store_true",
        help="print nothing but errors (no progress bar, no summary)",
    )
    find.set_defaults(run=_find_issues)

    demo = commands.add_parser(
        "demo",
        help="run the README demo (sklearn's digits with flipped labels)",
        description="Train plain and P-DIFF networks on sklearn's digits with flipped training "
        "labels and print their test accuracy and the estimated noise rate.",
    )
    demo.add_argument(
        "--noise-rate",
        type=_rate,
        default=0.5,
        metavar="F",
        help="share of training labels to flip (default: 0.5)",
    )
    demo.add_argument(
        "--kind",
        choices=("symmetric", "pair"),
        default="symmetric",
        help="kind of label noise (default: symmetric)",
    )
    demo.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default: 0)")
    demo.set_defaults(run=_demo)
    return parser


def main(argv=None):
    """Run ``cleanlab-pdiff`` and return its exit status.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments; ``None`` reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 2 for bad input, 1 when training or writing fails.
    """
    args = build_parser().parse_args(argv)
    from .io import DataError

    try:
        return args.run(args)
    except DataError as exc:
        # The reader names its arguments; here they are flags.
        return _fail(exc.naming_arguments(lambda name: "--" + name.replace("_", "-")), status=2)
    except _UsageError as exc:
        return _fail(exc, status=2)
    except KeyboardInterrupt:
        return _fail("interrupted", status=130)


def _fail(message, status):
    print(f"{PROG}: error: {one_line(message)}", file=sys.stderr)
    return status


def _check_writable(path, option):
    path = Path(path)
    if path.is_dir():
        raise _UsageError(f"{option} {path} is a directory; give a file name.")
    parent = path.parent
    if not parent.is_dir():
        raise _UsageError(f"{option} {path}: the directory '{parent}' does not exist.")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise _UsageError(f"{option} {path}: permission denied.")


def _check_plot(path):
    from .plotting import require_matplotlib

    try:
        require_matplotlib()
    except ImportError as exc:
        raise _UsageError(f"--plot: {exc}") from exc
    from matplotlib.backend_bases import FigureCanvasBase

    formats = FigureCanvasBase.get_supported_filetypes()
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in formats:
        raise _UsageError(
            f"--plot {path}: can't tell the image format from the name; use one of "
            f"{', '.join('.' + name for name in sorted(formats))}."
        )
    _check_writable(path, "--plot")


def _find_issues(args):
    import numpy as np
    import pandas as pd

    from ._validation import check_device
    from .classifier import PDiffClassifier
    from .io import read_table, select_columns
    from .progress import ProgressBar
    from .recording import DeltaRecorder

    _check_writable(args.output, "--output")
    if args.plot:
        _check_plot(args.plot)
    try:
        check_device(args.device)
    except ValueError as exc:
        raise _UsageError(f"--device: {exc}") from exc
    table = read_table(args.data, delimiter=args.delimiter)
    excluded = [*args.exclude_columns, *([args.id_column] if args.id_column else [])]
    X, y, feature_names = select_columns(
        table,
        label_column=args.label_column,
        feature_columns=args.feature_columns,
        exclude_columns=excluded,
        source=f"'{args.data}'",
    )

    def say(*lines):
        if not args.quiet:
            print(*lines, sep="\n")

    classes = np.unique(y)
    say(
        f"{args.data}: {y.size} rows, {len(feature_names)} feature column(s), "
        f"{classes.size} classes (label column '{args.label_column}')"
    )

    callbacks = [ProgressBar(disable=args.quiet, desc="training")]
    if args.plot:
        callbacks.append(DeltaRecorder())
    clf = PDiffClassifier(
        noise_rate=args.noise_rate,
        max_epochs=args.epochs,
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
        return _fail(exc, status=1)
    except (ValueError, TypeError) as exc:  # the estimator's checks of the data
        return _fail(exc, status=2)
    if not args.quiet:  # one line each, as errors are
        for warning in dict.fromkeys(str(w.message) for w in caught):
            print(f"{PROG}: warning: {one_line(warning)}", file=sys.stderr)
    seconds = time.perf_counter() - start
    quality = clf.training_label_quality_
    ranked = np.argsort(quality, kind="stable")
    suggested = clf.predict(X)
    ids = {args.id_column: table[args.id_column].to_numpy()[ranked]} if args.id_column else {}
    table = pd.DataFrame(
        {
            "row": ranked,
            **ids,
            "given_label": y[ranked],
            "suggested_label": suggested[ranked],
            "label_quality": quality[ranked],
            "is_label_issue": issues[ranked],
        }
    )
    try:
        table.to_csv(args.output, index=False, float_format="%.6f")
        if args.plot:
            _save_plot(clf, args.plot, args.data)
    except OSError as exc:
        return _fail(f"can't write the output: {exc}", status=1)

    rate = (
        f"estimated noise rate: {clf.noise_rate_:.3f}"
        if args.noise_rate == "auto"
        else f"noise rate: {clf.noise_rate_:.3f} (given)"
    )
    say(
        f"trained P-DIFF for {args.epochs} epochs on {clf.net_.device} in {seconds:.1f} s",
        rate,
        f"label issues found: {issues.sum()} of {y.size} rows ({issues.mean():.1%})",
        *_per_class_lines(y, issues, classes),
        f"wrote {args.output}: every row, worst label first",
    )
    if args.plot:
        say(f"wrote {args.plot}")
    return 0


def _per_class_lines(y, issues, classes):
    import numpy as np

    rows = np.array([(y == label).sum() for label in classes])
    flagged = np.array([(issues & (y == label)).sum() for label in classes])
    order = np.arange(classes.size)
    hidden = 0
    if classes.size > _MAX_CLASSES_SHOWN:
        order = np.argsort(-flagged, kind="stable")[:_MAX_CLASSES_SHOWN]
        hidden = classes.size - _MAX_CLASSES_SHOWN
    width = max(len("given label"), *(len(str(classes[i])) for i in order))
    lines = ["issues per given label:", f"  {'given label':>{width}}  {'rows':>6}  {'issues':>6}"]
    lines += [f"  {classes[i]!s:>{width}}  {rows[i]:>6}  {flagged[i]:>6}" for i in order]
    if hidden:
        lines.append(f"  ... and {hidden} more classes with fewer issues (see the CSV)")
    return lines


def _save_plot(clf, path, data):
    from matplotlib.figure import Figure

    from .plotting import plot_delta_distribution, plot_noise_rate

    figure = Figure(figsize=(13, 4.5), layout="constrained")
    delta_ax, rate_ax = figure.subplots(1, 2)
    plot_delta_distribution(clf, ax=delta_ax)
    plot_noise_rate(clf, ax=rate_ax)
    figure.suptitle(f"cleanlab-pdiff find-issues {data}", fontsize="medium")
    figure.savefig(path, dpi=100)


def _demo(args):
    from .demo import run_demo

    run_demo(noise_rate=args.noise_rate, kind=args.kind, random_state=args.seed)
    return 0
