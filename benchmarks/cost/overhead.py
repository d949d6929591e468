"""Measure what P-DIFF adds to an epoch, against plain skorch training of the same network.

For each case (an MLP on 100k x 128 features, at batch 128 and 1024; the 9-layer CNN on
32x32 images), the same module, data, batch size, optimiser and learning rate are trained
by:

- ``skorch``: ``skorch.NeuralNetClassifier`` with cross-entropy and skorch's default
  (row-by-row) data loading;
- ``skorch, batch loading``: the same with the batch-level loader PDiffClassifier uses;
- ``P-DIFF auto`` / ``P-DIFF 0.3``: ``PDiffClassifier`` with ``noise_rate="auto"`` / 0.3.

Each method runs ``--rounds`` times, interleaved, for ``--epochs`` epochs; the first epoch
of each run is dropped (warm-up) and the median of the remaining epoch times is reported,
with the ratios to ``skorch`` and to ``skorch, batch loading`` (P-DIFF's own cost) from
the same round. Run::

    python -m benchmarks.cost.overhead [--device cpu|cuda] [--rounds 3] [--epochs 3]

It writes ``DIR/overhead-<device>.csv`` (one row per case x method x round) and the
generated part of ``docs/overhead.md`` between its ``<device>`` markers.
"""

import copy
import sys
from pathlib import Path

import numpy as np
import torch
from skorch import NeuralNetClassifier

from cleanlab_pdiff import CNN9, MLP, PDiffClassifier
from cleanlab_pdiff.loader import batch_loader

from ..common import (
    add_threads_option,
    argument_parser,
    command_line,
    cpu_name,
    generated_by,
    markdown_table,
    parse_args,
    seeded,
    select,
    set_threads,
    write_csv,
    write_section,
)
from ..data.planted import make_planted

#: name -> (n_samples on CPU, n_samples on CUDA, sample shape, n_classes, module factory,
#: batch size). The MLP at batch 1024 shows how P-DIFF's fixed cost per step amortises.
CASES = {
    "MLP, 100k x 128": (100_000, 100_000, (128,), 10, lambda: MLP(128, 10), 128),
    "MLP, 100k x 128, batch 1024": (100_000, 100_000, (128,), 10, lambda: MLP(128, 10), 1024),
    "CNN9, 32x32x3": (512, 20_000, (3, 32, 32), 10, lambda: CNN9(3, 10), 128),
}
METHODS = ("skorch", "skorch, batch loading", "P-DIFF auto", "P-DIFF 0.3")
#: The methods the others' epoch times are divided by.
BASELINES = METHODS[:2]
#: Columns of the CSV file.
FIELDS = ("case", "n_samples", "method", "round", "epoch_seconds")
LR = 1e-3


def epoch_times(method, module, X, y, epochs, device, batch_size=128):
    """Train with ``method`` and return the duration of each epoch, in seconds.

    Every method trains a copy of ``module`` under torch seeded as
    ``PDiffClassifier(random_state=0)`` seeds it.
    """
    common = {"max_epochs": epochs, "batch_size": batch_size, "lr": LR, "device": device}
    if method.startswith("P-DIFF"):
        rate = "auto" if method.endswith("auto") else 0.3
        clf = PDiffClassifier(copy.deepcopy(module), noise_rate=rate, random_state=0, **common)
        history = clf.fit(X, y).history_
    else:
        loaders = {"iterator_train": batch_loader, "iterator_valid": batch_loader}
        net = NeuralNetClassifier(
            copy.deepcopy(module),
            criterion=torch.nn.CrossEntropyLoss,
            optimizer=torch.optim.Adam,
            train_split=None,
            iterator_train__shuffle=True,
            verbose=0,
            **common,
            **(loaders if "batch" in method else {}),
        )
        with seeded(0, device):
            history = net.fit(X, y).history
    return list(history[:, "dur"])


def run(device, rounds, epochs, log=sys.stderr):
    """Run every case and method; return one row per case x method x round."""
    rows = []
    for case, (n_cpu, n_cuda, shape, n_classes, factory, batch_size) in CASES.items():
        n_samples = n_cuda if device == "cuda" else n_cpu
        X, y = make_planted(n_samples, shape, n_classes)
        with seeded(0, "cpu"):
            module = factory()
        for round_ in range(rounds):
            for method in METHODS:
                times = epoch_times(method, module, X, y, epochs, device, batch_size)
                seconds = float(np.median(times[1:]))
                print(
                    f"{case} | {method} | round {round_}: {seconds:.3f} s/epoch",
                    file=log,
                    flush=True,
                )
                rows.append(
                    {
                        "case": case,
                        "n_samples": n_samples,
                        "method": method,
                        "round": round_,
                        "epoch_seconds": seconds,
                    }
                )
    return rows


def render(rows, *, device, command, threads):
    """Return the Markdown table of median epoch times and ratios to plain skorch."""
    body = []
    for case in CASES:
        bases = [
            {r["round"]: r["epoch_seconds"] for r in select(rows, case=case, method=base)}
            for base in BASELINES
        ]
        for method in METHODS:
            mine = select(rows, case=case, method=method)
            if not mine:
                continue
            seconds = [r["epoch_seconds"] for r in mine]
            cells = []
            for base in bases:
                ratios = [r["epoch_seconds"] / base[r["round"]] for r in mine]
                cells.append(f"{np.median(ratios):.3f} ({min(ratios):.3f}-{max(ratios):.3f})")
            body.append([case, mine[0]["n_samples"], method, f"{np.median(seconds):.3f}", *cells])
    header = ["case", "N", "method", "epoch seconds", *(f"ratio to {b}" for b in BASELINES)]
    details = (f"device `{device}`", f"{threads} torch thread(s)", f"torch {torch.__version__}")
    return "\n".join(
        [
            generated_by(command, cpu_name(), *details),
            "",
            "Median epoch seconds over rounds; each ratio is to the method named in its column, "
            "in the same round (median, min-max).",
            "",
            *markdown_table(header, body),
        ]
    )


def main(argv=None):
    """Measure with the command-line arguments ``argv`` (None: ``sys.argv[1:]``)."""
    parser = argument_parser(__spec__.name, __doc__)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    add_threads_option(parser, 0)
    parser.add_argument("--out", default="benchmark-out")
    parser.add_argument("--doc", default="docs/overhead.md")
    args = parse_args(parser, argv)
    set_threads(args.threads)
    rows = run(args.device, args.rounds, args.epochs)
    write_csv(rows, Path(args.out) / f"overhead-{args.device}.csv", FIELDS)
    command = command_line(__spec__.name, argv)
    table = render(rows, device=args.device, command=command, threads=torch.get_num_threads())
    print(table)
    write_section(args.doc, table, title="P-DIFF's overhead per epoch", key=args.device)


if __name__ == "__main__":
    main()
