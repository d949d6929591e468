"""Tests of the P-DIFF maths in ``cleanlab_pdiff.pdiff``.

Two kinds: hand-computed values for each public function, and step-by-step agreement of the
stateful ``PDiff`` module with the naive NumPy reference in ``numpy_reference.py`` (written
from the spec in ``docs/pdiff.md``) over long seeded random sequences.
"""

import copy

import numpy as np
import pytest
import torch
from numpy_reference import (
    N_BINS,
    NumpyPDiff,
    reference_bin,
    reference_cdf,
    reference_delta,
    reference_ramp,
    reference_saturation,
    reference_value_bin,
)

from cleanlab_pdiff.histogram import bin_centres, delta_bin, saturation, threshold_bin, value_bin
from cleanlab_pdiff.pdiff import (
    PDiff,
    drop_rate_schedule,
    estimate_noise_rate,
    hard_weights,
    probability_difference,
    ramp,
)


def _hist(masses):
    """A float64 histogram with the given {bin: mass}."""
    hist = torch.zeros(N_BINS, dtype=torch.float64)
    for b, mass in masses.items():
        hist[b] = mass
    return hist


# --- probability_difference ---------------------------------------------------------------


def test_probability_difference_two_classes():
    # With K=2, delta = p[y] - p[1-y]. Dyadic values keep the arithmetic exact.
    probs = torch.tensor([[0.75, 0.25], [0.25, 0.75], [0.5, 0.5]])
    delta = probability_difference(probs, torch.tensor([0, 0, 1]))
    assert delta.tolist() == [0.5, -0.5, 0.0]


def test_probability_difference_three_classes():
    probs = torch.tensor([[0.5, 0.25, 0.25], [0.125, 0.375, 0.5], [0.125, 0.375, 0.5]])
    delta = probability_difference(probs, torch.tensor([1, 2, 0]))
    # row 0: 0.25 - 0.5; row 1: 0.5 - 0.375; row 2: 0.125 - 0.5
    assert delta.tolist() == [-0.25, 0.125, -0.375]


def test_probability_difference_ties_between_classes():
    # The best other class may tie with the label (delta 0) or with another class.
    probs = torch.tensor([[0.375, 0.375, 0.25]] * 3)
    delta = probability_difference(probs, torch.tensor([0, 1, 2]))
    assert delta.tolist() == [0.0, 0.0, -0.125]


def test_probability_difference_confident_wrong_label_is_near_minus_one():
    probs = torch.tensor([[1e-6, 1.0 - 1e-6, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 0.0]])
    delta = probability_difference(probs, torch.tensor([0, 0, 1]))
    assert delta[0].item() == pytest.approx(-1.0, abs=1e-5)
    assert delta[1:].tolist() == [-1.0, 1.0]  # one-hot outputs reach the ends exactly


def test_probability_difference_leaves_probs_untouched_and_keeps_dtype():
    probs = torch.tensor([[0.2, 0.5, 0.3]], dtype=torch.float64)
    before = probs.clone()
    delta = probability_difference(probs, torch.tensor([2]))
    assert torch.equal(probs, before)
    assert delta.dtype == torch.float64


def test_probability_difference_matches_reference_on_random_softmax():
    # Both sides subtract the same two float32 numbers, so equality is exact.
    rng = np.random.default_rng(0)
    for k in (2, 3, 10):
        logits = rng.normal(0, 3, (200, k)).astype(np.float32)
        probs = torch.softmax(torch.from_numpy(logits), dim=1)
        labels = rng.integers(0, k, 200)
        got = probability_difference(probs, torch.from_numpy(labels))
        assert np.array_equal(got.numpy(), reference_delta(probs.numpy(), labels))


# --- delta_bin / value_bin / bin_centres --------------------------------------------------


#: The nominal bin edges -1.1 + 0.01 b, b = 1..220.
_LOW_EDGES = -1.1 + 0.01 * np.arange(1, N_BINS)


def test_delta_bin_at_minus_one_zero_and_exact_edges():
    # floor(100 * (delta + 1.1)): -1 -> 10, 0 -> 110, +-0.5 -> 160/60, +-0.25 -> 135/85.
    delta = torch.tensor([-1.0, -0.5, -0.25, 0.0, 0.25, 0.5], dtype=torch.float64)
    assert delta_bin(delta).tolist() == [10, 60, 85, 110, 135, 160]


def test_delta_bin_at_one_follows_the_float_formula():
    # In float64, 220 * (1.0 + 1.1) / 2.2 = 209.99999999999997, so delta = 1.0 shares bin 209
    # with [0.99, 1.0). The released float32 Caffe layer also gives 209 (209.99998), although
    # the written spec says "values in [-1, 1] fill bins 10..210"; delta_bin's doctest shows 209.
    assert delta_bin(torch.tensor([1.0], dtype=torch.float64)).tolist() == [209]
    assert delta_bin(torch.tensor([1.0], dtype=torch.float32)).tolist() == [209]
    assert value_bin(1.0) == 209


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (-1e-9, 109),  # just below the edge at 0
        (1e-9, 110),
        (0.01 - 1e-9, 110),  # just below the edge at 0.01
        (0.01 + 1e-9, 111),
        (-1.0 - 1e-9, 9),
        (-1.0 + 1e-9, 10),
        (1.0 - 1e-9, 209),
        (0.995, 209),  # mid-bin
    ],
)
def test_delta_bin_either_side_of_bin_edges(value, expected):
    assert delta_bin(torch.tensor([value], dtype=torch.float64)).item() == expected
    assert value_bin(value) == expected


def test_delta_bin_clamps_out_of_range_values():
    values = [-5.0, -1.2, -1.1 - 1e-9, -1.1, 1.1 - 1e-9, 1.1, 1.2, 5.0]
    delta = torch.tensor(values, dtype=torch.float64)
    assert delta_bin(delta).tolist() == [0, 0, 0, 0, 219, 220, 220, 220]
    assert [value_bin(v) for v in (-5.0, 5.0)] == [0, 220]


def test_delta_bin_uses_the_float32_value_in_float64_arithmetic():
    # float32(0.11) = 0.10999999940395355 lies just below the 0.11 edge: bin 120. Evaluating
    # the formula in float32 arithmetic would round up to 121; the float64 value 0.11 is 121.
    assert delta_bin(torch.tensor([0.11], dtype=torch.float32)).tolist() == [120]
    assert delta_bin(torch.tensor([0.11], dtype=torch.float64)).tolist() == [121]


def test_delta_bin_keeps_shape_and_returns_int64():
    bins = delta_bin(torch.zeros(2, 3))
    assert bins.dtype == torch.int64
    assert bins.shape == (2, 3)
    assert (bins == 110).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_delta_bin_matches_reference_next_to_every_bin_edge(dtype):
    # The search among precomputed edges must agree with the formula where it is hardest:
    # at the bins' edges of each dtype (0.01 steps, and bin 110's edge at about -1.1e-16,
    # where delta + 1.1 rounds to 1.1), two steps of the dtype either side.
    edges = np.concatenate([_LOW_EDGES, np.float64(-1.1102230246251565e-16)[None]])
    values = [edges.astype(dtype)]
    for direction in (-np.inf, np.inf):
        step = values[0]
        for _ in range(2):
            step = np.nextafter(step, dtype(direction))
            values.append(step)
    delta = np.concatenate(values)
    assert np.array_equal(delta_bin(torch.from_numpy(delta)).numpy(), reference_bin(delta))


def test_delta_bin_of_nan_is_a_valid_bin():
    bins = delta_bin(torch.tensor([float("nan"), 0.0]))
    assert 0 <= int(bins[0]) < N_BINS and int(bins[1]) == 110


def test_delta_bin_of_other_dtypes_is_that_of_the_float64_value():
    values = torch.tensor([-1.0, -0.015625, 0.5, 0.9921875])
    for dtype in (torch.float16, torch.bfloat16):
        assert torch.equal(delta_bin(values.to(dtype)), delta_bin(values.double()))


def test_delta_bin_matches_reference_on_random_float32():
    rng = np.random.default_rng(1)
    delta = rng.uniform(-1.2, 1.2, 5000).astype(np.float32)
    assert np.array_equal(delta_bin(torch.from_numpy(delta)).numpy(), reference_bin(delta))


def test_bin_centres():
    centres = bin_centres()
    assert centres.shape == (N_BINS,)
    assert centres.dtype == torch.float64
    assert centres[[0, 110, 220]].tolist() == pytest.approx([-1.095, 0.005, 1.105], abs=1e-12)


# --- threshold_bin / hard_weights ---------------------------------------------------------


def test_threshold_bin_zero_rate_is_first_non_empty_bin():
    hist = _hist({37: 2.0, 80: 1.0})
    assert int(threshold_bin(hist, 0.0)) == 37


def test_threshold_bin_keeps_the_bin_that_crosses_the_rate():
    # CDF: 0.25 at bin 20, 0.5 at 150, 0.75 at 160, 1 at 170.
    hist = _hist({20: 1.0, 150: 1.0, 160: 1.0, 170: 1.0})
    assert int(threshold_bin(hist, 0.2)) == 20
    assert int(threshold_bin(hist, 0.3)) == 150
    assert int(threshold_bin(hist, 0.74)) == 160


def test_threshold_bin_rate_equal_to_a_cdf_step_drops_that_bin():
    # CDF[b] > rate is strict: a bin whose CDF equals the rate is dropped whole.
    hist = _hist({20: 1.0, 150: 1.0, 160: 1.0, 170: 1.0})
    assert int(threshold_bin(hist, 0.25)) == 150
    assert int(threshold_bin(hist, 0.5)) == 160
    assert int(threshold_bin(hist, torch.tensor(0.5, dtype=torch.float64))) == 160


def test_threshold_bin_on_weighted_hist():
    # Masses 0.5 and 1.5: CDF[10] = 0.25 exactly, so rate 0.25 moves the threshold on.
    hist = _hist({10: 0.5, 50: 1.5})
    assert int(threshold_bin(hist, 0.24)) == 10
    assert int(threshold_bin(hist, 0.25)) == 50


def test_hard_weights():
    weights = hard_weights(torch.tensor([5, 9, 10, 11, 220]), torch.tensor(10))
    assert weights.dtype == torch.float32
    assert weights.tolist() == [0.0, 0.0, 1.0, 1.0, 1.0]


# --- saturation / ramp / schedule / estimate ----------------------------------------------


def test_saturation_is_weighted_mean_abs_bin_centre():
    # Bin 10 centre -0.995, bin 210 centre 1.005, bin 110 centre 0.005.
    assert float(saturation(_hist({10: 1.0, 210: 1.0}))) == pytest.approx(1.0, abs=1e-12)
    expected = (3 * 0.005 + 0.995) / 4
    assert float(saturation(_hist({110: 3.0, 10: 1.0}))) == pytest.approx(expected, abs=1e-12)


def test_saturation_of_empty_window_is_zero_not_nan():
    assert float(saturation(torch.zeros(N_BINS, dtype=torch.float64))) == 0.0


@pytest.mark.parametrize(
    ("epoch", "t_k", "expected"),
    [
        (0, 20, 0.0),
        (5, 20, 0.25),
        (10, 20, 0.5),
        (20, 20, 1.0),
        (40, 20, 1.0),
        (0, 0, 1.0),
        (7, 0, 1.0),
    ],
)
def test_ramp(epoch, t_k, expected):
    assert ramp(epoch, t_k) == expected


@pytest.mark.parametrize(
    ("epoch", "t_k", "expected"),
    [(0, 20, 0.0), (10, 20, 0.2), (20, 20, 0.4), (30, 20, 0.4), (0, 0, 0.4)],
)
def test_drop_rate_schedule(epoch, t_k, expected):
    assert drop_rate_schedule(0.4, epoch, t_k) == pytest.approx(expected, abs=1e-15)


def test_estimate_noise_rate_ramps_its_threshold_from_minus_one_to_zero():
    # One sample each in bins 10, 60, 110 and 200; saturation 0.6 < zeta, so never frozen.
    hist = _hist({10: 1.0, 60: 1.0, 110: 1.0, 200: 1.0})
    previous = torch.tensor(0.9, dtype=torch.float64)
    rates = [float(estimate_noise_rate(hist, e, 20, 0.9, previous)) for e in (0, 10, 20, 30)]
    # thr = -1 -> CDF[10]; -0.5 -> CDF[60]; 0 -> CDF[110] (twice).
    assert rates == [0.25, 0.5, 0.75, 0.75]


def test_estimate_noise_rate_freezes_only_after_t_k_and_when_saturated():
    hist = _hist({10: 1.0, 209: 1.0})  # saturation 0.995
    previous = torch.tensor(0.125, dtype=torch.float64)
    # epoch == t_k still updates (T <= T_k): CDF[110] = 0.5.
    assert float(estimate_noise_rate(hist, 20, 20, 0.9, previous)) == 0.5
    assert float(estimate_noise_rate(hist, 21, 20, 0.9, previous)) == 0.125
    # The same hist with a stricter zeta is not saturated, so it updates.
    assert float(estimate_noise_rate(hist, 21, 20, 0.999, previous)) == 0.5


def test_estimate_noise_rate_freezes_when_saturation_equals_zeta():
    # The update needs sat < zeta strictly; one sample at bin 200 gives sat = its centre.
    zeta = -1.1 + (200 + 0.5) * 0.01
    hist = _hist({200: 1.0})
    previous = torch.tensor(0.125, dtype=torch.float64)
    assert float(estimate_noise_rate(hist, 30, 20, zeta, previous)) == 0.125
    assert float(estimate_noise_rate(hist, 30, 20, zeta + 1e-9, previous)) == 0.0


# --- PDiff: small direct checks -----------------------------------------------------------


def test_pdiff_keeps_everything_until_the_window_is_full():
    pdiff = PDiff(window=3, noise_rate=0.5, t_k=0)
    delta = torch.tensor([-0.9, -0.5, 0.4, 0.8])
    assert pdiff(delta, epoch=0).tolist() == [1.0] * 4
    assert pdiff(delta, epoch=0).tolist() == [1.0] * 4
    # Third step: the window holds 3 batches, so the lower half is dropped.
    assert pdiff(delta, epoch=0).tolist() == [0.0, 0.0, 1.0, 1.0]
    assert pdiff.steps == 3


def test_pdiff_auto_estimate_starts_at_zero_and_can_freeze_there():
    # Past t_k on a saturated window the very first estimate is already frozen at its
    # initial value 0, so nothing is dropped although half the batch sits at -1.
    pdiff = PDiff(window=1, noise_rate="auto", t_k=0, zeta=0.9)
    weights = pdiff(torch.tensor([-1.0, -1.0, 1.0, 1.0]), epoch=1)
    assert float(pdiff.drop_rate) == 0.0
    assert int(pdiff.t_bin) == 10
    assert weights.tolist() == [1.0] * 4


# --- PDiff vs NumpyPDiff, step by step ----------------------------------------------------

#: One epoch is 5 batches; the last one is smaller (a partial final batch).
BATCH_SIZES = (32, 32, 32, 32, 13)


def _delta_batch(rng, n, epoch):
    """float32 deltas: 70% clean (improving with the epoch), 30% noisy, with edge values."""
    noisy = rng.random(n) < 0.3
    clean = rng.normal(min(0.9, 0.1 + 0.04 * epoch), 0.35, n)
    delta = np.clip(np.where(noisy, rng.normal(-0.4, 0.35, n), clean), -1.0, 1.0)
    # Values rounded to 0.01 pile samples on bin edges and create exact CDF ties.
    delta = np.where(rng.random(n) < 0.3, np.round(delta, 2), delta)
    special = rng.random(n) < 0.03
    delta[special] = rng.choice([-1.0, 0.0, 0.75, 1.0], special.sum())
    return delta.astype(np.float32)


def _weight_batch(rng, n):
    """Non-negative float32 sample weights, a fifth of them exactly zero."""
    weight = np.where(rng.random(n) < 0.2, 0.0, rng.uniform(0.0, 3.0, n))
    return weight.astype(np.float32)


def _assert_same_step(step, weights, pdiff, ref_weights, ref):
    where = f"step {step}"
    assert weights.dtype == torch.float32, where
    assert np.array_equal(weights.numpy(), ref_weights), where
    assert int(pdiff.t_bin) == ref.t_bin, where
    assert abs(float(pdiff.drop_rate) - ref.drop_rate) <= 1e-12, where
    assert np.abs(pdiff.hist.numpy() - ref.hist).max() <= 1e-9, where
    assert pdiff.steps == ref.steps, where


def _run_both(pdiff, ref, n_steps, seed, weighted, batch=_delta_batch):
    """Feed both implementations the same batches; return the weights of every step."""
    rng = np.random.default_rng(seed)
    history = []
    for step in range(n_steps):
        epoch = step // len(BATCH_SIZES)
        n = BATCH_SIZES[step % len(BATCH_SIZES)]
        delta = batch(rng, n, epoch)
        weight = _weight_batch(rng, n) if weighted else None
        got = pdiff(
            torch.from_numpy(delta), epoch, None if weight is None else torch.from_numpy(weight)
        )
        expected = ref.step(delta, epoch, weight)
        _assert_same_step(step, got, pdiff, expected, ref)
        history.append(expected)
    return history


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("noise_rate", [0.25, "auto"])
@pytest.mark.parametrize("window", [1, 3, 7, 100])
def test_pdiff_matches_reference_step_by_step(window, noise_rate, weighted):
    # 300 steps = 60 epochs, so the ramp (t_k = 10) completes well inside the run.
    pdiff = PDiff(window, noise_rate, t_k=10)
    ref = NumpyPDiff(window, noise_rate, t_k=10)
    history = _run_both(pdiff, ref, 300, seed=window, weighted=weighted)
    # Guard against a vacuous pass: weighting must have dropped samples.
    assert sum(int((w == 0).sum()) for w in history) > 100


def test_pdiff_matches_reference_with_zero_length_ramp():
    # t_k = 0: the full known rate applies from the first weighted step.
    pdiff, ref = PDiff(5, 0.4, t_k=0), NumpyPDiff(5, 0.4, t_k=0)
    history = _run_both(pdiff, ref, 60, seed=11, weighted=False)
    assert (history[4] == 0).any()


def _saturating_batch(rng, n, epoch):
    """Spread deltas up to epoch 1, then pushed toward +-1, then spread again from epoch 40."""
    if epoch <= 1 or epoch >= 40:
        return _delta_batch(rng, n, epoch=0)
    noisy = rng.random(n) < 0.3
    gap = np.abs(rng.normal(0.0, max(0.01, 0.1 * 0.8 ** (epoch - 2)), n))
    delta = np.where(noisy, -1.0, 1.0) * np.clip(1.0 - gap, 0.0, 1.0)
    return delta.astype(np.float32)


def test_pdiff_auto_estimate_freezes_once_saturated_and_thaws_after():
    # Saturated from epoch 2, but T <= T_k = 4 keeps updating until epoch 5; from epoch 40
    # the deltas spread out again, the saturation falls below zeta and the estimate resumes.
    t_k, zeta = 4, 0.9
    pdiff, ref = PDiff(7, "auto", t_k=t_k, zeta=zeta), NumpyPDiff(7, "auto", t_k=t_k, zeta=zeta)
    rng = np.random.default_rng(5)
    saturated_early, frozen, frozen_and_stale, thawed = 0, 0, 0, 0
    previous = 0.0
    for step in range(300):
        epoch = step // len(BATCH_SIZES)
        delta = _saturating_batch(rng, BATCH_SIZES[step % len(BATCH_SIZES)], epoch)
        got = pdiff(torch.from_numpy(delta), epoch)
        _assert_same_step(step, got, pdiff, ref.step(delta, epoch), ref)

        # What the estimate would be if it were recomputed now.
        fresh = reference_cdf(ref.hist)[reference_value_bin(-1.0 + reference_ramp(epoch, t_k))]
        rate = float(pdiff.drop_rate)
        saturated = reference_saturation(ref.hist) >= zeta
        if epoch > t_k and saturated:
            frozen += 1
            assert rate == previous, f"step {step}: estimate moved while saturated"
            frozen_and_stale += fresh != rate
        else:
            assert rate == fresh, f"step {step}: estimate not refreshed"
            saturated_early += saturated
            thawed += epoch >= 40
        previous = rate
    # Each branch was really taken: saturated but still updating (T <= T_k), frozen with a
    # stale value (the freeze changed the result), and updating again once spread out.
    assert saturated_early >= 5
    assert frozen >= 50
    assert frozen_and_stale >= 10
    assert thawed >= 40


# --- state_dict ---------------------------------------------------------------------------


def test_state_dict_round_trip_continues_identically():
    rng = np.random.default_rng(3)
    batches = [(_delta_batch(rng, 20, e // 5), e // 5) for e in range(40)]
    original = PDiff(window=6, noise_rate="auto", t_k=2)
    for delta, epoch in batches[:13]:
        original(torch.from_numpy(delta), epoch)

    restored = PDiff(window=6, noise_rate="auto", t_k=2)
    restored.load_state_dict(copy.deepcopy(original.state_dict()))
    # The step counter is not a buffer: it must travel as extra state.
    assert restored.steps == 13

    dropped = 0
    for delta, epoch in batches[13:]:
        expected = original(torch.from_numpy(delta), epoch)
        got = restored(torch.from_numpy(delta), epoch)
        assert torch.equal(got, expected)
        assert torch.equal(restored.hist, original.hist)
        assert torch.equal(restored.drop_rate, original.drop_rate)
        assert torch.equal(restored.t_bin, original.t_bin)
        dropped += int((got == 0).sum())
    assert dropped > 0  # the continuation exercised real weighting
    assert restored.steps == original.steps == 40


# --- exact window after eviction ------------------------------------------------------


def test_evicted_bins_are_exactly_empty_with_float64_weights():
    # Window of 2, epoch 0 (drop rate 0). Bin 60 gets weights 0.1 and 0.2, then both batches
    # are evicted: the window holds only bin 160, so the threshold must be 160.
    pdiff, ref = PDiff(2, 0.25, t_k=10), NumpyPDiff(2, 0.25, t_k=10)
    batches = [
        ([-0.5, 0.5], [0.1, 1.0]),
        ([-0.5, 0.5], [0.2, 1.0]),
        ([0.5, 0.5], [1.0, 1.0]),
        ([0.5, 0.5], [1.0, 1.0]),
    ]
    for delta, weight in batches:
        delta = np.array(delta, dtype=np.float32)
        weight = np.array(weight, dtype=np.float64)
        pdiff(torch.from_numpy(delta), 0, torch.from_numpy(weight))
        ref.step(delta, 0, weight)
    assert ref.t_bin == 160
    assert int(pdiff.t_bin) == 160


# --- options beyond the paper -------------------------------------------------------------


def test_per_class_thresholds_equal_one_global_pdiff_per_class():
    # With a known rate, per-class weighting is the global rule applied to each class's
    # own deltas: the same window of batches, the same drop rate, one histogram per class.
    rng = np.random.default_rng(3)
    n_classes, window = 3, 4
    per_class = PDiff(window, 0.3, t_k=2, n_classes=n_classes)
    singles = [PDiff(window, 0.3, t_k=2) for _ in range(n_classes)]
    dropped = 0
    for step in range(40):
        labels = torch.from_numpy(rng.integers(0, n_classes, size=16))
        delta = torch.from_numpy(rng.uniform(-1, 1, size=16).astype(np.float32))
        # Class 0 is "hard": a global threshold would drop it wholesale.
        delta[labels == 0] -= 0.5
        weights = per_class(delta, step // 5, labels=labels)
        for c, single in enumerate(singles):
            mine = labels == c
            expected = single(delta[mine], step // 5)
            assert torch.equal(weights[mine], expected), (step, c)
        dropped += int((weights == 0).sum())
    assert dropped > 0
    np.testing.assert_allclose(
        per_class.hist.numpy(), sum(single.hist for single in singles).numpy()
    )


def test_capping_the_window_after_an_epoch_is_capping_it_at_creation():
    generator = torch.Generator().manual_seed(0)
    batches = [torch.rand(16, generator=generator) * 2 - 1 for _ in range(9)]
    created = PDiff(window=100, noise_rate=0.3, t_k=1, epoch_batches=3)
    capped = PDiff(window=100, noise_rate=0.3, t_k=1)
    for step, delta in enumerate(batches):
        epoch = step // 3
        assert torch.equal(created(delta, epoch), capped(delta, epoch))
        if step == 2:  # the first epoch's 3 batches are done
            capped.cap_window(3)
            assert torch.equal(capped.ring, created.ring) and capped.full
    assert torch.equal(capped.hist, created.hist)


def test_the_window_can_not_be_capped_below_the_steps_taken():
    pdiff = PDiff(window=10, noise_rate=0.3)
    for _ in range(4):
        pdiff(torch.zeros(2), 0)
    with pytest.raises(ValueError, match="epoch_batches=3 is below the 4 steps"):
        pdiff.cap_window(3)
    pdiff.cap_window(20)  # above the window: nothing to do
    assert pdiff.window == 10
