"""Single-layer k-means features of images: unsupervised features for a CPU-sized run."""

import torch
from sklearn.cluster import MiniBatchKMeans
from torch.nn import functional as F

__all__ = ["kmeans_features"]


def _normalised_patches(images, patch):
    """All ``patch`` x ``patch`` patches of each image, each to zero mean and unit variance."""
    patches = F.unfold(images, patch).transpose(1, 2)  # (N, positions, C * patch**2)
    patches = patches - patches.mean(dim=2, keepdim=True)
    return patches / (patches.var(dim=2, keepdim=True) + 0.01).sqrt()


def kmeans_features(
    X_train, X_test, *, n_centroids=256, patch=6, n_patches=50_000, seed=0, batch=250
):
    """Single-layer k-means features of images (Coates, Lee and Ng, AISTATS 2011).

    Unsupervised: no label is used. ``n_patches`` random ``patch`` x ``patch`` patches
    of the training images, each normalised to zero mean and unit variance, are
    ZCA-whitened and clustered into ``n_centroids`` centroids (scikit-learn's
    ``MiniBatchKMeans``). An image's features are the "triangle" activations
    ``max(0, mean_k(d_k) - d_k)`` of its whitened patches' distances ``d_k`` to the
    centroids, summed over each quarter of the image: ``4 * n_centroids`` features,
    standardised with the training images' mean and standard deviation.

    Parameters
    ----------
    X_train : ndarray of shape (n_train, C, H, W), float32
        Training images (the centroids and the standardisation come from them).
    X_test : ndarray of shape (n_test, C, H, W), float32
        Test images.
    n_centroids : int, default=256
        Number of k-means centroids.
    patch : int, default=6
        Side of the patches.
    n_patches : int, default=50_000
        Patches drawn to fit the whitening and the centroids.
    seed : int, default=0
        Seed of the patch draw and of k-means.
    batch : int, default=250
        Images per feature-extraction batch (bounds the memory).

    Returns
    -------
    F_train : ndarray of shape (n_train, 4 * n_centroids), float32
    F_test : ndarray of shape (n_test, 4 * n_centroids), float32

    Examples
    --------
    >>> import numpy as np
    >>> images = np.random.default_rng(0).random((8, 3, 12, 12), dtype=np.float32)
    >>> F_train, F_test = kmeans_features(images, images[:2], n_centroids=5, n_patches=200)
    >>> F_train.shape, F_test.shape
    ((8, 20), (2, 20))
    """
    generator = torch.Generator().manual_seed(seed)
    X_train, X_test = torch.as_tensor(X_train), torch.as_tensor(X_test)
    side = X_train.shape[-1] - patch + 1
    n_images = min(X_train.shape[0], max(1, 4 * n_patches // side**2))
    images = X_train[torch.randperm(X_train.shape[0], generator=generator)[:n_images]]
    sample = _normalised_patches(images, patch).reshape(-1, X_train.shape[1] * patch**2)
    sample = sample[torch.randperm(sample.shape[0], generator=generator)[:n_patches]]
    mean = sample.mean(dim=0)
    values, vectors = torch.linalg.eigh(torch.cov((sample - mean).T))
    whiten = vectors @ torch.diag((values + 0.1).rsqrt()) @ vectors.T
    kmeans = MiniBatchKMeans(n_centroids, random_state=seed, n_init=1, batch_size=4096)
    centroids = torch.as_tensor(
        kmeans.fit((sample - mean) @ whiten).cluster_centers_, dtype=torch.float32
    )
    half = (side + 1) // 2

    def extract(X):
        features = []
        for images in X.split(batch):
            z = (_normalised_patches(images, patch) - mean) @ whiten
            squared = (z * z).sum(dim=2, keepdim=True) - 2 * z @ centroids.T
            distances = (squared + (centroids * centroids).sum(dim=1)).clamp_min(0).sqrt()
            active = (distances.mean(dim=2, keepdim=True) - distances).clamp_min(0)
            active = active.reshape(images.shape[0], side, side, n_centroids)
            quarters = [
                active[:, rows, cols].sum(dim=(1, 2))
                for rows in (slice(0, half), slice(half, None))
                for cols in (slice(0, half), slice(half, None))
            ]
            features.append(torch.cat(quarters, dim=1))
        return torch.cat(features)

    F_train, F_test = extract(X_train), extract(X_test)
    centre, scale = F_train.mean(dim=0), F_train.std(dim=0) + 1e-6
    return ((F_train - centre) / scale).numpy(), ((F_test - centre) / scale).numpy()
