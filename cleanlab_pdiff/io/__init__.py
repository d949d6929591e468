"""Read a labelled table from CSV, Parquet or NPZ, and check it before training.

Every problem with the input raises :class:`DataError` with a one-line
message that says what is wrong and what to do; the command line prints it
and exits with status 2.

Formats, by file name:

- ``.csv`` (also ``.csv.gz``, ``.csv.bz2``, ``.csv.zip``, ``.csv.xz``) and
  ``.tsv``: a header row with the column names, then one row per example.
- ``.parquet`` or ``.pq``: needs ``pyarrow`` (or ``fastparquet``).
- ``.npz`` (NumPy's ``np.savez``): every array is one or more columns, all of
  the same length N. A 1-D array is one column named as the array; a 2-D
  array ``A`` of shape (N, d) gives d columns named ``A[0]``, ...,
  ``A[d-1]``. So ``np.savez("data.npz", X=X, y=y)`` is read with label
  column ``y``, and features ``X[0]``, ..., ``X[d-1]``. Arrays of Python
  objects are refused (they would need pickle); save string labels as
  ``y.astype(str)``.

Rows are numbered from 0 in file order (the header row is not counted).
"""

from .columns import load_labelled_data, select_columns
from .formats import DataError, read_table

__all__ = ["DataError", "load_labelled_data", "read_table", "select_columns"]
