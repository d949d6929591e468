"""Compare Datalab's "pdiff" issue type with its "label" type fed 5-fold pred_probs.

Both find the wrong labels of the same data with the same network and settings
(``PDiffClassifier``'s defaults, ``random_state=seed``):

- ``pdiff``: ``Datalab.find_issues(issue_types={"pdiff": {"features": X, ...}})``, one
  P-DIFF run (``cleanlab_pdiff.datalab``);
- ``label``: 5-fold out-of-sample ``pred_probs`` of plain training
  (``cross_val_pred_probs(PDiffClassifier(noise_rate=0.0), X, y, cv=5)``), then
  ``Datalab.find_issues(pred_probs=..., issue_types={"label": {}})``.

Each type's flags give the F1, and its per-example score (``pdiff_score``,
``label_score``) the AUROC, against the known wrong labels; the seconds are the wall
time of all each takes. The data: ``digits``, scikit-learn's digits (pixels / 16) with
30% symmetric noise (``make_noisy_labels``); ``cifar10n``, the real-noise benchmark's
CIFAR-10N label sets (aggre, random1, worse) on EfficientNet-Lite0 embeddings of
10,000 training images (:func:`benchmarks.data.cifar.load_embedded`, the data of
``../shared/data``). Run::

    python -m benchmarks.accuracy.datalab_vs_label --data digits --seeds 3

It prints one line per run and writes them to ``OUT/datalab_vs_label.csv``.
"""

import sys
import time
import warnings
from contextlib import redirect_stdout
from io import StringIO

import numpy as np
from cleanlab import Datalab

import cleanlab_pdiff.datalab  # noqa: F401  (registers the "pdiff" issue type)
from cleanlab_pdiff import PDiffClassifier, make_noisy_labels
from cleanlab_pdiff.label_issues import cross_val_pred_probs

from ..common import (
    add_threads_option,
    argument_parser,
    cpu_name,
    parse_args,
    warm_up,
    write_csv,
)
from ..data.tabular import load_digits_data
from .detection import detection_scores

#: Share of digits' labels flipped.
DIGITS_NOISE = 0.3
#: CIFAR-10N: training and test images of the real-noise suite (the test ones unused).
CIFAR_TRAIN, CIFAR_TEST = 10_000, 2000
FIELDS = (
    "data",
    "labels",
    "n_samples",
    "seed",
    "issue_type",
    "f1",
    "auroc",
    "precision",
    "recall",
    "n_flagged",
    "n_wrong",
    "seconds",
)


def label_sets(data, n_samples=None, *, data_dir=None, cache_dir=None):
    """Yield ``(name, X, wrong_labels_of(seed))`` for each label set of ``data``.

    ``wrong_labels_of(seed)`` returns ``(y_noisy, wrong)``: the given labels and where
    they are wrong. ``n_samples``, for a quick check: digits' first rows, or CIFAR-10's
    last ``n_samples / 10`` training images of each class (a multiple of 10).
    """
    if data == "digits":
        X, y = load_digits_data()
        X, y = X[:n_samples], y[:n_samples]

        def noisy(seed):
            y_noisy = make_noisy_labels(y, DIGITS_NOISE, random_state=seed)
            return y_noisy, y_noisy != y

        yield f"symmetric {DIGITS_NOISE:.0%}", X, noisy
        return
    from ..data.cifar import load_embedded

    # A quick check embeds the last n_samples / 10 images of each class folder only.
    sizes = (CIFAR_TRAIN, CIFAR_TEST) if n_samples is None else (n_samples, 10)
    loaded = load_embedded(*sizes, data_dir, cache_dir, progress=False)
    X, y = loaded["X_train"], loaded["y_train"]
    for name, given in loaded["noisy"].items():
        yield name, X, lambda seed, given=given: (given, given != y)


def run_pdiff(X, y_noisy, seed, params):
    """Return ``(flags, scores, seconds)`` of Datalab's "pdiff" issue type."""
    start = time.perf_counter()
    lab = Datalab({"label": y_noisy}, label_name="label", verbosity=0)
    options = {"features": X, "random_state": seed, **params}
    lab.find_issues(issue_types={"pdiff": options})
    seconds = time.perf_counter() - start
    issues = lab.get_issues("pdiff")
    return issues["is_pdiff_issue"].to_numpy(), issues["pdiff_score"].to_numpy(), seconds


def run_label(X, y_noisy, seed, params):
    """Return ``(flags, scores, seconds)`` of Datalab's "label" type on 5-fold ``pred_probs``."""
    start = time.perf_counter()
    clf = PDiffClassifier(noise_rate=0.0, random_state=seed, **params)
    _, pred_probs = cross_val_pred_probs(clf, X, y_noisy, cv=5)
    lab = Datalab({"label": y_noisy}, label_name="label", verbosity=0)
    with warnings.catch_warnings():  # cleanlab 2.9 uses an API that pandas 3.1 deprecates
        warnings.simplefilter("ignore", DeprecationWarning)
        lab.find_issues(pred_probs=pred_probs, issue_types={"label": {}})
    seconds = time.perf_counter() - start
    issues = lab.get_issues("label")
    return issues["is_label_issue"].to_numpy(), issues["label_score"].to_numpy(), seconds


RUNNERS = {"pdiff": run_pdiff, "label": run_label}


def run(data, seeds, params, *, n_samples=None, data_dir=None, cache_dir=None, log=sys.stdout):
    """Run both issue types on every label set of ``data`` and seed; return one row per run."""
    rows = []
    for name, X, noisy in label_sets(data, n_samples, data_dir=data_dir, cache_dir=cache_dir):
        for seed in seeds:
            y_noisy, wrong = noisy(seed)
            for issue_type, runner in RUNNERS.items():
                with redirect_stdout(StringIO()):  # Datalab's own messages
                    flags, scores, seconds = runner(X, y_noisy, seed, params)
                scores = detection_scores(wrong, flags, scores)
                row = {
                    "data": data,
                    "labels": name,
                    "n_samples": len(y_noisy),
                    "seed": seed,
                    "issue_type": issue_type,
                    **scores,
                    "n_flagged": int(flags.sum()),
                    "n_wrong": int(wrong.sum()),
                    "seconds": seconds,
                }
                rows.append(row)
                print(
                    f"{data} {name} seed {seed} {issue_type:>5}: F1 {row['f1']:.3f}, "
                    f"AUROC {row['auroc']:.3f}, {row['n_flagged']} flagged of "
                    f"{row['n_wrong']} wrong, {seconds:.1f} s",
                    file=log,
                    flush=True,
                )
    return rows


def main(argv=None):
    """Run the comparison from the command line."""
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--data", choices=("digits", "cifar10n"), default="digits")
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 (default 3)")
    add_threads_option(parser, 1, why="timings on a shared machine")
    parser.add_argument("--n-samples", type=int, help="fewer rows, for a quick check")
    parser.add_argument("--max-epochs", type=int, help="PDiffClassifier's (default its own)")
    parser.add_argument("--data-dir", help="cifar10n: the data folder (../shared/data)")
    parser.add_argument("--cache-dir", help="cifar10n: where the embeddings are kept")
    parser.add_argument("--out", default="benchmark-out", help="CSV directory")
    args = parse_args(parser, argv)
    params = {} if args.max_epochs is None else {"max_epochs": args.max_epochs}
    warm_up(args.threads)
    print(f"{cpu_name()}, {args.threads or 'default'} torch thread(s)", flush=True)
    rows = run(
        args.data,
        range(args.seeds),
        params,
        n_samples=args.n_samples,
        data_dir=args.data_dir,
        cache_dir=args.cache_dir,
    )
    for issue_type in RUNNERS:
        mine = [row for row in rows if row["issue_type"] == issue_type]
        medians = {key: np.median([row[key] for row in mine]) for key in ("f1", "auroc", "seconds")}
        print(
            f"median {issue_type:>5}: F1 {medians['f1']:.3f}, AUROC {medians['auroc']:.3f}, "
            f"{medians['seconds']:.1f} s"
        )
    write_csv(rows, f"{args.out}/datalab_vs_label.csv", FIELDS)


if __name__ == "__main__":
    main()
