"""Checks of hyper-parameters against a declarative table: no scikit-learn, no torch.

Each public piece declares its parameters once, as ``name -> Param``, and
:func:`check_params` enforces the whole table, so the pure P-DIFF modules and the
estimator share one checker and one wording of the errors.
"""

import math
import numbers
from dataclasses import dataclass

import numpy as np

__all__ = ["Param", "check_param", "check_params", "is_random_state"]


#: How a kind is named in a type error.
_KIND_WORDS = {
    numbers.Integral: "an integer",
    numbers.Real: "a number",
    bool: "True or False",
    callable: "a callable",
    dict: "a dict",
}


@dataclass(frozen=True)
class Param:
    """What one hyper-parameter may be.

    Parameters
    ----------
    kind : type, tuple of types, function or None
        ``numbers.Integral``, ``numbers.Real`` (booleans are refused for
        both), ``bool`` (exactly True or False), another type (or tuple of
        types) the value must be an instance of, a function that tells
        whether a value will do (the builtin ``callable``: any callable), or
        ``None`` (only the ``options``). Name it in ``what`` unless it is one
        of the first four, ``dict``, ``list`` or ``callable``.
    low, high : float, optional
        Bounds of a number; ``None`` leaves that side open-ended.
    low_open, high_open : bool, default=False
        Whether the bound itself is excluded.
    options : tuple, default=()
        Literal values accepted besides ``kind``, e.g. ``("auto",)``,
        ``(None,)`` or ``(0,)``; None and booleans compare by identity (so
        ``1`` is not ``True``), strings and numbers by value.
    what : str, optional
        How to name ``kind`` in errors, instead of e.g. "an integer" (with
        ``kind=None``: how to name the options).
    """

    kind: object = None
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    options: tuple = ()
    what: str | None = None

    def bounds(self):
        """Return the bounds as an interval, e.g. ``[0, 1)``."""
        low = "-inf" if self.low is None else self.low
        high = "inf" if self.high is None else self.high
        return f"{'(' if self.low_open else '['}{low}, {high}{')' if self.high_open else ']'}"

    def describe(self):
        """Return what the parameter may be, in words."""
        if self.kind is None:
            return self.what or f"one of {list(self.options)}"
        what = self.what or _KIND_WORDS[self.kind].replace("a number", "a float")
        if self.kind in (numbers.Integral, numbers.Real):
            what += f" in {self.bounds()}"
        choices = [*map(repr, self.options), what]
        return " or ".join([", ".join(choices[:-1]), choices[-1]] if len(choices) > 2 else choices)


def _is_option(value, options):
    return any(_same(value, option) for option in options)


def _same(value, option):
    # None and the booleans by identity (1 is not True); strings and numbers by value.
    if option is None or isinstance(option, bool) or isinstance(value, bool):
        return value is option
    if isinstance(option, str):
        return isinstance(value, str) and value == option
    return isinstance(value, numbers.Number) and value == option


def _is_kind(value, kind):
    if kind is bool:
        return isinstance(value, bool)
    if kind in (numbers.Integral, numbers.Real):
        return isinstance(value, kind) and not isinstance(value, bool)
    if isinstance(kind, (type, tuple)):
        return isinstance(value, kind)
    return kind(value)


def check_param(name, value, param):
    """Return ``value`` if it is what ``param`` allows, else raise naming ``name``.

    Raises
    ------
    TypeError
        ``value`` is of the wrong kind.
    ValueError
        ``value`` is out of bounds, or is not among the options where only
        options (or a string among them) are allowed.

    Examples
    --------
    >>> import numbers
    >>> check_param("window", 5, Param(numbers.Integral, low=1))
    5
    >>> check_param("window", 0, Param(numbers.Integral, low=1))
    Traceback (most recent call last):
    ...
    ValueError: window must be in [1, inf], got 0.
    >>> check_param("rate", "half", Param(numbers.Real, 0, 1, high_open=True, options=("auto",)))
    Traceback (most recent call last):
    ...
    ValueError: rate must be 'auto' or a float in [0, 1), got 'half'.
    """
    if _is_option(value, param.options):
        return value
    mistyped = isinstance(value, str) and any(isinstance(o, str) for o in param.options)
    if param.kind is None or mistyped:
        raise ValueError(f"{name} must be {param.describe()}, got {value!r}.")
    if not _is_kind(value, param.kind):
        what = param.describe() if param.options else param.what or _KIND_WORDS[param.kind]
        raise TypeError(f"{name} must be {what}, got {value!r} of type {type(value).__name__}.")
    if param.kind in (numbers.Integral, numbers.Real):
        low, high = param.low, param.high
        too_low = low is not None and (value <= low if param.low_open else value < low)
        too_high = high is not None and (value >= high if param.high_open else value > high)
        infinite = not isinstance(value, numbers.Integral) and not math.isfinite(value)
        if too_low or too_high or infinite:
            raise ValueError(f"{name} must be in {param.bounds()}, got {value!r}.")
    return value


def check_params(values, table):
    """Check each value named in ``table`` with :func:`check_param`.

    Parameters
    ----------
    values : mapping of str to object
        The parameters' values, e.g. an estimator's ``get_params()``.
    table : dict of str to Param
        The parameters to check.
    """
    for name, param in table.items():
        check_param(name, values[name], param)


def is_random_state(value):
    """Return whether ``value`` can seed as a ``random_state``: None, an int or a RandomState."""
    return value is None or isinstance(value, (numbers.Integral, np.random.RandomState))
