"""P-DIFF mathematics: pure PyTorch, no scikit-learn or skorch.

The functions follow ``PDIFF.md`` (read from the authors' released Caffe layer):
the probability difference ``delta``, its histogram (0.01-wide bins over
[-1.1, 1.1]) over a sliding window of recent mini-batches, the cumulative
distribution, the bin-granular threshold, hard 0/1 weights, the drop-rate
schedule and the automatic noise-rate estimate. :class:`PDiff` is the thin
stateful shell that keeps the window; it can be dropped into any PyTorch
training loop.

Everything per step stays on the tensors' device: the threshold and the
noise-rate estimate are 0-d tensors, never read back to the host. Under
data-parallel training (``torch.distributed``), each step's histogram is summed
across the processes, so that all of them judge their batch against the
distribution of the global batch.
"""

import functools
import math

import torch
from torch import distributed as dist
from torch import nn

__all__ = [
    "BIN_WIDTH",
    "N_BINS",
    "PDiff",
    "bin_centres",
    "delta_bin",
    "drop_rate_schedule",
    "estimate_noise_rate",
    "hard_weights",
    "is_synchronised",
    "probability_difference",
    "ramp",
    "saturation",
    "soft_weights",
    "threshold_bin",
    "value_bin",
]

#: Width of one histogram bin.
BIN_WIDTH = 0.01
#: Lower edge of the histogram; ``delta`` in [-1, 1] falls in bins 10..209.
_LOW = -1.1
#: Scale of the released layer's bin formula: 220 bins over a span of 2.2.
_SCALE = 220
_SPAN = 2.2
#: Number of histogram cells: the released layer clamps bin ids to [0, 220].
N_BINS = _SCALE + 1
#: Width, in bins, of the ramp of :func:`soft_weights`.
SOFT_WIDTH = 10


def probability_difference(probs, labels):
    """Return ``delta = p[y] - max_{j != y} p[j]`` for each row.

    Parameters
    ----------
    probs : torch.Tensor of shape (B, K)
        Class probabilities (rows sum to 1), K >= 2.
    labels : torch.Tensor of shape (B,)
        Given (possibly wrong) class indices in ``[0, K)``.

    Returns
    -------
    delta : torch.Tensor of shape (B,)
        Values in [-1, 1]; negative where the model prefers another class.

    Examples
    --------
    >>> import torch
    >>> probs = torch.tensor([[0.5, 0.25, 0.25], [0.75, 0.25, 0.0]])
    >>> probability_difference(probs, torch.tensor([0, 1])).tolist()
    [0.25, -0.5]
    """
    column = labels[:, None]
    given = probs.gather(1, column)
    others = probs.scatter(1, column, -math.inf).amax(dim=1, keepdim=True)
    return (given - others).squeeze(1)


def delta_bin(delta):
    """Return the histogram bin of each ``delta``, as the released layer does.

    ``bin = clamp(floor(220 * (delta + 1.1) / 2.2), 0, 220)``, with the
    arithmetic in float64 so that the result does not depend on the input's
    precision. It is evaluated as one search among the bins' exact lower
    edges in ``delta``'s dtype (found once per dtype and device, by
    bisection), which gives the formula's result for every value: this runs
    every training step.

    Parameters
    ----------
    delta : torch.Tensor
        Probability differences. float32 and float64 are searched as they
        are, other dtypes as float64 (exactly).

    Returns
    -------
    bins : torch.Tensor of int64, same shape as ``delta``
        A NaN ``delta`` (a diverged network) gets the top bin, a valid index,
        so that training reaches the non-finite loss check rather than an
        indexing error.

    Examples
    --------
    >>> import torch
    >>> delta_bin(torch.tensor([-1.0, 0.0, 0.995, 1.0])).tolist()   # 1.0 rounds to 209.99...
    [10, 110, 209, 209]
    """
    if delta.dtype not in (torch.float32, torch.float64):
        delta = delta.to(torch.float64)
    return torch.bucketize(delta, _bin_edges(delta.dtype, delta.device), right=True)


def _formula_bin(x):
    """Return the bin formula of ``x`` in float64, unclamped (whole numbers, float64)."""
    return x.to(torch.float64).sub(_LOW).mul(_SCALE).div(_SPAN).floor()


@functools.lru_cache(maxsize=8)
def _bin_edges(dtype, device):
    """Return the least value of ``dtype`` in each bin 1..220 under the bin formula.

    The formula is non-decreasing in ``delta`` (each float64 operation rounds
    monotonically), so the bin of ``delta`` is the number of these edges at
    or below it. Each edge is bisected in float64 down to adjacent values,
    then rounded up to ``dtype`` (a value of ``dtype`` is a float64 value, so
    it reaches the bin exactly when it is at or above the float64 edge).
    """
    target = torch.arange(1, N_BINS, dtype=torch.float64)
    # Invariant: ``below`` is under the bin, ``edge`` in it or above.
    below = _LOW + (target - 0.5) * BIN_WIDTH
    edge = _LOW + (target + 0.5) * BIN_WIDTH
    while (torch.nextafter(below, edge) < edge).any():
        middle = below + (edge - below) / 2
        reached = _formula_bin(middle) >= target
        edge = torch.where(reached, middle, edge)
        below = torch.where(reached, below, middle)
    nearest = edge.to(dtype)
    above = torch.nextafter(nearest, torch.full_like(nearest, math.inf))
    return torch.where(nearest.double() < edge, above, nearest).to(device)


def value_bin(value):
    """Return the bin of one Python float, by the formula of :func:`delta_bin`.

    Examples
    --------
    >>> value_bin(-1.0), value_bin(0.0)
    (10, 110)
    """
    return min(max(math.floor(_SCALE * (value - _LOW) / _SPAN), 0), N_BINS - 1)


def bin_centres(device=None):
    """Return the centre of every bin, float64, shape (N_BINS,)."""
    return _LOW + (torch.arange(N_BINS, dtype=torch.float64, device=device) + 0.5) * BIN_WIDTH


@functools.lru_cache(maxsize=8)
def _abs_centres(device):
    # Cached per device: saturation runs every training step after the ramp.
    return bin_centres(device).abs()


def _total(hist):
    """Return the mass of each histogram row (0-d for one histogram), kept above 0.

    An empty window then has a CDF and a saturation of 0 rather than NaN.
    """
    total = hist.sum(dim=-1, keepdim=hist.dim() > 1)
    return total.clamp_min_(torch.finfo(hist.dtype).tiny)


def _cdf(hist, total):
    return hist.cumsum(dim=-1).div_(total)


def threshold_bin(hist, drop_rate):
    """Return ``min{b : CDF[b] > drop_rate}`` as an int64 tensor.

    The bin in which the cumulative share crosses ``drop_rate`` is kept, so
    ``drop_rate = 0`` keeps everything (the threshold is the first non-empty
    bin).

    Parameters
    ----------
    hist : torch.Tensor of shape (N_BINS,) or (G, N_BINS)
        Histogram (counts or summed weights) of ``delta`` over the window;
        one row per group (e.g. per given class) for per-group thresholds.
    drop_rate : float or 0-d torch.Tensor
        Share of the window's mass to drop, in [0, 1).

    Returns
    -------
    t_bin : torch.Tensor of int64, shape () or (G,)

    Examples
    --------
    >>> import torch
    >>> hist = torch.zeros(N_BINS, dtype=torch.float64)
    >>> hist[[20, 150, 160, 170]] = 1.0
    >>> int(threshold_bin(hist, 0.25)), int(threshold_bin(hist, 0.2))
    (150, 20)
    """
    return _threshold_from_cdf(_cdf(hist, _total(hist)), drop_rate)


def _threshold_from_cdf(cdf, drop_rate, out=None):
    # The CDF is non-decreasing (a running sum of non-negative masses over a
    # positive total), so the first bin above the rate is where a binary search
    # for the rate ends: one operation, and no data-dependent host sync.
    rate = torch.as_tensor(drop_rate, dtype=cdf.dtype, device=cdf.device)
    if cdf.dim() == 1:
        return torch.searchsorted(cdf, rate, right=True, out=out)
    # One search per row: the rate as a column.
    rows = torch.searchsorted(cdf, rate.expand(*cdf.shape[:-1], 1).contiguous(), right=True)
    return rows.squeeze(-1) if out is None else out.copy_(rows.squeeze(-1))


def hard_weights(bins, t_bin):
    """Return 1.0 for samples in bins at or above ``t_bin``, else 0.0."""
    return (bins >= t_bin).to(torch.float32)


def soft_weights(bins, t_bin, width=SOFT_WIDTH):
    """Return weights ramping linearly from 0 to 1 over ``width`` bins below ``t_bin``.

    An ablation of the hard rule (PDIFF.md section 6): samples at or above
    the threshold bin weigh 1, ``k`` bins below it ``1 - k / width``.

    Examples
    --------
    >>> import torch
    >>> soft_weights(torch.tensor([100, 95, 90, 85]), torch.tensor(100), width=10).tolist()
    [1.0, 0.5, 0.0, 0.0]
    """
    return (1 - (t_bin - bins).clamp(min=0) / width).clamp(min=0).to(torch.float32)


def is_synchronised(sync="auto"):
    """Return whether P-DIFF state is summed across processes under the option ``sync``.

    Parameters
    ----------
    sync : {"auto", True, False}, default="auto"
        ``"auto"``: when a ``torch.distributed`` process group is initialised
        with more than one process. ``True``: always (a process group must
        exist). ``False``: never.

    Returns
    -------
    synchronised : bool

    Examples
    --------
    >>> is_synchronised("auto")   # no process group in this process
    False
    """
    if isinstance(sync, str) and sync == "auto":
        return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1
    if not isinstance(sync, bool):
        raise ValueError(f"sync must be 'auto', True or False, got {sync!r}.")
    return sync


#: Ways of turning the threshold into weights, by name.
WEIGHTINGS = {"hard": hard_weights, "soft": soft_weights}


def saturation(hist):
    """Return the mean ``|delta|`` over the window, from bin centres.

    The released layer calls this the training saturation; the noise-rate
    estimate freezes once it reaches ``zeta``.
    """
    return _saturation(hist, _total(hist))


def _saturation(hist, total):
    return torch.dot(hist, _abs_centres(hist.device)).div_(total)


def ramp(epoch, t_k):
    """Return ``min(1, epoch / t_k)`` (1 when ``t_k`` is 0)."""
    return 1.0 if t_k == 0 else min(1.0, epoch / t_k)


def drop_rate_schedule(noise_rate, epoch, t_k):
    """Return the drop rate for a known noise rate: ``noise_rate * min(1, T / T_k)``.

    Parameters
    ----------
    noise_rate : float
        The known (or assumed) noise rate eps0.
    epoch : int
        Number of completed epochs T.
    t_k : int
        Length of the ramp in epochs.

    Returns
    -------
    drop_rate : float

    Examples
    --------
    >>> drop_rate_schedule(0.4, 5, 20), drop_rate_schedule(0.4, 30, 20)
    (0.1, 0.4)
    """
    return noise_rate * ramp(epoch, t_k)


def estimate_noise_rate(hist, epoch, t_k, zeta, previous):
    """Update the automatic noise-rate estimate (the released layer's default).

    While ``epoch <= t_k`` or the saturation is below ``zeta``, the estimate
    is ``CDF[bin(thr)]`` with ``thr = -1 + min(1, epoch / t_k)``, i.e. the
    share of the window whose ``delta`` lies below a threshold that ramps
    from -1 to 0. Otherwise the previous estimate is kept (frozen).

    Parameters
    ----------
    hist : torch.Tensor of shape (N_BINS,)
        Histogram of ``delta`` over the window.
    epoch : int
        Number of completed epochs T.
    t_k : int
        Length of the ramp in epochs.
    zeta : float
        Saturation at which the estimate freezes.
    previous : 0-d torch.Tensor
        The estimate before this step.

    Returns
    -------
    estimate : 0-d torch.Tensor of float64
    """
    total = _total(hist)
    return _estimate_from_cdf(_cdf(hist, total), hist, total, epoch, t_k, zeta, previous)


def _estimate_from_cdf(cdf, hist, total, epoch, t_k, zeta, previous):
    current = cdf[value_bin(-1.0 + ramp(epoch, t_k))]
    if epoch <= t_k:
        return current
    return torch.where(_saturation(hist, total) < zeta, current, previous)


class PDiff(nn.Module):
    """Sliding-window P-DIFF weighting for one training run.

    Call it once per training step with the batch's ``delta``; it returns
    the batch's weights. The window holds one histogram per recent
    mini-batch (each sample's ``delta`` as it was when computed); the step
    adds the current batch, evicts the oldest one beyond ``window``, then
    judges the current batch against the distribution that includes it.
    Weighting starts once the window holds ``window`` batches; before that
    every weight is 1.

    Parameters
    ----------
    window : int
        Number of recent mini-batches in the distribution.
    noise_rate : float or "auto"
        Known noise rate (dropped share after the ramp), or ``"auto"`` to
        estimate it online.
    t_k : int
        Length of the drop-rate ramp in epochs.
    zeta : float
        Saturation at which the automatic estimate freezes.
    n_classes : int or None, default=None
        When given, one histogram and one threshold per given label
        (PDIFF.md section 6): each class drops its own lowest share, so a
        hard or rare class is not dropped wholesale. The drop rate, and the
        automatic estimate, stay global. :meth:`forward` then needs
        ``labels``.
    weighting : {"hard", "soft"}, default="hard"
        ``"hard"``: the released 0/1 rule. ``"soft"``: a linear ramp over
        the ``SOFT_WIDTH`` bins below the threshold (an ablation).
    sync : {"auto", True, False}, default="auto"
        Sum each step's batch histogram over the processes of the default
        ``torch.distributed`` process group before it enters the window
        (see :func:`is_synchronised`; ``"auto"`` does so when one with more
        than one process is initialised). Every process then holds the same
        window, threshold and noise-rate estimate: those of one process
        seeing the global batch. Each process must take the same number of
        steps, as data-parallel training does anyway.

    Attributes
    ----------
    hist : torch.Tensor of shape (N_BINS,)
        Histogram of ``delta`` (sample-weighted counts) over the window, all
        classes together.
    class_hist : torch.Tensor of shape (G, N_BINS)
        With ``n_classes``: the same per given label (G = ``n_classes``).
    drop_rate : 0-d torch.Tensor
        Drop rate used at the last step.
    t_bin : 0-d torch.Tensor
        Threshold bin of ``hist`` at the last step (the threshold in force
        unless ``n_classes`` is given).
    class_t_bin : torch.Tensor of shape (G,)
        With ``n_classes``: the threshold bin of each row of ``class_hist`` at
        the last step.
    ring : torch.Tensor of shape (window, G * N_BINS)
        One histogram per batch in the window (G = ``n_classes`` or 1), the
        classes' rows side by side.
    steps : int
        Number of steps taken.

    Examples
    --------
    >>> import torch
    >>> pdiff = PDiff(window=2, noise_rate=0.5, t_k=0)
    >>> delta = torch.tensor([-0.9, -0.5, 0.4, 0.8])
    >>> pdiff(delta, epoch=0).tolist()   # window not yet full
    [1.0, 1.0, 1.0, 1.0]
    >>> pdiff(delta, epoch=0).tolist()   # the lowest half of the window is dropped
    [0.0, 0.0, 1.0, 1.0]
    """

    def __init__(
        self,
        window,
        noise_rate="auto",
        t_k=20,
        zeta=0.9,
        n_classes=None,
        weighting="hard",
        sync="auto",
    ):
        super().__init__()
        self.window = window
        self.noise_rate = noise_rate
        self.t_k = t_k
        self.zeta = zeta
        self.n_classes = n_classes
        self.weighting = weighting
        self.sync = sync
        self.steps = 0
        f64 = {"dtype": torch.float64}
        self.register_buffer("ring", torch.zeros(window, (n_classes or 1) * N_BINS, **f64))
        self.register_buffer("hist", torch.zeros(N_BINS, **f64))
        self.register_buffer("drop_rate", torch.zeros((), **f64))
        self.register_buffer("t_bin", torch.zeros((), dtype=torch.int64))
        if n_classes is not None:
            self.register_buffer("class_hist", torch.zeros(n_classes, N_BINS, **f64))
            self.register_buffer("class_t_bin", torch.zeros(n_classes, dtype=torch.int64))

    @property
    def full(self):
        """Whether the window holds ``window`` batches (weighting is on)."""
        return self.steps >= self.window

    def forward(self, delta, epoch, sample_weight=None, labels=None):
        """Take one step: update the window and return the batch's weights.

        Parameters
        ----------
        delta : torch.Tensor of shape (B,)
            Detached probability differences of the current batch.
        epoch : int
            Number of completed epochs T.
        sample_weight : torch.Tensor of shape (B,), optional
            Weights of the samples in the histogram (1 each by default).
        labels : torch.Tensor of shape (B,), optional
            Given labels; required with ``n_classes``.

        Returns
        -------
        weights : torch.Tensor of shape (B,), float32
            In [0, 1]: 1 for kept samples, 0 for dropped ones.
        """
        # Every state update below writes into the buffers in place (out=, copy_):
        # this runs every training step, and on tensors this small each operation
        # costs its dispatch, so the step is written in as few operations as it takes.
        bins = delta_bin(delta)
        mass = (
            torch.ones_like(delta, dtype=torch.float64)
            if sample_weight is None
            else sample_weight.to(torch.float64)
        )
        cell = bins if self.n_classes is None else labels * N_BINS + bins
        batch_hist = self.ring[self.steps % self.window]
        batch_hist.zero_().index_add_(0, cell, mass)
        if is_synchronised(self.sync):
            # Before the batch enters the window: from here on every process computes
            # the same numbers. Queued on the device's stream, not waited for by the host.
            dist.all_reduce(batch_hist)
        # Summed afresh rather than updated by add-and-evict, which leaves rounding
        # residue in emptied bins under fractional weights; it is window x bins adds.
        if self.n_classes is None:
            torch.sum(self.ring, dim=0, out=self.hist)
        else:
            torch.sum(
                self.ring.view(self.window, self.n_classes, N_BINS), dim=0, out=self.class_hist
            )
            torch.sum(self.class_hist, dim=0, out=self.hist)
        self.steps += 1

        total = _total(self.hist)
        cdf = _cdf(self.hist, total)
        if self.noise_rate == "auto":
            self.drop_rate.copy_(
                _estimate_from_cdf(
                    cdf, self.hist, total, epoch, self.t_k, self.zeta, self.drop_rate
                )
            )
        else:
            self.drop_rate.fill_(drop_rate_schedule(self.noise_rate, epoch, self.t_k))
        _threshold_from_cdf(cdf, self.drop_rate, out=self.t_bin)
        if self.n_classes is None:
            threshold = self.t_bin
        else:
            class_cdf = _cdf(self.class_hist, _total(self.class_hist))
            _threshold_from_cdf(class_cdf, self.drop_rate, out=self.class_t_bin)
            threshold = self.class_t_bin[labels]
        if not self.full:
            return torch.ones_like(delta, dtype=torch.float32)
        return WEIGHTINGS[self.weighting](bins, threshold)

    def get_extra_state(self):
        """Return the step counter, which is not a tensor."""
        return {"steps": self.steps}

    def set_extra_state(self, state):
        """Restore what :meth:`get_extra_state` returned."""
        self.steps = state["steps"]
