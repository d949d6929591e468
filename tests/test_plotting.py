"""Plots of a training run (rendered with Agg) and the opt-in DeltaRecorder they read."""

import pickle
import sys

import matplotlib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits

from cleanlab_pdiff import PDiffClassifier, make_noisy_labels
from cleanlab_pdiff.plotting import plot_delta_distribution, plot_noise_rate
from cleanlab_pdiff.recording import DeltaRecorder, find_delta_recorder

matplotlib.use("Agg")
from matplotlib import pyplot  # noqa: E402  (after choosing the backend)

N_EPOCHS = 8
PAST_THE_RAMP = {"max_epochs": N_EPOCHS, "t_k": 3, "random_state": 0, "device": "cpu"}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def close_figures():
    yield
    pyplot.close("all")


@pytest.fixture(scope="module")
def digits_300_flipped30():
    X, y = load_digits(return_X_y=True)
    X, y = X[:300] / 16, y[:300]
    return X, y, make_noisy_labels(y, 0.3, random_state=0)


@pytest.fixture(scope="module")
def recorded(digits_300_flipped30):
    X, _, y_noisy = digits_300_flipped30
    return PDiffClassifier(callbacks=[DeltaRecorder()], **PAST_THE_RAMP).fit(X, y_noisy)


@pytest.fixture(scope="module")
def unrecorded(digits_300_flipped30):
    X, _, y_noisy = digits_300_flipped30
    return PDiffClassifier(**PAST_THE_RAMP).fit(X, y_noisy)


def save_png(ax, path):
    ax.figure.savefig(path)
    return path.read_bytes()


# DeltaRecorder ------------------------------------------------------------------------------------


def test_recorder_keeps_every_epoch(recorded, digits_300_flipped30):
    recorder = find_delta_recorder(recorded)
    assert recorder.epochs_ == list(range(1, N_EPOCHS + 1))
    deltas = recorder.to_array()
    assert deltas.shape == (N_EPOCHS, 300) and deltas.dtype == np.float16
    assert np.isfinite(deltas).all() and (np.abs(deltas) <= 1).all()
    np.testing.assert_array_equal(
        recorder.labels_, np.searchsorted(recorded.classes_, digits_300_flipped30[2])
    )


def test_recorder_matches_the_criterions_last_epochs(recorded):
    """The criterion keeps the last 5 epochs in slots epoch % 5; the recording agrees."""
    recent = recorded.net_.criterion_.recent_deltas.numpy()
    deltas = find_delta_recorder(recorded).to_array()
    for epoch in range(N_EPOCHS - 5, N_EPOCHS):
        np.testing.assert_allclose(deltas[epoch], recent[epoch % 5], atol=1e-3)


def test_recorder_leaves_training_unchanged(recorded, unrecorded, digits_300_flipped30):
    X = digits_300_flipped30[0]
    np.testing.assert_array_equal(recorded.predict_proba(X), unrecorded.predict_proba(X))
    np.testing.assert_array_equal(
        recorded.training_label_quality_, unrecorded.training_label_quality_
    )


def test_recorder_restarts_at_fit_and_continues_with_partial_fit(digits_300_flipped30):
    X, _, y_noisy = digits_300_flipped30
    recorder = DeltaRecorder()
    clf = PDiffClassifier(callbacks=[recorder], **{**PAST_THE_RAMP, "max_epochs": 2}).fit(
        X, y_noisy
    )
    clf.partial_fit(X, y_noisy)
    assert recorder.epochs_ == [1, 2, 3, 4]
    clf.fit(X, y_noisy)
    assert recorder.epochs_ == [1, 2]


def test_recorder_survives_clone_and_pickle(recorded, digits_300_flipped30):
    restored = pickle.loads(pickle.dumps(recorded))
    np.testing.assert_array_equal(
        find_delta_recorder(restored).to_array(), find_delta_recorder(recorded).to_array()
    )
    assert find_delta_recorder(
        clone(recorded).fit(digits_300_flipped30[0], digits_300_flipped30[2])
    ).epochs_ == list(range(1, N_EPOCHS + 1))


def test_no_recorder(unrecorded):
    assert find_delta_recorder(unrecorded) is None


# plot_delta_distribution --------------------------------------------------------------------------


def test_delta_plot_with_every_epoch_and_the_true_labels(recorded, digits_300_flipped30, tmp_path):
    ax = plot_delta_distribution(recorded, y_true=digits_300_flipped30[1])
    labels = [line.get_label() for line in ax.get_lines()]
    n_flipped = int((digits_300_flipped30[1] != digits_300_flipped30[2]).sum())
    assert labels == [
        "P-DIFF threshold",
        f"clean ({300 - n_flipped}): median",
        f"mislabelled ({n_flipped}): median",
    ]
    assert ax.get_xlim() == (0.5, N_EPOCHS + 0.5)
    assert "only the last" not in ax.get_title()
    # The mislabelled examples end lower than the clean ones.
    clean, flipped = ax.get_lines()[1].get_ydata(), ax.get_lines()[2].get_ydata()
    assert flipped[-1] < clean[-1]
    assert save_png(ax, tmp_path / "delta.png")[:8] == PNG_MAGIC


def test_delta_plot_without_recorder_shows_the_last_5_epochs_and_says_so(unrecorded, tmp_path):
    ax = plot_delta_distribution(unrecorded)
    assert ax.get_xlim() == (N_EPOCHS - 5 + 0.5, N_EPOCHS + 0.5)
    assert "only the last 5 epochs are kept" in ax.get_title()
    assert "DeltaRecorder" in ax.get_title()
    assert save_png(ax, tmp_path / "delta.png")[:8] == PNG_MAGIC


def test_delta_plot_without_recorder_needs_the_given_labels_for_y_true(
    unrecorded, digits_300_flipped30
):
    with pytest.raises(ValueError, match=r"y_true needs the labels clf was fitted on: pass y="):
        plot_delta_distribution(unrecorded, y_true=digits_300_flipped30[1])
    ax = plot_delta_distribution(
        unrecorded, y_true=digits_300_flipped30[1], y=digits_300_flipped30[2]
    )
    assert len(ax.get_lines()) == 3


def test_delta_plot_checks_the_length_of_y_true(recorded, digits_300_flipped30):
    with pytest.raises(ValueError, match=r"one label per training row \(300\), got 10 and 300"):
        plot_delta_distribution(recorded, y_true=digits_300_flipped30[1][:10])


def test_delta_plot_draws_on_the_given_axes(recorded):
    figure, (left, right) = pyplot.subplots(1, 2)
    assert plot_delta_distribution(recorded, ax=right) is right
    assert not left.has_data()


def test_short_run_has_all_epochs_without_recorder(digits_300_flipped30):
    X, _, y_noisy = digits_300_flipped30
    clf = PDiffClassifier(**{**PAST_THE_RAMP, "max_epochs": 3}).fit(X, y_noisy)
    ax = plot_delta_distribution(clf)
    assert ax.get_xlim() == (0.5, 3.5) and "only the last" not in ax.get_title()


# plot_noise_rate ----------------------------------------------------------------------------------


def test_noise_rate_plot(recorded, tmp_path):
    ax = plot_noise_rate(recorded)
    lines = {line.get_label(): line for line in ax.get_lines()}
    drop_rate = lines["drop rate (noise-rate estimate)"]
    np.testing.assert_allclose(drop_rate.get_ydata(), recorded.history_[:, "drop_rate"])
    assert list(drop_rate.get_xdata()) == list(range(1, N_EPOCHS + 1))
    assert f"noise_rate_ = {recorded.noise_rate_:.3f}" in lines
    assert save_png(ax, tmp_path / "rate.png")[:8] == PNG_MAGIC


def test_noise_rate_plot_with_a_given_rate(digits_300_flipped30):
    X, _, y_noisy = digits_300_flipped30
    clf = PDiffClassifier(noise_rate=0.3, **PAST_THE_RAMP).fit(X, y_noisy)
    labels = [line.get_label() for line in plot_noise_rate(clf).get_lines()]
    assert "drop rate (ramp to noise_rate)" in labels


def test_plots_need_a_fitted_classifier():
    from sklearn.exceptions import NotFittedError

    for plot in (plot_delta_distribution, plot_noise_rate):
        with pytest.raises(NotFittedError):
            plot(PDiffClassifier())


def test_plots_without_matplotlib_say_how_to_install_it(recorded, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    for plot in (plot_delta_distribution, plot_noise_rate):
        with pytest.raises(ImportError, match=r"pip install 'cleanlab-pdiff\[plot\]'"):
            plot(recorded)
