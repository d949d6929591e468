"""The ``cleanlab-pdiff`` command line.

The runs call ``cli.main`` in-process (a new process would import torch each time, about 3
s); one test runs the installed console script end to end and compares its output with the
in-process run of the same command.
"""

import contextlib
import gc
import io
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import load_digits, make_blobs

from cleanlab_pdiff import PDiffClassifier, cli, make_noisy_labels
from cleanlab_pdiff.io import DataError, read_table, select_columns
from cleanlab_pdiff.progress import ProgressBar

#: The console script that ``pip install`` put beside this Python.
ENTRY_POINT = Path(sys.executable).with_name("cleanlab-pdiff")
COLUMNS = ["row", "given_label", "suggested_label", "label_quality", "is_label_issue"]
N_ROWS, FLIP_RATE = 150, 0.1


class Run(NamedTuple):
    """What a run of the command line did, as ``subprocess.run`` reports it."""

    returncode: int
    stdout: str
    stderr: str


def run_cli(*args, cwd):
    """Run the installed console script in a new process (one torch thread, as in-process)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [str(ENTRY_POINT), *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def run_in_process(*args, cwd, main=cli.main):
    """Run ``main`` with ``args`` in ``cwd``, capturing what it prints and its exit status."""
    out, err = io.StringIO(), io.StringIO()
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = main([str(arg) for arg in args])
            except SystemExit as exc:  # argparse exits itself
                status = exc.code
    finally:
        os.chdir(previous)
    return Run(status, out.getvalue(), err.getvalue())


def run_all(commands, cwd):
    """Run ``{name: args}`` in-process, one after the other."""
    return {name: run_in_process(*args, cwd=cwd) for name, args in commands.items()}


def blobs_table():
    """Three well-separated blobs with string labels, 10% of them flipped."""
    X, y = make_blobs(n_samples=N_ROWS, centers=3, n_features=4, cluster_std=1.0, random_state=0)
    names = np.array(["cat", "dog", "emu"])[y]
    noisy = make_noisy_labels(names, FLIP_RATE, random_state=0)
    table = pd.DataFrame(X * 10 + 50, columns=[f"f{j}" for j in range(4)])
    table["label"] = noisy
    return table, noisy != names


def test_entry_point_is_installed():
    assert ENTRY_POINT.exists(), "pip install -e . creates the cleanlab-pdiff console script"


# Successful runs ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("good")
    table, flipped = blobs_table()
    table.to_csv(tmp / "blobs.csv", index=False)
    table.to_parquet(tmp / "blobs.parquet")
    np.savez(
        tmp / "blobs.npz",
        X=table.filter(like="f").to_numpy(),
        y=table["label"].to_numpy().astype(str),
    )
    common = ["--epochs", 30, "--seed", 0]
    runs = run_all(
        {
            "csv": [
                "find-issues",
                "blobs.csv",
                "--label-column",
                "label",
                *common,
                "--output",
                "csv.csv",
                "--plot",
                "delta.png",
            ],
            "parquet": [
                "find-issues",
                "blobs.parquet",
                "--label-column",
                "label",
                *common,
                "--output",
                "parquet.csv",
                "--quiet",
            ],
            "npz": [
                "find-issues",
                "blobs.npz",
                "--label-column",
                "y",
                *common,
                "--output",
                "npz.csv",
                "--quiet",
            ],
            "subset": [
                "find-issues",
                "blobs.csv",
                "--label-column",
                "label",
                "--feature-columns",
                "f0",
                "f1",
                "--noise-rate",
                0.2,
                "--epochs",
                25,
                "--output",
                "subset.csv",
            ],
            "version": ["--version"],
        },
        cwd=tmp,
    )
    return tmp, table, flipped, runs


def read_output(good, name):
    tmp, _, _, runs = good
    assert runs[name].returncode == 0, runs[name].stderr
    return pd.read_csv(tmp / f"{name}.csv", keep_default_na=False)


def test_writes_one_ranked_row_per_example(good):
    _, table, flipped, _ = good
    out = read_output(good, "csv")
    assert out.columns.tolist() == COLUMNS
    assert sorted(out["row"]) == list(range(N_ROWS))
    assert (np.diff(out["label_quality"]) >= 0).all()  # worst first
    assert out["label_quality"].between(0, 1).all()
    assert (out["given_label"].to_numpy() == table["label"].to_numpy()[out["row"]]).all()
    assert set(out["suggested_label"]) <= {"cat", "dog", "emu"}
    # The flagged rows are the top of the ranking.
    n_flagged = out["is_label_issue"].sum()
    assert out["is_label_issue"][:n_flagged].all()
    # Well-separated blobs: the flipped rows lead the ranking, and are suggested back.
    top = out["row"][: flipped.sum()]
    assert flipped[top].mean() >= 0.8
    worst = out.iloc[0]
    assert worst["suggested_label"] != worst["given_label"]


def test_prints_a_summary(good):
    _, _, _, runs = good
    stdout = runs["csv"].stdout
    assert f"{N_ROWS} rows, 4 feature column(s), 3 classes" in stdout
    assert "estimated noise rate: " in stdout
    assert "label issues found: " in stdout
    for label in ("cat", "dog", "emu"):
        assert any(line.split()[:1] == [label] for line in stdout.splitlines())
    assert "wrote csv.csv" in stdout and "wrote delta.png" in stdout


def test_shows_a_progress_bar_over_epochs(good):
    _, _, _, runs = good
    stderr = runs["csv"].stderr
    assert "30/30" in stderr and "loss=" in stderr and "drop_rate=" in stderr


def test_writes_the_plot(good):
    tmp, _, _, _ = good
    assert (tmp / "delta.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_quiet_prints_nothing(good):
    _, _, _, runs = good
    assert runs["parquet"].stdout == "" and runs["parquet"].stderr == ""


def test_parquet_and_npz_give_the_csv_result(good):
    csv = read_output(good, "csv")
    pd.testing.assert_frame_equal(read_output(good, "parquet"), csv)
    pd.testing.assert_frame_equal(read_output(good, "npz"), csv)


def test_feature_columns_and_given_noise_rate(good):
    out = read_output(good, "subset")
    stdout = good[3]["subset"].stdout
    assert f"{N_ROWS} rows, 2 feature column(s)" in stdout
    assert "noise rate: 0.200 (given)" in stdout
    # 25 epochs > t_k = 20: the ramp is over, so the cut is the given rate.
    assert out["is_label_issue"].sum() == round(0.2 * N_ROWS)
    assert f"label issues found: {round(0.2 * N_ROWS)} of {N_ROWS} rows" in stdout


def test_version(good):
    from cleanlab_pdiff import __version__

    assert good[3]["version"].stdout.strip() == f"cleanlab-pdiff {__version__}"


def test_installed_script_gives_the_in_process_result(good):
    tmp, _, _, runs = good
    args = ["find-issues", "blobs.csv", "--label-column", "label", "--epochs", 30, "--seed", 0]
    result = run_cli(*args, "--output", "script.csv", "--quiet", cwd=tmp)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp / "script.csv", keep_default_na=False), read_output(good, "csv")
    )


def test_python_dash_m_runs_the_same_command_line(tmp_path, monkeypatch):
    def run_module(argv):
        monkeypatch.setattr(sys, "argv", ["cleanlab_pdiff", *argv])
        try:
            runpy.run_module("cleanlab_pdiff", run_name="__main__", alter_sys=True)
        finally:
            gc.unfreeze()  # run() freezes the objects left for a quick exit; this process goes on

    result = run_in_process(
        "find-issues", "missing.csv", "--label-column", "y", cwd=tmp_path, main=run_module
    )
    assert result.returncode == 2
    assert result.stderr == "cleanlab-pdiff: error: no such file: 'missing.csv'.\n"


# Bad input: exit status 2, one line on stderr, no traceback --------------------------------------

LABEL = ["--label-column", "label"]

#: case: (arguments after find-issues, regex the error line must match)
BAD_INPUTS = {
    "missing file": (["nothere.csv", *LABEL], r"no such file: 'nothere\.csv'"),
    "empty file": (["empty.csv", *LABEL], r"'empty\.csv' is empty"),
    "header only": (["header_only.csv", *LABEL], r"'header_only\.csv' is empty: it has no rows"),
    "unknown format": (["data.xlsx", *LABEL], r"can't tell the format of 'data\.xlsx'"),
    "corrupt parquet": (["corrupt.parquet", *LABEL], r"can't read 'corrupt\.parquet' as Parquet"),
    "corrupt npz": (["corrupt.npz", *LABEL], r"can't read 'corrupt\.npz' as NPZ"),
    "missing column": (
        ["good.csv", "--label-column", "target"],
        r"no column 'target' in 'good\.csv'; \(check --label-column; the columns are 'f0', "
        r"'f1', 'f2', 'f3', 'label'\)",
    ),
    "misspelled label": (
        ["good.csv", "--label-column", "lable"],
        r"no column 'lable' .*did you mean 'label'\?",
    ),
    "misspelled feature": (
        ["good.csv", *LABEL, "--feature-columns", "f0", "F1"],
        r"no column 'F1' .*did you mean 'f1'\? \(check --feature-columns",
    ),
    "text feature": (
        ["text_feature.csv", *LABEL],
        r"feature column\(s\) 'colour' .*not numeric .*one-hot encode",
    ),
    "nan feature": (
        ["nan_feature.csv", *LABEL],
        r"feature column 'f2' .* 1 missing or infinite value\(s\), the first at row 7",
    ),
    "nan label": (
        ["nan_label.csv", *LABEL],
        r"label column 'label' .* 1 missing value\(s\), the first at row 9",
    ),
    "class with one row": (
        ["rare_class.csv", *LABEL],
        r"class\(es\) 'yak' .* only 1 row; every class needs at least 2 rows",
    ),
}


def write_bad_files(tmp):
    table, _ = blobs_table()
    table.to_csv(tmp / "good.csv", index=False)
    (tmp / "empty.csv").write_text("")
    (tmp / "header_only.csv").write_text("f0,f1,label\n")
    (tmp / "corrupt.parquet").write_bytes(b"PAR1 this is not a parquet file")
    (tmp / "corrupt.npz").write_text("not a zip archive")
    (tmp / "data.xlsx").write_text("not a format that is read")
    table.assign(colour=np.where(table["f0"] > 50, "red", "blue")).to_csv(
        tmp / "text_feature.csv", index=False
    )
    with_nan = table.copy()
    with_nan.loc[7, "f2"] = np.nan
    with_nan.to_csv(tmp / "nan_feature.csv", index=False)
    with_nan = table.copy()
    with_nan.loc[9, "label"] = None
    with_nan.to_csv(tmp / "nan_label.csv", index=False)
    rare = table.copy()
    rare.loc[4, "label"] = "yak"
    rare.to_csv(tmp / "rare_class.csv", index=False)


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bad")
    write_bad_files(tmp)
    return run_all(
        {case: ["find-issues", *args] for case, (args, _) in BAD_INPUTS.items()}, cwd=tmp
    )


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_exits_2_with_one_clear_line(bad, case):
    result = bad[case]
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert re.match(r"cleanlab-pdiff: error: " + BAD_INPUTS[case][1], result.stderr)
    assert result.stdout == ""


# More bad input and options, each in a fresh folder ----------------------------------------------


def run_main(argv, capsys):
    try:
        status = cli.main([str(arg) for arg in argv])
    except SystemExit as exc:  # argparse exits itself
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blobs_table()[0].to_csv(tmp_path / "good.csv", index=False)
    return tmp_path


def save_npz(path, **arrays):
    np.savez(path, **arrays)
    return path.name


@pytest.mark.parametrize(
    "make_args, pattern",
    [
        (lambda tmp: [tmp, *LABEL], r"--label-column is for tables; an image folder's labels"),
        (
            lambda tmp: [
                save_npz(
                    tmp / "o.npz", X=np.zeros((4, 2)), y=np.array(["a", 1, "b", 2], dtype=object)
                ),
                "--label-column",
                "y",
            ],
            r"array 'y' in 'o\.npz' holds Python objects.*y\.astype\(str\)",
        ),
        (
            lambda tmp: [
                save_npz(tmp / "i.npz", X=np.zeros((4, 1, 2, 2)), y=np.arange(4) % 2),
                "--label-column",
                "y",
            ],
            r"array 'X' in 'i\.npz' has shape \(4, 1, 2, 2\).*X\.reshape\(len\(X\), -1\)",
        ),
        (
            lambda tmp: [
                save_npz(tmp / "l.npz", X=np.zeros((4, 2)), y=np.arange(5) % 2),
                "--label-column",
                "y",
            ],
            r"the arrays in 'l\.npz' differ in length",
        ),
        (lambda tmp: [save_npz(tmp / "n.npz"), "--label-column", "y"], r"'n\.npz' holds no arrays"),
        (
            lambda tmp: ["good.csv", "--label-column", "f0", "--feature-columns", "f1"],
            r"label column 'f0' .* holds [-0-9.e+]+ at row \d+; numeric labels must be finite "
            r"integers",
        ),
        (
            lambda tmp: ["good.csv", "--label-column", "label", "--feature-columns", "f0", "label"],
            r"the label column 'label' is also listed as a feature column",
        ),
        (
            lambda tmp: ["good.csv", "--label-column", "label", "--feature-columns", "f0", "f0"],
            r"feature column\(s\) 'f0' are listed more than once",
        ),
        (
            lambda tmp: ["good.csv", "--label-column", "label", "--output", "no/such/dir.csv"],
            r"--output no/such/dir\.csv: the directory 'no/such' does not exist",
        ),
        (
            lambda tmp: ["good.csv", "--label-column", "label", "--output", tmp],
            r"--output .* is a directory",
        ),
        (
            lambda tmp: ["good.csv", "--label-column", "label", "--plot", "delta.nope"],
            r"--plot delta\.nope: can't tell the image format .*\.png",
        ),
    ],
    ids=[
        "label column for a folder",
        "npz objects",
        "npz 3-D",
        "npz lengths",
        "npz empty",
        "float labels",
        "label as feature",
        "repeated feature",
        "no output dir",
        "output is dir",
        "plot format",
    ],
)
def test_more_bad_input_exits_2_with_one_line(in_tmp, capsys, make_args, pattern):
    status, out, err = run_main(["find-issues", *make_args(in_tmp)], capsys)
    assert status == 2
    assert out == "" and len(err.splitlines()) == 1, err
    assert re.match(r"cleanlab-pdiff: error: " + pattern, err), err


@pytest.mark.parametrize(
    "argv, pattern",
    [
        ([], r"cleanlab-pdiff: error: the following arguments are required"),
        (["find-issues", "good.csv"], r".*required: --label-column"),
        (
            ["find-issues", "good.csv", *LABEL, "--epochs", "0"],
            r".*--epochs: expected a positive integer, got '0'",
        ),
        (
            ["find-issues", "good.csv", *LABEL, "--noise-rate", "1"],
            r".*--noise-rate: expected 'auto' or a number in \[0, 1\), got '1'",
        ),
        (["find-issues", "good.csv", *LABEL, "--noise-rate", "lots"], r".*--noise-rate"),
        (["find-issues", "good.csv", *LABEL, "--seed", "x"], r".*--seed: invalid int value"),
        (["find-issues", "good.csv", *LABEL, "--bogus"], r".*unrecognized arguments: --bogus"),
        (["demo", "--noise-rate", "2"], r".*--noise-rate: expected a number in \[0, 1\)"),
        (["demo", "--kind", "other"], r".*--kind: invalid choice"),
    ],
)
def test_bad_options_exit_2_with_one_line(in_tmp, capsys, argv, pattern):
    status, out, err = run_main(argv, capsys)
    assert status == 2
    assert out == "" and len(err.splitlines()) == 1, err
    assert re.match(pattern, err), err


def test_cuda_without_cuda_exits_2(in_tmp, capsys):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    status, _, err = run_main(["find-issues", "good.csv", *LABEL, "--device", "cuda"], capsys)
    assert status == 2
    assert err == (
        "cleanlab-pdiff: error: --device: device='cuda' but CUDA is not available; use 'cpu' "
        "or 'auto'.\n"
    )


def test_plot_without_matplotlib_exits_2(in_tmp, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib raises ImportError
    status, _, err = run_main(["find-issues", "good.csv", *LABEL, "--plot", "d.png"], capsys)
    assert status == 2
    assert re.match(
        r"cleanlab-pdiff: error: --plot: plotting needs matplotlib: pip install "
        r"'cleanlab-pdiff\[plot\]'",
        err,
    ), err


def test_divergence_exits_1_with_one_line(in_tmp, capsys, monkeypatch):
    def diverge(self, X, y):
        raise FloatingPointError("Training diverged: the loss is nan at epoch 1, batch 1.")

    monkeypatch.setattr(PDiffClassifier, "find_label_issues", diverge)
    status, _, err = run_main(["find-issues", "good.csv", *LABEL, "--quiet"], capsys)
    assert status == 1
    assert err == "cleanlab-pdiff: error: Training diverged: the loss is nan at epoch 1, batch 1.\n"


# Reading and checking tables ----------------------------------------------------------------------


def test_npz_layout_one_dimensional_arrays_are_columns(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.arange(8.0).reshape(4, 2), weight=np.ones(4), y=np.array([1, 2, 1, 2]))
    table = read_table(path)
    assert table.columns.tolist() == ["X[0]", "X[1]", "weight", "y"]
    X, y, names = select_columns(table, label_column="y", feature_columns=["X[1]", "X[0]"])
    np.testing.assert_array_equal(X, [[1, 0], [3, 2], [5, 4], [7, 6]])
    assert names == ["X[1]", "X[0]"] and y.tolist() == [1, 2, 1, 2]


def test_tsv_and_compressed_csv(tmp_path):
    table = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "label": [0, 1, 0, 1]})
    table.to_csv(tmp_path / "d.tsv", sep="\t", index=False)
    table.to_csv(tmp_path / "d.csv.gz", index=False)
    for name in ("d.tsv", "d.csv.gz"):
        pd.testing.assert_frame_equal(read_table(tmp_path / name), table)


@pytest.mark.parametrize(
    "labels, expected",
    [
        ([1.0, 2.0, 1.0, 2.0], [1, 2, 1, 2]),  # integer-valued floats become ints
        ([True, False, True, False], ["True", "False", "True", "False"]),
        (["a", "b", "a", "b"], ["a", "b", "a", "b"]),
    ],
)
def test_labels_may_be_numbers_or_strings(labels, expected):
    table = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "label": labels})
    _, y, _ = select_columns(table, label_column="label")
    assert y.tolist() == expected


def test_boolean_features_are_numbers():
    table = pd.DataFrame({"x": [True, False, True, False], "label": [0, 1, 0, 1]})
    X, _, _ = select_columns(table, label_column="label")
    assert X.dtype == np.float64 and X[:, 0].tolist() == [1, 0, 1, 0]


@pytest.mark.parametrize(
    "column, match",
    [
        (pd.Categorical(["s", "m", "s", "m"]), r"'x' .* not numeric"),
        ([0.0, np.inf, 1.0, 2.0], r"'x' .* 1 missing or infinite value\(s\), the first at row 1"),
    ],
)
def test_unusable_features_raise(column, match):
    table = pd.DataFrame({"x": column, "label": [0, 1, 0, 1]})
    with pytest.raises(DataError, match=match):
        select_columns(table, label_column="label")


def test_a_single_class_raises():
    table = pd.DataFrame({"x": [0.0, 1.0], "label": ["a", "a"]})
    with pytest.raises(DataError, match=r"a single class \('a'\); at least 2 are needed"):
        select_columns(table, label_column="label")


def test_no_feature_column_raises():
    with pytest.raises(DataError, match=r"no column besides the label column 'label'"):
        select_columns(pd.DataFrame({"label": [0, 1]}), label_column="label")


def test_case_slip_is_suggested():
    table = pd.DataFrame({"x": [0.0, 1.0], "Target": [0, 1]})
    with pytest.raises(DataError, match=r"no column 'TARGET' .*did you mean 'Target'\?"):
        select_columns(table, label_column="TARGET")


# The progress bar and the demo --------------------------------------------------------------------


def test_progress_bar_shows_epochs_loss_and_drop_rate():
    X, y = load_digits(return_X_y=True)
    out = io.StringIO()
    bar = ProgressBar(file=out)
    clf = PDiffClassifier(max_epochs=3, callbacks=[bar], random_state=0, device="cpu")
    clf.fit(X[:100] / 16, y[:100])
    text = out.getvalue()
    assert "3/3" in text and "epoch" in text and "loss=" in text and "drop_rate=" in text
    assert bar.bar_ is None  # closed, so the fitted estimator pickles
    silent = io.StringIO()
    PDiffClassifier(max_epochs=2, callbacks=[ProgressBar(file=silent, disable=True)]).fit(
        X[:100] / 16, y[:100]
    )
    assert silent.getvalue() == ""


def test_demo_subcommand_runs_the_readme_demo(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr("cleanlab_pdiff.demo.run_demo", lambda **kwargs: calls.append(kwargs))
    assert cli.main(["demo"]) == 0
    assert cli.main(["demo", "--noise-rate", "0.3", "--kind", "pair", "--seed", "2"]) == 0
    assert calls == [
        {"noise_rate": 0.5, "kind": "symmetric", "random_state": 0},
        {"noise_rate": 0.3, "kind": "pair", "random_state": 2},
    ]


@pytest.mark.slow
def test_demo_subcommand_end_to_end(tmp_path):
    result = run_cli("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "estimated noise rate" in result.stdout


# Done-when check ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_digits_with_30_percent_flipped_labels(tmp_path):
    """Issue acceptance: the top 30% of the ranked rows hold at least 85% of the flipped ones."""
    X, y = load_digits(return_X_y=True)
    noisy = make_noisy_labels(y, 0.3, random_state=0)
    table = pd.DataFrame(X, columns=[f"pixel{j}" for j in range(64)]).assign(label=noisy)
    table.to_csv(tmp_path / "digits.csv", index=False)
    result = run_cli("find-issues", "digits.csv", "--label-column", "label", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    ranked = pd.read_csv(tmp_path / "issues.csv")["row"].to_numpy()
    flipped = noisy != y
    top = ranked[: round(0.3 * len(y))]
    recall = flipped[top].sum() / flipped.sum()
    print(f"share of the flipped rows in the top 30%: {recall:.3f}")
    assert recall >= 0.85


# Ids, excluded columns, delimiters, threads, and a quick --help -------------------------------


def test_id_column_is_carried_to_the_output_and_not_a_feature(in_tmp, capsys):
    table = blobs_table()[0]
    # A label-sorted export whose id would otherwise be a perfect (and wrong) feature.
    table = table.sort_values("label").assign(id=lambda t: np.arange(len(t)) * 7)
    table.to_csv(in_tmp / "ids.csv", index=False)
    status, out, err = run_main(
        ["find-issues", "ids.csv", *LABEL, "--id-column", "id", "--epochs", 5, "--quiet"], capsys
    )
    assert status == 0, err
    result = pd.read_csv(in_tmp / "issues.csv")
    assert result.columns.tolist() == ["row", "id", *COLUMNS[1:]]
    assert (result["id"] == table["id"].to_numpy()[result["row"]]).all()
    _, _, names = select_columns(table, label_column="label", exclude_columns=["id"])
    assert "id" not in names


def test_excluded_columns_are_not_features(capsys, monkeypatch, in_tmp):
    seen = {}
    real_fit = PDiffClassifier.fit

    def fit(self, X, y, sample_weight=None):
        seen["n_features"] = X.shape[1]
        seen["n_threads"] = self.n_threads
        return real_fit(self, X, y, sample_weight)

    monkeypatch.setattr(PDiffClassifier, "fit", fit)
    argv = ["find-issues", "good.csv", *LABEL, "--exclude-columns", "f2", "f3", "--epochs", 3]
    status, _, err = run_main([*argv, "--threads", 1, "--quiet"], capsys)
    assert status == 0, err
    assert seen == {"n_features": 2, "n_threads": 1}


def test_semicolon_csv_is_sniffed_and_a_wrong_delimiter_gets_a_hint(in_tmp, capsys):
    blobs_table()[0].to_csv(in_tmp / "semi.csv", sep=";", index=False)
    status, _, err = run_main(["find-issues", "semi.csv", *LABEL, "--epochs", 3, "--quiet"], capsys)
    assert status == 0, err
    status, _, err = run_main(
        ["find-issues", "semi.csv", *LABEL, "--delimiter", ",", "--quiet"], capsys
    )
    assert status == 2
    assert re.search(r"the header seems delimited by ';': give --delimiter\.", err), err


def test_help_and_version_do_not_import_torch():
    code = (
        "import sys\nfrom cleanlab_pdiff.cli import main\n"
        "for argv in (['--help'], ['--version'], ['find-issues', '--help']):\n"
        "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
        "print('torch' in sys.modules, file=sys.stderr)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "False"
    assert "--id-column" in result.stdout and "--threads" in result.stdout
