"""Data-parallel training: 2 processes on the gloo backend over localhost, against one.

``distributed_script.py`` is started by ``torch.distributed.run`` (``torchrun``) with 2 CPU
processes, each fitting through an ``accelerate.Accelerator`` with batches of
``BATCH_SIZE`` rows. The reference is one process fitting with batches of
``2 * BATCH_SIZE`` rows and the same random_state: it sees the same global batches, so the
P-DIFF state must be the same at every step and the model the same up to float rounding.
"""

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("accelerate")

from distributed_script import (  # noqa: E402
    BATCH_SIZE,
    N_PROCESSES,
    SETTINGS,
    StepRecorder,
    make_data,
)

from cleanlab_pdiff import PDiffClassifier  # noqa: E402
from cleanlab_pdiff._fit.net import PDiffNet  # noqa: E402

SCRIPT = Path(__file__).with_name("distributed_script.py")

#: Largest difference allowed between the probabilities of the 2-process model and of the
#: single-process one. They compute the same sums in a different order: each process
#: averages the loss gradient over its 16 rows before gloo averages the two, where one
#: process averages over 32 at once, and each row's forward pass runs in a batch of 16,
#: not 32. The float32 rounding differences (about 1e-7 per step) that Adam carries
#: through the 48 steps leave the probabilities within about 2e-7 of each other here.
PROBA_ATOL = 1e-5

#: Global training steps: 6 epochs of 256 / 32 batches.
STEPS = 6 * 8


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The 2-process fit: each process's recording, and the pickled model of process 0."""
    out = tmp_path_factory.mktemp("distributed")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            f"--nproc_per_node={N_PROCESSES}",
            str(SCRIPT),
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    ranks = [dict(np.load(out / f"rank{rank}.npz")) for rank in range(N_PROCESSES)]
    with open(out / "model.pkl", "rb") as f:
        model = pickle.load(f)
    return ranks, model


@pytest.fixture(scope="module")
def ranks(run):
    return run[0]


@pytest.fixture(scope="module")
def single():
    """One process, batches of the global batch size, same random_state."""
    X, y = make_data()
    recorder = StepRecorder()
    clf = PDiffClassifier(
        batch_size=N_PROCESSES * BATCH_SIZE, callbacks=[recorder], device="cpu", **SETTINGS
    ).fit(X, y)
    return recorder.results(clf, X)


@pytest.mark.slow
def test_processes_take_disjoint_shares_of_the_same_global_batches(ranks, single):
    rows = [rank["rows"] for rank in ranks]
    assert all(r.shape == (STEPS, BATCH_SIZE) for r in rows)
    together = np.sort(np.concatenate(rows, axis=1), axis=1)
    np.testing.assert_array_equal(together, np.sort(single["rows"], axis=1))
    # Every epoch deals out each row to exactly one process.
    for epoch in np.split(together, 6):
        np.testing.assert_array_equal(np.sort(epoch, axis=None), np.arange(256))


@pytest.mark.slow
def test_processes_agree_on_histogram_threshold_and_estimate_at_every_step(ranks):
    first, second = ranks
    for key in ("hists", "t_bins", "drop_rates"):
        assert first[key].shape[0] == STEPS, key
        np.testing.assert_array_equal(first[key], second[key], err_msg=key)


@pytest.mark.slow
def test_each_step_equals_one_process_seeing_the_global_batch(ranks, single):
    # The deltas differ from the single process's only by float rounding: no sample
    # lands in another 0.01-wide bin, so the window, threshold and drop rate are equal.
    for key in ("hists", "t_bins", "drop_rates"):
        np.testing.assert_array_equal(ranks[0][key], single[key], err_msg=key)
    # The window is the sum over both processes' batches: 8 global batches of 32 rows.
    assert ranks[0]["hists"][-1].sum() == 256
    # P-DIFF really drops: the ramp reaches 0.2 and the threshold moves above -1.
    assert ranks[0]["drop_rates"][-1] == pytest.approx(0.2)
    assert ranks[0]["t_bins"][-1] > 10


@pytest.mark.slow
def test_window_is_capped_at_each_process_s_batches_per_epoch(ranks, single):
    assert int(ranks[0]["window"]) == int(single["window"]) == 8


@pytest.mark.slow
def test_per_example_results_cover_every_row_on_every_process(ranks, single):
    first, second = ranks
    assert not np.isnan(first["quality"]).any()
    for key in ("quality", "issues", "kept_fraction", "noise_rate"):
        np.testing.assert_array_equal(first[key], second[key], err_msg=key)
    np.testing.assert_allclose(first["quality"], single["quality"], atol=PROBA_ATOL)
    np.testing.assert_array_equal(first["issues"], single["issues"])
    assert 0 < first["issues"].sum() < 256 * 0.3
    np.testing.assert_allclose(first["kept_fraction"], single["kept_fraction"], rtol=1e-6)
    assert float(first["noise_rate"]) == pytest.approx(float(single["noise_rate"]))


@pytest.mark.slow
def test_model_matches_one_process_with_the_global_batch(ranks, single):
    first, second = ranks
    np.testing.assert_array_equal(first["proba"], second["proba"])
    np.testing.assert_allclose(first["proba"], single["proba"], rtol=0, atol=PROBA_ATOL)


@pytest.mark.slow
def test_pickled_model_loads_as_a_single_process_model(run):
    ranks, model = run
    assert model.accelerator is None
    assert type(model.net_) is PDiffNet
    X, _ = make_data()
    np.testing.assert_array_equal(model.predict_proba(X), ranks[0]["proba"])


@pytest.mark.slow
def test_partial_fit_refuses_to_continue_a_data_parallel_fit(ranks):
    assert all(bool(rank.get("partial_fit_refused")) for rank in ranks)
