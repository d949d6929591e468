"""Reading a table file into a DataFrame, by its format (see :mod:`cleanlab_pdiff.io`)."""

import csv
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from .._text import one_line, quoted

_CSV_SUFFIXES = (".csv", ".tsv")
_COMPRESSION_SUFFIXES = (".gz", ".bz2", ".zip", ".xz", ".zst")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_FORMATS = "CSV (.csv, .tsv, optionally compressed), Parquet (.parquet, .pq) or NPZ (.npz)"


class DataError(ValueError):
    """The input data cannot be used; the message is one line, meant for the user.

    Parameters
    ----------
    message : str
        What is wrong and what to do.
    argument : str, optional
        The argument of :func:`select_columns` (or :func:`read_table`) to
        check. The message names arguments in backticks.
    """

    __module__ = "cleanlab_pdiff.io"  # its public home: tracebacks and the docs name it so

    def __init__(self, message, *, argument=None):
        super().__init__(message)
        self.argument = argument

    def naming_arguments(self, rename):
        """Return the message with each argument in backticks renamed (e.g. to a command-line flag).

        Parameters
        ----------
        rename : callable
            Maps an argument's name to the name to show.

        Examples
        --------
        >>> error = DataError("check `label_column`.", argument="label_column")
        >>> error.naming_arguments(lambda name: "--" + name.replace("_", "-"))
        'check --label-column.'
        """
        return re.sub(r"`(\w+)`", lambda match: rename(match.group(1)), str(self))


def read_table(path, *, delimiter=None):
    """Read a CSV, Parquet or NPZ file into a DataFrame, chosen by the file name.

    Parameters
    ----------
    path : str or os.PathLike
        The file; see :mod:`cleanlab_pdiff.io` for the formats and the NPZ layout.
    delimiter : str, default=None
        Field delimiter of a CSV file; ``None`` sniffs it from the start of
        the file (``,``, ``;``, tab or ``|``; a tab for ``.tsv``).

    Returns
    -------
    table : pandas.DataFrame
        One row per example, at least one row.

    Raises
    ------
    DataError
        If the file is missing, empty, of an unknown format or unreadable.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "data.npz")
    >>> np.savez(path, X=np.zeros((3, 2)), y=np.array(["a", "b", "a"]))
    >>> read_table(path).columns.tolist()
    ['X[0]', 'X[1]', 'y']
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"no such file: '{path}'.")
    if path.is_dir():
        raise DataError(f"'{path}' is a directory; give a data file ({_FORMATS}).")
    if path.stat().st_size == 0:
        raise DataError(f"'{path}' is empty.")
    suffixes = [suffix.lower() for suffix in path.suffixes]
    if suffixes and suffixes[-1] in _COMPRESSION_SUFFIXES:
        suffixes = suffixes[:-1]
    suffix = suffixes[-1] if suffixes else ""
    try:
        if suffix in _CSV_SUFFIXES:
            table = _read_csv(path, delimiter or ("\t" if suffix == ".tsv" else _sniff(path)))
        elif suffix in _PARQUET_SUFFIXES:
            table = _read_parquet(path)
        elif suffix == ".npz":
            table = _read_npz(path)
        else:
            raise DataError(
                f"can't tell the format of '{path}' from its name; expected {_FORMATS}."
            )
    except DataError:
        raise
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"'{path}' is empty (no header row).") from exc
    except ImportError as exc:
        raise DataError(
            f"reading '{path}' needs a package that is not installed ({one_line(exc)})."
        ) from exc
    except Exception as exc:
        # Corrupt files surface as whatever the decompressor, zip, Arrow or pandas raises
        # (zlib.error, LZMAError, KeyError, ArrowException, ...): all mean "unreadable".
        kind = "Parquet" if suffix in _PARQUET_SUFFIXES else suffix.lstrip(".").upper()
        raise DataError(f"can't read '{path}' as {kind}: {one_line(exc)}") from exc
    if table.shape[0] == 0:
        raise DataError(f"'{path}' is empty: it has no rows, only the column names.")
    return table


#: Delimiters that sniffing considers.
DELIMITERS = ",;\t|"


def _sniff(path):
    """Return the delimiter of a CSV file's first lines, or "," when unclear."""
    with open(path, "rb") as handle:  # compressed files fall back to ","
        start = handle.read(65536)
    try:
        text = start.decode("utf-8")
        return csv.Sniffer().sniff(text.split("\n", 20)[0], delimiters=DELIMITERS).delimiter
    except (UnicodeDecodeError, csv.Error):
        return ","


def _read_csv(path, sep):
    # pandas renames a repeated column name ("label" -> "label.1"), which would turn a
    # second label column into a feature; read the header as written to refuse it.
    header = pd.read_csv(path, sep=sep, header=None, nrows=1, dtype=str).iloc[0].tolist()
    repeated = sorted({str(name) for name in header if header.count(name) > 1})
    if repeated:
        raise DataError(f"'{path}' has more than one column named {quoted(repeated)}.")
    return pd.read_csv(path, sep=sep)


def _read_parquet(path):
    table = pd.read_parquet(path)
    # Arrow-backed text decodes lazily: invalid UTF-8 in a corrupt page would surface only
    # later, on conversion; convert the non-numeric columns here, inside the error handling.
    for column in table.columns:
        if not pd.api.types.is_numeric_dtype(table[column]):
            table[column].to_numpy()
    return table


def _read_npz(path):
    if not zipfile.is_zipfile(path):
        raise DataError(f"can't read '{path}' as NPZ: it is not a zip archive of arrays.")
    columns = {}
    n_rows = None
    with np.load(path, allow_pickle=False) as arrays:
        if not arrays.files:
            raise DataError(f"'{path}' holds no arrays.")
        for name in arrays.files:
            try:
                array = arrays[name]
            except ValueError as exc:
                if "allow_pickle" not in str(exc):
                    raise
                raise DataError(
                    f"array '{name}' in '{path}' holds Python objects, which are read only "
                    f"with pickle; save numbers, or strings as a fixed-width array "
                    f"(e.g. y.astype(str))."
                ) from exc
            if not isinstance(array, np.ndarray):
                raise DataError(f"member '{name}' of '{path}' is not a .npy array.")
            if array.ndim not in (1, 2):
                raise DataError(
                    f"array '{name}' in '{path}' has shape {array.shape}; NPZ arrays must be "
                    f"1-D (one column) or 2-D (one column per feature), e.g. "
                    f"X.reshape(len(X), -1)."
                )
            if n_rows is None:
                n_rows = array.shape[0]
            elif array.shape[0] != n_rows:
                raise DataError(
                    f"the arrays in '{path}' differ in length: '{name}' has "
                    f"{array.shape[0]} rows, the arrays before it {n_rows}."
                )
            if array.ndim == 1:
                columns[name] = array
            else:
                columns.update({f"{name}[{j}]": array[:, j] for j in range(array.shape[1])})
    return pd.DataFrame(columns)
