"""The skorch nets that train a fit's networks: P-DIFF's loss through skorch's seams.

:class:`PDiffNet` overrides ``get_loss`` (to hand the criterion, which holds all
P-DIFF state, the routed targets and the epoch) and ``infer`` (for bfloat16
autocast); :class:`AcceleratedPDiffNet` trains through an
``accelerate.Accelerator`` and also overrides ``initialize_criterion`` and
``__reduce_ex__`` (see their docstrings for why). How a net is built and trained
is :mod:`~cleanlab_pdiff._fit.training`'s.
"""

import torch
from skorch import NeuralNet
from skorch.hf import AccelerateMixin
from skorch.utils import to_tensor

__all__ = ["AcceleratedPDiffNet", "PDiffNet", "softmax"]


def softmax(logits):
    """Turn the network's logits into probabilities for ``predict_proba``."""
    return torch.softmax(logits, dim=-1)


class PDiffNet(NeuralNet):
    """skorch net whose training loss is P-DIFF-weighted cross-entropy.

    :meth:`get_loss` unpacks the routed targets and hands the criterion the
    epoch (the number of completed epochs) when training; :meth:`infer`
    runs the module under mixed precision when ``autocast_dtype`` is given.

    Parameters
    ----------
    *args, **kwargs
        As for ``skorch.NeuralNet``.
    autocast_dtype : torch.dtype or None, default=None
        Lower-precision dtype of :func:`torch.autocast` for the module's
        forward pass, in training and prediction; the logits come back as
        float32, so the loss and P-DIFF's statistics are computed in full
        precision. ``None``: float32 throughout.
    n_threads : int or None, default=None
        torch's intra-op threads while the net trains or predicts (see
        :func:`~cleanlab_pdiff._fit.training.running`); ``None`` leaves torch's setting.
    """

    def __init__(self, *args, autocast_dtype=None, n_threads=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.autocast_dtype = autocast_dtype
        self.n_threads = n_threads

    @property
    def torch_device(self):
        """The ``torch.device`` the net trains on, also when Accelerate places it."""
        device = torch.device(self.device) if self.device is not None else self.accelerator.device
        # Accelerate names the CPU of process 0 "cpu:0", which torch.load can't map to.
        return torch.device("cpu") if device.type == "cpu" else device

    def infer(self, x, **fit_params):
        """Return the module's logits, computed under autocast if ``autocast_dtype`` is set."""
        if self.autocast_dtype is None:
            return super().infer(x, **fit_params)
        with torch.autocast(self.torch_device.type, dtype=self.autocast_dtype):
            logits = super().infer(x, **fit_params)
        return logits.float()

    def get_loss(self, y_pred, y_true, X=None, training=False):
        labels, index, sample_weight = (
            to_tensor(y_true[key], device=self.device) if key in y_true else None
            for key in ("label", "index", "weight")
        )
        epoch = len(self.history) - 1 if training else None
        return self.criterion_(y_pred, labels, sample_weight, index, epoch)


class AcceleratedPDiffNet(AccelerateMixin, PDiffNet):
    """:class:`PDiffNet` trained through an ``accelerate.Accelerator`` (skorch's mixin).

    The accelerator prepares the module (wrapped in ``DistributedDataParallel``
    when several processes train), the optimizer and the data loaders, which
    it shards by whole batches. It leaves the criterion alone (see
    :meth:`initialize_criterion`).
    """

    def initialize_criterion(self):
        """Initialise the criterion, on the accelerator's device, and keep Accelerate off it.

        The criterion has no parameters to synchronise, and its buffers (the
        window, each process's per-example statistics) must not be replaced
        by process 0's: yet on CPUs Accelerate wraps any module it prepares
        in ``DistributedDataParallel``, which broadcasts them at every call.
        Marked as prepared, it is passed over.
        """
        super().initialize_criterion()
        if self.accelerator.device_placement:
            self.criterion_.to(self.accelerator.device)
        self.criterion_._is_accelerate_prepared = True
        return self

    def __reduce_ex__(self, protocol):
        """Pickle as a plain :class:`PDiffNet` on the device this process trained on.

        An Accelerator is this process's handle on a distributed run: loaded
        elsewhere, it would still shard and gather as if its processes were
        there. The plain net predicts, and trains on, where it is loaded.
        """
        state = dict(vars(self))
        for name in ("accelerator", "unwrap_after_train", "_wrapped_with_accelerator"):
            del state[name]
        state["device"] = str(self.torch_device)
        if "module_" in state:
            state["module_"] = self.accelerator.unwrap_model(self.module_)
            state["optimizer_"] = getattr(self.optimizer_, "optimizer", self.optimizer_)
        plain = _new_pdiff_net()
        vars(plain).update(state)
        return _new_pdiff_net, (), plain.__getstate__()


def _new_pdiff_net():
    """Return an empty :class:`PDiffNet` for unpickling to fill in (see ``__reduce_ex__``)."""
    return PDiffNet.__new__(PDiffNet)
