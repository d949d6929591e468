"""The README's promises: its two set-up commands, and the demo's result."""

import re
from pathlib import Path

import pytest

from cleanlab_pdiff.demo import run_demo

ROOT = Path(__file__).resolve().parents[1]


def test_readme_has_two_setup_commands_and_ci_runs_the_test_one():
    commands = re.findall(r"```bash\n(.+?)\n```", (ROOT / "README.md").read_text(), re.S)
    assert len(commands) == 2
    demo, tests = commands
    for command in commands:
        assert "\n" not in command
        # torch's CPU build must be in place before the package pulls a torch requirement.
        assert command.index("torch==2.13.0") < command.index("pip install -e")
    assert demo.endswith("-m cleanlab_pdiff demo")
    assert tests.endswith("-m pytest")
    assert tests in (ROOT / ".ci" / "run").read_text()


@pytest.mark.slow
def test_demo_meets_the_digits_targets():
    """Issue acceptance: digits, 50% symmetric noise, 30% held out, stratified."""
    lines = []
    results = run_demo(noise_rate=0.5, random_state=0, print_fn=lines.append)
    assert results["pdiff"] >= 0.92
    assert results["pdiff"] - results["plain"] >= 0.15
    assert abs(results["estimated_noise_rate"] - 0.5) <= 0.07
    assert any("estimated noise rate" in line for line in lines)
