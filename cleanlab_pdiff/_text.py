"""Text for one-line messages: dependency-free, so the command line imports it at once."""


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
