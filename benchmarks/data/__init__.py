"""The data the benchmarks read, built or decoded locally with nothing downloaded.

- :mod:`~benchmarks.data.tabular`: scikit-learn's digits and MNIST-1D signals;
- :mod:`~benchmarks.data.planted`: random features of any size with labels planted in them;
- :mod:`~benchmarks.data.cifar`: CIFAR-10 and its CIFAR-10N human labels, read from the
  files of ``../shared/data`` (or ``--data-dir``);
- :mod:`~benchmarks.data.kmeans`: unsupervised k-means features of images;
- ``python -m benchmarks.data.image_folder`` writes CIFAR-10 images as a folder of class
  folders labelled by CIFAR-10N.

Importing this package imports nothing else (``benchmarks.cost.large_data`` times the
imports of its measured processes).
"""
