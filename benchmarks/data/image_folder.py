"""Write CIFAR-10 images as an image folder whose class folders hold CIFAR-10N's human labels.

Each training image goes into the folder of its label in the chosen CIFAR-10N label set
(``clean``: its true class), so the folder carries real human label noise; with
``--test``, the test images go into their true classes' folders (they have no human
labels). The first ``N`` files of each true class are written (files ``0000`` to
``N-1``), their JPEG bytes copied from ``cifar10-jpeg.tar.gz`` as they are, as
``OUT_DIR/<label>/img_<n:05d>.jpg``: numbered in a seeded random order, so that neither a
file's name nor its number gives its true class away to whoever reads a report of the
folder. Next to the folder, ``<OUT_DIR>_truth.csv`` lists every file (``path`` relative
to ``OUT_DIR``, ``given_label``, ``true_label``) in the order
``cleanlab_pdiff.images.ImageFolder`` reads them, to score flagged files against the
truth. Run::

    python -m benchmarks.data.image_folder OUT_DIR [--labels clean|aggre|random1|worse]
        [--n-per-class N] [--test] [--data-dir DIR]

The data folder (``cifar10-jpeg.tar.gz`` and ``CIFAR-10_human.pt``) is ``--data-dir``,
else ``$CLEANLAB_PDIFF_DATA_DIR``, else ``../shared/data`` beside the repository.
"""

import tarfile
import time
from pathlib import Path

import numpy as np

from ..common import argument_parser, write_csv
from .cifar import (
    ARCHIVE,
    CLASSES,
    DATA_DIR_VARIABLE,
    HUMAN_LABELS,
    LABEL_FILE,
    find_data_dir,
    read_human_labels,
    train_file_names,
)

LABEL_SETS = ("clean", *HUMAN_LABELS)
#: Files per class in the archive's train and test folders.
PER_CLASS = {"train": 5000, "test": 1000}


def plan(data_dir, label_set, n_per_class, test):
    """Return the archive members to write, with their given and true class indices."""
    if test:
        true = np.repeat(np.arange(len(CLASSES)), n_per_class)
        names = [f"test/{folder}/{k:04d}.jpg" for folder in CLASSES for k in range(n_per_class)]
        return names, true, true
    labels = read_human_labels(Path(data_dir) / LABEL_FILE)
    clean = labels["clean_label"]
    # File k of a class is the class's k-th image in canonical order (the data README).
    rows = np.concatenate([np.flatnonzero(clean == c)[:n_per_class] for c in range(len(CLASSES))])
    given = clean if label_set == "clean" else labels[HUMAN_LABELS[label_set]]
    return list(train_file_names(clean)[rows]), given[rows], clean[rows]


def write_folder(out_dir, archive_path, names, given, seed=0):
    """Copy the named members into ``out_dir/<given class>/``; return their relative paths.

    Files are named ``img_<n:05d>.jpg``, ``n`` their position in a random permutation
    (``seed``): the archive's names, and an order of the numbers, would tell the class.
    """
    numbers = np.random.default_rng(seed).permutation(len(names))
    targets = {
        name: f"{CLASSES[label]}/img_{number:05d}.jpg"
        for name, label, number in zip(names, given, numbers, strict=True)
    }
    for label in np.unique(given):
        (out_dir / CLASSES[label]).mkdir(parents=True, exist_ok=True)
    left = len(targets)
    with tarfile.open(archive_path, "r:gz") as archive:
        for member in archive:  # one sequential pass: a gzip stream cannot seek
            target = targets.get(member.name)
            if target is None:
                continue
            (out_dir / target).write_bytes(archive.extractfile(member).read())
            left -= 1
            if not left:
                break
    if left:
        raise FileNotFoundError(f"{archive_path} lacks {left} of the {len(targets)} images.")
    return [targets[name] for name in names]


def main(argv=None):
    """Write the folder with the command-line arguments ``argv`` (None: ``sys.argv[1:]``)."""
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    parser.add_argument("--labels", choices=LABEL_SETS, default="clean")
    parser.add_argument("--n-per-class", type=int, default=None, help="default: all")
    parser.add_argument("--test", action="store_true", help="the test images, not training ones")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help=f"the folder of {ARCHIVE} and {LABEL_FILE} (default: ${DATA_DIR_VARIABLE}, "
        "else ../shared/data beside the clone)",
    )
    args = parser.parse_args(argv)
    split = "test" if args.test else "train"
    n_per_class = PER_CLASS[split] if args.n_per_class is None else args.n_per_class
    if not 1 <= n_per_class <= PER_CLASS[split]:
        parser.error(f"--n-per-class must be in [1, {PER_CLASS[split]}], got {n_per_class}.")
    if args.test and args.labels != "clean":
        parser.error("--test writes the test images, which have no human labels: --labels clean.")
    out_dir = args.out_dir
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        parser.error(f"OUT_DIR {out_dir} is not an empty folder: refusing to write into it.")
    try:  # the test images have no CIFAR-10N labels to read
        data_dir = find_data_dir(args.data_dir, (ARCHIVE,) if args.test else (ARCHIVE, LABEL_FILE))
    except FileNotFoundError as error:
        parser.error(str(error))
    start = time.perf_counter()
    names, given, true = plan(data_dir, args.labels, n_per_class, args.test)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = write_folder(out_dir, data_dir / ARCHIVE, names, given)
    rows = sorted(
        (
            {"path": path, "given_label": CLASSES[g], "true_label": CLASSES[t]}
            for path, g, t in zip(paths, given, true, strict=True)
        ),
        key=lambda row: tuple(row["path"].split("/")),  # ImageFolder's order
    )
    truth = out_dir.parent / f"{out_dir.name}_truth.csv"
    write_csv(rows, truth, ("path", "given_label", "true_label"))
    print(
        f"wrote {len(paths)} {split} images ({args.labels} labels, noise rate "
        f"{np.mean(given != true):.3f}) to {out_dir} and {truth.name} "
        f"in {time.perf_counter() - start:.1f} s"
    )


if __name__ == "__main__":
    main()
