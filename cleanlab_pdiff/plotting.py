"""Plots of a P-DIFF training run: the delta distribution and the noise-rate estimate.

matplotlib is an optional dependency: ``pip install "cleanlab-pdiff[plot]"``.
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted, column_or_1d

from .recording import find_delta_recorder

__all__ = ["plot_delta_distribution", "plot_noise_rate", "require_matplotlib"]

#: Bins of the plotted delta histogram (0.02 wide over [-1, 1]).
_EDGES = np.linspace(-1.0, 1.0, 101)


def require_matplotlib():
    """Import matplotlib, or raise an ImportError that says how to install it.

    Returns
    -------
    matplotlib : module
    """
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError(
            "plotting needs matplotlib: pip install 'cleanlab-pdiff[plot]' (or pip install "
            "matplotlib)."
        ) from exc
    return matplotlib


def _axes(ax):
    require_matplotlib()
    if ax is None:
        from matplotlib import pyplot

        _, ax = pyplot.subplots(figsize=(7, 4), layout="constrained")
    return ax


def _recorded_deltas(clf):
    """Return ``(epochs, deltas, labels, complete)`` of a fitted classifier.

    ``deltas`` has shape (n_epochs, n_samples), float32; ``labels`` are the
    given labels (indices into ``classes_``) when a :class:`DeltaRecorder`
    kept them, else None; ``complete`` says whether every epoch is there.
    """
    recorder = find_delta_recorder(clf)
    if recorder is not None and recorder.deltas_:
        deltas = recorder.to_array().astype(np.float32)
        return np.asarray(recorder.epochs_), deltas, recorder.labels_, True
    criterion = clf.net_.criterion_
    kept = criterion.quality_epochs
    n_epochs = len(clf.history_)
    epochs = np.arange(max(0, n_epochs - kept), n_epochs)
    deltas = np.stack(
        [criterion.epoch_deltas(epoch).detach().cpu().float().numpy() for epoch in epochs]
    ).reshape(epochs.size, -1)
    seen = ~np.isnan(deltas).all(axis=1)
    return epochs[seen] + 1, deltas[seen], None, n_epochs <= kept


def plot_delta_distribution(clf, *, y_true=None, y=None, ax=None):
    """Plot the distribution of the probability difference over the training epochs.

    Each column of the heat map is one epoch's histogram of ``delta = p[given
    label] - max p[other class]`` over the training examples (the share of
    examples in each 0.02-wide bin, log colour scale). The dashed line is
    P-DIFF's threshold at the end of each epoch (``history_[:,
    "delta_threshold"]``): examples below it are left out of the gradient.
    With ``y_true``, the median delta of the clean and of the mislabelled
    examples is drawn over it, with their 10-90% bands.

    Every epoch is shown when the classifier was fitted with a
    :class:`~cleanlab_pdiff.recording.DeltaRecorder` in ``callbacks``;
    otherwise only the epochs the criterion keeps (the last 5), and the
    title says so.

    Parameters
    ----------
    clf : PDiffClassifier
        A fitted classifier.
    y_true : array-like of shape (n_samples,), default=None
        The true labels of the training rows, to tell clean from mislabelled
        examples.
    y : array-like of shape (n_samples,), default=None
        The given labels ``clf`` was fitted on; needed with ``y_true`` only
        when no :class:`~cleanlab_pdiff.recording.DeltaRecorder` kept them.
    ax : matplotlib.axes.Axes, default=None
        Where to draw; ``None`` makes a new figure.

    Returns
    -------
    ax : matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from cleanlab_pdiff import PDiffClassifier, make_noisy_labels
    >>> from cleanlab_pdiff.recording import DeltaRecorder
    >>> X, y = load_digits(return_X_y=True)
    >>> X, y = X[:300] / 16, y[:300]
    >>> y_noisy = make_noisy_labels(y, 0.3, random_state=0)
    >>> clf = PDiffClassifier(max_epochs=8, t_k=4, callbacks=[DeltaRecorder()], random_state=0)
    >>> ax = plot_delta_distribution(clf.fit(X, y_noisy), y_true=y)
    >>> ax.get_xlabel()
    'epoch'
    """
    check_is_fitted(clf)
    ax = _axes(ax)
    from matplotlib.colors import LogNorm

    epochs, deltas, labels, complete = _recorded_deltas(clf)
    n_samples = deltas.shape[1]
    shares = np.stack(
        [np.histogram(row[~np.isnan(row)], bins=_EDGES)[0] / n_samples for row in deltas], axis=1
    )
    x_edges = np.concatenate([epochs - 0.5, [epochs[-1] + 0.5]])
    mesh = ax.pcolormesh(
        x_edges,
        _EDGES,
        np.ma.masked_equal(shares, 0),
        cmap="Greys",
        norm=LogNorm(vmin=0.5 / n_samples, vmax=1.0),
    )
    ax.figure.colorbar(mesh, ax=ax, label="share of examples")

    history_epochs = np.asarray(clf.history_[:, "epoch"])
    threshold = np.asarray(clf.history_[:, "delta_threshold"], dtype=float)
    dropping = np.asarray(clf.history_[:, "drop_rate"], dtype=float) > 0
    shown = dropping & (history_epochs >= epochs[0]) & (history_epochs <= epochs[-1])
    ax.plot(
        history_epochs,
        np.where(shown, threshold, np.nan),
        color="tab:orange",
        linestyle="--",
        drawstyle="steps-mid",
        label="P-DIFF threshold",
    )

    if y_true is not None:
        flipped = _flipped(clf, y_true, y, labels, n_samples)
        groups = ((~flipped, "tab:blue", "clean"), (flipped, "tab:red", "mislabelled"))
        for mask, colour, name in groups:
            if not mask.any():
                continue
            low, mid, high = np.nanpercentile(deltas[:, mask], [10, 50, 90], axis=1)
            ax.plot(epochs, mid, color=colour, label=f"{name} ({mask.sum()}): median")
            ax.fill_between(epochs, low, high, color=colour, alpha=0.15, linewidth=0)

    ax.set_xlim(x_edges[0], x_edges[-1])
    ax.set_ylim(-1.02, 1.02)
    ax.set_xlabel("epoch")
    ax.set_ylabel("delta = p(given) - max p(other)")
    title = "P-DIFF: distribution of delta over training"
    if not complete:
        title += (
            f"\nonly the last {len(epochs)} epochs are kept; fit with "
            f"callbacks=[DeltaRecorder()] to see them all"
        )
    ax.set_title(title, fontsize="medium")
    ax.legend(loc="best", fontsize="small")
    return ax


def _flipped(clf, y_true, y, labels, n_samples):
    y_true = column_or_1d(y_true)
    if y is not None:
        given = column_or_1d(y)
    elif labels is not None:
        given = clf.classes_[labels]
    else:
        raise ValueError(
            "y_true needs the labels clf was fitted on: pass y=..., or fit with "
            "callbacks=[DeltaRecorder()], which keeps them."
        )
    if y_true.shape[0] != n_samples or given.shape[0] != n_samples:
        raise ValueError(
            f"y_true and y must have one label per training row ({n_samples}), got "
            f"{y_true.shape[0]} and {given.shape[0]}."
        )
    return y_true != given


def plot_noise_rate(clf, ax=None):
    """Plot the drop rate (the noise-rate estimate) and the related diagnostics per epoch.

    From ``clf.history_``: the drop rate in force at the end of each epoch
    (the running noise-rate estimate with ``noise_rate="auto"``, else the
    ramp to the given rate), the share of the epoch's examples actually
    left out of the gradient (``1 - kept_fraction``), and the saturation
    (mean ``|delta|`` over the window; the estimate freezes once it reaches
    ``zeta``).

    Parameters
    ----------
    clf : PDiffClassifier
        A fitted classifier.
    ax : matplotlib.axes.Axes, default=None
        Where to draw; ``None`` makes a new figure.

    Returns
    -------
    ax : matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from cleanlab_pdiff import PDiffClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = PDiffClassifier(max_epochs=4, t_k=2, random_state=0).fit(X[:200] / 16, y[:200])
    >>> plot_noise_rate(clf).get_ylabel()
    'share of examples'
    """
    check_is_fitted(clf)
    ax = _axes(ax)
    history = clf.history_
    epochs = history[:, "epoch"]
    auto = isinstance(clf.noise_rate, str)
    ax.plot(
        epochs,
        history[:, "drop_rate"],
        color="tab:red",
        label="drop rate (noise-rate estimate)" if auto else "drop rate (ramp to noise_rate)",
    )
    ax.plot(
        epochs,
        1 - np.asarray(history[:, "kept_fraction"], dtype=float),
        color="tab:purple",
        alpha=0.7,
        label="share dropped in the epoch",
    )
    ax.plot(
        epochs,
        history[:, "saturation"],
        color="tab:grey",
        linestyle=":",
        label="saturation (mean |delta|)",
    )
    ax.axhline(clf.zeta, color="tab:grey", linewidth=0.8, linestyle="-.", label="zeta")
    ax.axhline(
        clf.noise_rate_,
        color="black",
        linewidth=0.8,
        linestyle="--",
        label=f"noise_rate_ = {clf.noise_rate_:.3f}",
    )
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("epoch")
    ax.set_ylabel("share of examples")
    ax.set_title("P-DIFF: drop rate per epoch", fontsize="medium")
    ax.legend(loc="best", fontsize="small")
    return ax
