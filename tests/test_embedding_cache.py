"""The embedding cache: damaged files, work kept when a run stops, and unreadable images."""

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from test_cli_images import MeanColour, make_folder, run_main

from cleanlab_pdiff import classifier, embeddings
from cleanlab_pdiff.embeddings import embed_folder
from cleanlab_pdiff.images import ImageFolder, UnreadableImagesError

CACHE = "efficientnet-lite0-16px.npz"


class Failing(MeanColour):
    """Stand-in encoder that raises ``error`` on its ``on``-th batch."""

    def __init__(self, error, on):
        super().__init__()
        self.error, self.on, self.batches = error, on, 0

    def extract_features(self, x):
        self.batches += 1
        if self.batches == self.on:
            raise self.error
        return super().extract_features(x)


@pytest.fixture
def encoder(monkeypatch):
    """Make ``embeddings.load_encoder`` return what ``use`` is given (MeanColour at first)."""
    chosen = [MeanColour()]
    monkeypatch.setattr(embeddings, "load_encoder", lambda name: chosen[0])
    monkeypatch.setenv("XDG_CACHE_HOME", "/nonexistent/cache")  # no test writes there
    MeanColour.calls = 0
    return chosen


def embed(root, cache, **options):
    return embed_folder(root, size=16, cache_dir=cache, progress=False, **options)


def messages(err):
    """The command line's own lines on stderr (not its progress bars)."""
    return [line for line in err.splitlines() if line.startswith("cleanlab-pdiff: ")]


def cached_keys(cache):
    with np.load(cache / CACHE) as stored:
        return len(stored["keys"])


# A damaged cache ------------------------------------------------------------------------------


def damage(path, how):
    data = path.read_bytes()
    if how == "random bytes":
        path.write_bytes(np.random.default_rng(0).bytes(len(data)))
    elif how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "empty":
        path.write_bytes(b"")
    else:  # a readable .npz of something else
        np.savez(path, keys=np.arange(3), features=np.zeros((3, 3), dtype=np.float32))


@pytest.mark.parametrize("how", ["random bytes", "truncated", "empty", "other arrays"])
def test_a_damaged_cache_is_named_set_aside_and_rebuilt(tmp_path, encoder, how):
    make_folder(tmp_path / "images", n=12)
    first, _ = embed(tmp_path / "images", tmp_path / "c")
    damage(tmp_path / "c" / CACHE, how)
    damaged = (tmp_path / "c" / CACHE).read_bytes()
    named = rf"the embedding cache {tmp_path / 'c' / CACHE} can't be read \(\w+: .*\); "
    with pytest.warns(UserWarning, match=named + r"it is set aside as efficientnet-lite0-16px"):
        again, embedded = embed(tmp_path / "images", tmp_path / "c")
    assert embedded == 12
    np.testing.assert_array_equal(again, first)
    (aside,) = (tmp_path / "c").glob("efficientnet-lite0-16px.unreadable-*.npz")
    assert aside.read_bytes() == damaged  # renamed, not deleted
    assert embed(tmp_path / "images", tmp_path / "c")[1] == 0  # rebuilt


def test_the_command_line_warns_in_one_line_and_goes_on(tmp_path, encoder, capsys):
    make_folder(tmp_path / "images", n=12)
    embed(tmp_path / "images", tmp_path / "c")
    damage(tmp_path / "c" / CACHE, "truncated")
    argv = ["find-issues", tmp_path / "images", "--cache-dir", tmp_path / "c", "--epochs", 2]
    status, out, err = run_main([*argv, "--image-size", 16, "--output", tmp_path / "o.csv"], capsys)
    assert status == 0, err
    assert messages(err)[0].startswith(
        f"cleanlab-pdiff: warning: the embedding cache {tmp_path / 'c' / CACHE} can't be read "
        "(BadZipFile: File is not a zip file); it is set aside as "
    )
    assert "embedded 12 image(s)" in out


def test_a_cache_that_cant_be_written_is_a_warning(tmp_path, encoder):
    make_folder(tmp_path / "images", n=12)
    (tmp_path / "c").write_text("a file where the cache folder should be")
    with pytest.warns(UserWarning, match=r"can't save the embedding cache .*; this run's"):
        features, embedded = embed(tmp_path / "images", tmp_path / "c")
    assert embedded == 12 and features.shape == (12, 3)


# Work kept when a run stops -------------------------------------------------------------------


@pytest.mark.parametrize("error", [KeyboardInterrupt(), RuntimeError("out of memory")])
def test_a_run_stopped_midway_keeps_its_work_and_the_next_embeds_the_rest(tmp_path, encoder, error):
    make_folder(tmp_path / "images", n=60)
    whole, _ = embed(tmp_path / "images", tmp_path / "whole", batch_size=8)
    encoder[0] = Failing(error, on=4)  # after 3 batches of 8
    with pytest.raises(type(error)):
        embed(tmp_path / "images", tmp_path / "c", batch_size=8)
    assert cached_keys(tmp_path / "c") == 24
    encoder[0], MeanColour.calls = MeanColour(), 0
    features, embedded = embed(tmp_path / "images", tmp_path / "c", batch_size=8)
    assert embedded == MeanColour.calls == 36
    np.testing.assert_array_equal(features, whole)


def test_the_cache_is_saved_while_embedding(tmp_path, encoder, monkeypatch):
    make_folder(tmp_path / "images", n=60)
    monkeypatch.setattr(embeddings, "_SAVE_SECONDS", 0.0)
    monkeypatch.setattr(embeddings, "_SAVE_SHARE", float("inf"))  # after every batch
    seen = []

    class Watching(MeanColour):
        def extract_features(self, x):
            if (tmp_path / "c" / CACHE).exists():
                seen.append(cached_keys(tmp_path / "c"))
            return super().extract_features(x)

    encoder[0] = Watching()
    embed(tmp_path / "images", tmp_path / "c", batch_size=8)
    # On disk before each batch: the ones before it.
    assert seen == [8, 16, 24, 32, 40, 48, 56]


#: Embeds ``argv[1]`` with a slow stand-in encoder that says when each batch is done.
KILLED = textwrap.dedent(
    """
    import sys, time
    from cleanlab_pdiff import classifier, embeddings

    class Slow:
        def to(self, device):
            return self

        def extract_features(self, x):
            print("batch", flush=True)
            time.sleep(0.1)
            return x

    embeddings._SAVE_SECONDS, embeddings._SAVE_SHARE = 0.0, float("inf")  # every batch
    embeddings.load_encoder = lambda name: Slow()
    embeddings.embed_folder(sys.argv[1], size=16, batch_size=4, cache_dir=sys.argv[2],
                            progress=False)
    """
)


@pytest.mark.slow  # a new Python process that imports torch: about 5 s
def test_a_killed_run_keeps_its_work_and_the_next_embeds_the_rest(tmp_path, encoder):
    make_folder(tmp_path / "images", n=60)
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED, str(tmp_path / "images"), str(tmp_path / "c")],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    for _ in range(6):  # 5 batches of 4 done, the 6th under way
        assert child.stdout.readline() == "batch\n"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    kept = cached_keys(tmp_path / "c")
    assert kept in (20, 24)  # saved after the 5th batch, maybe the 6th
    features, embedded = embed(tmp_path / "images", tmp_path / "c", batch_size=4)
    assert embedded == MeanColour.calls == 60 - kept
    np.testing.assert_array_equal(features, embed(tmp_path / "images", tmp_path / "w")[0])


# Unreadable images ----------------------------------------------------------------------------


def break_two(root):
    """Truncate the folder's first image, write random bytes in its last; return them."""
    files = sorted(root.rglob("*.png"))  # the folder's order: class by class, by name
    truncated, noise = files[0], files[-1]
    data = truncated.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    noise.write_bytes(np.random.default_rng(0).bytes(200))
    return [truncated, noise]


def test_unreadable_images_are_listed_together_after_the_others_are_cached(tmp_path, encoder):
    make_folder(tmp_path / "images", n=60)
    broken = break_two(tmp_path / "images")
    with pytest.raises(UnreadableImagesError) as caught:
        embed(tmp_path / "images", tmp_path / "c")
    assert [path for path, _ in caught.value.files] == broken
    assert str(caught.value).startswith("2 image file(s) can't be decoded: ")
    assert str(caught.value).endswith(". The other 58 images are embedded and cached")
    assert caught.value.n_embedded == MeanColour.calls == 58 == cached_keys(tmp_path / "c")
    folder = ImageFolder(tmp_path / "images", exclude=broken)
    features, embedded = embed(folder, tmp_path / "c")
    assert embedded == 0 and features.shape == (58, 3)


def test_the_command_line_lists_them_and_skips_them_when_asked(tmp_path, encoder, capsys):
    make_folder(tmp_path / "images", n=60)
    broken = break_two(tmp_path / "images")
    out = tmp_path / "o.csv"
    argv = ["find-issues", tmp_path / "images", "--cache-dir", tmp_path / "c", "--output", out]
    argv += ["--epochs", 2, "--image-size", 16]
    status, _, err = run_main(argv, capsys)
    (err,) = messages(err)
    assert status == 2
    assert err.startswith(f"cleanlab-pdiff: error: 2 image file(s) can't be decoded: {broken[0]} (")
    assert err.endswith(
        "The other 58 images are embedded and cached; remove or replace them, or leave them "
        "out with --skip-bad-images."
    )
    status, stdout, err = run_main([*argv, "--skip-bad-images"], capsys)
    assert status == 0, err
    assert messages(err)[0].startswith(
        "cleanlab-pdiff: warning: left out 2 image file(s) that can't be decoded "
        f"(--skip-bad-images): {broken[0]} ("
    )
    assert "embedded 0 image(s)" in stdout and "(58 from the cache)" in stdout
    paths = set(pd.read_csv(out)["path"])
    assert len(paths) == 58
    assert not paths & {path.relative_to(tmp_path / "images").as_posix() for path in broken}


def test_with_pixels_every_image_is_checked_before_training(tmp_path, capsys, monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("trained on a folder with unreadable images")

    monkeypatch.setattr(classifier.PDiffClassifier, "find_label_issues", no_training)
    make_folder(tmp_path / "images", n=12)
    broken = break_two(tmp_path / "images")
    argv = ["find-issues", tmp_path / "images", "--pixels", "--output", tmp_path / "o.csv"]
    status, _, err = run_main(argv, capsys)
    (err,) = messages(err)
    assert status == 2
    assert f"2 image file(s) can't be decoded: {broken[0]} (" in err
    assert "; remove or replace them, or leave them out with --skip-bad-images." in err
