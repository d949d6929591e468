"""torch Datasets, uint8 images and memory-mapped files as the estimator's X."""

from pathlib import Path

import numpy as np
import pytest
import torch
from settings import FIVE_QUICK_EPOCHS
from sklearn.model_selection import StratifiedKFold
from torch import nn
from torch.utils.data import Dataset, IterableDataset, TensorDataset

from cleanlab_pdiff import PDiffClassifier
from cleanlab_pdiff._fit import inputs as _inputs
from cleanlab_pdiff._fit.validation import validate_input
from cleanlab_pdiff.augment import random_crop_flip
from cleanlab_pdiff.label_issues import cross_val_pred_probs


class Samples(Dataset):
    """Items ``(sample, label)`` from arrays, optionally with ``targets``."""

    def __init__(self, X, y=None, *, with_targets=False):
        self.X, self.y = X, y
        if with_targets:
            self.targets = y

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return torch.from_numpy(self.X[i]), -1  # the label in the item is not read


def tiny_cnn(n_features, n_classes):
    return nn.Sequential(
        nn.Conv2d(n_features, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.LazyLinear(n_classes)
    )


@pytest.fixture(scope="module")
def images_3x8x8():
    """(X, y): 150 float32 images 3x8x8 of 3 classes, each class a brighter channel."""
    rng = np.random.RandomState(0)
    y = np.arange(150) % 3
    X = rng.rand(150, 3, 8, 8).astype(np.float32)
    X[np.arange(150), y] += 0.5
    return X, y


def test_a_dataset_gives_the_probabilities_of_the_array(three_classes_120x8):
    X, y = three_classes_120x8
    from_array = PDiffClassifier(**FIVE_QUICK_EPOCHS).fit(X, y)
    from_dataset = PDiffClassifier(**FIVE_QUICK_EPOCHS).fit(Samples(X), y)
    expected = from_array.predict_proba(X)
    np.testing.assert_array_equal(from_dataset.predict_proba(Samples(X)), expected)
    np.testing.assert_array_equal(from_dataset.predict_proba(X), expected)
    np.testing.assert_array_equal(
        from_array.predict_proba(TensorDataset(torch.from_numpy(X))), expected
    )
    np.testing.assert_array_equal(
        from_dataset.training_label_quality_, from_array.training_label_quality_
    )
    assert from_dataset.noise_rate_ == from_array.noise_rate_
    assert from_dataset.n_features_in_ == 8


def test_images_as_a_dataset_with_augmentation_match_the_array(images_3x8x8):
    X, y = images_3x8x8
    params = {**FIVE_QUICK_EPOCHS, "module": tiny_cnn, "augment": True, "retrain": 1.0}
    from_array = PDiffClassifier(**params).fit(X, y)
    from_dataset = PDiffClassifier(**params).fit(TensorDataset(torch.from_numpy(X)), y)
    np.testing.assert_array_equal(from_dataset.predict_proba(X), from_array.predict_proba(X))
    assert from_array.retrained_on_ is not None  # the retrained model, from both


def test_y_none_reads_the_dataset_s_targets(three_classes_120x8):
    X, y = three_classes_120x8
    names = np.array(["a", "b", "c"])[y]
    clf = PDiffClassifier(**FIVE_QUICK_EPOCHS).fit(Samples(X, names, with_targets=True))
    assert clf.classes_.tolist() == ["a", "b", "c"]
    with pytest.raises(ValueError, match="no `targets` attribute: give the labels as y"):
        PDiffClassifier(**FIVE_QUICK_EPOCHS).fit(Samples(X))


def test_every_method_takes_a_dataset(three_classes_120x8):
    X, y = three_classes_120x8
    data = Samples(X)
    clf = PDiffClassifier(**FIVE_QUICK_EPOCHS).fit(data, y)
    assert clf.score(data, y) == clf.score(X, y) > 0.8
    np.testing.assert_array_equal(clf.predict(data), clf.predict(X))
    np.testing.assert_array_equal(clf.label_quality_scores(data, y), clf.label_quality_scores(X, y))
    np.testing.assert_array_equal(clf.find_label_issues(data, y), clf.label_issues_)
    clf.partial_fit(data, y)
    continued = PDiffClassifier(**FIVE_QUICK_EPOCHS).fit(X, y).partial_fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), continued.predict_proba(X))


class CountingReads(Samples):
    """:class:`Samples` that counts how often each item is read."""

    def __init__(self, X):
        super().__init__(X)
        self.reads = np.zeros(len(X), dtype=int)

    def __getitem__(self, i):
        self.reads[i] += 1
        return super().__getitem__(i)


@pytest.mark.parametrize("noise_rate", [0.0, "auto"], ids=["one-run", "probes"])
def test_a_fit_reads_the_first_item_no_more_often_than_any_other(three_classes_120x8, noise_rate):
    # The sample shape is read once, at the front door: the first item is then read as
    # often as the others, by the passes over the data (moments, training, probes).
    X, y = three_classes_120x8
    data = CountingReads(X)
    PDiffClassifier(**{**FIVE_QUICK_EPOCHS, "max_epochs": 2, "noise_rate": noise_rate}).fit(data, y)
    assert data.reads[0] == np.max(data.reads[1:]) + 1  # the + 1: the sample shape
    data.reads[:] = 0
    PDiffClassifier(**{**FIVE_QUICK_EPOCHS, "max_epochs": 2, "noise_rate": 0.0}).fit(
        data, y
    ).predict(data)
    assert data.reads[0] == np.max(data.reads[1:]) + 2  # fit's and predict's first reads


def test_cross_validated_issues_train_each_fold_on_a_subset(three_classes_120x8):
    X, y = three_classes_120x8
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    clf = PDiffClassifier(max_epochs=3, random_state=0)
    _, from_array = cross_val_pred_probs(clf, X, y, cv=folds)
    _, from_dataset = cross_val_pred_probs(clf, Samples(X), y, cv=folds)
    np.testing.assert_array_equal(from_dataset, from_array)
    mask = clf.find_label_issues(Samples(X), y, cv=folds)
    assert mask.shape == (len(y),) and mask.dtype == bool


def test_worker_processes_follow_each_example_s_index(three_classes_120x8):
    X, y = three_classes_120x8
    params = {**FIVE_QUICK_EPOCHS, "noise_rate": 0.2, "max_epochs": 2, "batch_size": 32}
    in_process = PDiffClassifier(**params).fit(Samples(X), y)
    workers = PDiffClassifier(**params, num_workers=2).fit(Samples(X), y)
    np.testing.assert_array_equal(
        workers.training_label_quality_, in_process.training_label_quality_
    )
    np.testing.assert_array_equal(workers.predict_proba(Samples(X)), in_process.predict_proba(X))


# Bad Datasets ------------------------------------------------------------------------------------


class Ragged(Dataset):
    def __len__(self):
        return 40

    def __getitem__(self, i):
        return np.zeros(8 if i != 33 else 7, dtype=np.float32)


class Stream(IterableDataset):
    def __iter__(self):
        yield np.zeros(2)


class Words(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return "word"


def test_bad_datasets_are_refused_with_the_item_named(three_classes_120x8):
    X, y = three_classes_120x8
    clf = PDiffClassifier(**FIVE_QUICK_EPOCHS)
    with pytest.raises(ValueError, match="X \\(a Dataset\\) has 120 items but y has 119 labels"):
        clf.fit(Samples(X), y[:-1])
    with pytest.raises(ValueError, match=r"item 33 of X has shape \(7,\).*shape \(8,\)"):
        clf.fit(Ragged(), np.arange(40) % 2)
    with pytest.raises(ValueError, match="X is an empty Dataset"):
        clf.fit(Samples(X[:0]), y[:0])
    with pytest.raises(TypeError, match="X is an IterableDataset; give a map-style"):
        clf.fit(Stream(), [0])
    with pytest.raises(TypeError, match="item 0 of X holds a str; the samples of a Dataset"):
        clf.fit(Words(), [0, 1, 0, 1])
    fitted = PDiffClassifier(**FIVE_QUICK_EPOCHS).fit(X, y)
    with pytest.raises(ValueError, match=r"X has shape \(120, 5\); the model was fitted on"):
        fitted.predict(Samples(np.ascontiguousarray(X[:, :5])))
    with pytest.raises(ValueError, match="augment=True crops and flips images"):
        PDiffClassifier(**FIVE_QUICK_EPOCHS, augment=True).fit(X, y)


def test_ragged_items_in_a_worker_are_reported(three_classes_120x8):
    with pytest.raises(ValueError, match="item 33 of X has shape"):
        PDiffClassifier(**FIVE_QUICK_EPOCHS, num_workers=1, noise_rate=0.1).fit(
            Ragged(), np.arange(40) % 2
        )


# Images as uint8, and files mapped into memory ---------------------------------------------------


def test_uint8_images_stay_uint8_and_train_as_their_float_values(images_3x8x8):
    X, y = images_3x8x8
    pixels = (X * 150).astype(np.uint8)
    checked, _ = validate_input(PDiffClassifier(), pixels, y, reset=True)
    assert checked.dtype == np.uint8 and np.shares_memory(checked.data, pixels)
    params = {**FIVE_QUICK_EPOCHS, "module": tiny_cnn, "noise_rate": 0.1}
    from_uint8 = PDiffClassifier(**params).fit(pixels, y)
    from_float = PDiffClassifier(**params).fit(pixels.astype(np.float32), y)
    np.testing.assert_array_equal(
        from_uint8.predict_proba(pixels), from_float.predict_proba(pixels)
    )


def file_rss(path):
    """Resident bytes of this process's mappings of ``path`` (Linux smaps)."""
    total, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        if "-" in line.split(" ", 1)[0]:
            inside = line.rstrip().endswith(str(path))
        elif inside and line.startswith("Rss:"):
            total += int(line.split()[1]) * 1024
    return total


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="needs Linux's smaps")
@pytest.mark.parametrize("release", [True, False])
def test_reading_a_memory_mapped_file_hands_its_pages_back(tmp_path, monkeypatch, release):
    path = tmp_path / "images.u8"
    data = np.memmap(path, dtype=np.uint8, mode="w+", shape=(4096, 3, 32, 32))  # 12 MiB
    data[:] = 1
    data.flush()
    del data
    X = np.memmap(path, dtype=np.uint8, mode="r", shape=(4096, 3, 32, 32))
    monkeypatch.setattr(_inputs, "RELEASE_BYTES", 2**20)
    if not release:
        monkeypatch.setattr(_inputs, "file_mapping", lambda X: None)
    checked, _ = validate_input(PDiffClassifier(), X, np.arange(4096) % 2, reset=True)
    assert _inputs.file_mapping(checked.data) is (X.base if release else None)
    read = checked.read
    order = np.random.RandomState(0).permutation(4096)
    total = sum(int(read(rows).sum()) for rows in np.array_split(order, 64))
    assert total == X.size
    resident = file_rss(path)
    assert (resident < 4 * 2**20) == release, resident


def test_a_copy_on_write_map_keeps_its_pages(tmp_path):
    path = tmp_path / "x.f32"
    np.memmap(path, dtype=np.float32, mode="w+", shape=(10, 4)).flush()
    assert _inputs.file_mapping(np.memmap(path, dtype=np.float32, mode="c", shape=(10, 4))) is None
    assert (
        _inputs.file_mapping(np.memmap(path, dtype=np.float32, mode="r+", shape=(10, 4)))
        is not None
    )
    assert _inputs.file_mapping(np.zeros((10, 4))) is None


def test_a_memory_mapped_float_file_is_checked_block_by_block(tmp_path, three_classes_120x8):
    X, y = three_classes_120x8
    path = tmp_path / "x.f64"
    mapped = np.memmap(path, dtype=np.float64, mode="w+", shape=X.shape)
    mapped[:] = X
    fitted = PDiffClassifier(**FIVE_QUICK_EPOCHS).fit(mapped, y)
    np.testing.assert_array_equal(fitted.predict_proba(mapped), fitted.predict_proba(X))
    mapped[7, 3] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN or infinity"):
        PDiffClassifier(**FIVE_QUICK_EPOCHS).fit(mapped, y)


# Augmentation ------------------------------------------------------------------------------------


def test_random_crop_flip_crops_the_padded_image_and_flips_half():
    torch.manual_seed(0)
    images = np.random.RandomState(0).rand(400, 2, 6, 5).astype(np.float32)
    out = random_crop_flip(images, padding=2)
    assert out.shape == images.shape and out.dtype == np.float32
    padded = np.pad(images, ((0, 0), (0, 0), (2, 2), (2, 2)))
    offsets, flips = set(), 0
    for image, crop in zip(padded, out, strict=True):
        found = [
            (top, left, flip)
            for top in range(5)
            for left in range(5)
            for flip in (False, True)
            if np.array_equal(
                image[:, top : top + 6, left : left + 5][..., :: -1 if flip else 1], crop
            )
        ]
        assert len(found) == 1
        offsets.add(found[0][:2])
        flips += found[0][2]
    assert len(offsets) == 25 and 150 < flips < 250
    with pytest.raises(ValueError, match=r"shape \(N, C, H, W\)"):
        random_crop_flip(images[0])


def test_augmentation_changes_training_only(images_3x8x8):
    X, y = images_3x8x8
    params = {**FIVE_QUICK_EPOCHS, "module": tiny_cnn, "noise_rate": 0.1}
    plain = PDiffClassifier(**params).fit(X, y)
    augmented = PDiffClassifier(**params, augment=True).fit(X, y)
    assert not np.array_equal(augmented.predict_proba(X), plain.predict_proba(X))
    standardised = (X - augmented.mean_[:, None, None]) / augmented.scale_[:, None, None]
    with torch.no_grad():
        logits = augmented.net_.module_.eval()(torch.from_numpy(standardised.astype(np.float32)))
    np.testing.assert_allclose(augmented.predict_proba(X), torch.softmax(logits, 1), rtol=1e-5)


# An image folder ---------------------------------------------------------------------------------


def test_an_image_folder_trains_with_augmentation_and_finds_planted_errors(tmp_path):
    from PIL import Image

    from cleanlab_pdiff import ImageFolder

    rng = np.random.RandomState(0)
    colours = {"red": 0, "green": 1, "blue": 2}
    planted = set()
    for i in range(120):
        true = list(colours)[i % 3]
        given = list(colours)[(i + 1) % 3] if i % 10 == 0 else true  # 12 wrong folders
        pixels = rng.randint(0, 120, (8, 8, 3))
        pixels[..., colours[true]] += 120
        (tmp_path / given).mkdir(exist_ok=True)
        Image.fromarray(pixels.astype(np.uint8)).save(tmp_path / given / f"{i:03d}.png")
        if given != true:
            planted.add(f"{i:03d}.png")
    folder = ImageFolder(tmp_path)
    clf = PDiffClassifier(
        tiny_cnn, noise_rate=0.1, t_k=5, max_epochs=15, lr=1e-2, augment=True, random_state=0
    )
    flagged = {folder.files[i].name for i in np.flatnonzero(clf.find_label_issues(folder))}
    assert len(flagged) == 12 and len(flagged & planted) >= 10, sorted(flagged)
    assert clf.score(folder, folder.labels) > 0.8
