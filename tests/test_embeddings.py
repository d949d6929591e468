"""Image embeddings: preprocessing, batching and pooling (a stand-in encoder: no download)."""

import numpy as np
import pytest
import torch

from cleanlab_pdiff.embeddings import embed_images, load_encoder


class MeanColour(torch.nn.Module):
    """Stand-in encoder: feature maps are the input itself (3 channels); it keeps its inputs."""

    def __init__(self):
        super().__init__()
        self.inputs = []

    def extract_features(self, x):
        self.inputs.append(x.clone())
        return x


def test_images_are_resized_normalised_batched_and_pooled():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 8, 8, 3), dtype=np.uint8)
    encoder = MeanColour()
    features = embed_images(images, encoder=encoder, size=16, batch_size=2, progress=False)
    assert [tuple(x.shape) for x in encoder.inputs] == [(2, 3, 16, 16)] * 2 + [(1, 3, 16, 16)]
    assert all(x.min() >= -1 and x.max() <= 1 for x in encoder.inputs)
    # Bilinear resizing keeps each channel's mean; the pool averages the maps.
    expected = images.mean(axis=(1, 2)) / 255.0 * 2 - 1
    np.testing.assert_allclose(features, expected, atol=1e-5)
    assert features.dtype == np.float32 and features.shape == (5, 3)


def test_extreme_pixels_map_to_minus_one_and_one():
    images = np.stack([np.zeros((4, 4, 3)), np.full((4, 4, 3), 255)]).astype(np.uint8)
    features = embed_images(images, encoder=MeanColour(), size=4, progress=False)
    np.testing.assert_array_equal(features, [[-1, -1, -1], [1, 1, 1]])


@pytest.mark.parametrize(
    ("images", "error", "match"),
    [
        (np.zeros((2, 8, 8), dtype=np.uint8), ValueError, r"shape \(N, H, W, 3\)"),
        (np.zeros((2, 8, 8, 4), dtype=np.uint8), ValueError, r"shape \(N, H, W, 3\)"),
        (np.zeros((2, 8, 8, 3), dtype=np.float32), TypeError, "uint8"),
    ],
)
def test_bad_images_raise(images, error, match):
    with pytest.raises(error, match=match):
        embed_images(images, encoder=MeanColour(), progress=False)


def test_unknown_encoder_name_raises():
    with pytest.raises(ValueError, match="encoder must be one of"):
        load_encoder("resnet-50")
