"""Test-wide settings.

Hypothesis draws its examples from a fixed seed by default, so that a run of the suite (and
CI) is reproducible: a failure is a real regression, not a new draw. Explore fresh examples
with ``HYPOTHESIS_PROFILE=explore python -m pytest tests/test_fuzz.py tests/test_cli_fuzz.py
tests/test_properties.py``, and pin whatever it finds as an ``@example``.
"""

import os

import pytest
import torch
from hypothesis import settings

settings.register_profile("default", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny networks train fastest on one thread, and the tests share the machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
