"""What P-DIFF costs: time per epoch, and memory on large data.

- ``python -m benchmarks.cost.overhead``: epoch time against plain skorch training of the
  same network (``docs/overhead.md``);
- ``python -m benchmarks.cost.large_data``: peak memory of fit and predict on 1,000,000
  rows, whole and step by step (:mod:`.steps`; ``docs/large_data.md``);
- ``python -m benchmarks.cost.image_memory``: peak memory of training on images that stay
  on disk, a memory-mapped file or an image folder (``docs/large_data.md``).
"""
