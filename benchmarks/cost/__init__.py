"""What P-DIFF costs: time per epoch, and memory on large data.

- ``python -m benchmarks.cost.overhead``: epoch time against plain skorch training of the
  same network (``docs/overhead.md``);
- ``python -m benchmarks.cost.large_data``: peak memory of fit and predict on 1,000,000
  rows, whole and step by step (:mod:`.steps`; ``docs/large_data.md``);
- ``python -m benchmarks.cost.image_memory``: peak memory of training on images that stay
  on disk, a memory-mapped file or an image folder (``docs/large_data.md``).

Why not airspeed velocity (asv): asv measures one benchmark function per process and
compares it across commits, whereas these scripts compare inside one run: P-DIFF's epoch
time over plain skorch's, interleaved round by round so that a busy shared machine slows
every method alike (``overhead``), and each step's peak inside one fit, read by resetting
the kernel's peak-RSS counter around skorch's seams (``large_data``). In asv they would
become ``track_*`` functions returning numbers computed here, asv adding only storage.
It would also build the project in environments of its own for each commit it measures
(torch installed each time), and its default 60 s timeout is far below runs of minutes
on a 2.9 GiB file. What these scripts write is the generated part of
``docs/overhead.md`` and ``docs/large_data.md``, which asv does not; CI never runs them
(the tests check their tables and one small step measurement).
"""
