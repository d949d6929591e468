"""P-DIFF mathematics: pure PyTorch, no scikit-learn or skorch.

The functions follow ``docs/pdiff.md`` (read from the authors' released Caffe layer):
the probability difference ``delta``, hard 0/1 weights from the bin-granular
threshold, the drop-rate schedule and the automatic noise-rate estimate; the
histogram of ``delta`` (bins, CDF, threshold) is :mod:`cleanlab_pdiff.histogram`.
:class:`PDiff` is the thin stateful shell that keeps the window; it can be
dropped into any PyTorch training loop.

Everything per step stays on the tensors' device: the threshold and the
noise-rate estimate are 0-d tensors, never read back to the host. Under
data-parallel training (``torch.distributed``), each step's histogram is summed
across the processes, so that all of them judge their batch against the
distribution of the global batch.
"""

import math
import numbers

import torch
from torch import distributed as dist
from torch import nn

from ._params import Param, check_params
from .histogram import N_BINS, cdf, cdf_threshold, delta_bin, mass, saturation, value_bin

__all__ = [
    "PDiff",
    "drop_rate_schedule",
    "estimate_noise_rate",
    "hard_weights",
    "is_synchronised",
    "probability_difference",
    "ramp",
]


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


def hard_weights(bins, t_bin):
    """Return 1.0 for samples in bins at or above ``t_bin``, else 0.0."""
    return (bins >= t_bin).to(torch.float32)


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
    total = mass(hist)
    return _estimate_from_cdf(cdf(hist, total), hist, total, epoch, t_k, zeta, previous)


def _estimate_from_cdf(window_cdf, hist, total, epoch, t_k, zeta, previous):
    current = window_cdf[value_bin(-1.0 + ramp(epoch, t_k))]
    if epoch <= t_k:
        return current
    return torch.where(saturation(hist, total) < zeta, current, previous)


#: The parameters of :class:`PDiff`, checked when it is created.
PARAMETERS = {
    "window": Param(numbers.Integral, low=1),
    "noise_rate": Param(numbers.Real, 0, 1, high_open=True, options=("auto",)),
    "t_k": Param(numbers.Integral, low=0),
    "zeta": Param(numbers.Real, 0, 1, low_open=True),
    "n_classes": Param(numbers.Integral, low=2, options=(None,)),
    "epoch_batches": Param(numbers.Integral, low=1, options=(None,)),
    "sync": Param(options=("auto", True, False), what="'auto', True or False"),
}


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
        Number of recent mini-batches in the distribution, at least 1.
    noise_rate : float or "auto", default="auto"
        Known noise rate in [0, 1) (the share dropped after the ramp), or
        ``"auto"`` to estimate it online.
    t_k : int, default=20
        Length of the drop-rate ramp in epochs, at least 0.
    zeta : float, default=0.9
        Saturation at which the automatic estimate freezes, in (0, 1].
    n_classes : int or None, default=None
        When given (at least 2), one histogram and one threshold per given
        label (beyond the paper, see ``docs/pdiff.md``): each class drops its
        own lowest share, so a hard or rare class is not dropped wholesale.
        The drop rate, and the automatic estimate, stay global.
        :meth:`forward` then needs ``labels``.
    epoch_batches : int or None, default=None
        Number of mini-batches in one epoch. When given, the window is
        capped at it: a longer window would count samples twice, with stale
        deltas.
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
    window : int
        Window in force: ``min(window, epoch_batches)``.
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
        epoch_batches=None,
        sync="auto",
    ):
        super().__init__()
        check_params(
            {
                "window": window,
                "noise_rate": noise_rate,
                "t_k": t_k,
                "zeta": zeta,
                "n_classes": n_classes,
                "epoch_batches": epoch_batches,
                "sync": sync,
            },
            PARAMETERS,
        )
        self.window = window if epoch_batches is None else min(window, epoch_batches)
        self.noise_rate = noise_rate
        self.t_k = t_k
        self.zeta = zeta
        self.n_classes = n_classes
        self.sync = sync
        self.steps = 0
        f64 = {"dtype": torch.float64}
        self.register_buffer("ring", torch.zeros(self.window, (n_classes or 1) * N_BINS, **f64))
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

    @property
    def assumed_noise_rate(self):
        """The share of wrong labels the run assumes: ``noise_rate``, or the last drop rate."""
        return float(self.drop_rate if isinstance(self.noise_rate, str) else self.noise_rate)

    def cap_window(self, epoch_batches):
        """Cap the window at ``epoch_batches`` (at least ``steps``), keeping the batches it holds.

        The creation-time cap, for a loop that learns an epoch's length by running one:
        called as the first epoch ends (``steps == epoch_batches``) it leaves the state
        as that cap would have.
        """
        check_params(
            {"epoch_batches": epoch_batches}, {"epoch_batches": PARAMETERS["epoch_batches"]}
        )
        if epoch_batches >= self.window:
            return
        if self.steps > epoch_batches:
            raise ValueError(
                f"epoch_batches={epoch_batches} is below the {self.steps} steps taken: the "
                f"window can only be capped within the first epoch."
            )
        # Rows 0..steps-1 of the ring hold the batches in order; the next goes to row
        # steps % epoch_batches, over the oldest once the shorter ring is full.
        self.register_buffer("ring", self.ring[:epoch_batches].clone())
        self.window = epoch_batches

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # A saved run's window may have been capped (cap_window): its ring sets it.
        ring = state_dict.get(prefix + "ring")
        if ring is not None and ring.shape != self.ring.shape:
            self.register_buffer("ring", torch.empty_like(ring, device=self.ring.device))
            self.window = ring.shape[0]
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

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
        masses = (
            torch.ones_like(delta, dtype=torch.float64)
            if sample_weight is None
            else sample_weight.to(torch.float64)
        )
        cell = bins if self.n_classes is None else labels * N_BINS + bins
        batch_hist = self.ring[self.steps % self.window]
        batch_hist.zero_().index_add_(0, cell, masses)
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

        total = mass(self.hist)
        window_cdf = cdf(self.hist, total)
        if isinstance(self.noise_rate, str):  # "auto"
            self.drop_rate.copy_(
                _estimate_from_cdf(
                    window_cdf, self.hist, total, epoch, self.t_k, self.zeta, self.drop_rate
                )
            )
        else:
            self.drop_rate.fill_(drop_rate_schedule(self.noise_rate, epoch, self.t_k))
        cdf_threshold(window_cdf, self.drop_rate, out=self.t_bin)
        if self.n_classes is None:
            threshold = self.t_bin
        else:
            cdf_threshold(cdf(self.class_hist), self.drop_rate, out=self.class_t_bin)
            threshold = self.class_t_bin[labels]
        if not self.full:
            return torch.ones_like(delta, dtype=torch.float32)
        return hard_weights(bins, threshold)

    def get_extra_state(self):
        """Return the step counter, which is not a tensor."""
        return {"steps": self.steps}

    def set_extra_state(self, state):
        """Restore what :meth:`get_extra_state` returned."""
        self.steps = state["steps"]
