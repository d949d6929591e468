"""Measure the peak memory of fitting and predicting on a large data set (1M x 128 float32).

The data are random float32 features (standard normal) with labels planted in them (the
argmax of the first 10 features) and 10% symmetric label noise from ``make_noisy_labels``:
at 1,000,000 x 128 the features take 512 MB. Each measurement runs in a fresh Python
process, so that allocations made by an earlier one don't hide in its peak:

- ``imports``: numpy, torch, scikit-learn, skorch and cleanlab_pdiff imported (the baseline);
- ``data``: the data generated;
- ``fit on 1,000 rows``: the fixed cost of a first fit (torch.optim imports torch._dynamo);
- ``fit``: ``PDiffClassifier(max_epochs=E, batch_size=B, random_state=0).fit(X, y)``, for
  each batch size; the fitted model is pickled for the ``predict`` processes;
- ``predict_proba``: the pickled model loaded and ``predict_proba(X)`` called;
- ``fit + predict_proba``: both in one process, as a user's session does them;
- ``steps``: one ``fit`` and ``predict_proba`` with the peak of each step measured on its
  own, by resetting the process's peak-RSS counter (``/proc/self/clear_refs``, Linux) before
  each step. The steps are public seams only: ``PDiffClassifier.fit`` and ``predict_proba``,
  and inside them skorch's own ``NeuralNet.initialize``, ``fit_loop`` (the training) and
  ``forward_iter`` (the prediction batches), wrapped on ``skorch.NeuralNet``, from which the
  package's net inherits them. Where a step peaks higher than the steps inside it, the peak
  is in the package's own code around them (validation, targets, per-example results).

Peak memory is the process's peak resident set size: ``VmHWM`` in ``/proc/self/status``, the
same as ``resource.getrusage(RUSAGE_SELF).ru_maxrss``. It is reported above the RSS right
after the imports (the interpreter with torch loaded), as a multiple of the features' size.
The sizes of the P-DIFF state tensors the fitted criterion holds are summed from its buffers
(``numel * element_size``): per-example state (a dimension of ``n_samples``) and the rest.
Run::

    python -m benchmarks.cost.large_data [--n-samples 1000000] [--epochs 1] [--threads 1]

It writes ``DIR/large_data.json`` and the generated part of ``docs/large_data.md``.
"""

import json
import pickle
import platform
import sys
import time
from pathlib import Path

import numpy as np

from ..common import (
    add_threads_option,
    argument_parser,
    command_line,
    parse_args,
    run_fresh,
    set_threads,
    write_section,
)
from ..data.planted import make_planted
from ..memory import MIB, malloc_trim, memory, reset_peak, ru_maxrss
from .large_data_report import render
from .steps import StepProfiler

N_CLASSES = 10
NOISE_RATE = 0.1
#: Rows of the small fit that measures the fixed cost of a first fit (torch.optim's imports).
SMALL = 1000
#: What the ``steps`` measurement wraps on ``skorch.NeuralNet`` (name, label in the table),
#: inside ``PDiffClassifier.fit`` and ``predict_proba``: public skorch methods that the
#: package's net inherits.
STEPS = (
    ("initialize", "skorch: initialize"),
    ("fit_loop", "skorch: fit_loop (training)"),
    ("forward_iter", "skorch: forward_iter (prediction batches)"),
)


# --------------------------------------------------------------------------- child processes


def make_data(n_samples, n_features, seed=0):
    """Return float32 features, labels planted in them, and the labels with 10% noise."""
    from cleanlab_pdiff import make_noisy_labels

    X, y_clean = make_planted(n_samples, (n_features,), N_CLASSES, seed=seed)
    y = make_noisy_labels(y_clean, NOISE_RATE, random_state=seed)
    return X, y_clean, y


def state_sizes(clf, n_samples):
    """Return the buffers of the fitted criterion: name, shape, dtype, bytes, kind."""
    rows = []
    for name, buffer in clf.net_.criterion_.named_buffers():
        per_example = n_samples in buffer.shape
        rows.append(
            {
                "buffer": name,
                "shape": list(buffer.shape),
                "dtype": str(buffer.dtype),
                "bytes": buffer.numel() * buffer.element_size(),
                "kind": "per-example" if per_example else "window",
            }
        )
    return rows


def child(spec):
    """Run one measurement described by ``spec`` (a dict) and return its result (a dict)."""
    start = time.perf_counter()
    import sklearn  # noqa: F401 - part of the baseline, as in a user's session
    import skorch
    import torch

    import cleanlab_pdiff
    from cleanlab_pdiff import PDiffClassifier

    set_threads(spec["threads"])
    result = {
        "kind": spec["kind"],
        "batch_size": spec.get("batch_size"),
        "threads": torch.get_num_threads(),
        "import_seconds": time.perf_counter() - start,
    }
    result["baseline"], _ = memory()
    if spec["kind"] == "imports":
        result["peak"], result["ru_maxrss"] = memory()[1], ru_maxrss()
        return result

    start = time.perf_counter()
    X, y_clean, y = make_data(spec["n_samples"], spec["n_features"])
    result.update(
        n_samples=X.shape[0],
        data_bytes=X.nbytes,
        data_seconds=time.perf_counter() - start,
        after_data=memory()[0],
    )
    kind, path = spec["kind"], spec.get("model")
    # Only the step measurement resets the peak counter: the others report the whole process.
    profiler = StepProfiler(enabled=kind == "steps")
    if kind == "steps":
        result["reset_supported"] = reset_peak()
        for name, label in STEPS:
            profiler.wrap(skorch.NeuralNet, name, label)

    if kind in ("fit", "fit-small", "fit+predict", "steps"):
        clf = PDiffClassifier(
            max_epochs=spec["epochs"], batch_size=spec["batch_size"], random_state=0
        )
        with profiler.step("PDiffClassifier.fit"):
            start = time.perf_counter()
            clf.fit(X, y)
            result["fit_seconds"] = time.perf_counter() - start
        result["epoch_seconds"] = [float(s) for s in clf.history_[:, "dur"]]
        result["state"] = state_sizes(clf, X.shape[0])
        result["parameter_bytes"] = sum(
            p.numel() * p.element_size() for p in clf.net_.module_.parameters()
        )
        result["after_fit"] = memory()[0]
        if kind == "fit" and path:
            with open(path, "wb") as handle:
                pickle.dump(clf, handle, protocol=pickle.HIGHEST_PROTOCOL)
    if kind == "predict":
        with open(path, "rb") as handle:
            clf = pickle.load(handle)
        result["after_load"] = memory()[0]
    if kind in ("predict", "fit+predict", "steps"):
        with profiler.step("PDiffClassifier.predict_proba"):
            start = time.perf_counter()
            proba = clf.predict_proba(X)
            result["predict_seconds"] = time.perf_counter() - start
        result["accuracy_clean"] = float((proba.argmax(axis=1) == y_clean).mean())
        result["proba_bytes"] = proba.nbytes
        if kind == "steps":
            before = memory()[0]
            trimmed = malloc_trim()
            if trimmed is not None:
                profiler.records.append(
                    {
                        "step": "malloc_trim(0) after predict_proba",
                        "depth": 0,
                        "start": before,
                        "peak": before,
                        "end": memory()[0],
                        "seconds": 0.0,
                    }
                )
    result["peak"], result["ru_maxrss"] = memory()[1], ru_maxrss()
    if kind == "steps":
        # The counter was reset before each step: the process's peak is the steps' largest.
        result["peak"] = max([result["peak"], *(r["peak"] for r in profiler.records)])
        result["steps"] = profiler.records
    result["versions"] = {
        "torch": torch.__version__,
        "cleanlab_pdiff": cleanlab_pdiff.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }
    return result


def run_child(spec, log=sys.stderr):
    """Run ``spec`` in a fresh interpreter and return its result."""
    result = run_fresh(__spec__.name, spec)
    peak = (result["peak"] - result["baseline"]) / MIB
    print(
        f"{spec['kind']:12} batch {spec.get('batch_size')}: peak {result['peak'] / MIB:.0f} "
        f"MiB, {peak:.0f} MiB above the baseline",
        file=log,
        flush=True,
    )
    return result


def run(n_samples, n_features, epochs, batch_sizes, threads, repeats, out):
    """Run every measurement ``repeats`` times, each in its own process; return the results."""
    common = {
        "n_samples": n_samples,
        "n_features": n_features,
        "epochs": epochs,
        "threads": threads,
    }
    results = []
    for repeat in range(repeats):
        specs = [
            {"kind": "imports"},
            {"kind": "data"},
            {"kind": "fit-small", "n_samples": SMALL, "batch_size": batch_sizes[0]},
        ]
        for batch_size in batch_sizes:
            model = str(Path(out).resolve() / f"large_data-model-{batch_size}.pkl")
            specs += [
                {"kind": "fit", "batch_size": batch_size, "model": model},
                {"kind": "predict", "batch_size": batch_size, "model": model},
            ]
        specs.append({"kind": "fit+predict", "batch_size": batch_sizes[0]})
        if repeat == 0:
            specs.append({"kind": "steps", "batch_size": batch_sizes[0]})
        for spec in specs:
            results.append({**run_child({**common, **spec}), "repeat": repeat})
            if spec["kind"] == "predict":
                Path(spec["model"]).unlink()
    return results


def main(argv=None):
    """Measure with the command-line arguments ``argv`` (None: ``sys.argv[1:]``)."""
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--n-samples", type=int, default=1_000_000)
    parser.add_argument("--n-features", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument(
        "--batch-sizes",
        type=int,
        nargs="+",
        default=[128, 1024],
        help="batch sizes to fit with; the first one is also used for the "
        "fit + predict_proba and step measurements",
    )
    add_threads_option(parser, 1, " in the measured processes")
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="times each measurement runs (in a fresh process each time)",
    )
    parser.add_argument("--out", default="benchmark-out")
    parser.add_argument("--doc", default="docs/large_data.md")
    args = parse_args(parser, argv, child)
    if args is None:
        return
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = run(
        args.n_samples,
        args.n_features,
        args.epochs,
        args.batch_sizes,
        args.threads,
        args.repeats,
        out,
    )
    with open(out / "large_data.json", "w") as handle:
        json.dump(results, handle, indent=1)
    table = render(results, command=command_line(__spec__.name, argv))
    print(table)
    write_section(args.doc, table, title="Memory on a large data set", key="large-data")


if __name__ == "__main__":
    main()
