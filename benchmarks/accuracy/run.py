"""Benchmark suite: test accuracy of P-DIFF against the methods users would pick instead.

For each dataset x label noise x seed, every method of
:data:`benchmarks.accuracy.methods.METHODS` trains the same network with the same
optimiser, schedule, batch size and seed: plain cross-entropy, Co-teaching, GCE,
cleanlab's CleanLearning, P-DIFF with the true and with the estimated noise rate, P-DIFF
with per-class thresholds (its option beyond the paper), and the oracle trained on the
truly clean examples only. Run::

    python -m benchmarks.accuracy.run --suite quick --device cpu --out benchmark-out

Suites (:data:`benchmarks.accuracy.suites.SUITES`): ``quick`` (digits, mnist1d and a
CIFAR-10 subset turned into unsupervised k-means features, sized for 15 minutes on 2 CPU
cores), ``cnn-cpu`` (a CIFAR-10 subset with a narrower 9-layer CNN on the CPU, about as
long again), ``full`` (the paper's CIFAR-10 setting: all 50,000 images, the 9-layer CNN,
SGD, 200 epochs; meant for CUDA) and ``smoke`` (seconds, for the tests). It writes one
CSV row per dataset x noise x seed x method to ``OUT/benchmarks_<suite>.csv``, the
generated part of ``docs/benchmarks.md`` (for ``smoke``: ``OUT/benchmarks_smoke.md``) and
two figures.
"""

import concurrent.futures
import gc
import math
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from ..common import (
    add_threads_option,
    argument_parser,
    command_line,
    parse_args,
    set_threads,
    warm_up,
    write_csv,
)
from ..data.cifar import DATA_DIR_VARIABLE, find_data_dir
from ..memory import malloc_trim, memory, reset_peak
from .cells import load_data, noisy_labels
from .detection import detection_scores
from .methods import METHODS, Fit, NoisyData, run_method
from .suites import NEED_NOISE, SUITES, Dataset, Noise

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
        task.method, Fit(cell, dataset.schedule, task.seed, task.device, task.record)
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
    from .figures import render_figures
    from .render import render_markdown, write_page

    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--suite", choices=sorted(SUITES), default="quick")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--out", default="benchmark-out", help="folder of the CSV and cache")
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="worker processes (default: the CPU count on cpu, 1 on cuda)",
    )
    add_threads_option(parser, 1, " per worker", "one single-threaded worker per core")
    parser.add_argument(
        "--seeds", type=int, default=None, help="seeds 0..N-1 (default: the suite's)"
    )
    parser.add_argument(
        "--datasets", nargs="+", default=None, help="subset of the suite's datasets"
    )
    parser.add_argument("--methods", nargs="+", default=None, choices=list(METHODS))
    parser.add_argument(
        "--data-dir",
        default=None,
        help=f"folder of the CIFAR-10 files (default: ${DATA_DIR_VARIABLE}, else "
        "../shared/data beside the clone)",
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
    args = parse_args(parser, argv)

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
    if any(dataset.data.source == "cifar10" for dataset in datasets):
        try:
            data_dir = str(find_data_dir(data_dir))
        except FileNotFoundError as error:
            parser.error(str(error))
    set_threads(args.threads)
    for dataset in datasets:  # decode and cache CIFAR once, before the workers start
        if dataset.data.source == "cifar10":
            load_data(dataset.data, data_dir, cache_dir)

    tasks = make_tasks(args.suite, datasets, seeds, args.methods, args.device, data_dir, cache_dir)
    jobs = max(1, min(jobs, len(tasks)))
    started = time.perf_counter()
    rows = run_tasks(tasks, jobs, args.threads, progress=not args.no_progress)
    minutes = (time.perf_counter() - started) / 60
    write_csv(rows, out / f"benchmarks_{args.suite}.csv", FIELDS)
    command = command_line(__spec__.name, argv)
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
