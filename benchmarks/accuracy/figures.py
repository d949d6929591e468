"""The figures of the accuracy suites: accuracy per noise, label issues found, and deltas."""

from pathlib import Path

import numpy as np

from ..common import select
from .methods import METHODS
from .results import cell_medians, column, detects, methods_in, noise_order

__all__ = ["STYLES", "render_figures"]

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
        noises = noise_order(rows, name)
        medians = cell_medians(select(rows, dataset=name))
        for method in methods_in(rows):
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
            np.median(column(select(rows, dataset=name, noise=n), "actual_noise_rate"))
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
        detecting = [m for m in methods_in(rows) if detects(rows, m)]
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

    noises = noise_order(rows, dataset)
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
