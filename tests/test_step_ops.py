"""What one P-DIFF training step dispatches: no host reads, no work per row, a small budget.

The step's cost on small networks is the dispatch of its tensor operations (docs/overhead.md),
so these tests count the ATen operations of one ``PDiffLoss`` training call, forward and
backward, with a ``TorchDispatchMode``.
"""

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from cleanlab_pdiff.loss import PDiffLoss

#: Operations of one training step (forward and backward) with the defaults, after the ramp:
#: 39 + 8 when measured, of which 5 sum each example's self-confidence (training quality);
#: 48 + 8 before the bin search and the threshold search.
STEP_BUDGET = 47


class _RecordOps(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.ops = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops.append(str(func))
        return func(*args, **(kwargs or {}))


def _step_ops(batch_size, *, weighted=False, **options):
    """Return the operations of one training step taken after the ramp, window full."""
    torch.manual_seed(0)
    n_classes = 4
    criterion = PDiffLoss(window=2, t_k=1, n_samples=2 * batch_size, **options)
    logits = torch.randn(batch_size, n_classes, requires_grad=True)
    labels = torch.randint(0, n_classes, (batch_size,))
    index = torch.randperm(2 * batch_size)[:batch_size]
    weight = torch.rand(batch_size) if weighted else None
    for epoch in range(3):
        criterion(logits, labels, weight, index, epoch)
    with _RecordOps() as recorder:
        criterion(logits, labels, weight, index, 3).backward()
    assert criterion.pdiff.full
    return recorder.ops


OPTIONS = {
    "auto": {},
    "known rate": {"noise_rate": 0.3},
    "per class": {"n_classes": 4},
    "sample weights": {"weighted": True},
}


@pytest.mark.parametrize("options", OPTIONS.values(), ids=OPTIONS.keys())
def test_step_reads_nothing_back_to_the_host(options):
    # A host read of a CPU tensor dispatches _local_scalar_dense (item(), int(), bool()); on a
    # GPU the same call would wait for the device at every step.
    assert "aten._local_scalar_dense.default" not in _step_ops(32, **options)


@pytest.mark.parametrize("options", OPTIONS.values(), ids=OPTIONS.keys())
def test_step_does_the_same_operations_whatever_the_batch_size(options):
    # No Python loop over rows or classes: the step is the same sequence of tensor operations.
    assert _step_ops(8, **options) == _step_ops(512, **options)


def test_default_step_stays_within_its_operation_budget():
    ops = _step_ops(128)
    assert len(ops) <= STEP_BUDGET, ops
