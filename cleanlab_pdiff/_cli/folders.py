"""``cleanlab-pdiff find-issues DIR`` on an image folder: its options, features and report.

The command line (:mod:`cleanlab_pdiff.cli`) hands a folder here: its images become
features (embedded by a pretrained encoder, cached; or the pixels themselves with
``--pixels``), the labels are the class folders, and ``--report`` writes the HTML page of
the flagged images. Bad folders raise ``ValueError`` (the command line's exit status 2);
the images that can't be decoded are all named in one error, or left out with
``--skip-bad-images``.
"""

import time
import warnings

from .._text import warn

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
    images.add_argument(
        "--skip-bad-images",
        action="store_true",
        help="leave out the images that can't be decoded (listed in a warning) instead of "
        "stopping with an error that lists them",
    )


def features_and_labels(args, device, say):
    """Return ``(X, y, paths)`` of the folder ``args.data``: features, labels, file paths.

    ``paths`` are relative to the folder. Raises ``ValueError`` for a folder that can't
    be used and ``ImportError`` when the ``images`` extra is missing.
    """
    from ..images import ImageFolder, UnreadableImagesError

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
    say(f"{args.data}: {len(folder)} images in {len(folder.classes)} class folders")
    start = time.perf_counter()
    try:
        X, embedded = _features(folder, args, device)
    except UnreadableImagesError as exc:
        if not args.skip_bad_images:
            raise ValueError(
                f"{exc}; remove or replace them, or leave them out with --skip-bad-images."
            ) from exc
        _warn(
            args,
            f"left out {len(exc.files)} image file(s) that can't be decoded "
            f"(--skip-bad-images): {exc.listing}",
        )
        folder = ImageFolder(folder.root, size=folder.size, exclude=[f for f, _ in exc.files])
        X, embedded = _features(folder, args, device)  # checked or cached by now
        embedded += exc.n_embedded
    paths = [path.relative_to(folder.root).as_posix() for path in folder.files]
    if not args.pixels:
        say(
            f"embedded {embedded} image(s) with {args.encoder} in "
            f"{time.perf_counter() - start:.1f} s ({len(folder) - embedded} from the cache)"
        )
    return X, folder.labels, paths


def _features(folder, args, device):
    """Return ``(X, n_embedded)`` of ``folder``: its embeddings, or itself with --pixels.

    Raises ``UnreadableImagesError`` listing every image that can't be decoded.
    """
    from ..embeddings import embed_folder
    from ..images import check_images

    if args.pixels:
        check_images(folder, progress=not args.quiet)
        return folder, 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            return embed_folder(
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


def _warn(args, message):
    if not args.quiet:
        warn(message)


def write_html_report(args, table, noise_rate, per_class, figure_png):
    """Write ``args.report`` from the ranked ``table``; return the number of images shown."""
    from ..report import write_report

    return write_report(
        args.report,
        table,
        root=args.data,
        noise_rate=noise_rate,
        per_class=per_class,
        figure_png=figure_png,
        title=f"Label issues in {args.data}",
    )
