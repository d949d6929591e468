"""Resident memory of this process (Linux ``/proc``; ``getrusage`` elsewhere), for benchmarks."""

import contextlib
import ctypes
import resource
import sys

#: Bytes in a mebibyte, the unit of the memory tables.
MIB = 2**20


def memory():
    """Return this process's current and peak resident set size, in bytes.

    The peak is the larger of ``VmHWM`` (resettable, see :func:`reset_peak`) and
    ``ru_maxrss`` where no reset happened; after a reset, ``VmHWM`` alone.
    """
    fields = {}
    with contextlib.suppress(OSError):
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    key, value = line.split(":", 1)
                    fields[key] = int(value.split()[0]) * 1024
    if "VmHWM" in fields:
        return fields["VmRSS"], fields["VmHWM"]
    peak = ru_maxrss()  # no current RSS without /proc
    return peak, peak


def ru_maxrss():
    """Return ``getrusage(RUSAGE_SELF).ru_maxrss`` in bytes."""
    # Bytes on macOS, KiB elsewhere.
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def reset_peak():
    """Reset the process's peak RSS (``VmHWM``) to its current RSS; False where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def malloc_trim():
    """Ask glibc to give freed heap memory back to the system; None where there is no glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return bool(libc.malloc_trim(0))
