"""Saving a fitted model with pickle and loading it elsewhere, a CPU-only machine included.

(The plain CPU pickle round trip is tested in test_classifier.py.)
"""

import os
import pickle
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import torch
from skorch.exceptions import DeviceWarning

import cleanlab_pdiff
from cleanlab_pdiff import PDiffClassifier
from cleanlab_pdiff.recording import DeltaRecorder

CUDA = torch.cuda.is_available()


@pytest.mark.skipif(CUDA, reason="simulates loading on a machine without CUDA")
def test_a_model_saved_on_cuda_loads_on_the_cpu(three_classes_120x8):
    """skorch maps a net saved with device='cuda' to the CPU when CUDA is missing.

    Without a GPU the tensors are on the CPU already; what this checks is that the
    loaded estimator follows the net's corrected device everywhere.
    """
    X, y = three_classes_120x8
    clf = PDiffClassifier(max_epochs=3, random_state=0, device="cpu").fit(X, y)
    expected = clf.predict_proba(X)
    clf.net_.device = "cuda"  # as pickled on a GPU machine
    with pytest.warns(DeviceWarning, match=r"(?i)cuda.* not available|no cuda devices"):
        restored = pickle.loads(pickle.dumps(clf))
    assert torch.device(restored.net_.device).type == "cpu"
    np.testing.assert_array_equal(restored.predict_proba(X), expected)
    restored.partial_fit(X, y)  # training goes on, on the CPU
    assert len(restored.history_) == 6


LOAD_ON_CPU = textwrap.dedent(
    """
    import pickle, sys, warnings
    import numpy as np, torch
    assert not torch.cuda.is_available()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skorch's DeviceWarning: loading on the CPU
        with open(sys.argv[1], "rb") as f:
            clf = pickle.load(f)
    X = np.load(sys.argv[2])
    tensors = [*clf.net_.module_.parameters(), *clf.net_.criterion_.buffers()]
    assert torch.device(clf.net_.device).type == "cpu"
    assert all(t.device.type == "cpu" for t in tensors)
    np.testing.assert_allclose(clf.predict_proba(X), np.load(sys.argv[3]), atol=1e-5)
    clf.partial_fit(X, np.load(sys.argv[4]))
    print("loaded on the CPU")
    """
)


@pytest.mark.skipif(not CUDA, reason="needs a CUDA device")
def test_a_model_trained_on_cuda_loads_on_a_cpu_only_machine(three_classes_120x8, tmp_path):
    X, y = three_classes_120x8
    clf = PDiffClassifier(
        max_epochs=3, random_state=0, device="cuda", callbacks=[DeltaRecorder()]
    ).fit(X, y)
    assert clf.net_.criterion_.recent_deltas.device.type == "cuda"
    with open(tmp_path / "model.pkl", "wb") as f:
        pickle.dump(clf, f)
    paths = [tmp_path / name for name in ("model.pkl", "X.npy", "proba.npy", "y.npy")]
    np.save(paths[1], X)
    np.save(paths[2], clf.predict_proba(X))
    np.save(paths[3], y)
    result = subprocess.run(
        [sys.executable, "-c", LOAD_ON_CPU, *map(str, paths)],
        env={**os.environ, "CUDA_VISIBLE_DEVICES": ""},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "loaded on the CPU" in result.stdout


# A fitted model keeps its results, never its training data ---------------------------------

#: Fits that hold rows out (a validation split, or the retraining's stopping share) and one
#: that does not; one epoch each, no probes.
SPLITS = {
    "none": {},
    "validation_fraction": {"validation_fraction": 0.1},
    "early_stopping": {"early_stopping": True},
    "retrain": {"retrain": "auto"},
}


@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize("as_dataset", [False, True], ids=["array", "dataset"])
def test_a_fitted_model_holds_no_reference_to_its_training_data(split, as_dataset):
    import gc
    import weakref

    from torch.utils.data import TensorDataset

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4)).astype(np.float32)
    y = rng.integers(0, 2, size=200)
    if as_dataset:
        X = TensorDataset(torch.as_tensor(X))
    params = {"max_epochs": 1, "noise_rate": 0.0, "random_state": 0, "device": "cpu"}
    PDiffClassifier(**params, **SPLITS[split]).fit(X, y)
    alive = weakref.ref(X)
    del X
    gc.collect()
    assert alive() is None


@pytest.mark.parametrize("split", [name for name in SPLITS if name != "none"])
def test_a_pickle_does_not_grow_with_the_rows_held_out(split):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5000, 100)).astype(np.float32)  # 2 MB of rows
    y = rng.integers(0, 2, size=5000)
    params = {"max_epochs": 1, "noise_rate": 0.0, "random_state": 0, "device": "cpu"}
    plain = len(pickle.dumps(PDiffClassifier(**params).fit(X, y)))
    held_out = len(pickle.dumps(PDiffClassifier(**params, **SPLITS[split]).fit(X, y)))
    assert held_out <= 1.3 * plain


# Models across versions: a documented break at 0.2, a warning from then on -----------------


def test_a_model_saved_by_0_1_fails_to_load_naming_its_old_module():
    # What a fitted 0.1 model's pickle asks for first among the modules that moved: its
    # net's class, cleanlab_pdiff._skorch.PDiffNet (0.2 moved it to _fit.net). The break
    # is documented in docs/getting_started.md: such a model is refitted.
    reference = b"\x80\x02ccleanlab_pdiff._skorch\nPDiffNet\nq\x00."  # protocol 2, GLOBAL
    with pytest.raises(ModuleNotFoundError, match=r"cleanlab_pdiff\._skorch"):
        pickle.loads(reference)


def test_a_model_saved_by_another_version_warns_when_loaded(three_classes_120x8):
    from cleanlab_pdiff._warnings import InconsistentVersionWarning

    X, y = three_classes_120x8
    clf = PDiffClassifier(max_epochs=1, noise_rate=0.0, random_state=0, device="cpu").fit(X, y)
    saved = pickle.dumps(clf)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same version loads silently
        pickle.loads(saved)
    state = clf.__getstate__()
    assert state["_cleanlab_pdiff_version"] == cleanlab_pdiff.__version__
    older = PDiffClassifier.__new__(PDiffClassifier)
    with pytest.warns(InconsistentVersionWarning, match="saved by cleanlab-pdiff 0.1 and") as w:
        older.__setstate__({**state, "_cleanlab_pdiff_version": "0.1"})
    assert w[0].filename == __file__
    np.testing.assert_array_equal(older.predict_proba(X), clf.predict_proba(X))
