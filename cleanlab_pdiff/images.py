"""A folder of images, one subfolder per class, read lazily as a torch ``Dataset``.

The layout is torchvision's ``ImageFolder``, ``root/<class name>/<image file>``, for
JPEG and PNG files. The folder is scanned once, when the dataset is made; each image is
decoded only when it is asked for, so that decoding runs in a ``DataLoader``'s worker
processes. Pillow decodes the images; it is an optional dependency,
``pip install "cleanlab-pdiff[images]"``.
"""

import numbers
import operator
import os
from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

__all__ = ["EXTENSIONS", "ImageFolder", "UnreadableImagesError", "check_images"]

#: Accepted file extensions, in any case.
EXTENSIONS = (".jpeg", ".jpg", ".png")
_LAYOUT = "root/<class name>/<image file>"
_ACCEPTED = ", ".join(EXTENSIONS) + " (any case)"
#: What Pillow raises on a corrupt file: besides OSError (UnidentifiedImageError is one),
#: its PNG reader raises SyntaxError, ValueError or EOFError on some broken chunks.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError)


class UnreadableImagesError(ValueError):
    """Image files that can't be decoded, all of them at once.

    Parameters
    ----------
    files : list of (pathlib.Path, str)
        Each unreadable file, as its ImageFolder names it, with the reason.
    done : str, default=""
        What was done with the other images, said after the list.
    n_embedded : int, default=0
        The images embedded (and cached) before the error.

    Attributes
    ----------
    files : list of (pathlib.Path, str)
        The ``files`` given: pass their paths as ``ImageFolder(..., exclude=...)`` to
        leave them out.
    n_embedded : int
        The ``n_embedded`` given.
    listing : str
        The first five files with their reasons, and how many more there are.
    """

    def __init__(self, files, done="", n_embedded=0):
        self.files, self.n_embedded = list(files), n_embedded
        shown = "; ".join(f"{path} ({reason})" for path, reason in self.files[:5])
        more = f"; ... ({len(self.files) - 5} more)" if len(self.files) > 5 else ""
        self.listing = shown + more
        super().__init__(
            f"{len(self.files)} image file(s) can't be decoded: {self.listing}"
            + (f". {done}" if done else "")
        )


def pillow():
    """Return ``PIL.Image`` and the errors it raises on a corrupt file; say how to install it."""
    try:
        from PIL import Image
    except ImportError as exc:
        raise ImportError(
            'reading images needs Pillow: pip install "cleanlab-pdiff[images]" '
            "(or pip install pillow)."
        ) from exc
    return Image, (*_DECODE_ERRORS, Image.DecompressionBombError)


def _check_size(size):
    """Return ``size`` as a (height, width) tuple of ints, or None."""
    if size is None:
        return None
    if (
        not isinstance(size, (tuple, list))
        or len(size) != 2
        or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in size)
    ):
        raise TypeError(f"size must be None or (height, width), two integers, got {size!r}.")
    if min(size) < 1:
        raise ValueError(
            f"size must be None or (height, width), two positive integers, got {size!r}."
        )
    return int(size[0]), int(size[1])


def _visible(folder):
    """Return the entries of ``folder`` whose names do not start with '.', sorted by name."""
    with os.scandir(folder) as entries:
        return sorted((e for e in entries if not e.name.startswith(".")), key=lambda e: e.name)


def _scan(root):
    """Return the class names and, for each class, its image paths; check the layout."""
    if not root.exists():
        raise FileNotFoundError(f"image folder {root} does not exist.")
    if not root.is_dir():
        raise NotADirectoryError(f"image folder {root} is not a directory (expected {_LAYOUT}).")
    entries = _visible(root)
    loose = [entry.name for entry in entries if not entry.is_dir()]
    if loose:
        raise ValueError(
            f"image folder {root} holds files at its top level ({', '.join(loose[:3])}"
            f"{', ...' if len(loose) > 3 else ''}): it must hold only class folders, "
            f"one subfolder per class, laid out as {_LAYOUT}."
        )
    if not entries:
        raise ValueError(
            f"image folder {root} holds no class folders: expected one subfolder per class, "
            f"laid out as {_LAYOUT}."
        )
    classes, files = [], []
    for folder in entries:
        paths = []
        for entry in _visible(folder.path):
            path = Path(entry.path)
            if entry.is_dir():
                raise ValueError(
                    f"class folder {folder.path} holds a subfolder, {path}: images must sit "
                    f"directly in their class folder ({_LAYOUT})."
                )
            if path.suffix.lower() not in EXTENSIONS:
                raise ValueError(
                    f"{path} is not an image file: accepted extensions are {_ACCEPTED}."
                )
            paths.append(path)
        if not paths:
            raise ValueError(f"class folder {folder.path} holds no images ({_ACCEPTED}).")
        classes.append(folder.name)
        files.append(paths)
    return classes, files


def _leave_out(root, classes, files, exclude):
    """Return ``files`` without ``exclude``; each excluded file must be one of them."""
    excluded = set(exclude)
    kept = [
        [path for path in paths if path not in excluded and path.relative_to(root) not in excluded]
        for paths in files
    ]
    known = {path for paths in files for path in paths}
    known |= {path.relative_to(root) for path in known}
    if unknown := [str(path) for path in exclude if path not in known]:
        raise ValueError(
            f"exclude names file(s) that are not images of {root}: {', '.join(unknown[:3])}"
            f"{', ...' if len(unknown) > 3 else ''}."
        )
    for name, paths in zip(classes, kept, strict=True):
        if not paths:
            raise ValueError(f"class folder {root / name} holds no images but excluded ones.")
    return kept


class ImageFolder(Dataset):
    """Images in class folders, ``root/<class name>/<image file>``, decoded on demand.

    The folder is scanned when the dataset is made (nothing is decoded then): every
    visible entry of ``root`` must be a class folder, and every visible entry of a class
    folder a JPEG or PNG file (:data:`EXTENSIONS`); names starting with '.' (e.g.
    ``.DS_Store``) are skipped. Each item is decoded with Pillow when it is read, and
    converted to RGB, channels first. It pickles without the images, as a
    ``DataLoader``'s worker processes need.

    Parameters
    ----------
    root : path-like
        The folder of class folders.
    size : tuple of (int, int), default=None
        ``(height, width)`` every image is resized to (bilinear), so that a folder of
        mixed sizes gives batches of one shape; None keeps each image's own size.
    exclude : iterable of path-like, default=None
        Image files to leave out, such as the unreadable ones that
        :func:`check_images` lists: each as ``files`` names it, or relative to ``root``.

    Attributes
    ----------
    classes : list of str
        The class-folder names, sorted: the label vocabulary.
    files : list of pathlib.Path
        Every image, class by class, each class's files sorted by name.
    labels : ndarray of shape (n_images,), str
        The class-folder name of each file: the labels to pass as ``y``.
    targets : ndarray of shape (n_images,), str
        The same array as ``labels``, under torchvision's name.
    exclude : list of pathlib.Path or None
        The ``exclude`` given.

    Examples
    --------
    >>> import tempfile
    >>> from PIL import Image
    >>> tmp = tempfile.TemporaryDirectory()
    >>> for name, colour in [("cat", "red"), ("dog", "blue")]:
    ...     (Path(tmp.name) / name).mkdir()
    ...     Image.new("RGB", (4, 2), colour).save(Path(tmp.name) / name / "0001.png")
    >>> folder = ImageFolder(tmp.name)
    >>> folder.classes, folder.labels.tolist(), len(folder)
    (['cat', 'dog'], ['cat', 'dog'], 2)
    >>> image = folder[0]
    >>> image.shape, image.dtype.name, image[:, 0, 0].tolist()
    ((3, 2, 4), 'uint8', [255, 0, 0])
    >>> ImageFolder(tmp.name, size=(8, 8))[1].shape
    (3, 8, 8)
    >>> tmp.cleanup()
    """

    def __init__(self, root, *, size=None, exclude=None):
        pillow()  # fail here, not later in a DataLoader worker, when Pillow is missing
        self.root = Path(root)
        self.size = _check_size(size)
        self.exclude = None if exclude is None else [Path(path) for path in exclude]
        self.classes, files = _scan(self.root)
        if self.exclude:
            files = _leave_out(self.root, self.classes, files, self.exclude)
        self.files = [path for paths in files for path in paths]
        self.labels = np.repeat(np.array(self.classes), [len(paths) for paths in files])

    @property
    def targets(self):
        """The class-folder name of each file, as ``labels`` (torchvision's name)."""
        return self.labels

    def __len__(self):
        return len(self.files)

    def __getitem__(self, index):
        """Return image ``index`` as a uint8 array of shape (3, height, width), RGB."""
        index = operator.index(index)
        if not 0 <= index < len(self.files):
            raise IndexError(
                f"index {index} is out of range for an ImageFolder of {len(self.files)} images."
            )
        Image, decode_errors = pillow()
        path = self.files[index]
        try:
            with Image.open(path) as image:
                if self.size is not None:
                    height, width = self.size
                    # A JPEG decodes straight at 1/2, 1/4 or 1/8 scale when that still
                    # covers the target size: much faster for large photos.
                    image.draft("RGB", (width, height))
                rgb = image.convert("RGB")
        except decode_errors as exc:
            raise ValueError(f"cannot decode image file {path}: {exc}") from exc
        if self.size is not None and rgb.size != (width, height):
            rgb = rgb.resize((width, height), Image.Resampling.BILINEAR)
        return np.ascontiguousarray(np.asarray(rgb).transpose(2, 0, 1))


def check_images(folder, *, progress=False):
    """Decode every image of ``folder`` once; raise if any can't be, naming them all.

    Parameters
    ----------
    folder : ImageFolder
        The images to check.
    progress : bool, default=False
        Show a progress bar (tqdm) over the images.

    Raises
    ------
    UnreadableImagesError
        Listing every file that can't be decoded (truncated, corrupt, not an image).

    Examples
    --------
    >>> import tempfile
    >>> from PIL import Image
    >>> tmp = tempfile.TemporaryDirectory()
    >>> for name in ("cat", "dog"):
    ...     (Path(tmp.name) / name).mkdir()
    ...     Image.new("RGB", (4, 4)).save(Path(tmp.name) / name / "0001.png")
    >>> _ = (Path(tmp.name) / "dog" / "0002.png").write_bytes(b"not a PNG")
    >>> try:
    ...     check_images(ImageFolder(tmp.name))
    ... except UnreadableImagesError as exc:
    ...     [path.name for path, _ in exc.files]
    ['0002.png']
    >>> tmp.cleanup()
    """
    from tqdm.auto import tqdm

    unreadable = []
    for index in tqdm(range(len(folder)), desc="checking", unit="img", disable=not progress):
        try:
            folder[index]
        except ValueError as exc:
            unreadable.append((folder.files[index], _decode_reason(exc)))
    if unreadable:
        raise UnreadableImagesError(unreadable)


def _decode_reason(exc):
    """Return why an image could not be decoded, from ``ImageFolder``'s ValueError."""
    return str(exc.__cause__ or exc)
