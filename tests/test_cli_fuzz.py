"""Fuzz ``cleanlab-pdiff find-issues`` with malformed input files (hypothesis).

The property, for every generated file: ``main`` returns 2 with exactly one line on stderr
(``cleanlab-pdiff: error: ...``), nothing on stdout and no output file; or it returns 0,
only for a file that is in fact usable, and writes one output row per row that an
independent reader finds in the file. Never another exit status, an exception escaping
``main``, a traceback, or a warning on stderr: recorded warnings count as stderr lines
(the installed command shows none today only because ``import cleanlab`` runs
``warnings.filterwarnings("ignore")``, in cleanlab.datalab's spurious_correlation module).
``main`` runs in-process on tiny tables with ``--epochs 1 --quiet``, so each example takes
milliseconds once torch is imported.

Tests with an explicit ``@example`` pin a file that once escaped these rules (corrupt
compressed CSV, Parquet and NPZ files, non-array NPZ members, repeated CSV column names,
infinite or huge numeric labels, features near the float64 limit).
"""

import bz2
import csv
import gzip
import io
import json
import lzma
import tempfile
import warnings
import zipfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from cleanlab_pdiff import cli

LABEL = "label"
FUZZ = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
#: Warnings that Python hides by default: they never reach a user's terminal.
HIDDEN_WARNINGS = (PendingDeprecationWarning, ImportWarning, ResourceWarning)
#: Cells that pandas reads as missing values.
NA_CELLS = ["", "nan", "NaN", "-nan", "NA", "N/A", "n/a", "null", "NULL", "None", "#N/A", "<NA>"]
#: Cells that pandas reads as infinite (1e400 overflows) or as missing.
NON_FINITE_CELLS = ["inf", "-inf", "Inf", "Infinity", "-Infinity", "1e400", "-1e400", *NA_CELLS]
#: Valid string labels that are awkward to parse, print and write back.
ODD_LABELS = ["ä", "日本", "a b", "x,y", 'q"q', " pad", "new\nline", "True", "#", "é\u0301"]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """Parent of the fresh directory that each example gets (see ``fresh_dir``)."""
    return tmp_path_factory.mktemp("cli_fuzz")


def fresh_dir(workdir):
    return tempfile.TemporaryDirectory(dir=workdir)


# Running the command line and checking the property ------------------------------------------


def run_cli(path):
    """Run ``find-issues`` on ``path`` in-process: ``(status, stdout, stderr, output)``.

    Warnings that a user would see are appended to ``stderr``, one line each.
    """
    output = Path(path).with_name("issues.csv")
    argv = [
        "find-issues",
        str(path),
        "--label-column",
        LABEL,
        "--epochs",
        "1",
        "--quiet",
        "--device",
        "cpu",
        "--seed",
        "0",
        "--output",
        str(output),
    ]
    out, err = io.StringIO(), io.StringIO()
    with warnings.catch_warnings(record=True) as caught, redirect_stdout(out), redirect_stderr(err):
        warnings.simplefilter("always")
        try:
            status = cli.main(argv)
        except SystemExit as exc:  # argparse exits itself
            status = exc.code
    shown = "".join(
        f"{w.filename}:{w.lineno}: {w.category.__name__}: {w.message}\n"
        for w in caught
        if not issubclass(w.category, HIDDEN_WARNINGS)
    )
    return status, out.getvalue(), err.getvalue() + shown, output


def count_rows(path):
    """Rows in ``path`` as read by the format's own library, without cleanlab_pdiff."""
    name = Path(path).name.lower()
    if name.endswith((".parquet", ".pq")):
        return pq.read_table(path).num_rows
    if name.endswith(".npz"):
        with np.load(path, allow_pickle=False) as arrays:
            return len(arrays[arrays.files[0]])
    return len(pd.read_csv(path, sep="\t" if ".tsv" in name else ","))


def check_cli(path, *, must_fail=False):
    """Run the command line on ``path`` and check the property; return its result."""
    status, stdout, stderr, output = run_cli(path)
    assert "Traceback" not in stderr, stderr
    assert status in (0, 2), f"exit status {status}: {stderr}"
    event(f"exit status {status}")  # see pytest --hypothesis-show-statistics
    if status == 2:
        assert stderr.startswith("cleanlab-pdiff: error: "), stderr
        assert stderr.count("\n") == 1 and stderr.endswith("\n") and "\r" not in stderr, stderr
        assert stdout == ""
        assert not output.exists()
    else:
        assert not must_fail, f"exit status 0 for a file that must be refused: {path}"
        assert stdout == "" and stderr == "", stderr
        written = pd.read_csv(output, keep_default_na=False)
        assert sorted(written["row"]) == list(range(count_rows(path)))
    return status, output


# Valid tables, and their bytes in every format ------------------------------------------------

#: Feature values: multiples of 0.25, so that standardising them is well-conditioned.
FEATURE = st.integers(-400, 400).map(lambda v: v / 4)


@st.composite
def tables(draw, label_kinds=("int", "str", "odd")):
    """A valid labelled table: 1-3 numeric features, 2-3 classes of at least 2 rows each."""
    n_classes = draw(st.integers(2, 3))
    extra = draw(st.lists(st.integers(0, n_classes - 1), max_size=3))
    codes = draw(st.permutations([c for c in range(n_classes) for _ in range(2)] + extra))
    kind = draw(st.sampled_from(label_kinds))
    if kind == "int":
        classes = draw(
            st.lists(st.integers(-5, 9), min_size=n_classes, max_size=n_classes, unique=True)
        )
    elif kind == "str":
        classes = ["cat", "dog", "emu"]
    else:
        classes = draw(
            st.lists(
                st.sampled_from(ODD_LABELS), min_size=n_classes, max_size=n_classes, unique=True
            )
        )
    n_features = draw(st.integers(1, 3))
    columns = {
        f"f{j}": draw(st.lists(FEATURE, min_size=len(codes), max_size=len(codes)))
        for j in range(n_features)
    }
    names = list(columns)
    names.insert(draw(st.integers(0, n_features)), LABEL)
    columns[LABEL] = [classes[c] for c in codes]
    return pd.DataFrame({name: columns[name] for name in names})


def npz_arrays(table):
    labels = table[LABEL].to_numpy()
    return {
        "X": table.drop(columns=LABEL).to_numpy(dtype=np.float64),
        LABEL: labels.astype(str) if labels.dtype == object else labels,
    }


def save_npz(path, arrays, compress=False, foreign=()):
    """Write arrays as ``np.savez`` does (objects pickled), plus raw ``foreign`` members."""
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, array in arrays.items():
            with archive.open(f"{name}.npy", "w") as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=True)
        for name, data in foreign:
            archive.writestr(name, data)


def _zip_bytes(name, data, method=zipfile.ZIP_DEFLATED):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        archive.writestr(
            zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), data, compress_type=method
        )
    return buffer.getvalue()


def encode(table, fmt):
    """``table`` as the bytes of a file in format ``fmt`` (a key of ``SUFFIXES``)."""
    text = table.to_csv(sep="\t" if fmt == "tsv" else ",", index=False).encode()
    if fmt in ("csv", "tsv"):
        return text
    if fmt == "csv.gz":
        return gzip.compress(text, mtime=0)
    if fmt == "csv.bz2":
        return bz2.compress(text)
    if fmt == "csv.xz":
        return lzma.compress(text)
    if fmt == "csv.zip":
        return _zip_bytes("data.csv", text)
    buffer = io.BytesIO()
    if fmt in ("parquet", "parquet-plain"):
        table.to_parquet(buffer, compression="snappy" if fmt == "parquet" else None)
    else:
        arrays = npz_arrays(table)
        (np.savez_compressed if fmt == "npz-deflated" else np.savez)(buffer, **arrays)
    return buffer.getvalue()


SUFFIXES = {
    "csv": ".csv",
    "tsv": ".tsv",
    "csv.gz": ".csv.gz",
    "csv.bz2": ".csv.bz2",
    "csv.xz": ".csv.xz",
    "csv.zip": ".csv.zip",
    "parquet": ".parquet",
    "parquet-plain": ".pq",
    "npz": ".npz",
    "npz-deflated": ".npz",
}
#: One fixed valid table, 6 rows; its files are corrupted and cut by the tests below.
BASE = pd.DataFrame(
    {
        "f0": [0.5, 1.5, 2.5, -3.5, 4.5, 5.5],
        "f1": [1, 2, 3, 4, 5, 6],
        LABEL: ["cat", "cat", "dog", "dog", "emu", "emu"],
    }
)
BASE_BYTES = {fmt: encode(BASE, fmt) for fmt in SUFFIXES}


def corrupt(data, edits):
    """``data`` with the byte at each ``position % len(data)`` XOR-ed with its mask."""
    data = bytearray(data)
    for position, mask in edits:
        data[position % len(data)] ^= mask
    return bytes(data)


def write_bytes(tmp, fmt, data):
    path = Path(tmp) / f"data{SUFFIXES[fmt]}"
    path.write_bytes(data)
    return path


# Byte positions for the explicit examples of the corruption bugs.


def _deflate_block_type_edit(data, start):
    """Edit that gives the deflate block at ``start`` the invalid block type 3."""
    return start, (data[start] & 0b110) ^ 0b110


def _zip_data_start(data):
    name_length = int.from_bytes(data[26:28], "little")
    extra_length = int.from_bytes(data[28:30], "little")
    return 30 + name_length + extra_length


def _zip_method_edit(data):
    """Edit that sets the compression method of the first member to 99 (unknown)."""
    position = data.find(b"PK\x01\x02") + 10
    return position, data[position] ^ 99


EDITS = st.lists(st.tuples(st.integers(0, 2**16), st.integers(1, 255)), min_size=1, max_size=4)


# Random bytes and cut files --------------------------------------------------------------------

#: Magic numbers that get random bytes past the first check of a reader.
MAGIC = [
    b"",
    b"PAR1",
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"\x93NUMPY\x01\x00",
    b"\xef\xbb\xbf",
    b"BZh91AY&SY",
]
JUNK_TEXT = st.text(
    st.sampled_from(list(",;\t\n\r\"' 0123456789.-+eEnaif\x00xyz")), max_size=120
).map(str.encode)


@settings(max_examples=40, **FUZZ)
@given(
    fmt=st.sampled_from(["csv", "tsv", "csv.bz2", "parquet", "parquet-plain", "npz"]),
    head=st.sampled_from(MAGIC),
    body=st.one_of(st.binary(max_size=200), JUNK_TEXT),
    tail=st.sampled_from([b"", b"PAR1", b"\x08\x00\x00\x00PAR1", b"PK\x05\x06" + bytes(18)]),
)
def test_random_bytes_are_refused(workdir, fmt, head, body, tail):
    # The junk never holds the label column's name, so no table in it can be usable.
    with fresh_dir(workdir) as tmp:
        check_cli(write_bytes(tmp, fmt, head + body + tail), must_fail=True)


@settings(max_examples=30, **FUZZ)
@given(fmt=st.sampled_from(list(SUFFIXES)), cut=st.floats(0, 1, exclude_max=True))
def test_cut_files_are_refused_or_read_whole_rows(workdir, fmt, cut):
    data = BASE_BYTES[fmt]
    with fresh_dir(workdir) as tmp:
        # A CSV cut between rows, or inside the last number, is still a usable table.
        check_cli(
            write_bytes(tmp, fmt, data[: int(cut * len(data))]), must_fail=fmt not in ("csv", "tsv")
        )


@settings(max_examples=30, **FUZZ)
@given(fmt=st.sampled_from(["csv", "tsv", "csv.bz2"]), edits=EDITS)
def test_corrupted_text_files(workdir, fmt, edits):
    with fresh_dir(workdir) as tmp:
        check_cli(write_bytes(tmp, fmt, corrupt(BASE_BYTES[fmt], edits)))


@settings(max_examples=25, **FUZZ)
@given(fmt=st.sampled_from(["csv.gz", "csv.xz", "csv.zip"]), edits=EDITS)
@example(fmt="csv.gz", edits=[_deflate_block_type_edit(BASE_BYTES["csv.gz"], 10)])
@example(fmt="csv.xz", edits=[(0, 1)])
@example(fmt="csv.zip", edits=[_zip_method_edit(BASE_BYTES["csv.zip"])])
def test_corrupted_compressed_csv(workdir, fmt, edits):
    with fresh_dir(workdir) as tmp:
        check_cli(write_bytes(tmp, fmt, corrupt(BASE_BYTES[fmt], edits)))


#: The "pandas" metadata that pyarrow writes into BASE's Parquet file.
PANDAS_METADATA = pa.Table.from_pandas(BASE).schema.metadata[b"pandas"].decode()


@st.composite
def pandas_metadata(draw):
    """The "pandas" metadata of a Parquet file, as another tool might have garbled it."""
    if draw(st.booleans()):
        return draw(st.one_of(st.sampled_from(["{}", "[]", "null", "{"]), st.text(max_size=20)))
    metadata = json.loads(PANDAS_METADATA)
    parent, node = None, metadata
    while isinstance(node, (dict, list)) and node and (parent is None or draw(st.booleans())):
        key = draw(st.sampled_from(sorted(node) if isinstance(node, dict) else range(len(node))))
        parent, node = node, node[key]
    if parent is not None:
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[key]
        else:
            parent[key] = draw(st.sampled_from([None, 1, -1, "sur", "", [], {}, ["x"]]))
    return json.dumps(metadata)


@settings(max_examples=30, **FUZZ)
@given(
    fmt=st.sampled_from(["parquet", "parquet-plain"]),
    edits=st.one_of(st.just([]), EDITS),
    metadata=st.one_of(st.none(), pandas_metadata()),
)
@example(fmt="parquet", edits=[], metadata="{}")
@example(fmt="parquet", edits=[(51082, 128)], metadata=None)  # invalid UTF-8 in a string page
def test_corrupted_parquet(workdir, fmt, edits, metadata):
    data = BASE_BYTES[fmt]
    if metadata is not None:
        buffer = io.BytesIO()
        table = pa.Table.from_pandas(BASE).replace_schema_metadata({"pandas": metadata})
        pq.write_table(table, buffer, compression="snappy" if fmt == "parquet" else "none")
        data = buffer.getvalue()
    with fresh_dir(workdir) as tmp:
        check_cli(write_bytes(tmp, fmt, corrupt(data, edits)))


@settings(max_examples=30, **FUZZ)
@given(fmt=st.sampled_from(["npz", "npz-deflated"]), edits=EDITS)
@example(fmt="npz", edits=[_zip_method_edit(BASE_BYTES["npz"])])
@example(
    fmt="npz-deflated",
    edits=[
        _deflate_block_type_edit(
            BASE_BYTES["npz-deflated"], _zip_data_start(BASE_BYTES["npz-deflated"])
        )
    ],
)
def test_corrupted_npz(workdir, fmt, edits):
    with fresh_dir(workdir) as tmp:
        check_cli(write_bytes(tmp, fmt, corrupt(BASE_BYTES[fmt], edits)))


# Malformed CSV -----------------------------------------------------------------------------------


def _cell(draw, sheet, columns):
    """A random (row, column) of the data rows, the column among ``columns``."""
    row = draw(st.integers(0, len(sheet["rows"]) - 1))
    return row, sheet["header"].index(draw(st.sampled_from(columns)))


def _features(sheet):
    return [name for name in sheet["header"] if name != LABEL]


# Each mutation edits the sheet and returns whether the file must now be refused.


def _non_finite_feature(draw, sheet):
    row, col = _cell(draw, sheet, _features(sheet))
    sheet["rows"][row][col] = draw(st.sampled_from(NON_FINITE_CELLS))
    return True


def _text_feature(draw, sheet):  # one cell, or half of the column: mixed numbers and text
    text = st.text(st.sampled_from(list("abcdxyzABC_ ")), min_size=1, max_size=5)
    row, col = _cell(draw, sheet, _features(sheet))
    rows = range(0, len(sheet["rows"]), 2) if draw(st.booleans()) else [row]
    for r in rows:
        sheet["rows"][r][col] = draw(text)
    return True


def _missing_label(draw, sheet):
    row, col = _cell(draw, sheet, [LABEL])
    sheet["rows"][row][col] = draw(st.sampled_from(NA_CELLS))
    return True


def _header_only(draw, sheet):
    sheet["rows"] = []
    return True


def _wrong_delimiter(draw, sheet):
    sheet["sep"] = draw(st.sampled_from([";", "|", "," if sheet["sep"] == "\t" else "\t"]))
    return True


def _extra_field(draw, sheet):  # ragged rows: judged by ``_ragged_must_fail``
    sheet["rows"][draw(st.integers(0, len(sheet["rows"]) - 1))].append(
        draw(st.sampled_from(["", "1", "x"]))
    )
    return False


def _missing_field(draw, sheet):
    sheet["rows"][draw(st.integers(0, len(sheet["rows"]) - 1))].pop()
    return False


def _ragged_must_fail(sheet):
    """Whether the row lengths alone make pandas refuse the file or read missing values.

    A row shorter than the header gets missing values; a longer row is a parser error,
    except that one extra field in the first data row makes pandas read the first column
    as the index: then every row needs that extra field.
    """
    lengths = [len(row) for row in sheet["rows"] if row]
    width = len(sheet["header"])
    if not lengths or lengths[0] <= width:
        return any(length != width for length in lengths)
    return lengths[0] == width + 1 and any(length != width + 1 for length in lengths)


def _nul_byte(draw, sheet):
    row, col = _cell(draw, sheet, sheet["header"])
    cell = sheet["rows"][row][col]
    at = draw(st.integers(0, len(cell)))
    sheet["rows"][row][col] = cell[:at] + "\x00" + cell[at:]
    return False


def _unicode_header(draw, sheet):
    chars = st.characters(exclude_categories=("Cs", "Cc", "Cf"))
    name = draw(
        st.text(chars, min_size=1, max_size=5).filter(
            lambda name: name not in sheet["header"] and name.strip() == name
        )
    )
    col = sheet["header"].index(draw(st.sampled_from(_features(sheet))))
    sheet["header"][col] = name
    return False


def _quote_all(draw, sheet):  # quoted numbers, and "" for empty strings
    sheet["quoting"] = csv.QUOTE_ALL
    return False


def _byte_order_mark(draw, sheet):
    sheet["bom"] = True
    return False


def _crlf(draw, sheet):
    sheet["newline"] = "\r\n"
    return False


def _blank_lines(draw, sheet):
    sheet["rows"].insert(draw(st.integers(0, len(sheet["rows"]))), [])
    return False


CSV_MUTATIONS = [
    _non_finite_feature,
    _text_feature,
    _missing_label,
    _header_only,
    _wrong_delimiter,
    _extra_field,
    _missing_field,
    _nul_byte,
    _unicode_header,
    _quote_all,
    _byte_order_mark,
    _crlf,
    _blank_lines,
]


def render(sheet):
    buffer = io.StringIO()
    writer = csv.writer(
        buffer, delimiter=sheet["sep"], quoting=sheet["quoting"], lineterminator=sheet["newline"]
    )
    writer.writerow(sheet["header"])
    writer.writerows(sheet["rows"])
    return (("\ufeff" if sheet["bom"] else "") + buffer.getvalue()).encode()


@st.composite
def malformed_csv(draw):
    """``(fmt, bytes, must_fail)``: a valid table as CSV or TSV, with 1-3 mutations."""
    table = draw(tables())
    fmt = draw(st.sampled_from(["csv", "tsv"]))
    sheet = {
        "header": list(table.columns),
        "rows": [[str(value) for value in row] for row in table.itertuples(index=False)],
        "sep": "\t" if fmt == "tsv" else ",",
        "quoting": csv.QUOTE_MINIMAL,
        "bom": False,
        "newline": "\n",
    }
    must_fail = False
    for mutation in draw(st.lists(st.sampled_from(CSV_MUTATIONS), min_size=1, max_size=3)):
        if mutation is not _header_only and not sheet["rows"]:
            continue
        if [row for row in sheet["rows"] if not row]:  # blank lines: no cells to edit
            sheet["rows"] = [row for row in sheet["rows"] if row]
        must_fail |= mutation(draw, sheet)
    return fmt, render(sheet), must_fail or _ragged_must_fail(sheet)


@settings(max_examples=40, **FUZZ)
@given(case=malformed_csv())
def test_malformed_csv(workdir, case):
    fmt, data, must_fail = case
    with fresh_dir(workdir) as tmp:
        check_cli(write_bytes(tmp, fmt, data), must_fail=must_fail)


@settings(max_examples=20, **FUZZ)
@given(table=tables(), fmt=st.sampled_from(["csv", "tsv"]), data=st.data())
@example(table=pd.DataFrame({"f0": [0.0, 1, 2, 3], LABEL: [0, 0, 1, 1]}), fmt="csv", data=None)
def test_repeated_csv_column_names_are_refused(workdir, table, fmt, data):
    column = LABEL if data is None else data.draw(st.sampled_from(list(table.columns)))
    table = pd.concat([table, table[[column]]], axis=1)  # the same name twice
    with fresh_dir(workdir) as tmp:
        path = Path(tmp) / f"data.{fmt}"
        table.to_csv(path, sep="\t" if fmt == "tsv" else ",", index=False)
        check_cli(path, must_fail=True)


@settings(max_examples=20, **FUZZ)
@given(table=tables(label_kinds=("int",)), data=st.data())
@example(table=pd.DataFrame({"f0": [0.0, 1, 2, 3, 4, 5], LABEL: [0, 0, 1, 1, 2, 2]}), data=None)
@example(  # 2**63 is read as uint64; it once wrapped around to -2**63 as an int64 label
    table=pd.DataFrame({"f0": [0.0, 0, 0, 0], LABEL: [0, 0, 1, 1]}), data=["9223372036854775808"]
)
def test_non_finite_or_huge_numeric_labels(workdir, table, data):
    classes = sorted(set(table[LABEL]))
    huge = [
        "inf",
        "-inf",
        "Infinity",
        "1e400",
        "1e20",
        "-1e19",
        "9223372036854775808",
        "18446744073709551615",
        "1e300",
    ]
    if data is None:
        replace = {1: "inf", 2: "-inf"}
    elif isinstance(data, list):
        replace = dict(zip(classes[-len(data) :], data, strict=False))
    else:
        values = data.draw(st.lists(st.sampled_from(huge), min_size=1, max_size=2, unique=True))
        replace = dict(zip(classes[-len(values) :], values, strict=False))
    table[LABEL] = [replace.get(label, str(label)) for label in table[LABEL]]
    with fresh_dir(workdir) as tmp:
        path = Path(tmp) / "data.csv"
        table.to_csv(path, index=False)
        status, output = check_cli(path)
        if status == 0:  # then every row keeps its own label
            given = pd.read_csv(output, dtype=str, keep_default_na=False)
            labels = table[LABEL].to_numpy()[given["row"].astype(int)]
            assert all(
                float(a) == float(b) for a, b in zip(given["given_label"], labels, strict=True)
            )


def write_table(table, path):
    name = path.name
    if name.endswith(".npz"):
        save_npz(path, npz_arrays(table))
    elif name.endswith((".parquet", ".pq")):
        table.to_parquet(path)
    else:
        table.to_csv(
            path, sep="\t" if name.endswith(".tsv") else ",", index=False, float_format="%.17g"
        )


@settings(max_examples=20, **FUZZ)
@given(table=tables(), fmt=st.sampled_from(["csv", "parquet", "npz"]), data=st.data())
@example(table=BASE, fmt="csv", data=None)
def test_extreme_feature_values(workdir, table, fmt, data):
    n = len(table)
    if data is None:
        column = [1.0, 1.0000000000000002] * (n // 2)  # differ in the last bit only
    elif data.draw(st.booleans()):
        big = st.floats(1e154, 1.7e308).flatmap(lambda v: st.sampled_from([v, -v]))
        column = data.draw(st.lists(st.one_of(big, FEATURE), min_size=n, max_size=n))
    else:
        start = data.draw(st.floats(-1e6, 1e6))  # and its next float: a near-constant column
        column = [
            float(np.nextafter(start, np.inf)) if up else start
            for up in data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
        ]
    table = table.assign(f0=column)
    with fresh_dir(workdir) as tmp:
        path = Path(tmp) / f"data{SUFFIXES[fmt]}"
        write_table(table, path)
        check_cli(path)


# Malformed NPZ -----------------------------------------------------------------------------------

# Each mutation edits the dict of arrays and returns whether the file must now be refused.


def _n_rows(arrays):
    lengths = [len(array) for array in arrays.values() if np.ndim(array)]
    return lengths[0] if lengths else 4


def _object_array(draw, arrays):
    if arrays:
        name = draw(st.sampled_from(sorted(arrays)))
        array = np.asarray(arrays[name]).astype(object)
        if array.size:
            array.flat[0] = draw(st.sampled_from(["a", None, 1, (1, 2)]))
        arrays[name] = array
    return True


def _zero_d_array(draw, arrays):
    arrays[draw(st.sampled_from([LABEL, "X", "w"]))] = np.array(draw(st.sampled_from([1.5, 3])))
    return True


def _high_dim_array(draw, arrays):
    if arrays:
        name = draw(st.sampled_from(sorted(arrays)))
        array = np.asarray(arrays[name])
        if array.ndim:
            shape = (len(array), int(np.prod(array.shape[1:])), 1, *[1] * draw(st.integers(0, 2)))
            arrays[name] = array.reshape(shape)
    return True


def _length_mismatch(draw, arrays):
    n = _n_rows(arrays)
    length = draw(st.integers(0, n + 3).filter(lambda m: m != n))
    arrays[draw(st.sampled_from(["w", "X", LABEL]))] = np.arange(length, dtype=np.float64)
    return True


def _no_label(draw, arrays):
    if LABEL in arrays:
        renamed = draw(st.sampled_from([None, "Label", "labels", "label ", "y"]))
        labels = arrays.pop(LABEL)
        if renamed:
            arrays[renamed] = labels
    return True


def _label_2d(draw, arrays):
    if LABEL in arrays and np.ndim(arrays[LABEL]) == 1:
        arrays[LABEL] = np.asarray(arrays[LABEL])[:, None]
    return True


def _nan_label(draw, arrays):
    n = _n_rows(arrays)
    labels = np.arange(n, dtype=np.float64) % 2
    if n:
        labels[draw(st.integers(0, n - 1))] = np.nan
    arrays[LABEL] = labels
    return True


def _bad_features(draw, arrays):
    X = np.asarray(arrays.get("X", ()))
    if X.ndim != 2 or X.dtype.kind not in "biuf":
        X = np.zeros((_n_rows(arrays), 2))
    kind = draw(st.sampled_from(["complex", "str", "datetime", "timedelta", "struct", "nan"]))
    if kind == "complex":
        X = X + 1j
    elif kind == "str":
        X = X.astype(str)
    elif kind in ("datetime", "timedelta"):
        finite = np.nan_to_num(X.astype(np.float64), nan=0, posinf=0, neginf=0)
        ticks = (finite * 4).astype(np.int64)
        X = ticks.astype("M8[s]" if kind == "datetime" else "m8[s]")
    elif kind == "struct":
        X = np.zeros(len(X), dtype=[("a", "f8"), ("b", "i4")])
    elif X.size:
        X = X.astype(np.float64)
        X.flat[draw(st.integers(0, X.size - 1))] = draw(st.sampled_from([np.nan, np.inf]))
    arrays["X"] = X
    return True


def _odd_but_valid(draw, arrays):
    X = np.asarray(arrays.get("X", np.zeros((0, 0))))
    kind = draw(
        st.sampled_from(["bool", "int8", "uint64", "float16", "float32", "bytes", "extra", "names"])
    )
    if X.ndim == 2 and X.dtype == np.float64:
        if kind == "bool":
            arrays["X"] = X > 0
        elif kind in ("int8", "uint64"):
            arrays["X"] = np.abs(X).astype(kind)
        elif kind.startswith("float"):
            arrays["X"] = X.astype(kind)
        elif kind == "extra":
            arrays["w"] = np.arange(len(X)) % 3
    if kind == "bytes" and LABEL in arrays and np.asarray(arrays[LABEL]).dtype.kind == "U":
        arrays[LABEL] = np.char.encode(arrays[LABEL], "utf-8")
    if kind == "names" and "X" in arrays:
        chars = st.characters(exclude_categories=("Cs", "Cc"))
        name = draw(
            st.text(chars, min_size=1, max_size=6).filter(
                lambda name: name not in arrays and "[" not in name and "\\" not in name
            )
        )
        arrays[name] = arrays.pop("X")
    return False


def _no_arrays(draw, arrays):
    if draw(st.booleans()):
        arrays.clear()
    else:
        arrays.update({name: np.asarray(a)[:0] for name, a in arrays.items() if np.ndim(a)})
    return True


NPZ_MUTATIONS = [
    _object_array,
    _zero_d_array,
    _high_dim_array,
    _length_mismatch,
    _no_label,
    _label_2d,
    _nan_label,
    _bad_features,
    _odd_but_valid,
    _no_arrays,
]


@st.composite
def malformed_npz(draw):
    """``(arrays, compress, must_fail)``: a valid table as arrays, with 1-3 mutations."""
    arrays = npz_arrays(draw(tables(label_kinds=("int", "str"))))
    must_fail = False
    for mutation in draw(st.lists(st.sampled_from(NPZ_MUTATIONS), min_size=1, max_size=3)):
        must_fail |= mutation(draw, arrays)
    return arrays, draw(st.booleans()), must_fail


@settings(max_examples=40, **FUZZ)
@given(case=malformed_npz())
def test_malformed_npz(workdir, case):
    arrays, compress, must_fail = case
    with fresh_dir(workdir) as tmp:
        path = Path(tmp) / "data.npz"
        save_npz(path, arrays, compress=compress)
        check_cli(path, must_fail=must_fail)


@settings(max_examples=20, **FUZZ)
@given(
    foreign=st.lists(
        st.tuples(
            st.text(
                st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
                min_size=1,
                max_size=8,
            ).filter(lambda name: not name.endswith("/")),
            st.binary(max_size=40),
        ),
        min_size=1,
        max_size=2,
    ),
    compress=st.booleans(),
)
@example(foreign=[("notes.txt", b"hello")], compress=False)
def test_npz_with_members_that_are_not_arrays(workdir, foreign, compress):
    with fresh_dir(workdir) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile: duplicate member names
        path = Path(tmp) / "data.npz"
        save_npz(path, npz_arrays(BASE), compress=compress, foreign=foreign)
        check_cli(path)


# Malformed Parquet -------------------------------------------------------------------------------

#: Arrow types for a feature column, and whether a feature of that type must be refused.
FEATURE_TYPES = {
    "int8": False,
    "uint64": False,
    "float16": False,
    "float32": False,
    "bool": False,
    "decimal": True,
    "string": True,
    "large_string": True,
    "binary": True,
    "list": True,
    "struct": True,
    "dictionary": True,
    "timestamp": True,
    "date32": True,
    "duration": True,
    "null": True,
}
LABEL_TYPES = ["int64", "uint8", "float64", "string", "dictionary", "bool", "timestamp", "list"]


def arrow_column(values, kind, nulls):
    """``values`` (small numbers) as an Arrow array of ``kind``, with nulls at ``nulls``."""
    values = np.asarray(values, dtype=np.float64)
    mask = np.zeros(len(values), dtype=bool)
    mask[list(nulls)] = True
    ints = np.abs(values * 4).astype(np.int64)
    if kind == "null":
        return pa.nulls(len(values))
    if kind in ("int8", "uint8", "uint64", "int64"):
        return pa.array(ints % 100, type=getattr(pa, kind)(), mask=mask)
    if kind in ("float16", "float32", "float64"):
        return pa.array(values.astype(kind), mask=mask)
    if kind == "bool":
        return pa.array(values > 0, mask=mask)
    if kind == "decimal":
        return pa.array(values, mask=mask).cast(pa.decimal128(10, 2))
    if kind in ("string", "large_string", "binary"):
        return pa.array(values.astype(str), mask=mask).cast(getattr(pa, kind)())
    if kind == "dictionary":
        return pa.array(values.astype(str), mask=mask).dictionary_encode()
    if kind == "list":
        return pa.array([None if m else [int(v)] for v, m in zip(ints, mask, strict=True)])
    if kind == "struct":
        return pa.array([None if m else {"v": float(v)} for v, m in zip(values, mask, strict=True)])
    if kind == "timestamp":
        return pa.array(ints, mask=mask).cast(pa.timestamp("s"))
    if kind == "date32":
        return pa.array(ints.astype(np.int32), mask=mask).cast(pa.date32())
    return pa.array(ints, mask=mask).cast(pa.duration("s"))  # duration


@st.composite
def malformed_parquet(draw):
    """``(arrow table, must_fail)``: a valid table with odd column types, nulls, repeats."""
    table = draw(tables(label_kinds=("int",)))
    n = len(table)
    codes = pd.factorize(table[LABEL])[0]
    must_fail = False
    names, columns = [], []
    for name in table.columns:
        is_label = name == LABEL
        kind = draw(st.sampled_from(LABEL_TYPES if is_label else sorted(FEATURE_TYPES)))
        nulls = draw(st.sets(st.integers(0, n - 1), max_size=2 if draw(st.booleans()) else 0))
        values = codes if is_label else table[name]
        columns.append(arrow_column(values, kind, nulls))
        names.append(name)
        must_fail |= bool(nulls) or kind == "null" or (not is_label and FEATURE_TYPES[kind])
    if draw(st.booleans()):  # the same column name twice
        names.append(draw(st.sampled_from(names)))
        columns.append(columns[names.index(names[-1])])
        must_fail = True
    if draw(st.booleans()) and draw(st.booleans()):
        columns = [column.slice(0, 0) for column in columns]
        must_fail = True
    return pa.Table.from_arrays(columns, names=names), must_fail


@settings(max_examples=25, **FUZZ)
@given(case=malformed_parquet(), compression=st.sampled_from(["snappy", "none"]))
def test_malformed_parquet(workdir, case, compression):
    table, must_fail = case
    with fresh_dir(workdir) as tmp:
        path = Path(tmp) / "data.parquet"
        pq.write_table(table, path, compression=compression)
        check_cli(path, must_fail=must_fail)
