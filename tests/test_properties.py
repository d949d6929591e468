"""Property tests (hypothesis) of the P-DIFF maths in ``cleanlab_pdiff.pdiff``.

Batches of float32 deltas in [-1, 1], with or without sample weights, are fed to ``PDiff``;
the window histogram, the threshold and the weights are checked against what
``docs/pdiff.md`` says they are, and against the NumPy reference ``NumpyPDiff``.

Where a property compares histograms exactly, sample weights are multiples of 1/8 up to 8:
their float64 sums are exact in any order, so an exact comparison is a fair one.
"""

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy_reference import N_BINS, NumpyPDiff, reference_bin

from cleanlab_pdiff.histogram import threshold_bin
from cleanlab_pdiff.pdiff import PDiff

MAX_BATCH = 12

#: float32 deltas in [-1, 1], bin edges and the ends of the range included.
DELTA = st.one_of(
    st.floats(-1.0, 1.0, width=32),
    st.sampled_from([-1.0, -0.5, -0.01, 0.0, 0.005, 0.01, 0.75, 0.995, 1.0]),
)
#: Sample weights whose sums are exact in float64; a quarter of them zero.
EXACT_WEIGHT = st.one_of(st.just(0.0), st.integers(1, 64).map(lambda k: k / 8))
#: Sample weights of a moderate range: the CDF steps stay far above rounding.
WEIGHT = st.one_of(st.just(0.0), st.floats(0.125, 8.0, width=32))


@st.composite
def batches(draw, weight=EXACT_WEIGHT, weighted=None, min_size=1, max_size=15):
    """A list of (delta, weight-or-None) batches; each weighted batch has positive mass."""
    if weighted is None:
        weighted = draw(st.booleans())
    size = draw(st.integers(min_size, max_size))
    out = []
    for _ in range(size):
        n = draw(st.integers(1, MAX_BATCH))
        delta = draw(hnp.arrays(np.float32, n, elements=DELTA))
        mass = None
        if weighted:
            mass = draw(hnp.arrays(np.float32, n, elements=weight).filter(lambda w: w.sum() > 0))
        out.append((delta, mass))
    return out


#: A known noise rate, or "auto".
NOISE_RATE = st.one_of(st.just("auto"), st.floats(0.0, 0.95))


def _step(pdiff, delta, weight, epoch):
    return pdiff(
        torch.from_numpy(delta), epoch, None if weight is None else torch.from_numpy(weight)
    ).numpy()


def _counts(batch_list):
    """The (weighted) count of the batches' deltas in each bin, by the NumPy reference."""
    hist = np.zeros(N_BINS)
    for delta, weight in batch_list:
        mass = np.ones(delta.size) if weight is None else weight.astype(np.float64)
        hist += np.bincount(reference_bin(delta), weights=mass, minlength=N_BINS)
    return hist


@settings(max_examples=40, deadline=None)
@given(window=st.integers(1, 6), noise_rate=NOISE_RATE, run=batches())
def test_window_histogram_is_the_count_of_the_last_window_batches(window, noise_rate, run):
    pdiff = PDiff(window, noise_rate, t_k=2)
    for step, (delta, weight) in enumerate(run):
        _step(pdiff, delta, weight, epoch=step // 3)
        recent = run[max(0, step + 1 - window) : step + 1]
        np.testing.assert_array_equal(pdiff.hist.numpy(), _counts(recent), err_msg=f"step {step}")


@settings(max_examples=40, deadline=None)
@given(
    window=st.integers(1, 6),
    noise_rate=NOISE_RATE,
    t_k=st.integers(0, 4),
    run=batches(min_size=6, max_size=20),
)
def test_dropped_share_of_the_window_never_exceeds_the_drop_rate(window, noise_rate, t_k, run):
    pdiff = PDiff(window, noise_rate, t_k=t_k)
    for step, (delta, weight) in enumerate(run):
        kept = _step(pdiff, delta, weight, epoch=step // 3)
        hist, t_bin, rate = pdiff.hist.numpy(), int(pdiff.t_bin), float(pdiff.drop_rate)
        total = hist.sum()
        where = f"step {step}: t_bin {t_bin}, drop rate {rate}"
        assert 0 <= rate <= 1, where
        # At most the drop rate is dropped, and t_bin is the first bin that crosses it; only
        # a rate of 1 (an "auto" estimate on a window with no delta above the ramp's
        # threshold) has no such bin and drops everything.
        assert hist[:t_bin].sum() / total <= rate + 1e-12, where
        if t_bin < N_BINS:
            assert hist[: t_bin + 1].sum() / total > rate - 1e-12, where
        else:
            assert rate >= 1 - 1e-12, where
        expected = (reference_bin(delta) >= t_bin) if pdiff.full else np.ones(delta.size)
        np.testing.assert_array_equal(kept, expected.astype(np.float32), err_msg=where)


# Bin masses are sums of sample weights, which the estimator scales to a maximum of 1 in
# float32: a non-empty bin holds at least ~1e-45, far from float64's underflow.
HISTOGRAM = hnp.arrays(
    np.float64, N_BINS, elements=st.one_of(st.just(0.0), st.floats(1e-45, 1e6))
).filter(lambda h: h.sum() > 0)


@settings(max_examples=80, deadline=None)
@given(hist=HISTOGRAM, rates=st.lists(st.floats(0.0, 0.999), min_size=2, max_size=6))
def test_threshold_bin_is_monotone_in_the_drop_rate(hist, rates):
    hist = torch.from_numpy(hist)
    thresholds = [int(threshold_bin(hist, rate)) for rate in sorted(rates)]
    assert thresholds == sorted(thresholds)
    # A float64 0-d tensor rate, as PDiff passes it, gives the same bins.
    as_tensors = [
        int(threshold_bin(hist, torch.tensor(rate, dtype=torch.float64))) for rate in sorted(rates)
    ]
    assert as_tensors == thresholds


@settings(max_examples=40, deadline=None)
@given(hist=HISTOGRAM)
def test_threshold_bin_at_rate_zero_is_the_first_bin_with_mass(hist):
    assert int(threshold_bin(torch.from_numpy(hist), 0.0)) == int(np.flatnonzero(hist)[0])


@settings(max_examples=40, deadline=None)
@given(window=st.integers(1, 6), t_k=st.integers(0, 4), run=batches(min_size=1, max_size=20))
def test_drop_rate_zero_drops_nothing(window, t_k, run):
    pdiff = PDiff(window, 0.0, t_k=t_k)
    for step, (delta, weight) in enumerate(run):
        kept = _step(pdiff, delta, weight, epoch=step // 3)
        assert float(pdiff.drop_rate) == 0.0
        # Every sample with mass is kept (a zero-weight sample below all the mass may not be,
        # which changes nothing: its loss has weight 0).
        has_mass = np.ones(delta.size, dtype=bool) if weight is None else weight > 0
        assert (kept[has_mass] == 1).all(), f"step {step}"


@settings(max_examples=40, deadline=None)
@given(
    data=st.data(),
    window=st.integers(1, 6),
    noise_rate=st.one_of(st.just("auto"), st.floats(0.0, 0.95)),
    weighted=st.booleans(),
)
def test_full_window_does_not_depend_on_the_order_of_its_batches(
    data, window, noise_rate, weighted
):
    evicted = data.draw(batches(weighted=weighted, min_size=0, max_size=window), "evicted")
    current = data.draw(batches(weighted=weighted, min_size=window, max_size=window), "window")
    order = data.draw(st.permutations(range(window)), "order")
    # epoch <= t_k: the "auto" estimate is recomputed from the window, never frozen.
    epoch = data.draw(st.integers(0, 5), "epoch")
    results = []
    for sequence in (evicted + current, evicted + [current[i] for i in order]):
        pdiff = PDiff(window, noise_rate, t_k=5)
        for delta, weight in sequence:
            _step(pdiff, delta, weight, epoch)
        results.append(pdiff)
    first, permuted = results
    np.testing.assert_array_equal(first.hist.numpy(), _counts(current))
    np.testing.assert_array_equal(permuted.hist.numpy(), first.hist.numpy())
    assert int(permuted.t_bin) == int(first.t_bin)
    assert float(permuted.drop_rate) == float(first.drop_rate)


@st.composite
def runs(draw):
    """A P-DIFF configuration and a sequence of (delta, weight, epoch) steps."""
    config = {
        "window": draw(st.integers(1, 8)),
        "noise_rate": draw(NOISE_RATE),
        "t_k": draw(st.integers(0, 5)),
        "zeta": draw(st.floats(0.05, 1.0)),
    }
    steps = draw(batches(weight=WEIGHT, min_size=1, max_size=25))
    increments = draw(st.lists(st.integers(0, 1), min_size=len(steps), max_size=len(steps)))
    epochs = np.cumsum([0, *increments[1:]]).tolist()
    return config, [(d, w, e) for (d, w), e in zip(steps, epochs, strict=True)]


@settings(max_examples=80, deadline=None)
@given(run=runs())
def test_pdiff_agrees_with_the_numpy_reference_step_by_step(run):
    config, steps = run
    pdiff, reference = PDiff(**config), NumpyPDiff(**config)
    for step, (delta, weight, epoch) in enumerate(steps):
        got = _step(pdiff, delta, weight, epoch)
        expected = reference.step(delta, epoch, weight)
        where = f"step {step}, epoch {epoch}"
        np.testing.assert_array_equal(got, expected, err_msg=where)
        assert int(pdiff.t_bin) == reference.t_bin, where
        assert abs(float(pdiff.drop_rate) - reference.drop_rate) <= 1e-12, where
        np.testing.assert_allclose(pdiff.hist.numpy(), reference.hist, rtol=0, atol=1e-9)
        assert pdiff.steps == reference.steps == step + 1, where
