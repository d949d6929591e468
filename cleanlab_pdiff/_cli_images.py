"""``cleanlab-pdiff find-issues DIR`` on an image folder: its options, features and report.

The command line (:mod:`cleanlab_pdiff.cli`) hands a folder here: its images become
features (embedded by a pretrained encoder, cached; or the pixels themselves with
``--pixels``), the labels are the class folders, and ``--report`` writes the HTML page of
the flagged images. Bad folders raise ``ValueError`` (the command line's exit status 2);
an unreadable image is an error that names it, not skipped.
"""

import time
import warnings
from pathlib import Path

from ._text import warn

__all__ = ["add_arguments", "features_and_labels", "write_html_report"]


def add_arguments(find):
    """Add the image-folder options to the ``find-issues`` parser ``find``."""
    images = find.add_argument_group("image folders (DATA is a folder of class folders)")
    images.add_argument(
        "--pixels",
        action="store_true",
        help="train the 9-layer CNN on the pixels, with the paper's crops and flips, instead "
        "of P-DIFF on the images' embeddings (slow without a GPU)",
    )
    images.add_argument(
        "--encoder",
        default="efficientnet-lite0",
        metavar="NAME",
        help="pretrained encoder of the embeddings (default: efficientnet-lite0, ImageNet)",
    )
    images.add_argument(
        "--image-size",
        type=int,
        default=None,
        metavar="PX",
        help="side images are resized to: the encoder's input (default: 96), or with "
        "--pixels the network's (default: the images' own size)",
    )
    images.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="where embeddings are cached (default: ~/.cache/cleanlab-pdiff)",
    )
    images.add_argument(
        "--report",
        metavar="PATH",
        help="also write one self-contained HTML page showing the flagged images",
    )


def features_and_labels(args, device, say):
    """Return ``(X, y, paths)`` of the folder ``args.data``: features, labels, file paths.

    ``paths`` are relative to the folder. Raises ``ValueError`` for a folder that can't
    be used and ``ImportError`` when the ``images`` extra is missing.
    """
    from .embeddings import embed_folder
    from .images import ImageFolder

    if args.image_size is not None and args.image_size < 1:
        raise ValueError(
            f"--image-size must be a positive number of pixels, got {args.image_size}."
        )
    size = None if args.image_size is None else (args.image_size, args.image_size)
    folder = ImageFolder(args.data, size=size if args.pixels else None)
    if len(folder.classes) < 2:
        raise ValueError(
            f"{args.data} holds {len(folder.classes)} class folder(s); finding label issues "
            f"needs two or more (one subfolder per class)."
        )
    root = Path(args.data)
    paths = [path.relative_to(root).as_posix() for path in folder.files]
    say(f"{args.data}: {len(folder)} images in {len(folder.classes)} class folders")
    if args.pixels:
        return folder, folder.labels, paths
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            features, embedded = embed_folder(
                folder,
                encoder=args.encoder,
                size=args.image_size or 96,
                device=device,
                cache_dir=args.cache_dir,
                progress=not args.quiet,
            )
        finally:
            for warning in dict.fromkeys(str(w.message) for w in caught):
                _warn(args, warning)
    say(
        f"embedded {embedded} image(s) with {args.encoder} in {time.perf_counter() - start:.1f} "
        f"s ({len(folder) - embedded} from the cache)"
    )
    return features, folder.labels, paths


def _warn(args, message):
    if not args.quiet:
        warn(message)


def write_html_report(args, table, noise_rate, per_class, figure_png):
    """Write ``args.report`` from the ranked ``table``; return the number of images shown."""
    from .report import write_report

    return write_report(
        args.report,
        table,
        root=args.data,
        noise_rate=noise_rate,
        per_class=per_class,
        figure_png=figure_png,
        title=f"Label issues in {args.data}",
    )
