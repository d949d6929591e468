"""The embedding cache: a damaged file is named, set aside and rebuilt."""

import numpy as np
import pytest
from test_cli_images import MeanColour, make_folder, run_main

from cleanlab_pdiff import embeddings
from cleanlab_pdiff.embeddings import embed_folder

CACHE = "efficientnet-lite0-16px.npz"


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
