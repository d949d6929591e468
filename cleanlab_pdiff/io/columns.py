"""Choosing and checking the feature and label columns of a table (see :mod:`cleanlab_pdiff.io`)."""

import difflib

import numpy as np
import pandas as pd

from .._text import quoted
from .formats import DELIMITERS, DataError, read_table

__all__ = ["load_labelled_data", "select_columns"]


def select_columns(
    table, *, label_column, feature_columns=None, exclude_columns=(), source="the data"
):
    """Return the numeric features and the labels of ``table``, checked for training.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per example.
    label_column : str
        Column of the given labels: numbers or strings, no missing values,
        at least 2 classes and at least 2 rows per class.
    feature_columns : list of str, default=None
        Feature columns, in this order; ``None`` takes every column but the
        label column and ``exclude_columns``. They must be numeric (or
        boolean) and finite.
    exclude_columns : sequence of str, default=()
        Columns that are not features (an id column, say).
    source : str, default="the data"
        What to call the table in messages (the file name).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float64
        The features.
    y : ndarray of shape (n_samples,)
        The labels: int64 for integer-valued numbers, else strings.
    feature_names : list of str
        The feature columns, in the order of ``X``'s columns.

    Raises
    ------
    DataError
        If a column is missing or unusable, or a class has fewer than 2 rows.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"a": [0.5, 1.0, 2.0, 3.0], "label": ["x", "y", "x", "y"]})
    >>> X, y, names = select_columns(table, label_column="label")
    >>> X.shape, y.tolist(), names
    ((4, 1), ['x', 'y', 'x', 'y'], ['a'])
    >>> select_columns(table, label_column="lable")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cleanlab_pdiff.io.DataError: no column 'lable' in the data; did you mean 'label'? ...
    """
    columns = [str(column) for column in table.columns]
    table = table.set_axis(columns, axis=1)
    _check_column(label_column, columns, source, "label_column")
    for column in exclude_columns:
        _check_column(column, columns, source, "exclude_columns")
    if feature_columns is None:
        left_out = {label_column, *exclude_columns}
        feature_columns = [column for column in columns if column not in left_out]
        if not feature_columns:
            raise DataError(
                f"{source} has no column besides the label column '{label_column}'"
                f"{' and the excluded ones' if exclude_columns else ''}."
            )
    else:
        feature_columns = list(feature_columns)
        for column in feature_columns:
            _check_column(column, columns, source, "feature_columns")
        repeated = sorted({name for name in feature_columns if feature_columns.count(name) > 1})
        if repeated:
            raise DataError(f"feature column(s) {quoted(repeated)} are listed more than once.")
        if label_column in feature_columns:
            raise DataError(
                f"the label column '{label_column}' is also listed as a feature column; a "
                f"model that sees the label would find no issues."
            )
    if len(set(columns)) < len(columns):
        repeated = sorted({column for column in columns if columns.count(column) > 1})
        raise DataError(f"{source} has more than one column named {quoted(repeated)}.")
    X = _features(table, feature_columns, source)
    y = _labels(table[label_column], label_column, source)
    return X, y, feature_columns


def load_labelled_data(
    path, *, label_column, feature_columns=None, exclude_columns=(), delimiter=None
):
    """Read a file with :func:`read_table` and check it with :func:`select_columns`.

    Parameters
    ----------
    path : str or os.PathLike
        CSV, Parquet or NPZ file.
    label_column : str
        Column of the given labels.
    feature_columns : list of str, default=None
        Feature columns; ``None`` takes every column but the label column and
        ``exclude_columns``.
    exclude_columns : sequence of str, default=()
        Columns that are not features.
    delimiter : str, default=None
        CSV delimiter; ``None`` sniffs it.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float64
    y : ndarray of shape (n_samples,)
    feature_names : list of str
    """
    table = read_table(path, delimiter=delimiter)
    return select_columns(
        table,
        label_column=label_column,
        feature_columns=feature_columns,
        exclude_columns=exclude_columns,
        source=f"'{path}'",
    )


def _check_column(column, columns, source, argument):
    if column in columns:
        return
    close = difflib.get_close_matches(column, columns, n=1, cutoff=0.6)
    if not close:  # letter case is the commonest slip
        close = [name for name in columns if name.lower() == column.lower()][:1]
    hint = f"did you mean '{close[0]}'? " if close else ""
    mashed = [d for d in DELIMITERS if any(d in name for name in columns)]
    if mashed and len(columns) <= 2:
        hint += f"the header seems delimited by {mashed[0]!r}: give `delimiter`. "
    raise DataError(
        f"no column '{column}' in {source}; {hint}(check `{argument}`; the columns are "
        f"{quoted(columns)}).",
        argument=argument,
    )


def _features(table, feature_columns, source):
    unusable = [
        column
        for column in feature_columns
        if not pd.api.types.is_numeric_dtype(table[column])
        or pd.api.types.is_complex_dtype(table[column])
    ]
    if unusable:
        column = table[unusable[0]]
        text = (column.notna() & pd.to_numeric(column, errors="coerce").isna()).to_numpy()
        row = np.flatnonzero(text)[0] if text.any() else None
        where = f" (e.g. {column.iloc[row]!r} at row {row})" if row is not None else ""
        raise DataError(
            f"feature column(s) {quoted(unusable)} in {source} are not numeric{where}; "
            f"one-hot encode categorical or text columns (e.g. pandas.get_dummies), or leave "
            f"them out (`exclude_columns`).",
            argument="exclude_columns",
        )
    X = table[feature_columns].to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(X)
    if bad.any():
        column = int(np.flatnonzero(bad.any(axis=0))[0])
        rows = np.flatnonzero(bad[:, column])
        raise DataError(
            f"feature column '{feature_columns[column]}' in {source} has {rows.size} missing "
            f"or infinite value(s), the first at row {rows[0]}; fill them in (impute) or drop "
            f"those rows."
        )
    return X


def _labels(column, label_column, source):
    missing = np.flatnonzero(column.isna().to_numpy())
    if missing.size:
        raise DataError(
            f"label column '{label_column}' in {source} has {missing.size} missing value(s), "
            f"the first at row {missing[0]}; label or drop those rows."
        )
    if pd.api.types.is_bool_dtype(column):
        y = column.astype(str).to_numpy(dtype=object)
    elif pd.api.types.is_integer_dtype(column):
        values = column.to_numpy()
        # uint64 values above int64's range would wrap around to negative labels.
        too_big = values > np.iinfo(np.int64).max if values.dtype.kind == "u" else None
        if too_big is not None and too_big.any():
            raise DataError(
                f"label column '{label_column}' in {source} holds {values[too_big][0]} at row "
                f"{np.flatnonzero(too_big)[0]}; numeric labels must fit in a 64-bit signed "
                f"integer, or use strings."
            )
        y = values.astype(np.int64)
    elif pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_complex_dtype(column):
        values = column.to_numpy(dtype=np.float64)
        # Beyond 2**53 a float can't tell neighbouring integers apart.
        unusable = ~np.isfinite(values) | (values != np.round(values)) | (np.abs(values) >= 2**53)
        if unusable.any():
            raise DataError(
                f"label column '{label_column}' in {source} holds {values[unusable][0]:g} at "
                f"row {np.flatnonzero(unusable)[0]}; numeric labels must be finite integers "
                f"(below 2**53), or use strings."
            )
        y = values.astype(np.int64)
    else:
        y = column.astype(str).to_numpy(dtype=object)
    classes, counts = np.unique(y, return_counts=True)
    if classes.size < 2:
        raise DataError(
            f"label column '{label_column}' in {source} holds a single class "
            f"('{classes[0]}'); at least 2 are needed."
        )
    rare = classes[counts < 2]
    if rare.size:
        raise DataError(
            f"class(es) {quoted(rare.tolist())} of label column '{label_column}' in {source} "
            f"have only 1 row; every class needs at least 2 rows: drop or relabel those rows."
        )
    return y
