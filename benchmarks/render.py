"""Tables and figures of the benchmark suite (``python -m benchmarks.run``)."""

import datetime
import os
import platform
from pathlib import Path

import cleanlab
import numpy as np
import sklearn
import torch

import cleanlab_pdiff

from .common import cpu_name, median_range, select, write_section
from .methods import METHODS

#: Colour and line style of each method in the accuracy figure.
STYLES = {
    "ce": ("tab:gray", "-"),
    "coteaching": ("tab:blue", "-"),
    "gce": ("tab:orange", "-"),
    "cleanlearning": ("tab:green", "-"),
    "pdiff_true": ("tab:red", "-"),
    "pdiff_auto": ("tab:purple", "-"),
    "pdiff_per_class": ("tab:brown", "--"),
    "pdiff_paper": ("tab:pink", "--"),
    "cv_recipe": ("tab:olive", "--"),
    "oracle": ("black", ":"),
    "oracle_labels": ("black", ":"),
}
#: Methods trained on clean labels: the ceiling, left out of "best".
ORACLES = ("oracle", "oracle_labels")
#: Detection columns of the real-noise tables: (CSV field, heading).
DETECTION = (
    ("estimated_noise_rate", "estimated rate"),
    ("auroc", "AUROC"),
    ("average_precision", "AP"),
    ("precision", "precision"),
    ("recall", "recall"),
    ("f1", "F1"),
    ("fit_seconds", "fit s"),
)
#: Methods P-DIFF is measured against in the summary, and the P-DIFF rows measured.
RIVALS = ("coteaching", "cleanlearning", "gce", "ce")
CONTENDERS = ("pdiff_auto", "pdiff_true")


def _values(rows, key):
    return np.asarray([row[key] for row in rows], dtype=float)


def cell_medians(rows, key="acc_last10"):
    """Median of ``key`` over seeds per (dataset, noise, method).

    Parameters
    ----------
    rows : list of dict
        CSV rows.
    key : str, default="acc_last10"
        Column.

    Returns
    -------
    medians : dict of (str, str, str) to float
    """
    groups = {}
    for row in rows:
        groups.setdefault((row["dataset"], row["noise"], row["method"]), []).append(row[key])
    return {cell: float(np.nanmedian(np.asarray(v, dtype=float))) for cell, v in groups.items()}


def _cells(rows):
    """(dataset, noise) pairs in run order."""
    return list(dict.fromkeys((row["dataset"], row["noise"]) for row in rows))


def _methods(rows):
    present = {row["method"] for row in rows}
    return [key for key in METHODS if key in present]


def _noise_order(rows, dataset):
    """Return a dataset's noises by increasing actual noise rate."""
    noises = list(dict.fromkeys(row["noise"] for row in select(rows, dataset=dataset)))
    rate = {
        n: np.median(_values(select(rows, dataset=dataset, noise=n), "actual_noise_rate"))
        for n in noises
    }
    return sorted(noises, key=lambda n: (rate[n], n))


def _paired_cells(rows, medians, method, other):
    """``(dataset, noise, method's median, other's median)`` of each cell that ran both."""
    pairs = []
    for dataset, noise in _cells(rows):
        mine, theirs = medians.get((dataset, noise, method)), medians.get((dataset, noise, other))
        if mine is not None and theirs is not None:
            pairs.append((dataset, noise, mine, theirs))
    return pairs


def comparison(rows):
    """Per P-DIFF contender and rival: cells won or tied, and the cells lost.

    Medians are compared at the tables' precision (3 decimals).

    Parameters
    ----------
    rows : list of dict
        CSV rows.

    Returns
    -------
    result : dict of (str, str) to (int, int, list)
        ``(contender, rival) -> (cells at or above, cells compared, lost)`` with
        ``lost`` a list of ``(dataset, noise, contender median, rival median)``.
    """
    medians = cell_medians(rows)
    result = {}
    for contender in CONTENDERS:
        for rival in RIVALS:
            cells = _paired_cells(rows, medians, contender, rival)
            # At the tables' precision: a difference they do not show is a tie.
            lost = [cell for cell in cells if round(cell[2], 3) < round(cell[3], 3)]
            if cells:
                result[contender, rival] = (len(cells) - len(lost), len(cells), lost)
    return result


def option_effects(rows):
    """Per P-DIFF option: median last-10 accuracy change against ``pdiff_auto`` per cell.

    Parameters
    ----------
    rows : list of dict
        CSV rows.

    Returns
    -------
    effects : dict of str to list of (str, str, float)
        Option key -> ``(dataset, noise, option median - auto median)`` per cell.
    """
    medians = cell_medians(rows)
    effects = {}
    for key, method in METHODS.items():
        cells = _paired_cells(rows, medians, key, "pdiff_auto") if method.option else []
        if cells:
            effects[key] = [(dataset, noise, mine - auto) for dataset, noise, mine, auto in cells]
    return effects


def _summary_table(rows, dataset):
    methods = _methods(rows)
    noises = _noise_order(rows, dataset)
    medians = cell_medians(select(rows, dataset=dataset))
    lines = [
        "| method | " + " | ".join(noises) + " |",
        "|---|" + "---|" * len(noises),
    ]
    best = {}
    for noise in noises:
        candidates = [
            medians[dataset, noise, m]
            for m in methods
            if m not in ORACLES and not np.isnan(medians.get((dataset, noise, m), np.nan))
        ]
        best[noise] = max(candidates) if candidates else None
    for method in methods:
        cells = []
        for noise in noises:
            cell = select(rows, dataset=dataset, noise=noise, method=method)
            text = median_range(_values(cell, "acc_last10"))
            if cell and method not in ORACLES and medians[dataset, noise, method] == best[noise]:
                text = f"**{text}**"
            cells.append(text)
        lines.append(f"| {METHODS[method].label} | " + " | ".join(cells) + " |")
    return lines


def _detects(rows, method):
    return any(not np.isnan(row["flagged_share"]) for row in select(rows, method=method))


def _detection_table(rows, dataset):
    """Label issues found, per label set and method: medians (min–max) over seeds."""
    lines = [
        "| labels (true rate) | method | " + " | ".join(h for _, h in DETECTION) + " |",
        "|---|---|" + "---|" * len(DETECTION),
    ]
    for noise in _noise_order(rows, dataset):
        cells = select(rows, dataset=dataset, noise=noise)
        actual = median_range(_values(cells, "actual_noise_rate"))
        for method in _methods(rows):
            cell = select(cells, method=method)
            if cell and _detects(rows, method):
                values = [
                    median_range(_values(cell, key), 1 if key == "fit_seconds" else 3)
                    for key, _ in DETECTION
                ]
                lines.append(
                    f"| {noise} ({actual}) | {METHODS[method].label} | " + " | ".join(values) + " |"
                )
    return lines


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
    for noise in _noise_order(rows, dataset):

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
    lines = [
        "| noise | method | last-10 acc. | final acc. | estimated noise rate | fit s "
        "| CPU s | peak MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    cuda = not np.isnan(_values(select(rows, dataset=dataset), "peak_cuda_mb")).all()
    memory_key = "peak_cuda_mb" if cuda else "peak_rss_mb"
    for noise in _noise_order(rows, dataset):
        actual = median_range(
            _values(select(rows, dataset=dataset, noise=noise), "actual_noise_rate")
        )
        for method in _methods(rows):
            cell = select(rows, dataset=dataset, noise=noise, method=method)
            if not cell:
                continue
            values = [
                median_range(_values(cell, "acc_last10")),
                median_range(_values(cell, "acc_final")),
                median_range(_values(cell, "estimated_noise_rate")),
                median_range(_values(cell, "fit_seconds"), 1),
                median_range(_values(cell, "cpu_seconds"), 1),
                median_range(_values(cell, memory_key), 0),
            ]
            lines.append(
                f"| {noise} (true {actual}) | {METHODS[method].label} | "
                + " | ".join(values)
                + " |"
            )
    return lines


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
        if any(_detects(select(rows, dataset=dataset.name), m) for m in _methods(rows)):
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


def render_figures(rows, datasets, folder, *, prefix):
    """Draw the accuracy-per-noise figure and the delta-distribution figure.

    Parameters
    ----------
    rows : list of dict
        Rows as returned by the runs (the recorded ones hold ``model``).
    datasets : sequence of Dataset
        The datasets run.
    folder : path-like
        Where the PNG files go.
    prefix : str
        File name prefix.

    Returns
    -------
    paths : dict of str to Path
        ``"accuracy"`` and, if a run was recorded, ``"delta"``.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    from cleanlab_pdiff.plotting import plot_delta_distribution

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = [d.name for d in datasets if select(rows, dataset=d.name)]
    paths = {}
    figure, axes = pyplot.subplots(
        1, len(names), figsize=(5.5 * len(names) + 2.5, 4.2), layout="constrained", squeeze=False
    )
    for ax, name in zip(axes[0], names, strict=True):
        noises = _noise_order(rows, name)
        medians = cell_medians(select(rows, dataset=name))
        for method in _methods(rows):
            colour, line = STYLES.get(method, (None, "-"))
            y = [medians.get((name, n, method), np.nan) for n in noises]
            ax.plot(
                range(len(noises)),
                y,
                color=colour,
                linestyle=line,
                marker="o",
                markersize=4,
                label=METHODS[method].label,
            )
        rates = [
            np.median(_values(select(rows, dataset=name, noise=n), "actual_noise_rate"))
            for n in noises
        ]
        ax.set_xticks(
            range(len(noises)),
            [f"{_short(n)}\n(true {r:.0%})" for n, r in zip(noises, rates, strict=True)],
            fontsize="small",
            rotation=30,
        )
        ax.set_title(name, fontsize="medium")
        ax.set_ylabel("test accuracy (last-epochs mean, median over seeds)")
        ax.grid(alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside right center", fontsize="small")
    paths["accuracy"] = folder / f"{prefix}_accuracy.png"
    figure.savefig(paths["accuracy"], dpi=80)
    pyplot.close(figure)

    # The detection figure of the real-noise suite (the data set where the recipe ran).
    recipe = [name for name in names if select(rows, dataset=name, method="cv_recipe")]
    if recipe:
        detecting = [m for m in _methods(rows) if _detects(rows, m)]
        paths["detection"] = folder / f"{prefix}_detection.png"
        _detection_figure(rows, recipe[0], detecting, paths["detection"])

    recorded = [row for row in rows if row.get("model") is not None]
    if recorded:
        figure, axes = pyplot.subplots(
            1,
            len(recorded),
            figsize=(6.5 * len(recorded), 4.5),
            layout="constrained",
            squeeze=False,
        )
        for ax, row in zip(axes[0], recorded, strict=True):
            plot_delta_distribution(row["model"], y_true=row["y_true"], y=row["y_noisy"], ax=ax)
            ax.set_title(
                f"{row['dataset']}, {row['noise']}: P-DIFF auto, seed {row['seed']}"
                f"\n(estimated noise rate {row['estimated_noise_rate']:.3f}, true "
                f"{row['actual_noise_rate']:.3f})",
                fontsize="medium",
            )
        paths["delta"] = folder / f"{prefix}_delta.png"
        figure.savefig(paths["delta"], dpi=80)
        pyplot.close(figure)
    return paths


def _detection_figure(rows, dataset, methods, path):
    """Bars of AUROC, F1 and the estimated noise rate per label set and method."""
    from matplotlib import pyplot

    noises = _noise_order(rows, dataset)
    panels = (
        ("auroc", "AUROC of the ranking"),
        ("f1", "F1 of the flagged set"),
        ("estimated_noise_rate", "estimated noise rate"),
    )
    figure, axes = pyplot.subplots(1, 3, figsize=(16, 4.2), layout="constrained")
    width = 0.8 / len(methods)
    for ax, (key, title) in zip(axes, panels, strict=True):
        medians = cell_medians(select(rows, dataset=dataset), key)
        for i, method in enumerate(methods):
            heights = [medians.get((dataset, n, method), np.nan) for n in noises]
            ax.bar(
                np.arange(len(noises)) + (i - (len(methods) - 1) / 2) * width,
                heights,
                width,
                color=STYLES.get(method, (None,))[0],
                label=METHODS[method].label,
            )
        if key == "estimated_noise_rate":
            true = cell_medians(select(rows, dataset=dataset), "actual_noise_rate")
            rates = [
                np.nanmedian([v for (d, n, _), v in true.items() if n == noise]) for noise in noises
            ]
            ax.scatter(
                range(len(noises)),
                rates,
                marker="_",
                s=900,
                color="black",
                zorder=3,
                label="true rate",
            )
        ax.set_xticks(range(len(noises)), [_short(n) for n in noises], fontsize="small")
        ax.set_title(f"{dataset}: {title}", fontsize="medium")
        ax.grid(alpha=0.3, axis="y")
    handles, labels = axes[2].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside right center", fontsize="small")
    figure.savefig(path, dpi=80)
    pyplot.close(figure)


def _short(noise):
    """Shorter noise name for axis labels: ``"asym 20%"``, ``"10N worse"``."""
    for long, short in (("asymmetric", "asym"), ("symmetric", "sym"), ("CIFAR-10N", "10N")):
        noise = noise.replace(long, short)
    return noise


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
