"""PDiffLoss: the P-DIFF-weighted criterion and its per-example bookkeeping."""

import math

import torch
from torch.nn import functional as F

from cleanlab_pdiff.loss import PDiffLoss


def _batch(seed=0, n=32, k=4):
    generator = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, k, generator=generator) * 3
    labels = torch.randint(0, k, (n,), generator=generator)
    return logits, labels


def test_evaluation_is_plain_weighted_cross_entropy_and_leaves_state_alone():
    logits, labels = _batch()
    criterion = PDiffLoss(window=1, noise_rate=0.5, t_k=0)
    weight = torch.rand(len(labels))
    loss = criterion(logits, labels, weight)
    expected = (weight * F.cross_entropy(logits, labels, reduction="none")).sum() / weight.sum()
    torch.testing.assert_close(loss, expected)
    assert criterion.pdiff.steps == 0


def test_training_loss_is_normalised_by_the_batch_not_by_the_kept_count():
    logits, labels = _batch()
    criterion = PDiffLoss(window=1, noise_rate=0.5, t_k=0, n_samples=len(labels))
    loss = criterion(logits, labels, index=torch.arange(len(labels)), epoch=0)
    kept = criterion.last_weights
    assert 0 < kept.sum() < len(labels)
    ce = F.cross_entropy(logits, labels, reduction="none")
    torch.testing.assert_close(loss, (kept * ce).sum() / len(labels))
    assert criterion.kept_fraction() == kept.mean()


def test_per_example_statistics_follow_the_index_and_average_every_epoch():
    logits, labels = _batch(2, n=8)
    criterion = PDiffLoss(window=1, noise_rate=0.0, n_samples=10, quality_epochs=2)
    index = torch.arange(2, 10)
    deltas, confidences = [], []
    for epoch in range(3):
        criterion(logits * (epoch + 1), labels, index=index, epoch=epoch)
        probs = torch.softmax(logits * (epoch + 1), 1)
        given = probs.gather(1, labels[:, None]).squeeze(1)
        other = probs.scatter(1, labels[:, None], -math.inf).max(1).values
        deltas.append(given - other)
        confidences.append(given)
    quality = criterion.training_quality()
    assert torch.isnan(quality[:2]).all()  # rows 0 and 1 never took part
    # The mean self-confidence over every epoch; the deltas of the last 2 epochs are kept.
    torch.testing.assert_close(quality[2:], sum(confidences) / 3)
    for epoch in (1, 2):
        torch.testing.assert_close(criterion.epoch_deltas(epoch)[2:], deltas[epoch])


def test_state_dict_carries_window_examples_and_rng_state():
    logits, labels = _batch(3)
    criterion = PDiffLoss(window=2, noise_rate="auto", n_samples=len(labels))
    criterion(logits, labels, index=torch.arange(len(labels)), epoch=0)
    criterion.rng_state = [torch.get_rng_state()]
    restored = PDiffLoss(window=2, noise_rate="auto", n_samples=len(labels))
    restored.load_state_dict(criterion.state_dict())
    assert restored.pdiff.steps == 1
    assert torch.equal(restored.pdiff.hist, criterion.pdiff.hist)
    assert torch.equal(restored.recent_deltas.nan_to_num(), criterion.recent_deltas.nan_to_num())
    assert torch.equal(restored.rng_state[0], criterion.rng_state[0])


def test_per_class_keeps_one_histogram_per_given_label():
    logits, labels = _batch(4, k=3)
    criterion = PDiffLoss(window=1, noise_rate=0.2, n_classes=3)
    criterion(logits, labels, epoch=0)
    per_class_mass = criterion.pdiff.class_hist.sum(dim=1)
    expected = torch.bincount(labels, minlength=3).double()
    torch.testing.assert_close(per_class_mass, expected)


def test_a_prepared_step_is_taken_by_the_next_training_call_only():
    logits, labels = _batch(5)
    index = torch.arange(len(labels))
    explicit = PDiffLoss(window=1, noise_rate=0.5, t_k=0, n_samples=len(labels))
    expected = explicit(logits, labels, index=index, epoch=0)
    criterion = PDiffLoss(window=1, noise_rate=0.5, t_k=0, n_samples=len(labels))
    criterion.eval()
    criterion.prepare_step(0, index)
    criterion(logits, labels)  # evaluation: ignores the step, and forgets it
    criterion.train()
    criterion(logits, labels)
    assert criterion.pdiff.steps == 0
    criterion.prepare_step(0, index)
    torch.testing.assert_close(criterion(logits, labels), expected)
    assert torch.equal(criterion.last_weights, explicit.last_weights)
    criterion(logits, labels)  # taken once
    assert criterion.pdiff.steps == 1


def test_reserving_rows_keeps_what_was_recorded():
    logits, labels = _batch(6, n=4)
    criterion = PDiffLoss(window=1, noise_rate=0.0, n_samples=4)
    criterion(logits, labels, index=torch.arange(4), epoch=0)
    before = criterion.training_quality().clone()
    criterion.reserve_examples(6)
    criterion.reserve_examples(5)  # never shrinks
    quality = criterion.training_quality()
    assert quality.shape == (6,) and criterion.recent_deltas.shape == (5, 6)
    torch.testing.assert_close(quality[:4], before)
    assert torch.isnan(quality[4:]).all() and (criterion.last_weights[4:] == 1).all()


def test_a_loaded_state_brings_its_rows_and_window():
    logits, labels = _batch(7)
    criterion = PDiffLoss(window=8, noise_rate=0.5, t_k=0, n_samples=len(labels))
    criterion(logits, labels, index=torch.arange(len(labels)), epoch=0)
    criterion.pdiff.cap_window(1)
    fresh = PDiffLoss(noise_rate=0.5, t_k=0)  # no rows, a window of 100
    fresh.load_state_dict(criterion.state_dict())
    assert fresh.pdiff.window == 1 and fresh.last_weights.shape == (len(labels),)
    # Both go on alike.
    torch.testing.assert_close(
        fresh(logits, labels, index=torch.arange(len(labels)), epoch=1),
        criterion(logits, labels, index=torch.arange(len(labels)), epoch=1),
    )
