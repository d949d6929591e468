"""Benchmark how well, and how fast, flipped labels are found.

For each dataset x synthetic noise x seed, three methods flag label issues
with the same network and training settings (``PDiffClassifier``'s defaults,
``random_state=seed``):

(a) one P-DIFF run, ``PDiffClassifier(noise_rate="auto").find_label_issues(X, y)``;
(b) ``PDiffClassifier(noise_rate="auto").find_label_issues(X, y, cv=5)``: P-DIFF in
    each fold, then cleanlab's filter, run as its two public steps
    (``cleanlab_pdiff.label_issues.cross_val_pred_probs``, then
    ``cleanlab.filter.find_label_issues``) so that the same ``pred_probs`` also
    give the AUROC;
(c) cleanlab's standard recipe on plain training (``noise_rate=0.0``):
    ``cross_val_predict`` on 5 stratified folds, then
    ``cleanlab.filter.find_label_issues``.

Each flagged mask is scored against the truly flipped mask. Run::

    python -m benchmarks.accuracy.label_issues [--seeds 3] [--out DIR]

It writes one CSV row per run to ``DIR/label_issues.csv`` and the generated
part of ``docs/label_issues.md`` (medians and ranges over seeds).
"""

import datetime
import os
import platform
import sys
import time
from pathlib import Path

import cleanlab
import numpy as np
import sklearn
import torch
from cleanlab.filter import find_label_issues
from cleanlab.rank import get_label_quality_scores
from sklearn.model_selection import StratifiedKFold, cross_val_predict

import cleanlab_pdiff
from cleanlab_pdiff import PDiffClassifier, make_noisy_labels
from cleanlab_pdiff.label_issues import cross_val_pred_probs

from ..common import (
    add_threads_option,
    argument_parser,
    command_line,
    cpu_name,
    markdown_table,
    median_range,
    parse_args,
    select,
    set_threads,
    warm_up,
    write_csv,
    write_section,
)
from ..data.tabular import load_digits_data, load_mnist1d
from .detection import detection_scores

#: (kind, rate) of the synthetic noise, in table order.
NOISES = (("symmetric", 0.2), ("symmetric", 0.4), ("pair", 0.3))
METHODS = {
    "a": "(a) one P-DIFF run",
    "b": "(b) P-DIFF, 5-fold + cleanlab",
    "c": "(c) plain, 5-fold + cleanlab",
}
#: cleanlab score whose ranking gives the AUROC of (b) and (c).
SCORE = "normalized_margin"
#: Columns of the tables: (CSV field, heading, decimals).
METRICS = (
    ("auroc", "AUROC", 3),
    ("precision", "precision", 3),
    ("recall", "recall", 3),
    ("f1", "F1", 3),
    ("flagged_share", "flagged share", 3),
    ("seconds", "seconds", 1),
)
FIELDS = (
    "dataset",
    "n_samples",
    "noise_kind",
    "noise_rate",
    "seed",
    "method",
    "auroc",
    "average_precision",
    "precision",
    "recall",
    "f1",
    "n_flagged",
    "n_flipped",
    "flagged_share",
    "estimated_noise_rate",
    "seconds",
)


def run_single_pdiff(X, y_noisy, seed, **params):
    """Run method (a): one P-DIFF training run, cut at its own noise-rate estimate.

    A runner of :data:`RUNNERS`. The quality is ``training_label_quality_``, the estimate
    ``noise_rate_``, the time that of ``find_label_issues`` (which fits).
    """
    clf = PDiffClassifier(noise_rate="auto", random_state=seed, **params)
    start = time.perf_counter()
    issues = clf.find_label_issues(X, y_noisy)
    seconds = time.perf_counter() - start
    quality = clf.training_label_quality_
    # The documented contract: the round(noise_rate_ * N) lowest-quality examples.
    expected = round(clf.noise_rate_ * quality.size)
    if issues.sum() != expected or (
        issues.any() and (~issues).any() and quality[issues].max() > quality[~issues].min()
    ):
        raise RuntimeError(
            f"find_label_issues flagged {issues.sum()} examples; expected the {expected} of "
            f"lowest training_label_quality_."
        )
    return issues, quality, seconds, clf.noise_rate_


def run_pdiff_cv(X, y_noisy, seed, **params):
    """Run method (b): P-DIFF in 5 folds, then cleanlab's filter.

    A runner of :data:`RUNNERS`. ``clf.find_label_issues(X, y, cv=5)`` is run as its two
    public steps: :func:`cleanlab_pdiff.label_issues.cross_val_pred_probs` (5 stratified
    folds seeded by ``random_state``), then ``cleanlab.filter.find_label_issues`` on the
    out-of-fold ``pred_probs``. The flagged set is the same, and the same ``pred_probs``
    give the quality (cleanlab's :data:`SCORE`) with no second cross-validation; the time
    is that of both steps.
    """
    clf = PDiffClassifier(noise_rate="auto", random_state=seed, **params)
    start = time.perf_counter()
    labels, pred_probs = cross_val_pred_probs(clf, X, y_noisy, cv=5)
    issues = find_label_issues(labels, pred_probs)
    seconds = time.perf_counter() - start
    return _with_score(issues, labels, pred_probs, seconds)


def run_cleanlab_recipe(X, y_noisy, seed, **params):
    """Run method (c): cleanlab's recipe on plain training (``noise_rate=0.0``).

    A runner of :data:`RUNNERS`: ``cross_val_predict`` on 5 stratified folds shuffled with
    ``seed``, then ``cleanlab.filter.find_label_issues``; the quality is cleanlab's
    :data:`SCORE` of the out-of-fold ``pred_probs``, the time that of both calls.
    """
    clf = PDiffClassifier(noise_rate=0.0, random_state=seed, **params)
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    start = time.perf_counter()
    pred_probs = cross_val_predict(clf, X, y_noisy, cv=folds, method="predict_proba")
    issues = find_label_issues(y_noisy, pred_probs)
    seconds = time.perf_counter() - start
    return _with_score(issues, y_noisy, pred_probs, seconds)


def _with_score(issues, labels, pred_probs, seconds):
    """Return a K-fold runner's result: quality by cleanlab's :data:`SCORE`, no estimate."""
    quality = get_label_quality_scores(labels, pred_probs, method=SCORE)
    return issues, quality, seconds, np.nan


#: Method key -> runner: ``(X, y_noisy, seed, **params) -> (issues, quality, seconds,
#: estimate)``, ``params`` being further ``PDiffClassifier`` parameters (the same for every
#: method) and ``seed`` its ``random_state``. ``issues`` is the flagged mask, ``quality`` a
#: label quality per example (lower = more likely wrong: its ranking gives the AUROC),
#: ``seconds`` the wall time of the method's call(s), ``estimate`` its noise-rate estimate
#: (NaN without one).
RUNNERS = {"a": run_single_pdiff, "b": run_pdiff_cv, "c": run_cleanlab_recipe}


def run_benchmark(datasets, seeds, params, log=sys.stderr):
    """Run every dataset x noise x seed x method; return one row per run.

    Parameters
    ----------
    datasets : dict of str to (ndarray, ndarray)
        Name to clean ``(X, y)``.
    seeds : sequence of int
        Seeds of the noise and of the classifiers.
    params : dict
        Extra ``PDiffClassifier`` parameters (empty for the defaults).
    log : file-like, default=sys.stderr
        Where a progress line per run goes.

    Returns
    -------
    rows : list of dict
        The CSV rows, keys ``FIELDS``.
    """
    rows = []
    total = len(datasets) * len(NOISES) * len(seeds) * len(RUNNERS)
    warm_up()
    for name, (X, y) in datasets.items():
        for kind, rate in NOISES:
            for seed in seeds:
                y_noisy = make_noisy_labels(y, rate, kind=kind, random_state=seed)
                flipped = y_noisy != y
                for method, runner in RUNNERS.items():
                    issues, quality, seconds, estimate = runner(X, y_noisy, seed, **params)
                    row = {
                        "dataset": name,
                        "n_samples": y.size,
                        "noise_kind": kind,
                        "noise_rate": rate,
                        "seed": seed,
                        "method": method,
                        **detection_scores(flipped, issues, quality),
                        "n_flagged": int(issues.sum()),
                        "n_flipped": int(flipped.sum()),
                        "estimated_noise_rate": estimate,
                        "seconds": seconds,
                    }
                    rows.append(row)
                    print(
                        f"[{len(rows)}/{total}] {name} {kind} {rate:.0%} seed={seed} "
                        f"({method}) {seconds:.1f}s auroc={row['auroc']:.3f} "
                        f"f1={row['f1']:.3f} flagged={row['flagged_share']:.3f}",
                        file=log,
                        flush=True,
                    )
    return rows


def _time_ratios(rows, dataset=None):
    """Per dataset x noise x seed, (a)'s and (b)'s seconds over (c)'s."""
    ratios = {"a": [], "b": []}
    for row in select(rows, method="c"):
        if dataset is not None and row["dataset"] != dataset:
            continue
        keys = {key: row[key] for key in ("dataset", "noise_kind", "noise_rate", "seed")}
        for method in ratios:
            (other,) = select(rows, method=method, **keys)
            ratios[method].append(other["seconds"] / row["seconds"])
    return ratios


def render_markdown(rows, *, command, seeds, params, dataset_notes, minutes):
    """Render the generated part of the results page.

    Parameters
    ----------
    rows : list of dict
        Rows with keys ``FIELDS``.
    command : str
        The command line that produced them.
    seeds : sequence of int
        Seeds run.
    params : dict
        Extra ``PDiffClassifier`` parameters (empty for the defaults).
    dataset_notes : dict of str to str
        One line on each dataset.
    minutes : float
        Wall time of the whole run, in minutes.

    Returns
    -------
    text : str
        Markdown, without the surrounding markers.
    """
    cpu = cpu_name()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    settings = ", ".join(f"{key}={value!r}" for key, value in params.items()) or "defaults"
    ratios = _time_ratios(rows)
    lines = [
        f"Generated by `{command}` on {datetime.date.today().isoformat()}, "
        f"in {minutes:.1f} min of wall time.",
        "",
        f"- Machine: {cpu}, {os.cpu_count()} logical cores, torch device `{device}`, "
        f"{torch.get_num_threads()} torch thread(s); Python {platform.python_version()}, "
        f"torch {torch.__version__}, scikit-learn {sklearn.__version__}, "
        f"cleanlab {cleanlab.__version__}, cleanlab_pdiff {cleanlab_pdiff.__version__}.",
        f"- Network and training: `PDiffClassifier` {settings} "
        f"(`random_state=seed`), identical in every method.",
        "- Data: " + "; ".join(f"{name}: {note}" for name, note in dataset_notes.items()) + ".",
        f"- Noise: `make_noisy_labels(y, rate, kind=kind, random_state=seed)` on all samples "
        f"(exactly `round(rate * N)` flips); seeds {', '.join(map(str, seeds))}.",
        "- Methods:",
        '  - (a) `PDiffClassifier(noise_rate="auto").find_label_issues(X, y)`: one '
        "P-DIFF training run; flags the `round(noise_rate_ * N)` examples of lowest "
        "`training_label_quality_`. AUROC of `-training_label_quality_`.",
        '  - (b) `PDiffClassifier(noise_rate="auto").find_label_issues(X, y, cv=5)`: '
        "P-DIFF training in 5 stratified folds, out-of-fold `pred_probs` to "
        "`cleanlab.filter.find_label_issues`; run as those two public steps "
        "(`cleanlab_pdiff.label_issues.cross_val_pred_probs`, then cleanlab's filter). "
        "AUROC of cleanlab's `normalized_margin` of the same `pred_probs` (no second run).",
        "  - (c) cleanlab's standard recipe: `cross_val_predict(PDiffClassifier("
        "noise_rate=0.0), X, y, cv=StratifiedKFold(5, shuffle=True, random_state=seed), "
        'method="predict_proba")`, then `cleanlab.filter.find_label_issues(y, pred_probs)`. '
        "AUROC of `cleanlab.rank.get_label_quality_scores(y, pred_probs, "
        'method="normalized_margin")`.',
        "- Metrics against the truly flipped mask: AUROC of the score ranking; precision, "
        "recall and F1 of the flagged mask; flagged share = flagged / N (compare with the "
        "noise rate); seconds = wall time (`time.perf_counter`) of the method's call(s), "
        "runs one after another.",
        f"- Time of (a) / time of (c), per dataset x noise x seed: median "
        f"{median_range(ratios['a'], 2)} over all {len(ratios['a'])} runs; "
        f"(b) / (c): {median_range(ratios['b'], 2)}.",
        "",
        f"Cells: median over {len(seeds)} seed(s) (min–max).",
    ]
    for name in dict.fromkeys(row["dataset"] for row in rows):
        ratios = _time_ratios(rows, name)
        body = []
        for kind, rate in NOISES:
            for method, label in METHODS.items():
                cell = select(rows, dataset=name, noise_kind=kind, noise_rate=rate, method=method)
                if cell:
                    values = [median_range([row[key] for row in cell], d) for key, _, d in METRICS]
                    body.append([f"{kind} {rate:.0%}", label, *values])
        lines += [
            "",
            f"### {name} ({select(rows, dataset=name)[0]['n_samples']} samples)",
            "",
            *markdown_table(["noise", "method", *(title for _, title, _ in METRICS)], body),
        ]
        lines.append("")
        lines.append(
            f"Time (a) / (c) on {name}: {median_range(ratios['a'], 2)}; "
            f"(b) / (c): {median_range(ratios['b'], 2)}."
        )
    return "\n".join(lines) + "\n"


def main(argv=None):
    """Run the benchmark with the command-line arguments ``argv`` (None: ``sys.argv[1:]``)."""
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 (default 3)")
    parser.add_argument("--out", default="benchmark-out", help="CSV directory")
    parser.add_argument("--doc", default="docs/label_issues.md", help="results page")
    parser.add_argument(
        "--datasets", nargs="+", default=["digits", "mnist1d"], choices=["digits", "mnist1d"]
    )
    parser.add_argument("--mnist1d-samples", type=int, default=4000)
    add_threads_option(
        parser, 1, why="on a shared 2-core machine, 2 threads ran up to 60x slower and noisier"
    )
    parser.add_argument(
        "--max-epochs", type=int, default=None, help="override max_epochs (smoke tests only)"
    )
    args = parse_args(parser, argv)
    set_threads(args.threads)
    params = {} if args.max_epochs is None else {"max_epochs": args.max_epochs}
    datasets, notes = {}, {}
    if "digits" in args.datasets:
        datasets["digits"] = load_digits_data()
        notes["digits"] = "sklearn's 8x8 digits, all 1797, 64 pixels / 16"
    if "mnist1d" in args.datasets:
        datasets["mnist1d"] = load_mnist1d(args.mnist1d_samples)
        notes["mnist1d"] = (
            f"{args.mnist1d_samples} MNIST-1D signals generated locally "
            f"(`mnist1d.data.make_dataset`, default arguments, seed 42), 40 points each, "
            f"standardised per feature"
        )
    seeds = list(range(args.seeds))
    started = time.perf_counter()
    rows = run_benchmark(datasets, seeds, params)
    minutes = (time.perf_counter() - started) / 60
    write_csv(rows, Path(args.out) / "label_issues.csv", FIELDS)
    command = command_line(__spec__.name, argv)
    generated = render_markdown(
        rows, command=command, seeds=seeds, params=params, dataset_notes=notes, minutes=minutes
    )
    write_section(args.doc, generated, title="Label-issue detection benchmark")
    print(f"done in {minutes:.1f} min", file=sys.stderr)


if __name__ == "__main__":
    main()
