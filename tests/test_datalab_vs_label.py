"""benchmarks/accuracy/datalab_vs_label.py on a few digits: both types scored, a CSV written."""

import csv

from benchmarks.accuracy import datalab_vs_label


def test_both_issue_types_are_scored_against_the_wrong_labels(tmp_path):
    argv = ["--seeds", "1", "--n-samples", "200", "--max-epochs", "2", "--threads", "1"]
    datalab_vs_label.main([*argv, "--out", str(tmp_path)])
    with open(tmp_path / "datalab_vs_label.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["issue_type"] for row in rows] == ["pdiff", "label"]
    for row in rows:
        assert row["n_wrong"] == str(round(0.3 * 200))
        assert 0 < float(row["f1"]) <= 1 and 0.5 < float(row["auroc"]) <= 1
        assert int(row["n_flagged"]) > 0 and float(row["seconds"]) > 0
