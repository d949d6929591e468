"""Plumbing the benchmark scripts share: seeds, the command line, and their output.

- :func:`torch_seed` and :func:`seeded`: torch seeded from an integer seed as
  ``PDiffClassifier(random_state=seed)`` seeds it, so that a method trained
  outside the estimator starts from the same network;
- :func:`set_threads` and :func:`warm_up`: torch's threads, and a first fit's one-off
  costs paid before anything is timed;
- :func:`select` and :func:`median_range`: result rows picked and summarised;
- :func:`write_csv`, :func:`markdown_table`, :func:`generated_by` and
  :func:`write_section`: a results file, the tables of a Markdown page, and its
  generated part;
- :func:`argument_parser`, :func:`add_threads_option`, :func:`parse_args` and
  :func:`command_line`: a script's options, and what ran;
- :func:`run_fresh`: one measurement in a fresh interpreter (the ``--child`` option of
  :func:`parse_args` answers it);
- :func:`cpu_name`: where it ran.

Importing it imports neither torch nor scikit-learn (the functions that need them
import them): ``benchmarks.cost.large_data`` times those imports in its measured
processes.
"""

import argparse
import contextlib
import csv
import datetime
import json
import platform
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np

__all__ = [
    "ROOT",
    "add_threads_option",
    "argument_parser",
    "command_line",
    "cpu_name",
    "generated_by",
    "markdown_table",
    "median_range",
    "parse_args",
    "run_fresh",
    "seeded",
    "select",
    "set_threads",
    "torch_seed",
    "warm_up",
    "write_csv",
    "write_section",
]

#: The repository root, where ``python -m benchmarks.<kind>.<name>`` runs.
ROOT = Path(__file__).resolve().parents[1]


def torch_seed(seed):
    """Return the torch seed that ``PDiffClassifier(random_state=seed)`` uses.

    It is the first integer that NumPy's ``RandomState(seed)`` draws below 2**31 - 1.

    Examples
    --------
    >>> torch_seed(0) == torch_seed(0) != torch_seed(1)
    True
    """
    from sklearn.utils import check_random_state

    return int(check_random_state(seed).randint(np.iinfo(np.int32).max))


@contextlib.contextmanager
def seeded(seed, device):
    """Run the body on private copies of torch's generators, seeded with :func:`torch_seed`.

    The CPU generator and, on CUDA, the device's one are forked and seeded; the
    caller's states come back on exit.

    Examples
    --------
    >>> import torch
    >>> with seeded(0, "cpu"):
    ...     first = torch.rand(2)
    >>> with seeded(0, "cpu"):
    ...     bool((torch.rand(2) == first).all())
    True
    """
    import torch

    device = torch.device(device)
    cuda = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        torch.manual_seed(torch_seed(seed))
        yield


def set_threads(threads):
    """Set torch's number of threads; 0 leaves torch's default."""
    if threads:
        import torch

        torch.set_num_threads(threads)


def warm_up(threads=0):
    """Set torch's threads (0 leaves them) and pay a first fit's one-off costs.

    The first fit in a process imports and initialises what later fits reuse
    (``torch.optim`` alone imports ``torch._dynamo``); a short fit on 300 digits
    keeps that out of the timings. It is also the worker initialiser of
    ``benchmarks.accuracy.run``'s process pool.
    """
    from cleanlab_pdiff import PDiffClassifier

    from .data.tabular import load_digits_data

    set_threads(threads)
    X, y = load_digits_data()
    PDiffClassifier(max_epochs=2, random_state=0, device="cpu").fit(X[:300], y[:300])


def select(rows, **where):
    """Return the rows (dicts) whose values equal every ``key=value`` given.

    Examples
    --------
    >>> select([{"a": 1, "b": 2}, {"a": 1, "b": 3}], a=1, b=3)
    [{'a': 1, 'b': 3}]
    """
    return [row for row in rows if all(row[key] == value for key, value in where.items())]


def median_range(values, digits=3):
    """Format values as ``median (min–max)``, NaNs left out; ``n/a`` when none is left.

    Parameters
    ----------
    values : array-like of float
        One value per seed (or run).
    digits : int, default=3
        Decimals.

    Returns
    -------
    text : str
        Just the median for a single value.

    Examples
    --------
    >>> median_range([0.5, 0.75, 0.25], 2)
    '0.50 (0.25–0.75)'
    >>> median_range([1.0], 1), median_range([float("nan")]), median_range([])
    ('1.0', 'n/a', 'n/a')
    """
    values = np.asarray(values, dtype=float)
    if values.size == 0 or np.isnan(values).all():
        return "n/a"
    lo, mid, hi = np.nanmin(values), np.nanmedian(values), np.nanmax(values)
    if values.size == 1:
        return f"{mid:.{digits}f}"
    return f"{mid:.{digits}f} ({lo:.{digits}f}–{hi:.{digits}f})"


def write_csv(rows, path, fields):
    """Write the rows to a CSV file, one column per field, creating its folder.

    Parameters
    ----------
    rows : iterable of dict
        One per line; keys outside ``fields`` (a fitted model, say) are left out.
    path : path-like
        The file.
    fields : sequence of str
        The columns, in order.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(fields), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def markdown_table(header, rows):
    """Return the lines of a Markdown table: a header, its rule, then one line per row.

    Parameters
    ----------
    header : sequence of str
        Column headings.
    rows : iterable of sequence
        The cells of each row, already formatted (``str`` is applied to each).

    Returns
    -------
    lines : list of str

    Examples
    --------
    >>> for line in markdown_table(["method", "F1"], [["a", "0.5"], ["b", ""]]):
    ...     print(line)
    | method | F1 |
    |---|---|
    | a | 0.5 |
    | b |  |
    """

    def line(cells):
        return "| " + " | ".join(map(str, cells)) + " |"

    lines = [line(header), "|" + "---|" * len(header)]
    for row in rows:
        if len(row) != len(header):
            raise ValueError(f"a row has {len(row)} cells for {len(header)} columns: {row!r}")
        lines.append(line(row))
    return lines


def generated_by(command, *details):
    """Return the first line of a generated part: the command, today's date and ``details``.

    Examples
    --------
    >>> generated_by("python -m x", "1 thread").endswith(" (1 thread).")
    True
    """
    return f"Generated by `{command}` on {datetime.date.today()} ({', '.join(details)})."


def write_section(path, generated, *, title, key="GENERATED"):
    """Put generated text between a page's ``BEGIN key``/``END key`` markers, keeping the rest.

    Parameters
    ----------
    path : path-like
        The Markdown page; created with ``title`` if missing. Markers missing from an
        existing page are appended to it.
    generated : str
        Text to place between the markers.
    title : str
        Heading of a new page.
    key : str, default="GENERATED"
        Name in the markers, so that one page can hold several generated parts.
    """
    begin, end = f"<!-- BEGIN {key} -->", f"<!-- END {key} -->"
    path = Path(path)
    text = path.read_text() if path.exists() else f"# {title}\n\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        tail = rest.split(end, 1)[1]
    else:
        head, tail = text.rstrip("\n") + "\n\n", "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{head}{begin}\n{generated.rstrip(chr(10))}\n{end}{tail}")


def cpu_name():
    """Return the processor's model name, as /proc/cpuinfo gives it where it can."""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def argument_parser(module, doc):
    """Return the parser of ``python -m <module>``, described by ``doc``'s first paragraph."""
    return argparse.ArgumentParser(prog=f"python -m {module}", description=doc.split("\n\n")[0])


def add_threads_option(parser, default, where="", why=""):
    """Add ``--threads``: torch's threads (``where`` they run), 0 leaving torch's default."""
    reason = f": {why}" if why else ""
    parser.add_argument(
        "--threads",
        type=int,
        default=default,
        help=f"torch threads{where}; 0 leaves torch's default (default {default}{reason})",
    )


def parse_args(parser, argv, child=None):
    """Parse ``argv`` (None: ``sys.argv[1:]``); in a :func:`run_fresh` child, answer it instead.

    With ``child`` (a function of a spec dict that returns a JSON-able result), the parser
    gets a hidden ``--child SPEC`` option: given it, ``child(SPEC)``'s result is printed as
    JSON and None is returned, so that the caller's ``main`` stops there.
    """
    if child is not None:
        parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if child is not None and args.child:
        print(json.dumps(child(json.loads(args.child))))
        return None
    return args


def command_line(module, argv):
    """Return the command that ran ``python -m <module>`` with ``argv`` (None: ``sys.argv``).

    Examples
    --------
    >>> command_line("benchmarks.accuracy.run", ["--suite", "smoke"])
    'python -m benchmarks.accuracy.run --suite smoke'
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    return shlex.join(["python", "-m", module, *argv])


def run_fresh(module, spec):
    """Run ``python -m <module> --child <spec as JSON>`` in a fresh interpreter; return its result.

    The child (see :func:`parse_args`) prints its result as JSON on the last line of its
    output. A fresh process keeps earlier allocations out of a memory measurement.
    """
    command = [sys.executable, "-m", module, "--child", json.dumps(spec)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{spec} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])
