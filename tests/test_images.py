"""The image-folder dataset (cleanlab_pdiff/images.py)."""

import multiprocessing
import pickle
import sys
import traceback

import numpy as np
import pytest
import torch
from fake_images import jpeg_bytes, pixels

from cleanlab_pdiff.images import ImageFolder, UnreadableImagesError, check_images

Image = pytest.importorskip("PIL.Image")

CAT_FILES = ["a.JPG", "b.png", "c.jpeg", "d.png", "e.PNG"]


def save(path, array, mode="RGB"):
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(array).convert(mode)
    image.save(path, format="JPEG" if path.suffix.lower() in (".jpg", ".jpeg") else "PNG")


@pytest.fixture
def root(tmp_path):
    """cat/ (5 files, written in reverse name order) and dog/ (2), plus hidden entries."""
    root = tmp_path / "images"
    for seed, name in enumerate(reversed(CAT_FILES)):
        save(root / "cat" / name, pixels(seed))
    save(root / "dog" / "z.png", pixels(10))
    save(root / "dog" / "y.jpg", pixels(11))
    (root / ".DS_Store").write_bytes(b"\0")
    (root / "cat" / ".DS_Store").write_bytes(b"\0")
    (root / "dog" / "._y.jpg").write_bytes(b"\0")  # macOS resource fork: not an image
    (root / ".thumbnails" / "x").mkdir(parents=True)
    (root / "cat" / ".cache").mkdir()
    return root


def test_classes_files_and_labels_in_order_hidden_entries_skipped(root):
    folder = ImageFolder(root)
    assert folder.classes == ["cat", "dog"]
    expected = [root / "cat" / name for name in CAT_FILES]
    assert folder.files == [*expected, root / "dog" / "y.jpg", root / "dog" / "z.png"]
    assert folder.labels.tolist() == ["cat"] * 5 + ["dog"] * 2
    assert folder.labels.dtype.kind in "OU"
    assert folder.targets is folder.labels
    assert len(folder) == 7


def test_png_round_trips_exactly_channels_first(root):
    item = ImageFolder(root)[1]  # cat/b.png, written from pixels(3)
    assert item.shape == (3, 6, 8) and item.dtype == np.uint8
    assert item.flags.c_contiguous
    np.testing.assert_array_equal(item, pixels(3).transpose(2, 0, 1))


def test_jpeg_decodes_as_pillow_does(root):
    item = ImageFolder(root)[0]  # cat/a.JPG
    source = np.asarray(Image.open(root / "cat" / "a.JPG").convert("RGB")).transpose(2, 0, 1)
    np.testing.assert_array_equal(item, source)


@pytest.mark.parametrize("mode", ["L", "P", "RGBA", "LA"])
def test_other_modes_become_three_rgb_channels(tmp_path, mode):
    save(tmp_path / "a" / "0.png", pixels(0), mode)
    item = ImageFolder(tmp_path)[0]
    expected = np.asarray(Image.open(tmp_path / "a" / "0.png").convert("RGB"))
    assert item.shape == (3, 6, 8)
    np.testing.assert_array_equal(item, expected.transpose(2, 0, 1))
    if mode in ("L", "LA"):
        assert (item == item[:1]).all()


def test_size_resizes_every_image_bilinearly(tmp_path):
    save(tmp_path / "a" / "0.png", pixels(0, 6, 8))
    save(tmp_path / "a" / "1.png", pixels(1, 9, 4))
    save(tmp_path / "b" / "2.jpg", pixels(2, 64, 48))
    folder = ImageFolder(tmp_path, size=(5, 7))
    items = [folder[i] for i in range(3)]
    assert [item.shape for item in items] == [(3, 5, 7)] * 3
    resized = Image.open(tmp_path / "a" / "1.png").resize((7, 5), Image.Resampling.BILINEAR)
    np.testing.assert_array_equal(items[1], np.asarray(resized).transpose(2, 0, 1))
    # The JPEG is decoded at a reduced scale first (draft): close to a full decode.
    full = Image.open(tmp_path / "b" / "2.jpg").resize((7, 5), Image.Resampling.BILINEAR)
    difference = np.abs(items[2].astype(int) - np.asarray(full).transpose(2, 0, 1))
    assert difference.mean() < 20


def test_pickle_round_trip_gives_the_same_items(root):
    folder = ImageFolder(root, size=(4, 4))
    copy = pickle.loads(pickle.dumps(folder))
    assert (copy.classes, copy.files, copy.size) == (folder.classes, folder.files, (4, 4))
    np.testing.assert_array_equal(copy.labels, folder.labels)
    for i in range(len(folder)):
        np.testing.assert_array_equal(copy[i], folder[i])


def test_missing_root_and_root_that_is_a_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="image folder .*nowhere does not exist"):
        ImageFolder(tmp_path / "nowhere")
    (tmp_path / "file.png").write_bytes(b"")
    with pytest.raises(NotADirectoryError, match="file.png is not a directory"):
        ImageFolder(tmp_path / "file.png")


def test_no_class_folders(tmp_path):
    (tmp_path / ".hidden").mkdir()
    with pytest.raises(ValueError, match="holds no class folders: expected one subfolder per"):
        ImageFolder(tmp_path)


def test_images_at_the_top_level(root):
    save(root / "stray.png", pixels(0))
    with pytest.raises(ValueError, match=r"holds files at its top level \(stray.png\).*class"):
        ImageFolder(root)


def test_class_folder_without_images(root):
    (root / "empty").mkdir()
    (root / "empty" / ".DS_Store").write_bytes(b"\0")
    with pytest.raises(ValueError, match="class folder .*empty holds no images"):
        ImageFolder(root)


def test_non_image_file(root):
    (root / "dog" / "notes.txt").write_text("a dog")
    with pytest.raises(ValueError, match=r"notes.txt is not an image file: .*\.jpeg, \.jpg, \.png"):
        ImageFolder(root)


def test_nested_folder(root):
    save(root / "dog" / "puppies" / "0.png", pixels(0))
    with pytest.raises(ValueError, match="class folder .*dog holds a subfolder, .*puppies"):
        ImageFolder(root)


@pytest.mark.parametrize(
    ("size", "error"),
    [((0, 4), ValueError), ((4, -1), ValueError), (4, TypeError), ((4,), TypeError)]
    + [((4, 4, 4), TypeError), ((4.0, 4), TypeError), ((True, 4), TypeError)],
)
def test_bad_size(root, size, error):
    with pytest.raises(error, match=r"size must be None or \(height, width\)"):
        ImageFolder(root, size=size)


def test_numpy_integers_are_a_size(root):
    assert ImageFolder(root, size=np.array([3, 2]).tolist()).size == (3, 2)
    assert ImageFolder(root, size=(np.int64(3), np.int32(2)))[0].shape == (3, 3, 2)


def test_truncated_jpeg(root):
    data = jpeg_bytes(pixels(0))
    (root / "dog" / "broken.jpg").write_bytes(data[: len(data) // 2])
    folder = ImageFolder(root)  # scanning decodes nothing
    with pytest.raises(ValueError, match="(?i)cannot decode image file .*broken.jpg: .*truncated"):
        folder[folder.files.index(root / "dog" / "broken.jpg")]


def test_random_bytes_with_an_image_extension(root):
    (root / "dog" / "noise.jpg").write_bytes(np.random.default_rng(0).bytes(300))
    folder = ImageFolder(root)
    with pytest.raises(ValueError, match="cannot decode image file .*noise.jpg: cannot identify"):
        folder[folder.files.index(root / "dog" / "noise.jpg")]


def test_check_images_lists_every_unreadable_file(root):
    data = jpeg_bytes(pixels(0))
    (root / "cat" / "broken.jpg").write_bytes(data[: len(data) // 2])
    (root / "dog" / "noise.png").write_bytes(np.random.default_rng(0).bytes(300))
    with pytest.raises(UnreadableImagesError) as caught:
        check_images(ImageFolder(root))
    (broken, why), (noise, because) = caught.value.files
    assert (broken, noise) == (root / "cat" / "broken.jpg", root / "dog" / "noise.png")
    assert "truncated" in why.lower() and because.startswith("cannot identify image file")
    assert str(caught.value) == f"2 image file(s) can't be decoded: {broken} ({why}); " + (
        f"{noise} ({because})"
    )
    check_images(ImageFolder(root, exclude=[path for path, _ in caught.value.files]))


def test_exclude_leaves_files_out_by_path_or_relative_to_the_root(root):
    folder = ImageFolder(root, exclude=[root / "cat" / "b.png", "dog/y.jpg"])
    assert [path.relative_to(root).as_posix() for path in folder.files] == [
        "cat/a.JPG",
        "cat/c.jpeg",
        "cat/d.png",
        "cat/e.PNG",
        "dog/z.png",
    ]
    assert folder.labels.tolist() == ["cat"] * 4 + ["dog"]
    assert pickle.loads(pickle.dumps(folder)).files == folder.files
    with pytest.raises(ValueError, match=r"exclude names file\(s\) that are not images of .*: "):
        ImageFolder(root, exclude=["dog/x.jpg"])
    with pytest.raises(ValueError, match=r"class folder .*dog holds no images but excluded ones"):
        ImageFolder(root, exclude=["dog/y.jpg", "dog/z.png"])


@pytest.mark.parametrize("index", [-1, 7, 100])
def test_index_out_of_range(root, index):
    with pytest.raises(IndexError, match=f"index {index} is out of range .* of 7 images"):
        ImageFolder(root)[index]


def test_missing_pillow_says_how_to_install_it(root, monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r'pip install "cleanlab-pdiff\[images\]"'):
        ImageFolder(root)


def test_dataloader_workers_report_a_broken_file(root):
    # Sorted last, so the batches before it come through first.
    data = jpeg_bytes(pixels(0))
    (root / "dog" / "zz_broken.jpg").write_bytes(data[: len(data) // 2])
    folder = ImageFolder(root)
    loader = torch.utils.data.DataLoader(folder, batch_size=4, num_workers=2, timeout=60)
    children = set(multiprocessing.active_children())
    batches = []
    with pytest.raises(ValueError, match="cannot decode image file .*zz_broken.jpg") as caught:
        for images in loader:
            batches.append(images)
    # The traceback's frames hold the loader's iterator in a reference cycle; a later garbage
    # collection would stop its workers only after torch's 5 s join timeout, each (its index
    # queues are finalised first). Clearing the frames frees the iterator now, cleanly.
    traceback.clear_frames(caught.tb)
    assert set(multiprocessing.active_children()) <= children
    assert len(batches) == 1
    assert batches[0].shape == (4, 3, 6, 8) and batches[0].dtype == torch.uint8
    np.testing.assert_array_equal(batches[0][1].numpy(), folder[1])
