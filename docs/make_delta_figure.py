"""Draw docs/figures/delta.png, the figure of pdiff.md: P-DIFF on noisy digits.

Run from the repository root with ``python docs/make_delta_figure.py`` (needs the
``plot`` extra). It trains one :class:`~cleanlab_pdiff.PDiffClassifier` with default
settings on all of sklearn's digits with 30% of the labels flipped, recording every
epoch's deltas, and plots them beside the drop rate per epoch.
"""

from pathlib import Path

FIGURE = Path(__file__).resolve().parent / "figures" / "delta.png"


def main():
    """Train on noisy digits and save the figure."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot
    from sklearn.datasets import load_digits

    from cleanlab_pdiff import PDiffClassifier, make_noisy_labels
    from cleanlab_pdiff.plotting import plot_delta_distribution, plot_noise_rate
    from cleanlab_pdiff.recording import DeltaRecorder

    X, y = load_digits(return_X_y=True)
    y_noisy = make_noisy_labels(y, 0.3, random_state=0)
    clf = PDiffClassifier(callbacks=[DeltaRecorder()], random_state=0, device="cpu")
    clf.fit(X / 16, y_noisy)

    figure, (left, right) = pyplot.subplots(1, 2, figsize=(13, 4.5), layout="constrained")
    plot_delta_distribution(clf, y_true=y, ax=left)
    plot_noise_rate(clf, ax=right)
    figure.suptitle(
        "sklearn's digits (1797 images), 30% of the labels flipped at random; "
        "PDiffClassifier defaults, random_state=0",
        fontsize="medium",
    )
    FIGURE.parent.mkdir(exist_ok=True)
    figure.savefig(FIGURE, dpi=80)
    print(f"wrote {FIGURE} (estimated noise rate {clf.noise_rate_:.3f})")


if __name__ == "__main__":
    main()
