"""P-DIFF-weighted cross-entropy with per-example bookkeeping: pure PyTorch.

:class:`PDiffLoss` is the criterion of :class:`~cleanlab_pdiff.PDiffClassifier`'s
skorch net, of any skorch net with :class:`~cleanlab_pdiff.skorch.PDiffCallback`
(``docs/skorch.md``), and works in any training loop. All P-DIFF training state
lives in it (the window, the per-example statistics, the random-number state at
the last epoch end), so ``state_dict()``, skorch's ``Checkpoint`` and pickling
carry it along; a loaded state brings its own number of rows and window.
"""

import numbers

import torch
from torch import distributed as dist
from torch import nn
from torch.nn import functional as F

from ._params import Param, check_params
from .pdiff import PDiff, is_synchronised, probability_difference

__all__ = ["PDiffLoss"]

#: The parameters of :class:`PDiffLoss` beyond those of :class:`PDiff`.
PARAMETERS = {
    "n_samples": Param(numbers.Integral, low=0, options=(None,)),
    "quality_epochs": Param(numbers.Integral, low=1),
}

#: The per-example buffers, each one entry per row (along its last axis), and the value
#: of a row not seen yet.
_PER_EXAMPLE = {
    "recent_deltas": torch.nan,
    "last_weights": 1.0,
    "confidence_sum": 0.0,
    "confidence_count": 0.0,
}


class PDiffLoss(nn.CrossEntropyLoss):
    """Cross-entropy whose training batches are weighted by P-DIFF.

    The loss of a training batch is ``sum_i s_i w_i CE_i / sum_i s_i`` with
    ``s_i`` the sample weights and ``w_i`` P-DIFF's 0/1 weights: with unit
    sample weights, the released layer's normalisation by the batch size
    (not by the number of kept examples). It takes logits, as
    ``torch.nn.CrossEntropyLoss`` does, whose subclass it is so that skorch's
    ``predict_proba`` applies the softmax (none of its options apply).

    Parameters
    ----------
    window : int, default=100
        Number of recent mini-batches in the delta distribution (see
        ``epoch_batches``; :class:`~cleanlab_pdiff.skorch.PDiffCallback` caps it
        at the first epoch's batches).
    noise_rate : float or "auto", default="auto"
        Known noise rate, or ``"auto"`` to estimate it.
    t_k : int, default=20
        Length of the drop-rate ramp in epochs.
    zeta : float, default=0.9
        Saturation at which the automatic estimate freezes.
    n_classes : int or None, default=None
        Number of classes, for per-class thresholds (see :class:`PDiff`);
        ``None`` uses one global threshold, as the released layer does.
    epoch_batches : int or None, default=None
        Mini-batches in one epoch, the cap of ``window`` (see :class:`PDiff`).
    n_samples : int or None, default=None
        Size of the training set, to keep per-example statistics (pass the
        rows' indices to :meth:`forward`); ``None`` keeps none.
    quality_epochs : int, default=5
        Number of recent epochs whose per-example deltas are kept
        (:meth:`epoch_deltas`), at least 1.
    sync : {"auto", True, False}, default="auto"
        Sum the delta histogram across ``torch.distributed`` processes at
        every step (see :class:`PDiff`). Each process then records the
        per-example statistics of the rows it sees; :meth:`all_reduce_examples`
        combines them.

    Attributes
    ----------
    pdiff : PDiff
        The sliding-window weighting.
    recent_deltas : torch.Tensor of shape (quality_epochs, n_samples)
        Each example's delta in its last epochs (NaN before it is seen), in
        a ring of epochs: read one epoch's row with :meth:`epoch_deltas`.
    last_weights : torch.Tensor of shape (n_samples,)
        Each example's P-DIFF weight at its last training step.
    confidence_sum, confidence_count : torch.Tensor of shape (n_samples,)
        Each example's summed self-confidence ``p[given label]`` over its
        training steps, and their number (see :meth:`training_quality`).

    Examples
    --------
    >>> import torch
    >>> criterion = PDiffLoss(window=1, noise_rate=0.25, t_k=0, n_samples=4)
    >>> logits = torch.tensor([[3.0, 0.0], [2.0, 0.0], [0.0, 1.0], [0.0, 3.0]])
    >>> labels = torch.tensor([0, 0, 0, 1])      # the third label looks wrong
    >>> loss = criterion(logits, labels, index=torch.arange(4), epoch=0)
    >>> criterion.last_weights.tolist()
    [1.0, 1.0, 0.0, 1.0]
    """

    def __init__(
        self,
        window=100,
        noise_rate="auto",
        t_k=20,
        zeta=0.9,
        n_classes=None,
        epoch_batches=None,
        n_samples=None,
        quality_epochs=5,
        sync="auto",
    ):
        super().__init__()
        check_params({"n_samples": n_samples, "quality_epochs": quality_epochs}, PARAMETERS)
        self.pdiff = PDiff(window, noise_rate, t_k, zeta, n_classes, epoch_batches, sync)
        self.quality_epochs = quality_epochs
        self.reset_examples(n_samples or 0)
        self.rng_state = None
        self._next_step = None

    def reset_examples(self, n_samples):
        """Start per-example statistics afresh for a training set of ``n_samples`` rows."""
        device = self.pdiff.hist.device
        for name, fill in _PER_EXAMPLE.items():
            shape = (self.quality_epochs, n_samples) if name == "recent_deltas" else (n_samples,)
            self.register_buffer(name, torch.full(shape, fill, device=device))

    def reserve_examples(self, n_samples):
        """Make room for the rows ``0 .. n_samples - 1``, keeping the statistics recorded."""
        extra = n_samples - self.last_weights.numel()
        if extra <= 0:
            return
        for name, fill in _PER_EXAMPLE.items():
            old = getattr(self, name)
            new = torch.full((*old.shape[:-1], extra), fill, dtype=old.dtype, device=old.device)
            self.register_buffer(name, torch.cat([old, new], dim=-1))

    def prepare_step(self, epoch, index=None, sample_weight=None):
        """Hand the next training call that is given no ``epoch`` this batch's step.

        For loops that call the criterion as ``criterion(logits, labels)``, as a skorch
        net does (:class:`~cleanlab_pdiff.skorch.PDiffCallback` calls this before each
        training batch): the next call in training mode (``self.training``, which skorch
        switches with the module's) without ``epoch`` is then
        ``forward(logits, labels, sample_weight, index, epoch)``. Any call forgets it.

        Parameters
        ----------
        epoch : int
            Number of completed epochs.
        index : torch.Tensor of shape (B,), optional
            The rows' indices, within :meth:`reserve_examples`' room.
        sample_weight : torch.Tensor of shape (B,), optional
            Per-sample weights.
        """
        self._next_step = (epoch, index, sample_weight)

    def begin_epoch(self, epoch):
        """Forget the deltas recorded ``quality_epochs`` epochs ago, before epoch ``epoch``.

        Every row then records its delta of this epoch afresh. In a single
        process each row is seen every epoch and overwrites its entry anyway;
        under data-parallel training a process sees a different share of the
        rows each epoch, and must not keep another epoch's entries for the rest.
        """
        self.epoch_deltas(epoch).fill_(torch.nan)

    def epoch_deltas(self, epoch):
        """Return the row of ``recent_deltas`` that holds epoch ``epoch``'s deltas (a view).

        Parameters
        ----------
        epoch : int
            An epoch, counting from 0, among the last ``quality_epochs``
            trained; the row of an older epoch has been reused since.

        Returns
        -------
        deltas : torch.Tensor of shape (n_samples,)
            Each example's delta in that epoch, NaN for one not seen in it.
        """
        return self.recent_deltas[epoch % self.quality_epochs]

    def kept_fraction(self, epoch=None):
        """Return the mean P-DIFF weight of the examples at their last step (0-d tensor).

        At the end of an epoch every example's last step lies in that epoch,
        so this is the share of the epoch's examples that were kept.

        Parameters
        ----------
        epoch : int, optional
            The epoch just ended (counting from 0): only the rows seen in it
            count, summed over the processes when synchronised (see
            :class:`PDiff`), which makes it a collective call. ``None``
            averages every row's last weight.
        """
        if epoch is None:
            return self.last_weights.mean()
        seen = ~torch.isnan(self.epoch_deltas(epoch))
        totals = torch.stack(
            [torch.where(seen, self.last_weights, 0.0).sum(), seen.sum(dtype=torch.float32)]
        )
        if is_synchronised(self.pdiff.sync):
            dist.all_reduce(totals)
        return totals[0] / totals[1]

    def all_reduce_examples(self, epoch):
        """Combine the processes' per-example statistics, after training.

        Under data-parallel training each process records only the rows it
        saw. Afterwards every process holds, for each row and each recent
        epoch, the mean of the deltas recorded for it (a row that a sharding
        sampler repeats to even out the batches may be seen twice), its
        smallest weight at its last step, in epoch ``epoch``, and its
        self-confidence summed over every process's steps. A no-op unless
        synchronised (see :class:`PDiff`); else a collective call.

        Parameters
        ----------
        epoch : int
            The last epoch trained (counting from 0).
        """
        if not is_synchronised(self.pdiff.sync) or not self.last_weights.numel():
            return
        seen = ~torch.isnan(self.recent_deltas)
        # A weight is at most 1: a row the process did not see in the last epoch
        # leaves the minimum to the process that did.
        seen_last = ~torch.isnan(self.epoch_deltas(epoch))
        last_weights = torch.where(seen_last, self.last_weights, 1.0)
        sums = torch.nan_to_num(self.recent_deltas, nan=0.0)
        counts = seen.to(sums.dtype)
        for tensor in (sums, counts, self.confidence_sum, self.confidence_count):
            dist.all_reduce(tensor)
        dist.all_reduce(last_weights, op=dist.ReduceOp.MIN)
        # 0 / 0 leaves NaN where no process saw the row.
        torch.div(sums, counts, out=self.recent_deltas)
        self.last_weights.copy_(last_weights)

    def forward(self, logits, labels, sample_weight=None, index=None, epoch=None):
        """Return the batch loss; step P-DIFF when ``epoch`` is given (training).

        Parameters
        ----------
        logits : torch.Tensor of shape (B, K)
            The network's outputs.
        labels : torch.Tensor of shape (B,)
            Given class indices.
        sample_weight : torch.Tensor of shape (B,), optional
            Per-sample weights (1 by default).
        index : torch.Tensor of shape (B,), optional
            The rows' indices in the training set, for per-example statistics.
        epoch : int, optional
            Number of completed epochs. ``None`` (evaluation) applies no
            P-DIFF weights and leaves the state untouched, unless a step was
            prepared (:meth:`prepare_step`) and the criterion is training.

        Returns
        -------
        loss : 0-d torch.Tensor
        """
        step, self._next_step = getattr(self, "_next_step", None), None
        if epoch is None and step is not None and self.training:
            epoch, index, sample_weight = step
        # One log-softmax serves the loss and, detached, the probabilities for delta.
        log_probs = F.log_softmax(logits, dim=1)
        losses = F.nll_loss(log_probs, labels, reduction="none")
        if epoch is not None:
            with torch.no_grad():
                # No detach needed: under no_grad the result records no graph.
                delta = probability_difference(log_probs.float().exp(), labels)
                kept = self.pdiff(delta, epoch, sample_weight, labels)
                if index is not None and self.last_weights.numel():
                    # index_copy_ rather than item assignment, whose indexing costs more.
                    self.epoch_deltas(epoch).index_copy_(0, index, delta)
                    self.last_weights.index_copy_(0, index, kept)
                    # exp(-cross-entropy) is the probability of the given label.
                    self.confidence_sum.index_add_(0, index, losses.neg().exp())
                    self.confidence_count.index_add_(0, index, torch.ones_like(kept))
            losses = kept * losses
        if sample_weight is None:
            return losses.mean()
        return (sample_weight * losses).sum() / sample_weight.sum().clamp_min(1e-12)

    def training_quality(self):
        """Return each example's mean self-confidence over its training steps (NaN if none).

        ``p[given label]`` from the training forward passes, averaged over every
        epoch: the area under the example's training curve, which stays low for
        a label the network learns late or never (as the area under the margin
        of Pleiss et al., 2020). In [0, 1], lower = more likely mislabelled:
        cleanlab's ``self_confidence`` scale.
        """
        return self.confidence_sum / self.confidence_count

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # A state saved on other rows (a checkpoint loaded into a fresh criterion) brings
        # its own number of them.
        for name in _PER_EXAMPLE:
            saved, own = state_dict.get(prefix + name), getattr(self, name)
            if saved is not None and saved.shape != own.shape:
                self.register_buffer(name, torch.empty_like(saved, device=own.device))
        self.quality_epochs = self.recent_deltas.shape[0]
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def get_extra_state(self):
        """Return the random-number state stored at the last epoch end."""
        return {"rng_state": self.rng_state}

    def set_extra_state(self, state):
        """Restore what :meth:`get_extra_state` returned."""
        self.rng_state = state["rng_state"]
