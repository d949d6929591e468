"""Benchmarks of cleanlab_pdiff, by kind; run each with ``python -m benchmarks.<kind>.<name>``.

- :mod:`benchmarks.accuracy`: test accuracy and label issues found, P-DIFF against the
  methods users would pick instead (``docs/benchmarks.md``, ``docs/label_issues.md``);
- :mod:`benchmarks.cost`: time and memory (``docs/overhead.md``, ``docs/large_data.md``);
- :mod:`benchmarks.data`: the data they read, built or decoded locally;
- :mod:`benchmarks.common` and :mod:`benchmarks.memory`: the plumbing they share.
"""
