"""Test-wide settings.

Hypothesis draws its examples from a fixed seed by default, so that a run of the suite (and
CI) is reproducible: a failure is a real regression, not a new draw. The fixed draws are a
regression sample, a few dozen per property, sized to keep the suite fast. Explore fresh
examples with ``HYPOTHESIS_PROFILE=explore python -m pytest tests/test_fuzz.py
tests/test_cli_fuzz.py tests/test_properties.py`` (each run draws anew: repeat it to explore
more), and pin whatever it finds as an ``@example``.
"""

import atexit
import gc
import os
import shutil

import pytest

#: Why the tests that render the HTML report in a browser skip (tests/test_report.py).
NO_BROWSER = "no chromium on the PATH, so the HTML report was not rendered"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def pytest_configure(config):
    """Load the Hypothesis profile where tests run, and skip their exit's last collection.

    xdist's controller runs no test, and it starts the workers only once it is configured:
    it imports neither Hypothesis nor (see below) torch and scikit-learn, which take seconds.
    A process that ran the tests spends about a second of its exit in the interpreter's
    final garbage collection over torch's and scikit-learn's objects, and the run waits for
    it: once pytest is done (it has collected and reported unraisable exceptions), the
    objects left are frozen out of that collection.
    """
    if not hasattr(config, "workerinput") and config.option.dist != "no":
        return
    atexit.register(gc.freeze)
    from hypothesis import settings

    settings.register_profile("default", derandomize=True, database=None, print_blob=True)
    settings.register_profile("explore", derandomize=False, print_blob=True)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def find_browser():
    """Return the browser that renders the HTML report; skip the test without one.

    CI (``.ci/run``) installs Debian's chromium and sets CLEANLAB_PDIFF_REQUIRE_BROWSER=1,
    so that a missing browser fails there instead of skipping.
    """
    found = next(filter(None, map(shutil.which, BROWSERS)), None)
    if found is None:
        if os.environ.get("CLEANLAB_PDIFF_REQUIRE_BROWSER"):
            pytest.fail(f"{NO_BROWSER}, and CLEANLAB_PDIFF_REQUIRE_BROWSER is set")
        pytest.skip(f"{NO_BROWSER}: sudo apt-get install chromium")
    return found


@pytest.fixture(scope="session")
def browser():
    """The path of a headless-capable Chromium (see :func:`find_browser`)."""
    return find_browser()


def pytest_terminal_summary(terminalreporter):
    """End a run whose browser tests skipped with a section that says so, and what to do.

    pytest's own summary lists the skip among the others, easy to miss: a contributor would
    never see the report rendered.
    """
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if NO_BROWSER in str(report.longrepr)
    ]
    if skipped:
        terminalreporter.section("the HTML report was not rendered", yellow=True, bold=True)
        terminalreporter.line(
            f"{len(skipped)} browser test(s) skipped: no chromium on the PATH. Install it "
            "(sudo apt-get install chromium) and run them again; .ci/run does, and sets "
            "CLEANLAB_PDIFF_REQUIRE_BROWSER=1 so that they fail instead of skipping.",
            yellow=True,
        )


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    """Every test runs torch on one thread.

    Tiny networks train fastest on one thread, and on a machine whose cores are busy,
    torch's default of one thread per core slows small steps down many times over.
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _three_classes(n_samples, n_features, n_informative):
    from sklearn.datasets import make_classification

    return make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=n_informative,
        n_redundant=0,
        n_classes=3,
        class_sep=2.0,
        random_state=0,
    )


@pytest.fixture(scope="session")
def three_classes_200x8():
    """(X, y): 200 samples, 8 features (5 informative), 3 well-separated classes 0, 1, 2."""
    return _three_classes(200, 8, 5)


@pytest.fixture(scope="session")
def three_classes_120x8():
    """(X, y): 120 samples, 8 features (5 informative), 3 well-separated classes 0, 1, 2."""
    return _three_classes(120, 8, 5)


@pytest.fixture(scope="session")
def three_classes_96x6():
    """(X, y): 96 samples, 6 features (4 informative), 3 well-separated classes 0, 1, 2."""
    return _three_classes(96, 6, 4)
