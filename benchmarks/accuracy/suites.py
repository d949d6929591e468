"""The accuracy suites: which data, label noise, methods and schedule each one runs.

A suite (:data:`SUITES`) is seeds and :class:`Dataset` s; a dataset names its data
(:class:`DataSpec`), its training :class:`~benchmarks.accuracy.protocol.Schedule`, its
label noises (:class:`Noise`) and the methods run on each, and says in words what they
are for the results page.
"""

from dataclasses import dataclass

from ..data.cifar import HUMAN_LABELS
from .protocol import Schedule

__all__ = [
    "NEED_NOISE",
    "REAL_NOISE_METHODS",
    "SUITES",
    "SYNTHETIC_METHODS",
    "DataSpec",
    "Dataset",
    "Noise",
]

#: Methods of the accuracy suites (the other methods of METHODS serve the real-noise suite).
SYNTHETIC_METHODS = (
    "ce",
    "coteaching",
    "gce",
    "cleanlearning",
    "pdiff_true",
    "pdiff_auto",
    "pdiff_per_class",
    "oracle",
)
#: Methods of the real-noise suite: accuracy, and label issues found.
REAL_NOISE_METHODS = (
    "ce",
    "pdiff_paper",
    "pdiff_true",
    "pdiff_auto",
    "pdiff_run",
    "coteaching",
    "gce",
    "cleanlearning",
    "cv_recipe",
    "oracle_labels",
)
#: Methods that need a noise rate above 0 or noisy labels: skipped on clean labels.
NEED_NOISE = ("pdiff_true", "coteaching", "oracle", "oracle_labels")


@dataclass(frozen=True)
class Noise:
    """Label noise of a cell: synthetic (kind, rate) or a CIFAR-10N label set.

    Parameters
    ----------
    kind : {"symmetric", "pair", "asymmetric", "human", "clean"}
        ``make_noisy_labels``'s kind, ``"human"`` for CIFAR-10N, or ``"clean"``
        for the true labels.
    rate : float or None, default=None
        Share of labels flipped (synthetic kinds).
    human : str or None, default=None
        Key of :data:`benchmarks.data.cifar.HUMAN_LABELS` (``kind="human"``).
    """

    kind: str
    rate: float = None
    human: str = None

    @property
    def label(self):
        """Name of the noise in tables, e.g. ``"symmetric 20%"``."""
        if self.kind == "human":
            return f"CIFAR-10N {self.human}"
        if self.kind == "clean":
            return "clean labels"
        return f"{self.kind} {self.rate:.0%}"


@dataclass(frozen=True)
class DataSpec:
    """Which data a dataset of a suite loads, and its network (hashable: a cache key).

    Parameters
    ----------
    source : {"digits", "mnist1d", "cifar10"}
        The data.
    n_samples : int, default=0
        mnist1d: signals generated; cifar10: training images.
    n_test : int, default=0
        cifar10: test images.
    image_size : int, default=32
        cifar10: side of the images.
    cnn_width : int, default=128
        cifar10: channels of the CNN's first block; 128 is the paper's CNN9.
    features : {"pixels", "kmeans", "efficientnet"}, default="pixels"
        cifar10: train the CNN on the pixels, or the MLP on
        :func:`benchmarks.data.kmeans.kmeans_features` of the 32x32 images, or the MLP
        on :func:`benchmarks.data.cifar.load_embedded` (the last ``n_samples / 10``
        files of each training class folder, the last ``n_test / 10`` of each
        test one).
    n_centroids : int, default=128
        cifar10 with k-means features: number of centroids (4 features each).
    """

    source: str
    n_samples: int = 0
    n_test: int = 0
    image_size: int = 32
    cnn_width: int = 128
    features: str = "pixels"
    n_centroids: int = 128


@dataclass(frozen=True)
class Dataset:
    """A dataset of a suite: data, schedule, noise cells and descriptions."""

    name: str
    data: DataSpec
    schedule: Schedule
    noises: tuple
    #: Cell whose first-seed "P-DIFF auto" run is recorded for the delta figure.
    figure_noise: Noise
    description: str
    network: str
    methods: tuple = SYNTHETIC_METHODS


SYNTHETIC = (
    Noise("symmetric", 0.2),
    Noise("symmetric", 0.5),
    Noise("pair", 0.45),
    Noise("asymmetric", 0.2),
)
HUMAN = tuple(Noise("human", human=name) for name in HUMAN_LABELS)
TABULAR_QUICK = Schedule(epochs=50, t_k=10, batch_size=128, lr=1e-3, cv_folds=3)
TABULAR_FULL = Schedule(epochs=100, t_k=20, batch_size=128, lr=1e-3, cv_folds=5)
MLP_NOTE = "`MLP` 256-256 (PDiffClassifier's default for 2-D input)"
DIGITS_NOTE = "sklearn's 8x8 digits: 1257 train / 540 test (stratified 30% held out)"


def _tabular(schedule, n_mnist1d):
    """Return digits and ``n_mnist1d`` MNIST-1D signals: the default MLP, synthetic noises."""
    # Both are split 70/30 (cells.load_data); the descriptions give the sizes.
    mnist1d = (
        f"{n_mnist1d} MNIST-1D signals (`make_dataset`, seed 42): "
        f"{n_mnist1d - n_mnist1d * 3 // 10} train / {n_mnist1d * 3 // 10} test"
    )
    return tuple(
        Dataset(name, data, schedule, SYNTHETIC, Noise("symmetric", 0.5), text, MLP_NOTE)
        for name, data, text in (
            ("digits", DataSpec("digits"), DIGITS_NOTE),
            ("mnist1d", DataSpec("mnist1d", n_samples=n_mnist1d), mnist1d),
        )
    )


def _embedded_cifar(name, n_train, n_test, description):
    """Return a CIFAR-10 dataset embedded by EfficientNet-Lite0, under clean and human labels."""
    return Dataset(
        name,
        DataSpec("cifar10", n_samples=n_train, n_test=n_test, features="efficientnet"),
        TABULAR_FULL,
        (Noise("clean"), *HUMAN),
        Noise("human", human="worse"),
        description,
        MLP_NOTE + " on the embeddings",
        REAL_NOISE_METHODS,
    )


SUITES = {
    "smoke": {
        "seeds": (0,),
        "datasets": (
            Dataset(
                "digits",
                DataSpec("digits"),
                Schedule(epochs=3, t_k=1, batch_size=128, lr=1e-3, cv_folds=2, last=2),
                (Noise("symmetric", 0.5),),
                Noise("symmetric", 0.5),
                "sklearn's digits, 30% held out",
                MLP_NOTE,
            ),
        ),
    },
    "quick": {
        "seeds": (0, 1, 2),
        "datasets": (
            *_tabular(TABULAR_QUICK, 4000),
            Dataset(
                "cifar10",
                DataSpec("cifar10", n_samples=5000, n_test=2000, features="kmeans"),
                Schedule(epochs=30, t_k=6, batch_size=128, lr=1e-3, cv_folds=3),
                (*HUMAN, Noise("symmetric", 0.5), Noise("pair", 0.45), Noise("asymmetric", 0.2)),
                Noise("human", human="worse"),
                "CIFAR-10 subset: 5000 training images (500 per class, drawn once with seed "
                "0) with their CIFAR-10N labels, 2000 test images (200 per class); each "
                "image turned into 512 unsupervised k-means features (`kmeans_features`: "
                "128 centroids of whitened 6x6 patches, triangle activation, summed per "
                "image quarter, standardised; no label used)",
                MLP_NOTE + " on the k-means features",
            ),
        ),
    },
    "real-noise": {
        "seeds": (0, 1, 2),
        "datasets": (
            _embedded_cifar(
                "cifar10-effnet",
                10000,
                2000,
                "CIFAR-10 subset: 10,000 training images (files 4000-4999 of each class "
                "folder) with their CIFAR-10N labels, 2000 test images (files 0800-0999 of each "
                "class folder); each image embedded once by the ImageNet-pretrained "
                "EfficientNet-Lite0 (96 px, global average pool: 1280 features), the features "
                "standardised with the training set's mean and standard deviation",
            ),
        ),
    },
    "real-noise-full": {
        "seeds": (0, 1, 2),
        "datasets": (
            _embedded_cifar(
                "cifar10-effnet-full",
                50000,
                10000,
                "CIFAR-10: all 50,000 training images with their CIFAR-10N labels, all 10,000 "
                "test images; embedded as in the real-noise suite",
            ),
        ),
    },
    "cnn-cpu": {
        "seeds": (0, 1, 2),
        "datasets": (
            Dataset(
                "cifar10-cnn",
                DataSpec("cifar10", n_samples=2000, n_test=1000, image_size=16, cnn_width=16),
                Schedule(epochs=20, t_k=5, batch_size=128, lr=1e-3, cv_folds=3),
                (Noise("human", human="worse"), Noise("symmetric", 0.5)),
                Noise("human", human="worse"),
                "CIFAR-10 subset: 2000 training images (200 per class, drawn once with seed "
                "0) with their CIFAR-10N labels, 1000 test images (100 per class); shrunk to "
                "16x16 pixels (2x2 box average)",
                "`CNN9(width=16)`: CNN9's nine conv layers with 16/32/64 channels instead "
                "of 128/256/512, the last three convolutions padded (16x16 input); random "
                "horizontal flips",
            ),
        ),
    },
    "full": {
        "seeds": (0, 1, 2),
        "datasets": (
            *_tabular(TABULAR_FULL, 10000),
            Dataset(
                "cifar10",
                DataSpec("cifar10", n_samples=50000, n_test=10000),
                Schedule(
                    epochs=200,
                    t_k=20,
                    batch_size=128,
                    lr=1e-3,
                    optimizer="sgd",
                    momentum=0.9,
                    weight_decay=5e-4,
                    milestones=(100, 150),
                    cv_folds=5,
                ),
                (*HUMAN, *SYNTHETIC),
                Noise("human", human="worse"),
                "CIFAR-10: all 50,000 training images with their CIFAR-10N labels, all "
                "10,000 test images, 32x32",
                "`CNN9` (the paper's 9-layer CNN) with random horizontal flips",
            ),
        ),
    },
}
