"""The paper's image augmentation, on a whole batch at once: random crop with padding, flip.

Hu et al. train on CIFAR with a random 32 x 32 crop of the image padded by 4 pixels
and a random horizontal flip. :func:`random_crop_flip` does both for a batch with one
gather, drawing from torch's global generator, which the estimator seeds (DataLoader
workers get theirs from it).
"""

import numpy as np
import torch

__all__ = ["random_crop_flip"]


def random_crop_flip(images, padding=4):
    """Return each image cropped at a random offset after zero padding, half of them flipped.

    Parameters
    ----------
    images : ndarray of shape (N, C, H, W)
        A batch of images (already standardised: the padding is zeros, the mean colour).
    padding : int, default=4
        Pixels of zeros added on each side before the ``H x W`` crop.

    Returns
    -------
    augmented : ndarray of shape (N, C, H, W), of the images' dtype

    Examples
    --------
    >>> batch = np.arange(2 * 1 * 3 * 3, dtype=np.float32).reshape(2, 1, 3, 3)
    >>> random_crop_flip(batch, padding=0)[0, 0].tolist() in (
    ...     batch[0, 0].tolist(), batch[0, 0, :, ::-1].tolist())
    True
    """
    if images.ndim != 4:
        raise ValueError(f"images must have shape (N, C, H, W), got {images.shape}.")
    n, channels, height, width = images.shape
    offsets = torch.randint(0, 2 * padding + 1, (2, n)).numpy()
    flipped = torch.randint(0, 2, (n, 1)).bool().numpy()
    padded = np.pad(images, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    rows = offsets[0][:, None] + np.arange(height)
    columns = offsets[1][:, None] + np.where(flipped, np.arange(width)[::-1], np.arange(width))
    return padded[
        np.arange(n)[:, None, None, None],
        np.arange(channels)[None, :, None, None],
        rows[:, None, :, None],
        columns[:, None, None, :],
    ]
