"""Plain-NumPy reference of the P-DIFF maths, written from the spec in ``docs/pdiff.md``.

It is the yardstick for ``cleanlab_pdiff.pdiff`` and is deliberately naive: the window is a
``collections.deque`` of per-batch (bin ids, weights) arrays, the histogram is rebuilt from the
whole deque with ``np.bincount`` at every step, and the threshold is a literal search for the
first bin whose cumulative share exceeds the drop rate. Nothing is incremental, vectorised for
speed or shared with the torch code, so an agreement between the two is evidence, not an echo.

Examples
--------
>>> ref = NumpyPDiff(window=2, noise_rate=0.5, t_k=0)
>>> delta = np.array([-0.9, -0.5, 0.4, 0.8], dtype=np.float32)
>>> ref.step(delta, epoch=0).tolist()  # the window is not full yet
[1.0, 1.0, 1.0, 1.0]
>>> ref.step(delta, epoch=0).tolist()  # the lowest half of the window is dropped
[0.0, 0.0, 1.0, 1.0]
"""

import collections

import numpy as np

__all__ = [
    "BIN_CENTRES",
    "N_BINS",
    "NumpyPDiff",
    "reference_bin",
    "reference_cdf",
    "reference_delta",
    "reference_ramp",
    "reference_saturation",
    "reference_threshold",
    "reference_value_bin",
]

#: Bin ids run from 0 to 220 inclusive: 220 bins of width 0.01 over [-1.1, 1.1] plus the
#: clamp's top cell, as in the released Caffe layer.
N_BINS = 221


def reference_delta(probs, labels):
    """``delta = p[y] - max_{j != y} p[j]``, one row at a time, in the input's dtype."""
    probs = np.asarray(probs)
    delta = np.empty(len(probs), dtype=probs.dtype)
    for i, (row, label) in enumerate(zip(probs, labels, strict=True)):
        others = np.delete(row, label)
        delta[i] = row[label] - others.max()
    return delta


def reference_bin(delta):
    """``clamp(floor(220 * (delta + 1.1) / 2.2), 0, 220)``, evaluated in float64."""
    delta = np.asarray(delta).astype(np.float64)
    bins = np.floor(220 * (delta + 1.1) / 2.2)
    return np.clip(bins, 0, N_BINS - 1).astype(np.int64)


def reference_value_bin(value):
    """The bin of one Python float, by the same formula."""
    return int(reference_bin(np.array([value]))[0])


def reference_ramp(epoch, t_k):
    """``min(1, T / T_k)``; a zero-length ramp is already complete."""
    if t_k == 0:
        return 1.0
    return min(1.0, epoch / t_k)


def reference_cdf(hist):
    """Cumulative share of the window's mass at or below each bin, float64."""
    hist = np.asarray(hist, dtype=np.float64)
    return np.cumsum(hist) / hist.sum()


def reference_threshold(cdf, drop_rate):
    """``min{b : CDF[b] > drop_rate}``; N_BINS (drop everything) when no bin qualifies."""
    for b, share in enumerate(cdf.tolist()):
        if share > drop_rate:
            return b
    return N_BINS


#: Centre of bin b: -1.1 + (b + 0.5) * 0.01.
BIN_CENTRES = np.array([-1.1 + (b + 0.5) * 0.01 for b in range(N_BINS)])


def reference_saturation(hist):
    """Mean ``|delta|`` over the window, each sample placed at its bin centre."""
    return float(np.sum(hist * np.abs(BIN_CENTRES)) / np.sum(hist))


class NumpyPDiff:
    """The sliding-window P-DIFF step of ``docs/pdiff.md``, one batch per call.

    Attributes after each :meth:`step`: ``hist`` (float64 histogram of the window),
    ``drop_rate`` (float), ``t_bin`` (int) and ``steps`` (batches seen).
    """

    def __init__(self, window, noise_rate="auto", t_k=20, zeta=0.9):
        self.window = window
        self.noise_rate = noise_rate
        self.t_k = t_k
        self.zeta = zeta
        self.batches = collections.deque()
        self.hist = np.zeros(N_BINS)
        self.drop_rate = 0.0  # the automatic estimate starts at 0
        self.t_bin = 0
        self.steps = 0

    def step(self, delta, epoch, sample_weight=None):
        """Add the batch, evict beyond the window, then judge the batch; return 0/1 weights."""
        bins = reference_bin(delta)
        if sample_weight is None:
            mass = np.ones(len(bins))
        else:
            mass = np.asarray(sample_weight).astype(np.float64)

        # Section 2: add the current batch, evict the oldest while over size.
        self.batches.append((bins, mass))
        while len(self.batches) > self.window:
            self.batches.popleft()
        self.steps += 1

        # The histogram and its CDF over the whole window, from scratch.
        all_bins = np.concatenate([b for b, _ in self.batches])
        all_mass = np.concatenate([m for _, m in self.batches])
        self.hist = np.bincount(all_bins, weights=all_mass, minlength=N_BINS).astype(np.float64)
        cdf = reference_cdf(self.hist)

        # Section 4: the drop rate.
        if self.noise_rate == "auto":
            if epoch <= self.t_k or reference_saturation(self.hist) < self.zeta:
                thr = -1.0 + reference_ramp(epoch, self.t_k)
                self.drop_rate = float(cdf[reference_value_bin(thr)])
            # otherwise the previous estimate stays frozen
        else:
            self.drop_rate = self.noise_rate * reference_ramp(epoch, self.t_k)

        # Section 3: threshold and weights; weighting waits for a full window.
        self.t_bin = reference_threshold(cdf, self.drop_rate)
        if self.steps < self.window:
            return np.ones(len(bins), dtype=np.float32)
        return np.array([1.0 if b >= self.t_bin else 0.0 for b in bins], dtype=np.float32)
