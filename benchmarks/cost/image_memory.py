"""Memory of training on images that stay on disk: a uint8 memmap, and an image folder.

Two measurements, each fit in a fresh Python process (so that no earlier allocation hides
in its peak), reporting the process's peak resident set size (``VmHWM``: it counts the
pages of a memory-mapped file that the process has touched) above its RSS right after
the imports:

- ``memmap``: ``--n-images`` (default 1,000,000) random 32x32x3 uint8 images with random
  labels, written once to a ``numpy.memmap`` file in ``--work-dir``; one process opens it
  read-only, trains a small CNN (:func:`small_cnn`) for one epoch with P-DIFF at a given
  noise rate (no held-out probes: they would add about two epochs of training) and
  predicts every image. Reported: peak above the baseline over the file's size, images per
  second of the epoch and of the prediction.
- ``folder`` (with ``--folder DIR``, a CIFAR-10 folder made by ``python -m
  benchmarks.data.image_folder``): the same CNN trained for one epoch on N images drawn from
  :class:`cleanlab_pdiff.images.ImageFolder` ``DIR`` (a seeded ``Subset``;
  ``--folder-sizes``), each N in its own process: the peak should not grow with N.

Run::

    python -m benchmarks.cost.image_memory [--n-images 1000000] [--folder DIR] [--out DIR]
                                            [--doc docs/large_data.md]

It writes ``DIR/image_memory.json`` and the generated part of ``docs/large_data.md``.
"""

import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

from ..common import (
    add_threads_option,
    argument_parser,
    command_line,
    cpu_name,
    generated_by,
    markdown_table,
    parse_args,
    run_fresh,
    set_threads,
    write_section,
)
from ..memory import MIB, memory

SHAPE = (3, 32, 32)
N_CLASSES = 10
NOISE_RATE = 0.1


def small_cnn(n_channels, n_classes):
    """Return a two-convolution CNN: cheap enough for a million images on a CPU."""
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(n_channels, 16, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 32, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(32, n_classes),
    )


def write_images(path, n_images, seed=0):
    """Write ``n_images`` random uint8 images to a memmap file at ``path``, a block at a time."""
    rng = np.random.default_rng(seed)
    images = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=(n_images, *SHAPE))
    for start in range(0, n_images, 65536):
        stop = min(start + 65536, n_images)
        images[start:stop] = rng.integers(0, 256, (stop - start, *SHAPE), dtype=np.uint8)
    images.flush()
    del images
    np.save(f"{path}.labels.npy", rng.integers(0, N_CLASSES, n_images))


def child(spec):
    """Fit and predict in this process as ``spec`` says; return the measurements."""
    import torch

    from cleanlab_pdiff import PDiffClassifier

    set_threads(spec["threads"])
    baseline = memory()[0]
    if spec["kind"] == "memmap":
        X = np.load(spec["path"], mmap_mode="r")
        y = np.load(f"{spec['path']}.labels.npy")
        data_bytes = X.nbytes
    else:
        from torch.utils.data import Subset

        from cleanlab_pdiff.images import ImageFolder

        folder = ImageFolder(spec["path"])
        # A seeded sample, in file order: the folder lists its images class by class.
        rows = np.sort(np.random.default_rng(0).permutation(len(folder))[: spec["n_images"]])
        X, y = Subset(folder, rows), folder.labels[rows]
        data_bytes = sum(folder.files[row].stat().st_size for row in rows)
    clf = PDiffClassifier(
        small_cnn,
        noise_rate=NOISE_RATE,
        max_epochs=1,
        batch_size=spec["batch_size"],
        num_workers=spec["workers"],
        random_state=0,
    )
    start = time.perf_counter()
    clf.fit(X, y)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    proba = clf.predict_proba(X)
    predict_seconds = time.perf_counter() - start
    return {
        **spec,
        "n_images": len(y),
        "baseline": baseline,
        "peak": memory()[1],
        "data_bytes": data_bytes,
        "fit_seconds": fit_seconds,
        "epoch_seconds": float(clf.history_[-1, "dur"]),
        "predict_seconds": predict_seconds,
        "accuracy": float((clf.classes_[proba.argmax(axis=1)] == y).mean()),
        "versions": {"torch": torch.__version__, "python": platform.python_version()},
    }


def run_child(spec):
    """Run ``spec`` in a fresh interpreter and return its result."""
    result = run_fresh(__spec__.name, spec)
    print(
        f"{spec['kind']} {result['n_images']:,} images: peak "
        f"{(result['peak'] - result['baseline']) / MIB:.0f} MiB above the baseline, fit "
        f"{result['fit_seconds']:.0f} s, predict {result['predict_seconds']:.0f} s",
        file=sys.stderr,
        flush=True,
    )
    return result


def render(results, *, command):
    """Return the Markdown tables of the results."""
    body = []
    for r in results:
        above = r["peak"] - r["baseline"]
        body.append(
            [
                r["kind"],
                f"{r['n_images']:,}",
                f"{r['data_bytes'] / MIB:.0f}",
                f"{above / MIB:.0f}",
                f"{above / r['data_bytes']:.2f}",
                f"{r['n_images'] / r['epoch_seconds']:,.0f}",
                f"{r['n_images'] / r['predict_seconds']:,.0f}",
            ]
        )
    header = ["data", "images", "on disk (MiB)", "peak above baseline (MiB)", "x data on disk"]
    first = results[0]
    threads, torch = f"{first['threads']} torch thread(s)", f"torch {first['versions']['torch']}"
    return "\n".join(
        [
            generated_by(command, cpu_name(), threads, torch),
            "",
            *markdown_table([*header, "epoch (images/s)", "predict (images/s)"], body),
        ]
    )


def main(argv=None):
    """Run the measurements and write the JSON results and the docs section."""
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--n-images", type=int, default=1_000_000)
    parser.add_argument(
        "--folder", type=Path, help="a CIFAR-10 image folder (benchmarks.data.image_folder)"
    )
    parser.add_argument("--folder-sizes", type=int, nargs="+", default=[5000, 20000, 50000])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--workers", type=int, default=0)
    add_threads_option(parser, 2, " in the measured processes")
    parser.add_argument("--work-dir", type=Path, default=Path("benchmark-out/image-memory"))
    parser.add_argument("--out", type=Path, default=Path("benchmark-out/image-memory"))
    parser.add_argument("--doc", type=Path)
    args = parse_args(parser, argv, child)
    if args is None:
        return
    common = {"batch_size": args.batch_size, "workers": args.workers, "threads": args.threads}
    results = []
    if args.n_images:
        args.work_dir.mkdir(parents=True, exist_ok=True)
        path = (args.work_dir / f"images-{args.n_images}.npy").resolve()
        if not path.exists():
            write_images(path, args.n_images)
        results.append(run_child({"kind": "memmap", "path": str(path), **common}))
    if args.folder:
        for n_images in args.folder_sizes:
            spec = {"kind": "folder", "path": str(args.folder.resolve()), "n_images": n_images}
            results.append(run_child({**spec, **common}))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "image_memory.json").write_text(json.dumps(results, indent=1))
    if args.doc:
        table = render(results, command=command_line(__spec__.name, argv))
        write_section(args.doc, table, title="Memory on a large data set", key="image-memory")


if __name__ == "__main__":
    main()
