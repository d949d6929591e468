"""Demo: sklearn's digits with half of the training labels flipped.

Run with ``cleanlab-pdiff demo`` (or ``python -m cleanlab_pdiff demo``). It trains
the same network three times (plain cross-entropy, P-DIFF with the true noise
rate, P-DIFF estimating the rate) and prints the test accuracy of each and the
estimated noise rate.
"""

import time

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from .classifier import PDiffClassifier
from .noise import make_noisy_labels


def run_demo(noise_rate=0.5, kind="symmetric", random_state=0, print_fn=print):
    """Train plain and P-DIFF models on noisy digits and report test accuracy.

    Parameters
    ----------
    noise_rate : float, default=0.5
        Share of training labels to flip.
    kind : {"symmetric", "pair"}, default="symmetric"
        Kind of label noise (see :func:`~cleanlab_pdiff.make_noisy_labels`).
    random_state : int, default=0
        Seeds the split, the noise and the networks.
    print_fn : callable, default=print
        Where the report lines go.

    Returns
    -------
    results : dict
        ``{"plain": accuracy, "pdiff": accuracy, "auto": accuracy,
        "estimated_noise_rate": float}``.
    """
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16.0, y, test_size=0.3, stratify=y, random_state=random_state
    )
    y_noisy = make_noisy_labels(y_train, noise_rate, kind=kind, random_state=random_state)
    print_fn(
        f"digits: {len(y_train)} training samples, {(y_noisy != y_train).mean():.0%} of their "
        f"labels flipped ({kind}); {len(y_test)} clean test samples"
    )
    runs = {
        "plain": ("plain training (noise_rate=0)", 0.0),
        "pdiff": (f"P-DIFF, known rate (noise_rate={noise_rate})", noise_rate),
        "auto": ('P-DIFF, estimated rate (noise_rate="auto")', "auto"),
    }
    results = {}
    for key, (label, rate) in runs.items():
        start = time.perf_counter()
        clf = PDiffClassifier(noise_rate=rate, random_state=random_state)
        clf.fit(X_train, y_noisy)
        results[key] = clf.score(X_test, y_test)
        print_fn(
            f"{label:<45} test accuracy {results[key]:.3f}  ({time.perf_counter() - start:.1f} s)"
        )
        if rate == "auto":
            results["estimated_noise_rate"] = clf.noise_rate_
    print_fn(f"estimated noise rate: {results['estimated_noise_rate']:.3f} (true: {noise_rate})")
    return results
