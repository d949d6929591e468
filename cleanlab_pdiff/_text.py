"""Text for one-line messages: dependency-free, so the command line imports it at once."""

import sys

#: The command line's name.
PROG = "cleanlab-pdiff"


class UsageError(Exception):
    """Options that can't work together with this machine or file system (exit status 2)."""


def fail(message, status):
    """Print ``message`` as the command line's one-line error; return the exit ``status``."""
    print(f"{PROG}: error: {one_line(message)}", file=sys.stderr)
    return status


def warn(message):
    """Print ``message`` as the command line's one-line warning."""
    print(f"{PROG}: warning: {one_line(message)}", file=sys.stderr)


def one_line(message):
    r"""Return a message (or an exception's) on one line; an exception's type if it is empty.

    Examples
    --------
    >>> one_line("no such  \t file")
    'no such file'
    >>> one_line(KeyError())
    'KeyError'
    """
    return " ".join(str(message).split()) or type(message).__name__


def quoted(names, limit=10):
    """Return the first ``limit`` names, quoted, and how many more there are.

    Examples
    --------
    >>> quoted(["a", "b", "c"], limit=2)
    "'a', 'b', ... (1 more)"
    """
    shown = ", ".join(f"'{name}'" for name in names[:limit])
    return shown + (f", ... ({len(names) - limit} more)" if len(names) > limit else "")
