"""Small image files for the tests: seeded pixels, their JPEG bytes, a fake CIFAR-10 folder.

Pillow is imported where it is used, so that importing this module needs only NumPy.
"""

import io
import pickle
import tarfile
import zipfile

import numpy as np

#: CIFAR-10's class folders in its index order (the layout of ../shared/data's README).
CIFAR_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)


def pixels(seed, height=6, width=8):
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def jpeg_bytes(array):
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="JPEG")
    return buffer.getvalue()


def fake_cifar(data_dir, per_class=3):
    """A data folder in the shared layout: per_class train images a class, shuffled order.

    The image of split s, class c, file k has the pixels of seed 100 * c + k (+1000 in test),
    4 x 4. Returns the clean and the random1 labels, in canonical order.
    """
    rng = np.random.default_rng(0)
    clean = rng.permutation(np.repeat(np.arange(10), per_class))
    noisy = np.where(rng.random(clean.size) < 0.5, (clean + 1) % 10, clean)
    labels = {"clean_label": clean, "random_label1": noisy}
    for key in ("aggre_label", "worse_label"):
        labels[key] = clean
    with zipfile.ZipFile(data_dir / "CIFAR-10_human.pt", "w") as archive:
        archive.writestr("CIFAR-10_human/data.pkl", pickle.dumps(labels))
    with tarfile.open(data_dir / "cifar10-jpeg.tar.gz", "w:gz") as archive:
        for split, count, seed in (("test", 2, 1000), ("train", per_class, 0)):
            for c, name in enumerate(CIFAR_CLASSES):
                for k in range(count):
                    data = jpeg_bytes(pixels(seed + 100 * c + k, 4, 4))
                    member = tarfile.TarInfo(f"{split}/{name}/{k:04d}.jpg")
                    member.size = len(data)
                    archive.addfile(member, io.BytesIO(data))
    return clean, noisy
