"""The "pdiff" issue type of cleanlab's Datalab."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from cleanlab import Datalab
from sklearn.datasets import load_digits

import cleanlab_pdiff.datalab  # noqa: F401  (registers the issue type)
from cleanlab_pdiff import PDiffClassifier, make_noisy_labels

N_ROWS = 200
#: A quick fit: a given noise rate (no probes), a few epochs, which end before the drop
#: rate's ramp (the fit warns).
OPTIONS = {"noise_rate": 0.2, "max_epochs": 4, "t_k": 5, "random_state": 0, "n_threads": 1}


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X, y = X[:N_ROWS] / 16, y[:N_ROWS]
    # String class names, to see them mapped back from Datalab's 0..K-1.
    names = np.array([f"digit {k}" for k in range(10)])
    return X, names[make_noisy_labels(y, 0.2, random_state=0)]


def audit(X, labels, **options):
    lab = Datalab({"label": labels}, label_name="label", verbosity=0)
    lab.find_issues(issue_types={"pdiff": {"features": X, **OPTIONS, **options}})
    return lab


@pytest.fixture(scope="module")
def lab(digits):
    return audit(*digits)


def test_the_scores_and_flags_are_one_fit_s(digits, lab):
    X, labels = digits
    clf = PDiffClassifier(**OPTIONS).fit(X, np.unique(labels, return_inverse=True)[1])
    issues = lab.get_issues("pdiff")
    assert list(issues.columns) == ["is_pdiff_issue", "pdiff_score"]
    np.testing.assert_array_equal(issues["pdiff_score"], clf.training_label_quality_)
    np.testing.assert_array_equal(issues["is_pdiff_issue"], clf.label_issues_)
    summary = lab.get_issue_summary("pdiff")
    assert summary.loc[0, "score"] == pytest.approx(1 - OPTIONS["noise_rate"])
    assert summary.loc[0, "num_issues"] == round(OPTIONS["noise_rate"] * N_ROWS)


def test_info_has_the_noise_rate_classes_suggestions_and_warnings(digits, lab):
    X, labels = digits
    info = lab.get_info("pdiff")
    assert info["noise_rate"] == OPTIONS["noise_rate"]
    assert info["num_label_issues"] == round(OPTIONS["noise_rate"] * N_ROWS)
    flagged = labels[lab.get_issues("pdiff")["is_pdiff_issue"].to_numpy()]
    assert info["issues_per_class"]["digit 3"] == np.sum(flagged == "digit 3")
    assert sum(info["issues_per_class"].values()) == info["num_label_issues"]
    assert info["given_label"] == labels.tolist()
    assert set(info["suggested_label"]) <= set(labels)
    assert any("drop-rate ramp" in message for message in info["warnings"])


def test_the_suggested_labels_are_the_model_s_most_likely(digits, lab):
    X, labels = digits
    clf = PDiffClassifier(**OPTIONS).fit(X, labels)
    np.testing.assert_array_equal(lab.get_info("pdiff")["suggested_label"], clf.predict(X))


def test_the_report_has_a_readable_section(lab, capsys):
    lab.report(verbosity=1)
    text = capsys.readouterr().out
    assert "pdiff issues" in text and "suggested_label" in text
    assert "Estimated share of wrong labels (noise_rate): 20.0%" in text
    assert "Flagged examples per given label: digit" in text
    assert "The fit warned: max_epochs=4 ends before P-DIFF's drop-rate ramp" in text


def test_the_options_reach_the_classifier(digits):
    X, labels = digits
    lab = audit(X, labels, noise_rate=0.1, max_epochs=1)
    assert lab.get_info("pdiff")["noise_rate"] == 0.1
    assert lab.get_issue_summary("pdiff").loc[0, "num_issues"] == round(0.1 * N_ROWS)


def test_it_saves_and_loads(lab, tmp_path):
    lab.save(str(tmp_path / "lab"))
    loaded = Datalab.load(str(tmp_path / "lab"))
    np.testing.assert_array_equal(loaded.get_issues("pdiff"), lab.get_issues("pdiff"))
    assert loaded.get_info("pdiff")["suggested_label"] == lab.get_info("pdiff")["suggested_label"]


@pytest.mark.slow
def test_a_fresh_process_loads_it_without_importing_the_plugin(lab, tmp_path):
    lab.save(str(tmp_path / "lab"))
    script = f"""
        import sys
        from cleanlab import Datalab
        lab = Datalab.load({str(tmp_path / "lab")!r})
        assert "cleanlab_pdiff.datalab" in sys.modules
        print(int(lab.get_issues("pdiff")["is_pdiff_issue"].sum()))
        lab.report()
    """
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert f"\n{round(OPTIONS['noise_rate'] * N_ROWS)}\n" in result.stdout
    assert "Estimated share of wrong labels" in result.stdout


@pytest.mark.parametrize(
    ("make_lab", "issue_type", "message"),
    [
        (lambda X, y: Datalab({"label": y}), {}, "needs the given labels"),
        (
            lambda X, y: Datalab({"label": np.arange(len(y)) / 2}, "regression", "label"),
            {},
            "this Datalab's task is 'regression'",
        ),
        (
            lambda X, y: Datalab({"label": [[0, 1]] * len(y)}, "multilabel", "label"),
            {},
            "this Datalab's task is 'multilabel'",
        ),
        (None, {"features": None}, r"issue_types=\{'pdiff': \{'features': X\}\}"),
        (None, {"features": np.zeros((N_ROWS - 1, 64))}, "199 rows but the Datalab has 200"),
        (None, {"epochs": 3}, r"unknown option\(s\) \['epochs'\]"),
        (None, {"noise_rate": 1.5}, r"issue_types\['pdiff'\]: noise_rate must be"),
    ],
    ids=["no labels", "regression", "multilabel", "no features", "rows", "option", "value"],
)
def test_bad_input_is_refused_before_training(digits, make_lab, issue_type, message):
    X, labels = digits
    lab = (make_lab or (lambda X, y: Datalab({"label": y}, label_name="label")))(X, labels)
    options = {"features": X, **issue_type}
    with pytest.raises(ValueError, match=message):
        lab.find_issues(issue_types={"pdiff": {**options, "max_epochs": 1}})
