"""Scale options: mixed precision, DataLoader settings, an Accelerator in one process,
synchronisation with a process group, and parallel cross-validation folds.

The 2-process data-parallel fit is tested in test_distributed.py.
"""

import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from settings import THREE_EPOCHS
from sklearn.base import clone
from torch import distributed as dist
from torch import nn

from cleanlab_pdiff import MLP, PDiffClassifier, make_noisy_labels
from cleanlab_pdiff._fit import training as _training
from cleanlab_pdiff._fit.net import PDiffNet
from cleanlab_pdiff.loss import PDiffLoss
from cleanlab_pdiff.pdiff import PDiff, is_synchronised

CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(not CUDA, reason="needs a CUDA device")


#: Settings under which P-DIFF drops examples within a few epochs.
DROPPING = {**THREE_EPOCHS, "noise_rate": 0.2, "t_k": 1, "window": 3, "max_epochs": 4}


@pytest.fixture(scope="module")
def three_classes_200x8_noisy(three_classes_200x8):
    """(X float32, y): ``three_classes_200x8`` with 20% of the labels flipped."""
    X, y = three_classes_200x8
    return X.astype(np.float32), make_noisy_labels(y, 0.2, random_state=0)


@pytest.fixture(scope="module")
def accelerator():
    """One Accelerator for the session: Accelerate's state is set once per process."""
    accelerate = pytest.importorskip("accelerate")
    return accelerate.Accelerator(cpu=True)


def small_mlp(n_features, n_classes):
    return MLP(n_features, n_classes, hidden=(16,))


def _assert_same_fit(a, b, X):
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    np.testing.assert_array_equal(a.training_label_quality_, b.training_label_quality_)
    np.testing.assert_array_equal(a.label_issues_, b.label_issues_)
    assert a.history_[:, "kept_fraction"] == b.history_[:, "kept_fraction"]


# precision ----------------------------------------------------------------------------------------


class _OutputDtypes:
    """Forward hook that keeps the dtype of a layer's outputs."""

    def __init__(self):
        self.dtypes = set()

    def __call__(self, module, inputs, output):
        self.dtypes.add(output.dtype)


def test_bf16_runs_the_forward_in_bfloat16_and_keeps_the_statistics_in_full_precision(
    three_classes_200x8_noisy,
):
    X, y = three_classes_200x8_noisy
    hook = _OutputDtypes()

    def hooked_mlp(n_features, n_classes):
        module = small_mlp(n_features, n_classes)
        module.layers[0].register_forward_hook(hook)
        return module

    clf = PDiffClassifier(hooked_mlp, precision="bf16", **DROPPING).fit(X, y)
    assert hook.dtypes == {torch.bfloat16}
    criterion = clf.net_.criterion_
    assert criterion.recent_deltas.dtype == torch.float32
    assert criterion.last_weights.dtype == torch.float32
    assert criterion.pdiff.hist.dtype == criterion.pdiff.ring.dtype == torch.float64
    assert next(clf.net_.module_.parameters()).dtype == torch.float32
    assert clf.label_issues_.any()
    proba = clf.predict_proba(X)
    assert proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    # Predictions run under autocast too, and bfloat16 keeps about 3 significant digits.
    hook.dtypes.clear()
    clf.predict_proba(X[:4])
    assert hook.dtypes == {torch.bfloat16}
    full = PDiffClassifier(small_mlp, **DROPPING).fit(X, y)
    assert np.mean(clf.predict(X) == full.predict(X)) > 0.9


def test_float32_precision_does_not_autocast(three_classes_200x8_noisy):
    X, y = three_classes_200x8_noisy
    clf = PDiffClassifier(small_mlp, **THREE_EPOCHS).fit(X, y)
    assert clf.net_.autocast_dtype is None


@needs_cuda
def test_bf16_on_cuda(three_classes_200x8_noisy):
    X, y = three_classes_200x8_noisy
    clf = PDiffClassifier(small_mlp, precision="bf16", **{**DROPPING, "device": "cuda"})
    clf.fit(X, y)
    criterion = clf.net_.criterion_
    assert criterion.recent_deltas.device.type == "cuda"
    assert criterion.recent_deltas.dtype == torch.float32
    assert criterion.pdiff.hist.dtype == torch.float64
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1, rtol=1e-5)


# DataLoader settings ------------------------------------------------------------------------------


def test_loader_settings_reach_both_loaders(three_classes_200x8_noisy):
    X, y = three_classes_200x8_noisy
    clf = PDiffClassifier(small_mlp, num_workers=1, **{**THREE_EPOCHS, "max_epochs": 1}).fit(X, y)
    net = clf.net_
    assert net.iterator_train__num_workers == net.iterator_valid__num_workers == 1
    assert net.iterator_train__pin_memory is net.iterator_valid__pin_memory is False
    assert net.get_iterator(net.get_dataset(X), training=True).num_workers == 1


@pytest.mark.filterwarnings("ignore:'pin_memory' argument is set as true but no accelerator")
def test_pin_memory_reaches_both_loaders(three_classes_200x8_noisy):
    X, y = three_classes_200x8_noisy
    clf = PDiffClassifier(small_mlp, pin_memory=True, **{**THREE_EPOCHS, "max_epochs": 1}).fit(X, y)
    net = clf.net_
    for training in (True, False):
        assert net.get_iterator(net.get_dataset(X), training=training).pin_memory is True


@pytest.mark.filterwarnings("ignore:'pin_memory' argument is set as true but no accelerator")
def test_worker_processes_and_pinned_memory_give_the_same_model(three_classes_200x8_noisy):
    X, y = three_classes_200x8_noisy
    expected = PDiffClassifier(small_mlp, **DROPPING).fit(X, y)
    loaded = PDiffClassifier(small_mlp, num_workers=2, pin_memory=True, **DROPPING).fit(X, y)
    _assert_same_fit(loaded, expected, X)


@needs_cuda
def test_pinned_memory_on_cuda(three_classes_200x8_noisy):
    X, y = three_classes_200x8_noisy
    clf = PDiffClassifier(small_mlp, pin_memory=True, **{**THREE_EPOCHS, "device": "cuda"}).fit(
        X, y
    )
    assert clf.net_.get_iterator(clf.net_.get_dataset(X), training=True).pin_memory


# accelerator, one process -------------------------------------------------------------------------


def test_one_process_accelerator_gives_the_plain_model(three_classes_200x8_noisy, accelerator):
    from cleanlab_pdiff._fit.net import AcceleratedPDiffNet

    X, y = three_classes_200x8_noisy
    settings = {**DROPPING, "device": "auto"}
    accelerated = PDiffClassifier(small_mlp, accelerator=accelerator, **settings).fit(X, y)
    assert type(accelerated.net_) is AcceleratedPDiffNet
    assert accelerated.net_.device is None
    _assert_same_fit(accelerated, PDiffClassifier(small_mlp, **DROPPING).fit(X, y), X)


def test_clones_share_the_accelerator(accelerator):
    clf = PDiffClassifier(accelerator=accelerator, max_epochs=3)
    copy = clone(clf)
    assert copy.accelerator is accelerator
    assert copy.max_epochs == 3


def test_pickle_keeps_a_single_process_model_without_the_accelerator(
    three_classes_200x8_noisy, accelerator
):
    X, y = three_classes_200x8_noisy
    clf = PDiffClassifier(small_mlp, accelerator=accelerator, **{**THREE_EPOCHS, "device": "auto"})
    assert pickle.loads(pickle.dumps(clf)).accelerator is None
    clf.fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    assert clf.accelerator is accelerator  # pickling leaves the original as it was
    assert restored.accelerator is None
    assert type(restored.net_) is PDiffNet
    assert restored.net_.device == "cpu"
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    restored.partial_fit(X, y)  # trains on, in this process
    assert len(restored.history_) == 6


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"device": "cpu"}, ValueError, "device must be 'auto' with an accelerator"),
        (
            {"precision": "bf16"},
            ValueError,
            "precision='bf16' needs the accelerator's mixed_precision to be 'bf16', got 'no'",
        ),
    ],
)
def test_accelerator_settings_must_agree(
    three_classes_200x8_noisy, accelerator, params, error, match
):
    X, y = three_classes_200x8_noisy
    clf = PDiffClassifier(accelerator=accelerator, **{**THREE_EPOCHS, "device": "auto", **params})
    with pytest.raises(error, match=match):
        clf.fit(X, y)
    assert not hasattr(clf, "net_")


ACCELERATED_BF16 = textwrap.dedent(
    """
    import numpy as np, torch
    from accelerate import Accelerator
    from sklearn.datasets import make_classification
    from cleanlab_pdiff import PDiffClassifier
    X, y = make_classification(n_samples=200, n_features=8, n_classes=3, n_informative=5,
                               random_state=0)
    clf = PDiffClassifier(
        accelerator=Accelerator(cpu=True, mixed_precision="bf16"), precision="bf16",
        max_epochs=2, batch_size=32, random_state=0,
    ).fit(X.astype(np.float32), y)
    criterion = clf.net_.criterion_
    assert criterion.recent_deltas.dtype == torch.float32, criterion.recent_deltas.dtype
    assert criterion.pdiff.hist.dtype == torch.float64
    assert not np.isnan(clf.training_label_quality_).any()
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1, rtol=1e-5)
    """
)


@pytest.mark.slow
def test_bf16_through_the_accelerator(tmp_path):
    pytest.importorskip("accelerate")
    # In a process of its own: Accelerate's precision is set once per process.
    done = subprocess.run(
        [sys.executable, "-c", ACCELERATED_BF16],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr


# synchronisation ----------------------------------------------------------------------------------


def test_no_synchronisation_without_a_process_group():
    assert not dist.is_initialized()
    assert is_synchronised("auto") is False
    assert is_synchronised(False) is False
    assert is_synchronised(True) is True


def test_bad_sync_option_raises():
    with pytest.raises(ValueError, match="sync must be 'auto', True or False, got 'yes'"):
        PDiff(window=2, noise_rate=0.5, t_k=0, sync="yes")(torch.zeros(3), epoch=0)


@pytest.fixture
def one_process_group(tmp_path):
    """A gloo process group of one process, taken down afterwards."""
    dist.init_process_group(
        "gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1
    )
    yield
    dist.destroy_process_group()


def test_synchronised_steps_in_a_one_process_group_change_nothing(
    three_classes_200x8_noisy, one_process_group, monkeypatch
):
    # sync=True runs every collective (histogram, kept share, per-example statistics); with
    # one process they are identities, so the results must equal the unsynchronised ones.
    X, y = three_classes_200x8_noisy
    assert is_synchronised("auto") is False  # one process: nothing to synchronise
    expected = PDiffClassifier(small_mlp, **DROPPING).fit(X, y)
    monkeypatch.setattr(_training, "PDiffLoss", _SyncedLoss)
    synced = PDiffClassifier(small_mlp, **DROPPING).fit(X, y)
    assert synced.net_.criterion_.pdiff.sync is True
    _assert_same_fit(synced, expected, X)


class _SyncedLoss(PDiffLoss):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, sync=True, **kwargs)


def test_all_reduce_examples_is_a_no_op_without_synchronisation():
    criterion = PDiffLoss(window=1, noise_rate=0.5, t_k=0, n_samples=4)
    criterion(torch.zeros(2, 2), torch.tensor([0, 1]), index=torch.tensor([0, 2]), epoch=0)
    before = criterion.recent_deltas.clone(), criterion.last_weights.clone()
    criterion.all_reduce_examples(epoch=0)
    torch.testing.assert_close(criterion.recent_deltas, before[0], equal_nan=True)
    torch.testing.assert_close(criterion.last_weights, before[1])


def test_kept_fraction_of_an_epoch_counts_the_rows_seen_in_it():
    criterion = PDiffLoss(window=1, noise_rate=0.5, t_k=0, n_samples=4)
    logits = torch.tensor([[3.0, 0.0], [0.0, 3.0]])
    criterion.begin_epoch(0)
    criterion(logits, torch.tensor([0, 0]), index=torch.tensor([1, 3]), epoch=0)
    assert criterion.last_weights.tolist() == [1.0, 1.0, 1.0, 0.0]
    assert float(criterion.kept_fraction(0)) == 0.5  # rows 1 and 3 only
    assert float(criterion.kept_fraction()) == 0.75  # every row's last weight


# parallel cross-validation ------------------------------------------------------------------------


@pytest.mark.slow
def test_find_label_issues_cv_is_the_same_with_parallel_folds(three_classes_200x8_noisy):
    X, y = three_classes_200x8_noisy
    clf = PDiffClassifier(small_mlp, **{**THREE_EPOCHS, "max_epochs": 5})
    serial = clf.find_label_issues(X, y, cv=2, n_jobs=1)
    parallel = clf.find_label_issues(X, y, cv=2, n_jobs=2)
    np.testing.assert_array_equal(parallel, serial)
    ranked = clf.find_label_issues(X, y, cv=2, n_jobs=2, return_indices_ranked_by="self_confidence")
    np.testing.assert_array_equal(np.sort(ranked), np.flatnonzero(serial))


@pytest.mark.parametrize(
    "n_jobs, error, match",
    [
        (0, ValueError, "n_jobs must be None, a positive integer or negative, got 0"),
        (1.5, TypeError, "n_jobs must be an integer, got 1.5 of type float"),
        ("2", TypeError, "n_jobs must be an integer, got '2' of type str"),
    ],
)
def test_bad_n_jobs_raises(three_classes_200x8_noisy, n_jobs, error, match):
    X, y = three_classes_200x8_noisy
    with pytest.raises(error, match=match):
        PDiffClassifier(**THREE_EPOCHS).find_label_issues(X, y, cv=2, n_jobs=n_jobs)


@pytest.mark.slow  # starts two worker processes, each importing torch
def test_workers_of_joblib_s_default_backend_use_their_share_of_the_cpus():
    # The documented claim: loky limits each worker's OpenMP threads, which torch follows.
    from joblib import Parallel, cpu_count, delayed

    threads = Parallel(n_jobs=2)(delayed(_torch_threads)() for _ in range(2))
    # joblib's own count of usable CPUs (it honours cgroup quotas; os.cpu_count() does not).
    assert all(n == max(1, cpu_count() // 2) for n in threads)


def _torch_threads():
    return torch.get_num_threads()


def test_module_is_untouched_by_a_bf16_fit(three_classes_200x8_noisy):
    # autocast casts on the fly: the module given keeps float32 weights.
    X, y = three_classes_200x8_noisy
    module = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    clf = PDiffClassifier(module, precision="bf16", **THREE_EPOCHS).fit(X, y)
    assert all(p.dtype == torch.float32 for p in clf.net_.module_.parameters())
    assert all(p.dtype == torch.float32 for p in module.parameters())
