"""The ``cleanlab-pdiff`` command line: find mislabelled rows or images, or run the demo.

``cleanlab-pdiff find-issues DATA --label-column COL`` reads a CSV, Parquet or
NPZ file (see :mod:`cleanlab_pdiff.io`), trains P-DIFF once
(:class:`~cleanlab_pdiff.PDiffClassifier`, which standardises the features) and
writes every row, worst label first, to a CSV file; ``find-issues DIR`` does it for
a folder of class folders of images (embedded by a pretrained encoder, with
``--report`` an HTML page of the flagged images). ``cleanlab-pdiff demo`` runs
the README's demo. Exit status: 0 on success, 2 for bad input or options (one
line on stderr), 1 when training fails or the output can't be written.
Everything heavy (pandas, torch) is imported only to run a command, so that
``--help`` and ``--version`` answer at once.
"""

import argparse
import gc
import sys

from . import __version__
from ._cli import folders
from ._cli.find_issues import find_issues
from ._text import PROG, UsageError, fail, one_line

__all__ = ["build_parser", "main"]


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
        description="Find mislabelled rows of a table, or images of a folder, with P-DIFF (one "
        "training run).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="{find-issues,demo}", required=True)

    find = commands.add_parser(
        "find-issues",
        help="rank the rows of a table, or the images of a folder of class folders, by how "
        "likely their label is wrong",
        description=(
            "Train P-DIFF once on a table, or on a folder of class folders of images, and "
            "write every row or image, worst label first, with its given label, the model's "
            "suggested label, its label-quality score and whether it is flagged as a label "
            "issue. A table's features must be numeric; they are standardised (zero mean, "
            "unit variance per column) before training. A folder's images are embedded by a "
            "pretrained encoder (cached), their labels are the class folders, and --report "
            "shows the flagged ones on an HTML page."
        ),
        epilog=(
            "NPZ files: every 1-D array is a column; a 2-D array X of shape (N, d) gives the "
            "columns X[0] ... X[d-1]. So np.savez('data.npz', X=X, y=y) is read with "
            "--label-column y."
        ),
    )
    find.add_argument(
        "data",
        metavar="DATA",
        help="CSV (.csv, .tsv), Parquet or NPZ file; or a folder of class folders of images",
    )
    find.add_argument(
        "--label-column", metavar="COL", help="column of the given labels (tables; required)"
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
    folders.add_arguments(find)
    find.set_defaults(run=find_issues)

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
        return fail(exc.naming_arguments(lambda name: "--" + name.replace("_", "-")), status=2)
    except UsageError as exc:
        return fail(exc, status=2)
    except KeyboardInterrupt:
        return fail("interrupted", status=130)


def run():
    """Exit with :func:`main`'s status: the console script and ``python -m cleanlab_pdiff``.

    At exit the interpreter's last garbage collection would walk torch's and
    scikit-learn's objects for about a second; every output is written and closed by
    then, so the objects left are frozen out of it.
    """
    status = main()
    gc.freeze()
    sys.exit(status)


def _demo(args):
    from .demo import run_demo

    run_demo(noise_rate=args.noise_rate, kind=args.kind, random_state=args.seed)
    return 0
