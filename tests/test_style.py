"""The tree passes ruff's lint and format checks (the rules are in pyproject.toml)."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: ruff beside this Python (the test extra installs it), else on PATH.
RUFF = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=" ".join)
def test_ruff(command):
    assert RUFF, "ruff is not installed: pip install -e '.[test]'"
    result = subprocess.run(
        [RUFF, *command, "."], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _imported_modules(path):
    """Modules a test file imports, by statement or by name (``pytest.importorskip("x")``)."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "importorskip":
            yield from (arg.value for arg in node.args[:1] if isinstance(arg, ast.Constant))


def test_only_the_benchmark_tests_import_benchmarks():
    # The package's tests must pass without the benchmarks folder (it is not installed).
    importers = sorted(
        path.name
        for path in (ROOT / "tests").glob("*.py")
        if "benchmarks" in path.read_text()  # parse only the files that could import it
        and any(name.split(".")[0] == "benchmarks" for name in _imported_modules(path))
    )
    assert importers == ["test_benchmarks.py"]
