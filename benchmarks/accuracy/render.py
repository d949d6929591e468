"""The Markdown of the accuracy suites' results page (``python -m benchmarks.accuracy.run``).

:func:`render_markdown` writes a suite's part of ``docs/benchmarks.md`` from its CSV
rows; :func:`write_page` puts it between the suite's markers.
"""

import datetime
import os
import platform

import cleanlab
import numpy as np
import sklearn
import torch

import cleanlab_pdiff

from ..common import cpu_name, markdown_table, median_range, select, write_section
from .methods import METHODS
from .results import (
    CONTENDERS,
    RIVALS,
    cell_medians,
    column,
    comparison,
    detects,
    methods_in,
    noise_order,
    option_effects,
)

#: Methods trained on clean labels: the ceiling, left out of "best".
ORACLES = ("oracle", "oracle_labels")
#: Columns of the real-noise tables of label issues found: (CSV field, heading, decimals).
DETECTION = (
    ("estimated_noise_rate", "estimated rate", 3),
    ("auroc", "AUROC", 3),
    ("average_precision", "AP", 3),
    ("precision", "precision", 3),
    ("recall", "recall", 3),
    ("f1", "F1", 3),
    ("fit_seconds", "fit s", 1),
)
#: Columns of the detail tables, before the peak memory (its field depends on the device).
DETAIL = (
    ("acc_last10", "last-10 acc.", 3),
    ("acc_final", "final acc.", 3),
    ("estimated_noise_rate", "estimated noise rate", 3),
    ("fit_seconds", "fit s", 1),
    ("cpu_seconds", "CPU s", 1),
)

__all__ = ["real_noise_checks", "render_markdown", "write_page"]


def _summary_table(rows, dataset):
    methods = methods_in(rows)
    noises = noise_order(rows, dataset)
    medians = cell_medians(select(rows, dataset=dataset))
    best = {}
    for noise in noises:
        candidates = [
            medians[dataset, noise, m]
            for m in methods
            if m not in ORACLES and not np.isnan(medians.get((dataset, noise, m), np.nan))
        ]
        best[noise] = max(candidates) if candidates else None
    body = []
    for method in methods:
        cells = []
        for noise in noises:
            cell = select(rows, dataset=dataset, noise=noise, method=method)
            text = median_range(column(cell, "acc_last10"))
            if cell and method not in ORACLES and medians[dataset, noise, method] == best[noise]:
                text = f"**{text}**"
            cells.append(text)
        body.append([METHODS[method].label, *cells])
    return markdown_table(["method", *noises], body)


def _cell_table(rows, dataset, *, heading, label, methods, columns):
    """One line per noise x method that ran: medians (min–max) over seeds of ``columns``.

    ``label`` formats the first column from ``noise`` and ``actual`` (its true rate);
    ``columns`` are ``(CSV field, heading, decimals)``.
    """
    body = []
    for noise in noise_order(rows, dataset):
        cells = select(rows, dataset=dataset, noise=noise)
        actual = median_range(column(cells, "actual_noise_rate"))
        for method in methods:
            cell = select(cells, method=method)
            if cell:
                values = [median_range(column(cell, key), digits) for key, _, digits in columns]
                body.append(
                    [label.format(noise=noise, actual=actual), METHODS[method].label, *values]
                )
    return markdown_table([heading, "method", *(title for _, title, _ in columns)], body)


def _detection_table(rows, dataset):
    """Label issues found, per label set and method: medians (min–max) over seeds."""
    return _cell_table(
        rows,
        dataset,
        heading="labels (true rate)",
        label="{noise} ({actual})",
        methods=[method for method in methods_in(rows) if detects(rows, method)],
        columns=DETECTION,
    )


def real_noise_checks(rows, dataset, one_run="pdiff_auto", recipe="cv_recipe"):
    """Check the real-noise targets on medians over seeds: one text line per label set.

    One P-DIFF run (``one_run``) against cleanlab's K-fold recipe on every noisy
    label set (AUROC, F1, wall time, the estimate's distance to the true rate);
    on clean labels its estimate; its accuracy against plain training and against
    the best of Co-teaching, GCE and CleanLearning.

    Parameters
    ----------
    rows : list of dict
        CSV rows.
    dataset : str
        The dataset.
    one_run, recipe : str, default="pdiff_auto", "cv_recipe"
        Method keys.

    Returns
    -------
    lines : list of str
    """
    medians = {
        key: cell_medians(select(rows, dataset=dataset), key)
        for key in (
            "acc_last10",
            "auroc",
            "f1",
            "fit_seconds",
            "estimated_noise_rate",
            "actual_noise_rate",
        )
    }
    lines = []
    for noise in noise_order(rows, dataset):

        def m(key, method, noise=noise):
            return medians[key].get((dataset, noise, method), np.nan)

        true = m("actual_noise_rate", one_run)
        estimate = m("estimated_noise_rate", one_run)
        rivals = {r: m("acc_last10", r) for r in ("coteaching", "gce", "cleanlearning")}
        rivals = {r: v for r, v in rivals.items() if not np.isnan(v)}
        best = max(rivals, key=rivals.get) if rivals else None
        text = (
            f"- {noise}: estimate {estimate:.3f} (true {true:.3f}, off by "
            f"{abs(estimate - true):.3f}); accuracy {m('acc_last10', one_run):.3f} against "
            f"plain {m('acc_last10', 'ce'):.3f}"
        )
        if best:
            text += f" and the best rival ({METHODS[best].label}) {rivals[best]:.3f}"
        if true > 0 and not np.isnan(m("auroc", recipe)):
            time_ratio = m("fit_seconds", one_run) / m("fit_seconds", recipe)
            text += (
                f"; AUROC {m('auroc', one_run):.3f} against the recipe's "
                f"{m('auroc', recipe):.3f}, F1 {m('f1', one_run):.3f} against "
                f"{m('f1', recipe):.3f}, in {time_ratio:.2f} of its wall time"
            )
        lines.append(text + ".")
    return lines


def _detail_table(rows, dataset):
    cuda = not np.isnan(column(select(rows, dataset=dataset), "peak_cuda_mb")).all()
    peak = ("peak_cuda_mb" if cuda else "peak_rss_mb", "peak MB", 0)
    return _cell_table(
        rows,
        dataset,
        heading="noise",
        label="{noise} (true {actual})",
        methods=methods_in(rows),
        columns=(*DETAIL, peak),
    )


def _schedule_text(schedule):
    if schedule.optimizer == "sgd":
        optimiser = f"SGD (momentum {schedule.momentum}) lr {schedule.lr:g}"
    else:
        optimiser = f"Adam lr {schedule.lr:g}"
    if schedule.milestones:
        optimiser += f", x0.1 after epochs {', '.join(map(str, schedule.milestones))}"
    return (
        f"{schedule.epochs} epochs, batch {schedule.batch_size}, {optimiser}, weight decay "
        f"{schedule.weight_decay:g}; T_k = Co-teaching's `num_gradual` = {schedule.t_k}; "
        f"CleanLearning `cv_n_folds={schedule.cv_folds}`; accuracy averaged over the last "
        f"{schedule.last} epochs"
    )


def render_markdown(
    rows, *, suite, datasets, seeds, command, minutes, jobs, threads, device, figures
):
    """Render the generated part of the results page for one suite.

    Parameters
    ----------
    rows : list of dict
        CSV rows.
    suite : str
        Suite name.
    datasets : sequence of Dataset
        The datasets run.
    seeds : sequence of int
        Seeds run.
    command : str
        The command line.
    minutes : float
        Wall time of the run.
    jobs : int
        Worker processes.
    threads : int
        torch threads per worker (0: torch's default).
    device : str
        Torch device.
    figures : dict of str to str
        ``"accuracy"`` and ``"delta"`` figure paths, relative to the page.

    Returns
    -------
    text : str
        Markdown, without the surrounding markers.
    """
    total_fit = sum(row["fit_seconds"] for row in rows) / 60
    total_cpu = sum(row["cpu_seconds"] for row in rows) / 60
    thread_text = f"{threads} torch thread(s)" if threads else "torch's default threads"
    gpu = f" ({torch.cuda.get_device_name()})" if device.startswith("cuda") else ""
    lines = [
        f"Generated by `{command}` on {datetime.date.today().isoformat()}: {len(rows)} fits "
        f"in {minutes:.1f} min of wall time ({jobs} worker process(es) x {thread_text}). "
        f"Summed over the fits: {total_fit:.1f} min of fit (wall) time, {total_cpu:.1f} min "
        f"of CPU time; {total_cpu / jobs:.1f} min of CPU time per worker, which is about "
        f"what the run takes on an idle machine with as many free cores as workers.",
        "",
        f"- Machine: {cpu_name()}, {os.cpu_count()} logical cores, torch device "
        f"`{device}`{gpu}; Python {platform.python_version()}, torch {torch.__version__}, "
        f"scikit-learn {sklearn.__version__}, cleanlab {cleanlab.__version__}, "
        f"cleanlab_pdiff {cleanlab_pdiff.__version__}.",
        f"- Seeds {', '.join(map(str, seeds))}: each seeds the synthetic noise draw and "
        f"every method's training (initial weights, shuffling, dropout; one seed gives every "
        f"method the same initial network). CIFAR-10N labels are fixed; there the seeds "
        f"vary the training only.",
        "- Accuracy: on the held-out test set, averaged over the last epochs (the paper's "
        "protocol) and at the final epoch. CleanLearning's epochs are those of its final "
        "model, retrained on the examples it kept.",
        '- Estimated noise rate: `noise_rate_` for P-DIFF with `noise_rate="auto"`; the '
        "share of examples pruned for CleanLearning.",
        f"- Fit s: wall time of the method's training, test evaluations excluded "
        f"(CleanLearning's includes its cross-validation); {jobs} fit(s) ran at a time. "
        "Peak MB: the worker's peak resident memory during the fit above its resident "
        "memory before it, freed heap memory having been returned to the system first "
        "(on CUDA: peak allocated GPU memory).",
        "",
    ]
    for dataset in datasets:
        if not select(rows, dataset=dataset.name):
            continue
        lines += [
            f"### {dataset.name}",
            "",
            f"- Data: {dataset.description}.",
            f"- Network: {dataset.network}.",
            f"- Schedule: {_schedule_text(dataset.schedule)}.",
            "",
            f"Last-{dataset.schedule.last} test accuracy, median (min–max) over "
            f"{len(seeds)} seed(s); **bold**: best median apart from the oracle.",
            "",
            *_summary_table(rows, dataset.name),
            "",
        ]
        if any(detects(select(rows, dataset=dataset.name), m) for m in methods_in(rows)):
            lines += [
                "Label issues found: the estimated noise rate; AUROC and average precision "
                "(AP) of the ranking by label quality (lower = flagged first) against the "
                "wrong labels; precision, recall and F1 of the flagged set; wall time.",
                "",
                *_detection_table(rows, dataset.name),
                "",
            ]
            if select(rows, dataset=dataset.name, method="cv_recipe"):
                lines += [
                    f"One P-DIFF run ({METHODS['pdiff_auto'].label}) against cleanlab's "
                    "5-fold recipe and the other methods (medians over seeds):",
                    "",
                    *real_noise_checks(rows, dataset.name),
                    "",
                ]
    lines += ["### Where P-DIFF stands (cells = dataset x noise, medians over seeds)", ""]
    results = comparison(rows)
    for contender in CONTENDERS:
        for rival in RIVALS:
            if (contender, rival) not in results:
                continue
            wins, total, lost = results[contender, rival]
            text = (
                "; ".join(f"{d} {n} {mine:.3f} vs {theirs:.3f}" for d, n, mine, theirs in lost)
                or "none"
            )
            lines.append(
                f"- {METHODS[contender].label} at or above {METHODS[rival].label}: "
                f"{wins} of {total} cells. Below in: {text}."
            )
    effects = option_effects(rows)
    if effects:
        lines += [
            "",
            "Options against P-DIFF auto (median last-10 accuracy, option minus "
            "default, in points):",
            "",
        ]
        for key, cells in effects.items():
            diffs = np.array([d for _, _, d in cells]) * 100
            detail = ", ".join(f"{d} {n} {x * 100:+.1f}" for d, n, x in cells)
            lines.append(
                f"- {METHODS[key].label}: better in {int((diffs > 0).sum())}, worse "
                f"in {int((diffs < 0).sum())} of {diffs.size} cells, median "
                f"{np.median(diffs):+.1f}, mean {diffs.mean():+.1f} ({detail})."
            )
    lines += [""]
    if figures.get("accuracy"):
        lines += [
            f"![Test accuracy per noise and method ({suite} suite)]({figures['accuracy']})",
            "",
        ]
    if figures.get("detection"):
        lines += [
            f"![Label issues found per label set and method ({suite} suite): AUROC, F1 and "
            f"the estimated noise rate against the true one]({figures['detection']})",
            "",
        ]
    if figures.get("delta"):
        lines += [
            f"![P-DIFF's delta distribution, clean against flipped examples ({suite} "
            f"suite)]({figures['delta']})",
            "",
        ]
    lines += ["#### Details", ""]
    for dataset in datasets:
        if select(rows, dataset=dataset.name):
            lines += [f"{dataset.name}:", "", *_detail_table(rows, dataset.name), ""]
    return "\n".join(lines)


def write_page(path, generated, *, suite):
    """Put a suite's generated text between its markers (``BEGIN QUICK`` etc.) of the page.

    Parameters
    ----------
    path : path-like
        The Markdown page.
    generated : str
        Text from :func:`render_markdown`.
    suite : str
        Suite name; its upper-case form is the marker key.
    """
    write_section(path, generated, title="Benchmarks", key=suite.upper())
