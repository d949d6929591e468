"""The histogram of ``delta`` that P-DIFF keeps: bins, CDF, threshold and saturation.

Pure PyTorch. The bins follow the authors' released Caffe layer (``docs/pdiff.md``):
0.01 wide over [-1.1, 1.1], bin ids clamped to [0, 220]. A histogram here is a
float64 tensor of ``N_BINS`` masses (sample-weighted counts), or ``(G, N_BINS)``
for one histogram per group; every function keeps its result on the histogram's
device, with no host synchronisation.
"""

import functools
import math

import torch

__all__ = [
    "BIN_WIDTH",
    "N_BINS",
    "bin_centres",
    "cdf",
    "cdf_threshold",
    "delta_bin",
    "mass",
    "saturation",
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


def mass(hist):
    """Return the mass of a histogram, or of each row of a ``(G, N_BINS)`` one, kept above 0.

    Kept above 0 so that an empty window has a CDF and a saturation of 0
    rather than NaN. Shape ``()`` for one histogram, ``(G, 1)`` for rows.
    """
    total = hist.sum(dim=-1, keepdim=hist.dim() > 1)
    return total.clamp_min_(torch.finfo(hist.dtype).tiny)


def cdf(hist, total=None):
    """Return the cumulative share of the mass up to each bin (per row).

    Parameters
    ----------
    hist : torch.Tensor of shape (N_BINS,) or (G, N_BINS)
        Histogram(s) of ``delta``.
    total : torch.Tensor, optional
        ``mass(hist)``, when the caller has it already.

    Returns
    -------
    cdf : torch.Tensor, same shape as ``hist``
        Non-decreasing along the bins, ending at 1 (0 for an empty histogram).
    """
    return hist.cumsum(dim=-1).div_(mass(hist) if total is None else total)


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
    return cdf_threshold(cdf(hist), drop_rate)


def cdf_threshold(cdf, drop_rate, out=None):
    """Return ``min{b : cdf[b] > drop_rate}`` (per row), as :func:`threshold_bin` does.

    Parameters
    ----------
    cdf : torch.Tensor of shape (N_BINS,) or (G, N_BINS)
        The output of :func:`cdf`.
    drop_rate : float or 0-d torch.Tensor
        Share of the mass to drop, in [0, 1).
    out : torch.Tensor of int64, optional
        Written in place (shape () or (G,)).

    Returns
    -------
    t_bin : torch.Tensor of int64, shape () or (G,)
    """
    # The CDF is non-decreasing (a running sum of non-negative masses over a
    # positive total), so the first bin above the rate is where a binary search
    # for the rate ends: one operation, and no data-dependent host sync.
    rate = torch.as_tensor(drop_rate, dtype=cdf.dtype, device=cdf.device)
    if cdf.dim() == 1:
        return torch.searchsorted(cdf, rate, right=True, out=out)
    # One search per row: the rate as a column.
    rows = torch.searchsorted(cdf, rate.expand(*cdf.shape[:-1], 1).contiguous(), right=True)
    return rows.squeeze(-1) if out is None else out.copy_(rows.squeeze(-1))


def saturation(hist, total=None):
    """Return the mean ``|delta|`` of a histogram, from bin centres.

    The released layer calls this the training saturation; the noise-rate
    estimate freezes once it reaches ``zeta``. ``total`` is ``mass(hist)``,
    when the caller has it already.
    """
    total = mass(hist) if total is None else total
    return torch.dot(hist, _abs_centres(hist.device)).div_(total)
