"""Networks shipped with the package.

Both return logits (no softmax): :class:`~cleanlab_pdiff.PDiffClassifier`
trains them with cross-entropy and applies the softmax itself.
"""

import copy
import math

import torch
from torch import nn

__all__ = ["CNN9", "MLP", "Ensemble", "build_module"]


class MLP(nn.Module):
    """Multi-layer perceptron for tabular data and embedding features.

    ``Linear -> ReLU (-> Dropout)`` per hidden layer, then a linear layer to
    the logits. It is the default network of
    :class:`~cleanlab_pdiff.PDiffClassifier` for 2-D input.

    Parameters
    ----------
    n_features : int
        Number of input features.
    n_classes : int
        Number of classes (output logits).
    hidden : tuple of int, default=(256, 256)
        Width of each hidden layer.
    dropout : float, default=0.0
        Dropout probability after each hidden layer.

    Examples
    --------
    >>> import torch
    >>> MLP(4, 3)(torch.zeros(2, 4)).shape
    torch.Size([2, 3])
    """

    def __init__(self, n_features, n_classes, hidden=(256, 256), dropout=0.0):
        super().__init__()
        layers = []
        width = n_features
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = size
        layers.append(nn.Linear(width, n_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        """Return the logits of a batch of shape (B, n_features)."""
        return self.layers(x)


def _conv_block(in_channels, out_channels, padding):
    return [
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=padding),
        nn.BatchNorm2d(out_channels),
        nn.LeakyReLU(0.01),
    ]


class CNN9(nn.Module):
    """The 9-layer CNN of Co-teaching, used by the P-DIFF authors for MNIST/CIFAR.

    Three 3x3 convolutions of 128 channels, max-pool, dropout; three of 256,
    max-pool, dropout; then 512, 256 and 128 channels without padding; each
    convolution with batch norm and LeakyReLU(0.01); global average pooling
    and a linear layer to the logits. It is the default network of
    :class:`~cleanlab_pdiff.PDiffClassifier` for 4-D input ``(N, C, H, W)``.
    The unpadded convolutions need images of at least 28 x 28 pixels.

    Parameters
    ----------
    in_channels : int
        Number of input channels C.
    n_classes : int
        Number of classes (output logits).
    dropout : float, default=0.25
        Dropout probability after each max-pool.
    width : int, default=128
        Channels of the first block; the others have ``2 * width``,
        ``4 * width``, ``2 * width`` and ``width`` (the paper's 128, 256, 512,
        256, 128). A narrower network trains faster on a CPU.
    padded : bool, default=False
        Pad the last three convolutions too, for images under 28 pixels.

    Examples
    --------
    >>> import torch
    >>> CNN9(3, 10)(torch.zeros(2, 3, 32, 32)).shape
    torch.Size([2, 10])
    >>> CNN9(3, 10, width=8, padded=True)(torch.zeros(2, 3, 16, 16)).shape
    torch.Size([2, 10])
    """

    #: Smallest image side: two max-pools then three unpadded 3x3 convolutions.
    MIN_SIZE = 28

    def __init__(self, in_channels, n_classes, dropout=0.25, width=128, padded=False):
        super().__init__()
        w1, w2, w3 = width, 2 * width, 4 * width
        pad = 1 if padded else 0
        self.features = nn.Sequential(
            *_conv_block(in_channels, w1, 1),
            *_conv_block(w1, w1, 1),
            *_conv_block(w1, w1, 1),
            nn.MaxPool2d(2),
            nn.Dropout2d(dropout),
            *_conv_block(w1, w2, 1),
            *_conv_block(w2, w2, 1),
            *_conv_block(w2, w2, 1),
            nn.MaxPool2d(2),
            nn.Dropout2d(dropout),
            *_conv_block(w2, w3, pad),
            *_conv_block(w3, w2, pad),
            *_conv_block(w2, w1, pad),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.classifier = nn.Linear(w1, n_classes)

    def forward(self, x):
        """Return the logits of a batch of shape (B, C, H, W)."""
        return self.classifier(self.features(x))


class Ensemble(nn.Module):
    """Networks whose class probabilities are averaged: the retrained model of a fit.

    It returns the logarithm of the members' average softmax, logits whose softmax is
    that average.

    Parameters
    ----------
    members : sequence of torch.nn.Module
        Trained networks returning logits of the same classes.

    Examples
    --------
    >>> import torch
    >>> ensemble = Ensemble([nn.Linear(4, 3), nn.Linear(4, 3)])
    >>> x = torch.zeros(2, 4)
    >>> average = (ensemble.members[0](x).softmax(-1) + ensemble.members[1](x).softmax(-1)) / 2
    >>> torch.allclose(ensemble(x).softmax(-1), average)
    True
    """

    def __init__(self, members):
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x):
        """Return the log of the members' average class probabilities for a batch ``x``."""
        log_probs = torch.stack([member(x).float().log_softmax(dim=-1) for member in self.members])
        return torch.logsumexp(log_probs, dim=0) - math.log(len(self.members))


def build_module(module, input_shape, n_classes):
    """Return the network to train, as :class:`~cleanlab_pdiff.PDiffClassifier` chooses it.

    Parameters
    ----------
    module : None, torch.nn.Module or callable
        ``None`` picks :class:`MLP` for samples of shape ``(n_features,)`` and
        :class:`CNN9` for images of shape ``(C, H, W)``; a module is
        deep-copied (its weights are used as given); a callable is called as
        ``module(n_features, n_classes)`` (``n_features`` is ``C`` for images)
        and must return a module.
    input_shape : tuple of int
        Shape of one sample.
    n_classes : int
        Number of classes (output logits).

    Returns
    -------
    network : torch.nn.Module

    Examples
    --------
    >>> type(build_module(None, (4,), 3)).__name__
    'MLP'
    >>> type(build_module(None, (3, 32, 32), 3)).__name__
    'CNN9'
    """
    n_features = input_shape[0]
    if module is None:
        if len(input_shape) == 1:
            return MLP(n_features, n_classes)
        if len(input_shape) == 3:
            if min(input_shape[1:]) < CNN9.MIN_SIZE:
                raise ValueError(
                    f"The default CNN9 needs images of at least {CNN9.MIN_SIZE} x "
                    f"{CNN9.MIN_SIZE} pixels, got {input_shape[1]} x {input_shape[2]}; pass "
                    f"module=... for smaller images."
                )
            return CNN9(n_features, n_classes)
        raise ValueError(
            f"X has {len(input_shape) + 1} dimensions; the default network takes 2-D features "
            f"(n_samples, n_features) or 4-D images (n_samples, C, H, W). Pass "
            f"module=... for other shapes."
        )
    if isinstance(module, nn.Module):
        return copy.deepcopy(module)
    if callable(module):
        network = module(n_features, n_classes)
        if not isinstance(network, nn.Module):
            raise TypeError(
                f"module(n_features, n_classes) must return a torch.nn.Module, "
                f"got {type(network).__name__}."
            )
        return network
    raise TypeError(
        f"module must be None, a torch.nn.Module or a callable "
        f"(n_features, n_classes) -> nn.Module, got {type(module).__name__}."
    )
