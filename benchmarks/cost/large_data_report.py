"""The Markdown tables of ``python -m benchmarks.cost.large_data``'s measurements."""

import numpy as np

from ..common import cpu_name, generated_by, markdown_table, select
from ..memory import MIB

__all__ = ["render"]

#: Row name of each kind of measurement.
LABELS = {
    "imports": "imports (baseline)",
    "data": "generate the data",
    "fit-small": "fit on 1,000 rows (fixed cost)",
    "fit": "fit",
    "predict": "predict_proba",
    "fit+predict": "fit + predict_proba",
    "steps": "fit + predict_proba (step probes on)",
}
#: The versions in the first line: (key in a result's "versions", name).
VERSIONS = (("torch", "torch"), ("numpy", "numpy"), ("python", "Python"))


def _mib(value):
    return f"{value / MIB:.0f}"


def _peak_table(results, size):
    """Peak memory per measurement; and the largest of a fit or predict, over the data."""
    groups = {}
    for r in results:
        if r["kind"] != "steps":
            groups.setdefault((r["kind"], r.get("batch_size")), []).append(r)
    worst, body = 0.0, []
    for (kind, batch_size), runs in groups.items():
        above = [r["peak"] - r["baseline"] for r in runs]
        seconds = [
            {"imports": r["import_seconds"], "data": r.get("data_seconds")}.get(
                kind, (r.get("fit_seconds") or 0) + (r.get("predict_seconds") or 0)
            )
            for r in runs
        ]
        if kind not in ("imports", "fit-small", "data"):
            worst = max(worst, max(above) / size)
        body.append(
            [
                LABELS[kind],
                batch_size or "",
                _mib(max(r["peak"] for r in runs)),
                f"{_mib(np.median(above))} ({_mib(min(above))}-{_mib(max(above))})",
                f"{np.median(above) / size:.2f} ({max(above) / size:.2f})",
                f"{np.median(seconds):.1f}",
            ]
        )
    header = ["measurement", "batch size", "peak RSS (MiB)", "above baseline (MiB)", "x data"]
    return markdown_table([*header, "seconds"], body), worst


def _speed_table(results, fits):
    body = []
    for batch_size in dict.fromkeys(r["batch_size"] for r in fits):
        epochs = [s for r in select(fits, batch_size=batch_size) for s in r["epoch_seconds"]]
        predicts = select(results, kind="predict", batch_size=batch_size)
        predict = [r["predict_seconds"] for r in predicts] or [float("nan")]
        accuracy = predicts[0]["accuracy_clean"] if predicts else float("nan")
        body.append(
            [
                batch_size,
                f"{np.median(epochs):.1f}",
                f"{np.median(predict):.1f}",
                f"{accuracy:.3f}",
            ]
        )
    header = ["batch size", "epoch seconds", "predict_proba seconds", "accuracy on clean labels"]
    return markdown_table(header, body)


def _state_table(fit, size):
    body = []
    for s in fit["state"]:
        shape = " x ".join(str(d) for d in s["shape"]) or "scalar"
        dtype = s["dtype"].replace("torch.", "")
        body.append([f"`{s['buffer']}`", shape, dtype, f"{s['bytes']:,}", s["kind"]])
    for kind in ("window", "per-example"):
        total = sum(s["bytes"] for s in fit["state"] if s["kind"] == kind)
        body.append([f"**{kind} total**", "", "", f"**{total:,}**", f"{total / size:.4f} x data"])
    body.append(["*network parameters (for scale)*", "", "", f"{fit['parameter_bytes']:,}", ""])
    return markdown_table(["buffer", "shape", "dtype", "bytes", "kind"], body)


def _steps_table(steps):
    body = []
    for s in steps["steps"]:
        body.append(
            [
                "&nbsp;&nbsp;&nbsp;&nbsp;" * s["depth"] + f"`{s['step']}`",
                f"{(s['peak'] - s['start']) / MIB:.0f}",
                f"{(s['end'] - s['start']) / MIB:+.0f}",
                f"{s['seconds']:.1f}",
            ]
        )
    header = ["step", "peak above start (MiB)", "held at end (MiB)", "seconds"]
    return markdown_table(header, body)


def render(results, *, command):
    """Return the Markdown tables of the results."""
    data = next(r for r in results if r["kind"] == "data")
    small = next(r for r in results if r["kind"] == "fit-small")
    size = data["data_bytes"]
    imports = select(results, kind="imports")
    fits = select(results, kind="fit")
    versions = fits[0]["versions"] if fits else {}
    peaks, worst = _peak_table(results, size)
    lines = [
        generated_by(
            command,
            cpu_name(),
            f"{imports[0]['threads']} torch thread(s)",
            *(f"{name} {versions.get(key, '?')}" for key, name in VERSIONS),
        ),
        "",
        f"Features: {size / 1e6:.0f} MB ({_mib(size)} MiB) of float32. Each measurement ran "
        f"{len(imports)} time(s), each in a fresh process. *Above baseline*: the process's "
        f"peak RSS minus its RSS right after the imports ({_mib(imports[0]['baseline'])} MiB: "
        f"Python with numpy, torch, scikit-learn, skorch and cleanlab_pdiff), median (min-max) "
        f"over the runs; *x data*: that over the features' size, median (max); *peak RSS*: the "
        f"largest. The {small['n_samples']:,}-row fit has "
        f"{small['n_samples'] * size / data['n_samples'] / 1e6:.1f} MB of data: its row is the "
        f"fixed cost of a first fit.",
        "",
        *peaks,
        "",
        f"Largest peak of a fit or predict_proba process: **{worst:.2f} x data** "
        f"above the baseline.",
        "",
        "Epoch time and accuracy against the clean (planted) labels:",
        "",
        *_speed_table(results, fits),
    ]
    if fits:
        lines += [
            "",
            f"P-DIFF state held by the fitted criterion (batch size {fits[0]['batch_size']}; "
            f"buffers, `numel * element_size`):",
            "",
            *_state_table(fits[0], size),
        ]
    steps = next((r for r in results if r["kind"] == "steps"), None)
    if steps and steps.get("reset_supported"):
        lines += [
            "",
            f"Where the memory goes (batch size {steps['batch_size']}): each step's "
            f"peak above the RSS at its start, and what it still holds at its end; "
            f"nested steps are indented.",
            "",
            *_steps_table(steps),
        ]
    return "\n".join(lines)
