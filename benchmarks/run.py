"""Benchmark suite: test accuracy of P-DIFF against the methods users would pick instead.

For each dataset x label noise x seed, every method of :data:`benchmarks.methods.METHODS`
trains the same network with the same optimiser, schedule, batch size and seed: plain
cross-entropy, Co-teaching, GCE, cleanlab's CleanLearning, P-DIFF with the true and with
the estimated noise rate, P-DIFF with per-class thresholds (its option beyond the paper),
and the oracle trained on the truly clean examples only. Run::

    python -m benchmarks.run --suite quick --device cpu --out benchmark-out

Suites: ``quick`` (digits, mnist1d and a CIFAR-10 subset turned into unsupervised k-means
features, sized for 15 minutes on 2 CPU cores), ``cnn-cpu`` (a CIFAR-10 subset with a
narrower 9-layer CNN on the CPU, about as long again), ``full`` (the paper's CIFAR-10
setting: all 50,000 images, the 9-layer CNN, SGD, 200 epochs; meant for CUDA) and
``smoke`` (seconds, for the tests). It writes one CSV row per dataset x noise x seed x method to
``OUT/benchmarks_<suite>.csv``, the generated part of ``docs/benchmarks.md`` (for
``smoke``: ``OUT/benchmarks_smoke.md``) and two figures.
"""

import concurrent.futures
import functools
import gc
import math
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from tqdm import tqdm

from cleanlab_pdiff import MLP, make_noisy_labels

from . import cifar
from .common import argument_parser, command_line, detection_scores, warm_up, write_csv
from .data import load_digits_data, load_mnist1d
from .memory import malloc_trim, memory, reset_peak
from .methods import METHODS, NoisyData, Schedule, run_method

#: Confusable digits (Patrini et al., 2017): 2 -> 7, 3 -> 8, 5 <-> 6, 7 -> 1.
DIGIT_PAIRS = {2: 7, 3: 8, 5: 6, 6: 5, 7: 1}
#: Confusable CIFAR-10 classes (Patrini et al., 2017): truck -> automobile,
#: bird -> airplane, deer -> horse, cat <-> dog.
CIFAR_PAIRS = {9: 1, 2: 0, 4: 7, 3: 5, 5: 3}

#: Methods of the accuracy suites (the other methods of METHODS serve the real-noise suite).
SYNTHETIC_METHODS = (
    "ce",
    "coteaching",
    "gce",
    "cleanlearning",
    "pdiff_true",
    "pdiff_auto",
    "pdiff_per_class",
    "oracle",
)
#: Methods of the real-noise suite: accuracy, and label issues found.
REAL_NOISE_METHODS = (
    "ce",
    "pdiff_paper",
    "pdiff_true",
    "pdiff_auto",
    "pdiff_retrain",
    "pdiff_retrain2",
    "pdiff_retrain_auto",
    "coteaching",
    "gce",
    "cleanlearning",
    "cv_recipe",
    "oracle_labels",
)
#: Methods that need a noise rate above 0 or noisy labels: skipped on clean labels.
NEED_NOISE = ("pdiff_true", "coteaching", "oracle", "oracle_labels")

FIELDS = (
    "suite",
    "dataset",
    "n_train",
    "n_test",
    "noise",
    "noise_kind",
    "noise_rate",
    "actual_noise_rate",
    "seed",
    "method",
    "acc_last10",
    "acc_final",
    "estimated_noise_rate",
    "auroc",
    "average_precision",
    "precision",
    "recall",
    "f1",
    "flagged_share",
    "fit_seconds",
    "cpu_seconds",
    "peak_rss_mb",
    "peak_cuda_mb",
    "epochs",
    "device",
)


@dataclass(frozen=True)
class Noise:
    """Label noise of a cell: synthetic (kind, rate) or a CIFAR-10N label set.

    Parameters
    ----------
    kind : {"symmetric", "pair", "asymmetric", "human", "clean"}
        ``make_noisy_labels``'s kind, ``"human"`` for CIFAR-10N, or ``"clean"``
        for the true labels.
    rate : float or None, default=None
        Share of labels flipped (synthetic kinds).
    human : str or None, default=None
        Key of :data:`benchmarks.cifar.HUMAN_LABELS` (``kind="human"``).
    """

    kind: str
    rate: float = None
    human: str = None

    @property
    def label(self):
        """Name of the noise in tables, e.g. ``"symmetric 20%"``."""
        if self.kind == "human":
            return f"CIFAR-10N {self.human}"
        if self.kind == "clean":
            return "clean labels"
        return f"{self.kind} {self.rate:.0%}"


@dataclass(frozen=True)
class DataSpec:
    """Which data a dataset of a suite loads, and its network (hashable: a cache key).

    Parameters
    ----------
    source : {"digits", "mnist1d", "cifar10"}
        The data.
    n_samples : int, default=0
        mnist1d: signals generated; cifar10: training images.
    n_test : int, default=0
        cifar10: test images.
    image_size : int, default=32
        cifar10: side of the images.
    cnn_width : int, default=128
        cifar10: channels of the CNN's first block; 128 is the paper's CNN9.
    features : {"pixels", "kmeans", "efficientnet"}, default="pixels"
        cifar10: train the CNN on the pixels, or the MLP on
        :func:`benchmarks.cifar.kmeans_features` of the 32x32 images, or the MLP
        on :func:`benchmarks.cifar.load_embedded` (the last ``n_samples / 10``
        files of each training class folder, the last ``n_test / 10`` of each
        test one).
    n_centroids : int, default=128
        cifar10 with k-means features: number of centroids (4 features each).
    """

    source: str
    n_samples: int = 0
    n_test: int = 0
    image_size: int = 32
    cnn_width: int = 128
    features: str = "pixels"
    n_centroids: int = 128


@dataclass(frozen=True)
class Dataset:
    """A dataset of a suite: data, schedule, noise cells and descriptions."""

    name: str
    data: DataSpec
    schedule: Schedule
    noises: tuple
    #: Cell whose first-seed "P-DIFF auto" run is recorded for the delta figure.
    figure_noise: Noise
    description: str
    network: str
    methods: tuple = SYNTHETIC_METHODS


SYNTHETIC = (
    Noise("symmetric", 0.2),
    Noise("symmetric", 0.5),
    Noise("pair", 0.45),
    Noise("asymmetric", 0.2),
)
HUMAN = tuple(Noise("human", human=name) for name in cifar.HUMAN_LABELS)
TABULAR_QUICK = Schedule(epochs=50, t_k=10, batch_size=128, lr=1e-3, cv_folds=3)
TABULAR_FULL = Schedule(epochs=100, t_k=20, batch_size=128, lr=1e-3, cv_folds=5)
MLP_NOTE = "`MLP` 256-256 (PDiffClassifier's default for 2-D input)"
DIGITS_NOTE = "sklearn's 8x8 digits: 1257 train / 540 test (stratified 30% held out)"


def _tabular(name, data, schedule, description):
    """Return a digits or mnist1d dataset: the default MLP under the four synthetic noises."""
    return Dataset(name, data, schedule, SYNTHETIC, Noise("symmetric", 0.5), description, MLP_NOTE)


def _embedded_cifar(name, n_train, n_test, description):
    """Return a CIFAR-10 dataset embedded by EfficientNet-Lite0, under clean and human labels."""
    return Dataset(
        name,
        DataSpec("cifar10", n_samples=n_train, n_test=n_test, features="efficientnet"),
        TABULAR_FULL,
        (Noise("clean"), *HUMAN),
        Noise("human", human="worse"),
        description,
        MLP_NOTE + " on the embeddings",
        REAL_NOISE_METHODS,
    )


SUITES = {
    "smoke": {
        "seeds": (0,),
        "datasets": (
            Dataset(
                "digits",
                DataSpec("digits"),
                Schedule(epochs=3, t_k=1, batch_size=128, lr=1e-3, cv_folds=2, last=2),
                (Noise("symmetric", 0.5),),
                Noise("symmetric", 0.5),
                "sklearn's digits, 30% held out",
                MLP_NOTE,
            ),
        ),
    },
    "quick": {
        "seeds": (0, 1, 2),
        "datasets": (
            _tabular("digits", DataSpec("digits"), TABULAR_QUICK, DIGITS_NOTE),
            _tabular(
                "mnist1d",
                DataSpec("mnist1d", n_samples=4000),
                TABULAR_QUICK,
                "4000 MNIST-1D signals (`make_dataset`, seed 42): 2800 train / 1200 test",
            ),
            Dataset(
                "cifar10",
                DataSpec("cifar10", n_samples=5000, n_test=2000, features="kmeans"),
                Schedule(epochs=30, t_k=6, batch_size=128, lr=1e-3, cv_folds=3),
                (*HUMAN, Noise("symmetric", 0.5), Noise("pair", 0.45), Noise("asymmetric", 0.2)),
                Noise("human", human="worse"),
                "CIFAR-10 subset: 5000 training images (500 per class, drawn once with seed "
                "0) with their CIFAR-10N labels, 2000 test images (200 per class); each "
                "image turned into 512 unsupervised k-means features (`kmeans_features`: "
                "128 centroids of whitened 6x6 patches, triangle activation, summed per "
                "image quarter, standardised; no label used)",
                MLP_NOTE + " on the k-means features",
            ),
        ),
    },
    "real-noise": {
        "seeds": (0, 1, 2),
        "datasets": (
            _embedded_cifar(
                "cifar10-effnet",
                10000,
                2000,
                "CIFAR-10 subset: 10,000 training images (files 4000-4999 of each class "
                "folder) with their CIFAR-10N labels, 2000 test images (files 0800-0999 of each "
                "class folder); each image embedded once by the ImageNet-pretrained "
                "EfficientNet-Lite0 (96 px, global average pool: 1280 features), the features "
                "standardised with the training set's mean and standard deviation",
            ),
        ),
    },
    "real-noise-full": {
        "seeds": (0, 1, 2),
        "datasets": (
            _embedded_cifar(
                "cifar10-effnet-full",
                50000,
                10000,
                "CIFAR-10: all 50,000 training images with their CIFAR-10N labels, all 10,000 "
                "test images; embedded as in the real-noise suite",
            ),
        ),
    },
    "cnn-cpu": {
        "seeds": (0, 1, 2),
        "datasets": (
            Dataset(
                "cifar10-cnn",
                DataSpec("cifar10", n_samples=2000, n_test=1000, image_size=16, cnn_width=16),
                Schedule(epochs=20, t_k=5, batch_size=128, lr=1e-3, cv_folds=3),
                (Noise("human", human="worse"), Noise("symmetric", 0.5)),
                Noise("human", human="worse"),
                "CIFAR-10 subset: 2000 training images (200 per class, drawn once with seed "
                "0) with their CIFAR-10N labels, 1000 test images (100 per class); shrunk to "
                "16x16 pixels (2x2 box average)",
                "`CNN9(width=16)`: CNN9's nine conv layers with 16/32/64 channels instead "
                "of 128/256/512, the last three convolutions padded (16x16 input); random "
                "horizontal flips",
            ),
        ),
    },
    "full": {
        "seeds": (0, 1, 2),
        "datasets": (
            _tabular("digits", DataSpec("digits"), TABULAR_FULL, DIGITS_NOTE),
            _tabular(
                "mnist1d",
                DataSpec("mnist1d", n_samples=10000),
                TABULAR_FULL,
                "10000 MNIST-1D signals (`make_dataset`, seed 42): 7000 train / 3000 test",
            ),
            Dataset(
                "cifar10",
                DataSpec("cifar10", n_samples=50000, n_test=10000),
                Schedule(
                    epochs=200,
                    t_k=20,
                    batch_size=128,
                    lr=1e-3,
                    optimizer="sgd",
                    momentum=0.9,
                    weight_decay=5e-4,
                    milestones=(100, 150),
                    cv_folds=5,
                ),
                (*HUMAN, *SYNTHETIC),
                Noise("human", human="worse"),
                "CIFAR-10: all 50,000 training images with their CIFAR-10N labels, all "
                "10,000 test images, 32x32",
                "`CNN9` (the paper's 9-layer CNN) with random horizontal flips",
            ),
        ),
    },
}


@functools.cache
def load_data(spec, data_dir=None, cache_dir=None):
    """Load a dataset's clean train/test split (cached per process).

    Parameters
    ----------
    spec : DataSpec
        The data.
    data_dir : str, default=None
        Folder of the CIFAR-10 files (default: ``../shared/data``).
    cache_dir : str, default=None
        Where decoded CIFAR-10 arrays are kept.

    Returns
    -------
    data : dict
        ``X``, ``y``, ``X_test``, ``y_test``, ``human`` (CIFAR-10N label sets of the
        training rows; empty for other data), ``module`` (the network factory).
    """
    human = {}
    if spec.source == "cifar10" and spec.features == "efficientnet":
        loaded = cifar.load_embedded(spec.n_samples, spec.n_test, data_dir, cache_dir)
        X, y, X_test, y_test = (loaded[key] for key in ("X_train", "y_train", "X_test", "y_test"))
        human, module = loaded["noisy"], MLP
    elif spec.source == "cifar10":
        loaded = cifar.load_cifar10n(
            spec.n_samples,
            spec.n_test,
            data_dir=data_dir,
            size=spec.image_size,
            cache_dir=cache_dir,
        )
        X, y, X_test, y_test = (loaded[key] for key in ("X_train", "y_train", "X_test", "y_test"))
        human = loaded["noisy"]
        if spec.features == "kmeans":
            X, X_test = _cached_kmeans_features(spec, X, X_test, cache_dir)
            module = MLP
        elif spec.cnn_width == 128 and spec.image_size >= cifar.CNN9.MIN_SIZE:
            module = cifar.paper_cnn
        else:
            module = functools.partial(
                cifar.small_cnn, width=spec.cnn_width, padded=spec.image_size < cifar.CNN9.MIN_SIZE
            )
    else:
        if spec.source == "digits":
            X_all, y_all = load_digits_data()
        elif spec.source == "mnist1d":
            X_all, y_all = load_mnist1d(spec.n_samples)
        else:
            raise ValueError(f"unknown data source {spec.source!r}")
        X, X_test, y, y_test = train_test_split(
            X_all, y_all, test_size=0.3, stratify=y_all, random_state=0
        )
        module = MLP
    return {"X": X, "y": y, "X_test": X_test, "y_test": y_test, "human": human, "module": module}


def _cached_kmeans_features(spec, X, X_test, cache_dir):
    """:func:`benchmarks.cifar.kmeans_features` of the images, kept under ``cache_dir``."""
    path = None
    if cache_dir is not None:
        path = Path(cache_dir) / (
            f"cifar10_kmeans{spec.n_centroids}_{spec.n_samples}_"
            f"{spec.n_test}_{spec.image_size}px_seed0.npz"
        )
        if path.exists():
            with np.load(path) as stored:
                return stored["X"], stored["X_test"]
    X, X_test = cifar.kmeans_features(X, X_test, n_centroids=spec.n_centroids)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, X=X, X_test=X_test)
    return X, X_test


def noisy_labels(data, noise, seed):
    """Return the given labels of a cell: CIFAR-10N's, or synthetic noise seeded by ``seed``."""
    if noise.kind == "human":
        return data["human"][noise.human]
    if noise.kind == "clean":
        return data["y"]
    mapping = None
    if noise.kind == "asymmetric":
        mapping = CIFAR_PAIRS if data["human"] else DIGIT_PAIRS
    return make_noisy_labels(
        data["y"], noise.rate, kind=noise.kind, mapping=mapping, random_state=seed
    )


@dataclass(frozen=True)
class Task:
    """One fit: a method on a dataset x noise x seed."""

    suite: str
    dataset: Dataset
    noise: Noise
    seed: int
    method: str
    device: str
    data_dir: str
    cache_dir: str
    record: bool = False


def _reset_peak_rss():
    """Give freed heap memory back to the system and reset the peak RSS counter (Linux).

    Without ``malloc_trim`` the memory an earlier fit freed stays resident, and a fit
    that reuses it would show no peak at all. Returns whether the counter was reset.
    """
    gc.collect()
    malloc_trim()
    return reset_peak()


def execute(task):
    """Run one task; return its CSV row, plus ``"model"`` for a recorded run.

    Peak memory is the process's peak resident set size during the fit above the
    resident size before it (Linux ``VmHWM`` after trimming the heap and resetting the
    counter), and on CUDA the peak of ``torch.cuda.max_memory_allocated``. CPU seconds
    are the process's CPU time over the task (fit and test evaluations): unlike wall
    time, they hardly grow when other jobs share the machine.

    Parameters
    ----------
    task : Task
        What to run.

    Returns
    -------
    row : dict
        Keys :data:`FIELDS` and ``model``.
    """
    dataset = task.dataset
    data = load_data(dataset.data, task.data_dir, task.cache_dir)
    y_noisy = noisy_labels(data, task.noise, task.seed)
    cell = NoisyData(
        data["X"],
        y_noisy,
        data["y"],
        data["X_test"],
        data["y_test"],
        data["module"],
        int(data["y"].max()) + 1,
    )
    cuda = torch.device(task.device).type == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats(task.device)
    before = memory()[0] if _reset_peak_rss() else None
    cpu = time.process_time()
    result = run_method(
        task.method, cell, dataset.schedule, task.seed, task.device, record=task.record
    )
    cpu = time.process_time() - cpu
    rss_mb = math.nan if before is None else (memory()[1] - before) / 2**20
    return {
        "suite": task.suite,
        "dataset": dataset.name,
        "n_train": cell.y_true.size,
        "n_test": cell.y_test.size,
        "noise": task.noise.label,
        "noise_kind": task.noise.kind,
        "noise_rate": math.nan if task.noise.rate is None else task.noise.rate,
        "actual_noise_rate": cell.noise_rate,
        "seed": task.seed,
        "method": task.method,
        "acc_last10": result["acc_last"],
        "acc_final": result["acc_final"],
        "estimated_noise_rate": result["estimated_noise_rate"],
        **detection_scores(y_noisy != cell.y_true, result["issues"], result["quality"]),
        "fit_seconds": result["fit_seconds"],
        "cpu_seconds": cpu,
        "peak_rss_mb": rss_mb,
        "peak_cuda_mb": torch.cuda.max_memory_allocated(task.device) / 2**20 if cuda else math.nan,
        "epochs": dataset.schedule.epochs,
        "device": task.device,
        "model": result["model"],
        "y_true": cell.y_true if task.record else None,
        "y_noisy": y_noisy if task.record else None,
    }


def make_tasks(suite, datasets, seeds, methods, device, data_dir, cache_dir):
    """List the suite's tasks, the slowest kinds first (they balance the workers).

    Parameters
    ----------
    suite : str
        Suite name.
    datasets : sequence of Dataset
        Datasets to run.
    seeds : sequence of int
        Seeds.
    methods : sequence of str or None
        Method keys to run (``None``: each dataset's own list).
    device : str
        Torch device.
    data_dir, cache_dir : str or None
        CIFAR-10 folders.

    Returns
    -------
    tasks : list of Task
    """
    cost = {"cleanlearning": 3, "cv_recipe": 3, "coteaching": 2}
    tasks = []
    for dataset in datasets:
        for noise in dataset.noises:
            for seed in seeds:
                for method in dataset.methods:
                    if methods is not None and method not in methods:
                        continue
                    if noise.kind == "clean" and method in NEED_NOISE:
                        continue
                    record = (
                        method == "pdiff_auto"
                        and seed == seeds[0]
                        and noise == dataset.figure_noise
                    )
                    tasks.append(
                        Task(
                            suite, dataset, noise, seed, method, device, data_dir, cache_dir, record
                        )
                    )
    # The CIFAR subset is the most expensive data set by far: it goes first.
    return sorted(tasks, key=lambda t: (t.dataset.data.source != "cifar10", -cost.get(t.method, 1)))


def run_tasks(tasks, jobs, threads, progress=True):
    """Run the tasks, ``jobs`` at a time in worker processes (in this one if ``jobs`` is 1).

    Parameters
    ----------
    tasks : list of Task
        What to run.
    jobs : int
        Number of worker processes.
    threads : int
        torch threads per process (0 leaves torch's default).
    progress : bool, default=True
        Show a tqdm bar over the tasks.

    Returns
    -------
    rows : list of dict
        One per task, in the order of ``tasks``.
    """
    bar = tqdm(
        total=len(tasks), desc="benchmark", unit="fit", disable=not progress, dynamic_ncols=True
    )
    rows = [None] * len(tasks)

    def done(position, row):
        rows[position] = row
        bar.set_postfix_str(
            f"{row['dataset']} {row['noise']} seed={row['seed']} {row['method']}: "
            f"{row['acc_last10']:.3f}",
            refresh=False,
        )
        bar.update()

    try:
        if jobs <= 1:
            warm_up(threads)
            for position, task in enumerate(tasks):
                done(position, execute(task))
        else:
            context = multiprocessing.get_context("spawn")
            with concurrent.futures.ProcessPoolExecutor(
                jobs, mp_context=context, initializer=warm_up, initargs=(threads,)
            ) as pool:
                futures = {pool.submit(execute, task): i for i, task in enumerate(tasks)}
                try:
                    for future in concurrent.futures.as_completed(futures):
                        done(futures[future], future.result())
                except BaseException:
                    # Fail now, rather than after every task still queued has run.
                    pool.shutdown(wait=False, cancel_futures=True)
                    raise
    finally:
        bar.close()
    return rows


def main(argv=None):
    """Run a suite with the command-line arguments ``argv`` (None: ``sys.argv[1:]``)."""
    from .render import render_figures, render_markdown, write_page

    parser = argument_parser("benchmarks.run", __doc__)
    parser.add_argument("--suite", choices=sorted(SUITES), default="quick")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--out", default="benchmark-out", help="folder of the CSV and cache")
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="worker processes (default: the CPU count on cpu, 1 on cuda)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads per worker; 0 leaves torch's default (default 1: one "
        "single-threaded worker per core)",
    )
    parser.add_argument(
        "--seeds", type=int, default=None, help="seeds 0..N-1 (default: the suite's)"
    )
    parser.add_argument(
        "--datasets", nargs="+", default=None, help="subset of the suite's datasets"
    )
    parser.add_argument("--methods", nargs="+", default=None, choices=list(METHODS))
    parser.add_argument(
        "--data-dir", default=None, help="folder of the CIFAR-10 files (default ../shared/data)"
    )
    parser.add_argument(
        "--doc",
        default=None,
        help="results page (default "
        "docs/benchmarks.md; OUT/benchmarks_smoke.md for the smoke suite)",
    )
    parser.add_argument(
        "--figures", default=None, help="figure folder (default docs/figures; OUT for smoke)"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)

    if torch.device(args.device).type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda but torch sees no CUDA device")
    suite = SUITES[args.suite]
    seeds = suite["seeds"] if args.seeds is None else tuple(range(args.seeds))
    datasets = [d for d in suite["datasets"] if args.datasets is None or d.name in args.datasets]
    if not datasets:
        parser.error(
            f"--datasets: the {args.suite} suite has {[d.name for d in suite['datasets']]}"
        )
    out = Path(args.out)
    smoke = args.suite == "smoke"
    doc = Path(args.doc or (out / "benchmarks_smoke.md" if smoke else "docs/benchmarks.md"))
    figures = Path(args.figures or (out if smoke else "docs/figures"))
    jobs = args.jobs or (1 if torch.device(args.device).type == "cuda" else os.cpu_count())
    cache_dir = str(out / "cache")
    data_dir = args.data_dir
    if args.threads:
        torch.set_num_threads(args.threads)
    for dataset in datasets:  # decode and cache CIFAR once, before the workers start
        if dataset.data.source == "cifar10":
            load_data(dataset.data, data_dir, cache_dir)

    tasks = make_tasks(args.suite, datasets, seeds, args.methods, args.device, data_dir, cache_dir)
    jobs = max(1, min(jobs, len(tasks)))
    started = time.perf_counter()
    rows = run_tasks(tasks, jobs, args.threads, progress=not args.no_progress)
    minutes = (time.perf_counter() - started) / 60
    write_csv(rows, out / f"benchmarks_{args.suite}.csv", FIELDS)
    command = command_line("benchmarks.run", argv)
    figure_paths = render_figures(rows, datasets, figures, prefix=f"benchmarks_{args.suite}")
    generated = render_markdown(
        rows,
        suite=args.suite,
        datasets=datasets,
        seeds=seeds,
        command=command,
        minutes=minutes,
        jobs=jobs,
        threads=args.threads,
        device=args.device,
        figures={key: os.path.relpath(path, doc.parent) for key, path in figure_paths.items()},
    )
    write_page(doc, generated, suite=args.suite)
    print(
        f"{len(rows)} fits in {minutes:.1f} min; wrote {out / f'benchmarks_{args.suite}.csv'}"
        f" and {doc}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
