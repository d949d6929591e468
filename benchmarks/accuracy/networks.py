"""The networks the accuracy suites train on CIFAR-10 pixels, behind the paper's flips.

:class:`RandomFlip` is the paper's horizontal-flip augmentation as a module;
:func:`paper_cnn` is the 9-layer CNN behind it, :func:`small_cnn` the same CNN with
fewer channels, for the CPU.
"""

import torch
from torch import nn

from cleanlab_pdiff.networks import CNN9

__all__ = ["RandomFlip", "paper_cnn", "small_cnn"]


class RandomFlip(nn.Module):
    """Flip each image of a training batch left-right with probability 1/2, then run ``module``.

    The paper's only augmentation, as a module so that every method (whatever its
    training loop) gets it; in evaluation mode the images pass unchanged. The flips
    draw from torch's global generator, which the training loops seed.

    Parameters
    ----------
    module : torch.nn.Module
        The network.

    Examples
    --------
    >>> net = RandomFlip(nn.Identity()).eval()
    >>> bool((net(torch.ones(2, 3, 4, 4)) == 1).all())
    True
    """

    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, x):
        """Return the network's output on the (randomly flipped, when training) batch."""
        if self.training:
            flip = torch.rand(x.shape[0], device=x.device) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(-1), x)
        return self.module(x)


def paper_cnn(in_channels, n_classes):
    """Return the paper's network: :class:`~cleanlab_pdiff.CNN9` behind :class:`RandomFlip`."""
    return RandomFlip(CNN9(in_channels, n_classes))


def small_cnn(in_channels, n_classes, width=16, padded=False):
    """Return a narrow :class:`~cleanlab_pdiff.CNN9` behind :class:`RandomFlip` (the CPU CNN)."""
    return RandomFlip(CNN9(in_channels, n_classes, width=width, padded=padded))
