"""skorch glue: a net that overrides ``get_loss`` and a callback that owns P-DIFF state.

The estimator passes targets as a dict routed with each batch (skorch's FAQ
recipe for per-sample data): ``{"label": ..., "weight": ..., "index": ...}``.
"""

import torch
from skorch import NeuralNet
from skorch.callbacks import Callback
from skorch.utils import to_tensor

from .pdiff import BIN_WIDTH, PDiff, probability_difference, saturation

#: Name under which the P-DIFF callback is registered with the net.
CALLBACK_NAME = "pdiff"
#: Number of most recent epochs whose deltas are averaged into an example's
#: training-time label quality, so that one noisy epoch does not decide.
QUALITY_EPOCHS = 5


class PDiffCallback(Callback):
    """Own one training run's P-DIFF state and record per-epoch diagnostics.

    Besides the window, it keeps for every training example (by its row
    index, carried through skorch's batches) the deltas of its last
    ``QUALITY_EPOCHS`` epochs and its P-DIFF weight at its last step: O(N)
    memory on the training device, written without host copies.

    Parameters
    ----------
    window : int
        Effective window, in mini-batches.
    noise_rate : float or "auto"
        Known noise rate or ``"auto"``.
    t_k : int
        Length of the drop-rate ramp in epochs.
    zeta : float
        Saturation at which the automatic estimate freezes.
    """

    def __init__(self, window, noise_rate, t_k, zeta):
        self.window = window
        self.noise_rate = noise_rate
        self.t_k = t_k
        self.zeta = zeta

    def initialize(self):
        self.pdiff_ = PDiff(self.window, self.noise_rate, self.t_k, self.zeta)
        self.epoch_ = 0
        self.recent_deltas_ = None
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.pdiff_.to(net.device)
        n_samples = len(y["index"])
        if self.recent_deltas_ is None or self.recent_deltas_.shape[1] != n_samples:
            self.recent_deltas_ = torch.full(
                (QUALITY_EPOCHS, n_samples), torch.nan, device=net.device
            )
            self.last_weights_ = torch.ones(n_samples, device=net.device)

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        # skorch appends the epoch's history row before this hook runs.
        self.epoch_ = len(net.history) - 1
        self.kept_ = torch.zeros((), dtype=torch.float64, device=net.device)
        self.seen_ = torch.zeros((), dtype=torch.float64, device=net.device)

    def weigh(self, delta, sample_weight, index):
        """Step the window with a training batch; return its P-DIFF weights.

        Parameters
        ----------
        delta : torch.Tensor of shape (B,)
            The batch's detached probability differences.
        sample_weight : torch.Tensor of shape (B,)
            The batch's sample weights.
        index : torch.Tensor of shape (B,)
            The batch's row indices in the training data.

        Returns
        -------
        weights : torch.Tensor of shape (B,)
            P-DIFF's 0/1 weights.
        """
        weights = self.pdiff_(delta, self.epoch_, sample_weight)
        self.kept_ += (weights * sample_weight).sum()
        self.seen_ += sample_weight.sum()
        self.recent_deltas_[self.epoch_ % QUALITY_EPOCHS, index] = delta.float()
        self.last_weights_[index] = weights
        return weights

    def training_quality(self):
        """Return each example's mean delta over its recent epochs, mapped to [0, 1]."""
        return ((self.recent_deltas_.nanmean(dim=0) + 1) / 2).cpu().numpy()

    def excluded(self):
        """Return whether each example was dropped at its last training step."""
        return (self.last_weights_ == 0).cpu().numpy()

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        pdiff = self.pdiff_
        # One host read per epoch, for the history.
        net.history.record("drop_rate", float(pdiff.drop_rate))
        net.history.record("delta_threshold", -1.1 + BIN_WIDTH * int(pdiff.t_bin))
        net.history.record("kept_fraction", float(self.kept_ / self.seen_.clamp_min(1e-12)))
        net.history.record("saturation", float(saturation(pdiff.hist)))
        net.history.record("weighting", pdiff.full)


class PDiffNet(NeuralNet):
    """skorch net whose training loss is P-DIFF-weighted cross-entropy.

    The criterion must return per-sample losses (``reduction="none"``). The
    loss of a training batch is ``sum_i s_i w_i CE_i / sum_i s_i`` with
    ``s_i`` the sample weights and ``w_i`` P-DIFF's 0/1 weights: with unit
    sample weights this is the released layer's normalisation by the batch
    size, not by the number of kept samples.
    """

    def get_loss(self, y_pred, y_true, X=None, training=False):
        labels, sample_weight, index = (
            to_tensor(y_true[key], device=self.device) for key in ("label", "weight", "index")
        )
        losses = self.criterion_(y_pred, labels)
        weights = sample_weight
        if training:
            with torch.no_grad():
                probs = torch.softmax(y_pred.detach().float(), dim=1)
                delta = probability_difference(probs, labels)
            callback = dict(self.callbacks_)[CALLBACK_NAME]
            weights = sample_weight * callback.weigh(delta, sample_weight, index)
        return (weights * losses).sum() / sample_weight.sum().clamp_min(1e-12)
