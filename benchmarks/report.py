"""Helpers the benchmark scripts share to describe the machine and write their pages."""

import platform
from pathlib import Path


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
