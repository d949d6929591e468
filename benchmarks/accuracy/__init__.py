"""P-DIFF against the methods users would pick instead: test accuracy, and label issues found.

- ``python -m benchmarks.accuracy.run --suite quick``: the suites (:mod:`.suites`, each
  cell's data in :mod:`.cells`) train every method (:mod:`.methods`) with the same network,
  schedule and seed, and write a CSV, ``docs/benchmarks.md`` (:mod:`.render`, from the
  summaries of :mod:`.results`) and its figures (:mod:`.figures`);
- ``python -m benchmarks.accuracy.label_issues``: how well, and how fast, one P-DIFF run
  finds flipped labels against cleanlab's K-fold recipe (``docs/label_issues.md``).
- ``python -m benchmarks.accuracy.datalab_vs_label``: the same inside cleanlab's Datalab,
  its "pdiff" issue type against its "label" type fed 5-fold ``pred_probs``
  (``docs/datalab.md``).
"""
