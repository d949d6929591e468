"""Peak resident memory step by step, inside one process (Linux ``/proc``).

:class:`StepProfiler` resets the process's peak-RSS counter at each step's start and
wraps public methods (skorch's seams) as steps, so that one ``fit`` shows where its
memory goes; ``benchmarks.cost.large_data`` reports it.
"""

import contextlib
import functools
import inspect
import time

from ..memory import memory, reset_peak

__all__ = ["StepProfiler"]


class StepProfiler:
    """Peak RSS of nested steps: each step resets the peak counter and records its own peak.

    A step's peak is taken above the RSS at its start. An enclosing step still sees the peaks
    of the steps inside it: the counter is read into every open step before each reset.
    """

    def __init__(self, enabled=True):
        self.enabled = enabled
        self.open = []
        self.records = []

    def _collect(self):
        _, peak = memory()
        for frame in self.open:
            frame["peak"] = max(frame["peak"], peak)

    @contextlib.contextmanager
    def step(self, name):
        """Measure the body as one step called ``name`` (a no-op when not enabled)."""
        if not self.enabled:
            yield {}
            return
        self._collect()
        reset_peak()
        rss, _ = memory()
        record = {"step": name, "depth": len(self.open), "start": rss, "peak": rss}
        self.records.append(record)
        self.open.append(record)
        start = time.perf_counter()
        try:
            yield record
        finally:
            self._collect()
            self.open.pop()
            record["seconds"] = time.perf_counter() - start
            record["end"] = memory()[0]

    def wrap(self, owner, name, label):
        """Measure every call of ``owner.name`` (a function) as a step called ``label``.

        A generator function's step lasts until its generator is exhausted or closed,
        so that it covers the caller's loop over it.

        Raises
        ------
        AttributeError
            If ``owner`` has no attribute ``name``: a renamed seam must fail the
            measurement, not drop out of its table.
        """
        if not hasattr(owner, name):
            raise AttributeError(
                f"{getattr(owner, '__qualname__', owner)!r} has no attribute {name!r} to "
                f"measure as step {label!r}."
            )
        target = getattr(owner, name)
        if inspect.isgeneratorfunction(target):

            @functools.wraps(target)
            def wrapper(*args, **kwargs):
                with self.step(label):
                    yield from target(*args, **kwargs)

        else:

            @functools.wraps(target)
            def wrapper(*args, **kwargs):
                with self.step(label):
                    return target(*args, **kwargs)

        setattr(owner, name, wrapper)
