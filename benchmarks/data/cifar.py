"""CIFAR-10 with real human label noise (CIFAR-10N), read offline from ../shared/data.

The folder is ``--data-dir`` where a script takes it, else ``$CLEANLAB_PDIFF_DATA_DIR``,
else ``../shared/data`` beside the repository (:func:`find_data_dir`). Two files, never
copied into the repository (see that folder's README):

- ``cifar10-jpeg.tar.gz``: the 60,000 images as JPEG, ``train/<class>/<k:04d>.jpg``
  and ``test/<class>/<k:04d>.jpg``;
- ``CIFAR-10_human.pt``: the CIFAR-10N labels of the 50,000 training images in the
  canonical CIFAR-10 order (a torch zip whose pickle holds only NumPy arrays).

The training image of canonical index ``i`` is the ``k``-th (0-based) occurrence of its
class ``c = clean_label[i]``, stored as ``train/<class c>/<k:04d>.jpg``. The networks
the benchmark trains on these images are in :mod:`benchmarks.accuracy.networks`, the
unsupervised features of a CPU-sized run in :mod:`benchmarks.data.kmeans`.
"""

import io
import os
import pickle
import tarfile
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from ..common import ROOT

__all__ = [
    "CLASSES",
    "HUMAN_LABELS",
    "DATA_DIR_VARIABLE",
    "default_data_dir",
    "find_data_dir",
    "load_cifar10n",
    "load_embedded",
    "read_human_labels",
    "read_images",
    "train_file_names",
]

#: Class folders in the standard CIFAR-10 index order.
CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
#: Short name of each CIFAR-10N label set -> its key in CIFAR-10_human.pt.
HUMAN_LABELS = {"aggre": "aggre_label", "random1": "random_label1", "worse": "worse_label"}
#: Per-channel mean and standard deviation of the JPEG training images (the data README).
MEAN = np.array([0.4913, 0.4821, 0.4465], dtype=np.float32)
STD = np.array([0.2452, 0.2428, 0.2606], dtype=np.float32)
ARCHIVE = "cifar10-jpeg.tar.gz"
LABEL_FILE = "CIFAR-10_human.pt"


#: Environment variable naming the data folder, for a clone that is not beside ``shared/``.
DATA_DIR_VARIABLE = "CLEANLAB_PDIFF_DATA_DIR"


def default_data_dir():
    """Return ``$CLEANLAB_PDIFF_DATA_DIR``, else ``../shared/data`` beside the repository."""
    return Path(os.environ.get(DATA_DIR_VARIABLE) or ROOT.parent / "shared" / "data")


def find_data_dir(data_dir=None, files=(ARCHIVE, LABEL_FILE)):
    """Return the data folder (``None``: :func:`default_data_dir`), checked to hold ``files``.

    Raises
    ------
    FileNotFoundError
        If a file is missing: a one-line message that names the files and how to point
        at the folder that holds them (``--data-dir`` or the environment variable).
    """
    data_dir = Path(default_data_dir() if data_dir is None else data_dir)
    missing = [name for name in files if not (data_dir / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"no CIFAR-10 data in {data_dir} (missing {' and '.join(missing)}): pass "
            f"--data-dir DIR or set {DATA_DIR_VARIABLE}=DIR, DIR being the folder that holds "
            f"{' and '.join(files)} (by default ../shared/data beside the clone)."
        )
    return data_dir


def read_human_labels(path):
    """Read the CIFAR-10N label arrays without torch.

    Parameters
    ----------
    path : path-like
        ``CIFAR-10_human.pt``.

    Returns
    -------
    labels : dict of str to ndarray of shape (50000,)
        ``clean_label``, ``aggre_label``, ``worse_label``, ``random_label1..3``, in
        the canonical training order.
    """
    with zipfile.ZipFile(path) as archive:
        name = next(n for n in archive.namelist() if n.endswith("data.pkl"))
        labels = pickle.Unpickler(io.BytesIO(archive.read(name))).load()
    return {key: np.asarray(value, dtype=np.int64) for key, value in labels.items()}


def train_file_names(clean_label):
    """Return the archive path of each canonical training index (an object array)."""
    names = np.empty(clean_label.size, dtype=object)
    for c, folder in enumerate(CLASSES):
        (rows,) = np.nonzero(clean_label == c)
        names[rows] = [f"train/{folder}/{k:04d}.jpg" for k in range(rows.size)]
    return names


def read_images(archive_path, names, size=32):
    """Decode the named JPEG members of the archive, in the order given, to uint8 RGB.

    Parameters
    ----------
    archive_path : path-like
        ``cifar10-jpeg.tar.gz``.
    names : sequence of str
        Member names, e.g. ``train/cat/0042.jpg``.
    size : int, default=32
        Side of the returned images; below 32 they are shrunk with a box filter
        (averaging pixel blocks).

    Returns
    -------
    images : ndarray of shape (len(names), size, size, 3), uint8
    """
    wanted = {name: row for row, name in enumerate(names)}
    images = np.zeros((len(names), size, size, 3), dtype=np.uint8)
    found = 0
    with tarfile.open(archive_path, "r:gz") as archive:
        for member in archive:
            row = wanted.get(member.name)
            if row is None:
                continue
            with Image.open(archive.extractfile(member)) as image:
                image = image.convert("RGB")
                if image.size != (size, size):
                    image = image.resize((size, size), Image.Resampling.BOX)
                images[row] = np.asarray(image)
            found += 1
    if found != len(names):
        raise FileNotFoundError(
            f"{archive_path} lacks {len(names) - found} of the {len(names)} images asked for."
        )
    return images


def _standardised_pixels(images):
    """uint8 (N, H, W, 3) -> float32 (N, 3, H, W) standardised with :data:`MEAN`, :data:`STD`."""
    pixels = (images.astype(np.float32) / 255 - MEAN) / STD
    return np.ascontiguousarray(pixels.transpose(0, 3, 1, 2))


def _sizes_and_labels(n_train, n_test, data_dir):
    """Check the subset sizes; return the data folder and the CIFAR-10N labels."""
    for name, n, total in (("n_train", n_train, 50_000), ("n_test", n_test, 10_000)):
        if not 10 <= n <= total or n % 10:
            raise ValueError(f"{name} must be a multiple of 10 in [10, {total}], got {n!r}.")
    data_dir = find_data_dir(data_dir)
    return data_dir, read_human_labels(data_dir / LABEL_FILE)


def _balanced_subset(labels, per_class, rng):
    """Sorted indices of ``per_class`` random examples of each class."""
    rows = [
        rng.choice(np.flatnonzero(labels == c), per_class, replace=False)
        for c in range(len(CLASSES))
    ]
    return np.sort(np.concatenate(rows))


def load_cifar10n(n_train, n_test, *, data_dir=None, size=32, seed=0, cache_dir=None):
    """Load a class-balanced CIFAR-10 subset with its clean and CIFAR-10N labels.

    The training images are drawn at random, ``n_train / 10`` per clean class, from
    the 50,000 (``seed`` picks them); the test images likewise from the 10,000. Pixels
    are scaled to [0, 1] and standardised per channel with the training set's mean and
    standard deviation (:data:`MEAN`, :data:`STD`).

    Parameters
    ----------
    n_train : int
        Number of training images, a multiple of 10 up to 50,000.
    n_test : int
        Number of test images, a multiple of 10 up to 10,000.
    data_dir : path-like, default=None
        Folder holding the archive and the label file; ``None`` is
        :func:`default_data_dir`.
    size : int, default=32
        Side of the returned images; below 32 they are shrunk with a box filter
        (averaging pixel blocks).
    seed : int, default=0
        Seed of the subset draw.
    cache_dir : path-like, default=None
        Where to keep the decoded arrays (``.npz``) for later calls; ``None``
        decodes every time.

    Returns
    -------
    data : dict
        ``X_train`` (n_train, 3, size, size) float32, ``y_train`` (clean labels),
        ``noisy`` (dict of :data:`HUMAN_LABELS` name to the CIFAR-10N labels of those
        images), ``index`` (their canonical training indices), ``X_test``, ``y_test``.
    """
    data_dir, labels = _sizes_and_labels(n_train, n_test, data_dir)
    clean = labels["clean_label"]
    rng = np.random.default_rng(seed)
    index = _balanced_subset(clean, n_train // 10, rng)
    test_rows = _balanced_subset(np.repeat(np.arange(10), 1000), n_test // 10, rng)
    y_test = test_rows // 1000
    cache = None
    if cache_dir is not None:
        cache = Path(cache_dir) / f"cifar10_{n_train}_{n_test}_{size}px_seed{seed}.npz"
    if cache is not None and cache.exists():
        with np.load(cache) as stored:
            X_train, X_test = stored["X_train"], stored["X_test"]
    else:
        test_names = [f"test/{CLASSES[row // 1000]}/{row % 1000:04d}.jpg" for row in test_rows]
        names = [*train_file_names(clean)[index], *test_names]
        pixels = _standardised_pixels(read_images(data_dir / ARCHIVE, names, size))
        X_train, X_test = pixels[:n_train], pixels[n_train:]
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            np.savez(cache, X_train=X_train, X_test=X_test)
    return {
        "X_train": X_train,
        "y_train": clean[index],
        "noisy": {name: labels[key][index] for name, key in HUMAN_LABELS.items()},
        "index": index,
        "X_test": X_test,
        "y_test": y_test,
    }


def load_embedded(n_train, n_test, data_dir=None, cache_dir=None, *, progress=True):
    """Load CIFAR-10 images embedded by the pretrained EfficientNet-Lite0, with CIFAR-10N labels.

    The training images are the last ``n_train / 10`` files of each class folder
    (10,000: files 4000-4999), the test images the last ``n_test / 10`` of each
    test class folder (2000: files 0800-0999). Each is embedded once by
    :func:`cleanlab_pdiff.embeddings.embed_images` (96 px, 1280 features), with a
    progress bar; the features are kept in ``cache_dir`` and standardised with the
    training images' mean and standard deviation.

    Parameters
    ----------
    n_train : int
        Training images, a multiple of 10 up to 50,000.
    n_test : int
        Test images, a multiple of 10 up to 10,000.
    data_dir : path-like, default=None
        Folder of the archive and the label file; ``None`` is :func:`default_data_dir`.
    cache_dir : path-like, default=None
        Where the embeddings are kept; ``None`` embeds every time.
    progress : bool, default=True
        Show the embedding's progress bar.

    Returns
    -------
    data : dict
        ``X_train``, ``y_train`` (clean labels), ``noisy`` (the CIFAR-10N label sets),
        ``index`` (canonical training indices), ``X_test``, ``y_test``.
    """
    from cleanlab_pdiff.embeddings import embed_images

    data_dir, labels = _sizes_and_labels(n_train, n_test, data_dir)
    clean = labels["clean_label"]
    per_train, per_test = n_train // 10, n_test // 10
    # The k-th occurrence of a class in canonical order is its file k (the data README).
    index = np.concatenate([np.flatnonzero(clean == c)[-per_train:] for c in range(len(CLASSES))])
    test_names = [
        f"test/{folder}/{k:04d}.jpg" for folder in CLASSES for k in range(1000 - per_test, 1000)
    ]
    cache = None
    if cache_dir is not None:
        cache = Path(cache_dir) / f"cifar10_efficientnet-lite0_96px_{n_train}_{n_test}.npz"
    if cache is not None and cache.exists():
        with np.load(cache) as stored:
            features = stored["features"]
    else:
        images = read_images(data_dir / ARCHIVE, [*train_file_names(clean)[index], *test_names])
        features = embed_images(images, progress=progress)
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            np.savez(cache, features=features)
    X_train, X_test = features[:n_train], features[n_train:]
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    std[std == 0] = 1
    return {
        "X_train": (X_train - mean) / std,
        "y_train": clean[index],
        "noisy": {name: labels[key][index] for name, key in HUMAN_LABELS.items()},
        "index": index,
        "X_test": (X_test - mean) / std,
        "y_test": np.repeat(np.arange(len(CLASSES)), per_test),
    }
