"""The accuracy suites' result rows, summarised: medians per cell, and P-DIFF's standing.

A row is one fit (a CSV row of ``benchmarks.accuracy.run``); a cell is a dataset x
noise, and its value for a method the median over seeds.
:mod:`~benchmarks.accuracy.render` writes these summaries as Markdown,
:mod:`~benchmarks.accuracy.figures` draws them.
"""

import numpy as np

from ..common import select
from .methods import METHODS

__all__ = [
    "CONTENDERS",
    "RIVALS",
    "cell_medians",
    "column",
    "comparison",
    "detects",
    "methods_in",
    "noise_order",
    "option_effects",
]

#: Methods P-DIFF is measured against in the summary, and the P-DIFF rows measured.
RIVALS = ("coteaching", "cleanlearning", "gce", "ce")
CONTENDERS = ("pdiff_auto", "pdiff_true")


def column(rows, key):
    """Return the rows' values of ``key`` as a float array."""
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


def methods_in(rows):
    """Return the method keys present in the rows, in :data:`METHODS`' (table) order."""
    present = {row["method"] for row in rows}
    return [key for key in METHODS if key in present]


def noise_order(rows, dataset):
    """Return a dataset's noises by increasing actual noise rate."""
    noises = list(dict.fromkeys(row["noise"] for row in select(rows, dataset=dataset)))
    rate = {
        n: np.median(column(select(rows, dataset=dataset, noise=n), "actual_noise_rate"))
        for n in noises
    }
    return sorted(noises, key=lambda n: (rate[n], n))


def detects(rows, method):
    """Return whether the method flagged label issues in any of the rows."""
    return any(not np.isnan(row["flagged_share"]) for row in select(rows, method=method))


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
