"""Model-card helpers: the memorisation check finds each sample's nearest training face."""

import numpy as np
import torch

from semantic_inpaint.models.dcgan import sample_z
from semantic_inpaint.models.weights import Pretrained
from semantic_inpaint.train.card import memorisation
from semantic_inpaint.viz import to_uint8


def test_memorisation_finds_copied_samples(tiny_models, faces):
    g, d = tiny_models
    with torch.no_grad():
        samples = to_uint8(g(sample_z(4, g.z_dim, torch.Generator().manual_seed(0))))
    # A training set that holds the samples themselves (shuffled among other faces): each
    # sample's nearest face is its own copy, at distance 0; a held-out face is farther.
    train = np.concatenate([faces, samples[::-1]])
    picture, report = memorisation(Pretrained(g, d), train, faces, n=4, seed=0)
    assert report["sample_to_nearest_train_rms"] == [0.0] * 4
    assert report["held_out_to_nearest_train_rms"] == [0.0] * 4  # the held-out faces are in train too here
    # Pairs side by side, 8 images a row, 2 px apart, upscaled 2x: sample 0, then its copy.
    assert picture.size == (2 * (8 * 66 + 2), 2 * (1 * 66 + 2))
    grid = np.asarray(picture)[::2, ::2]
    assert np.array_equal(grid[2:66, 2:66], samples[0]) and np.array_equal(grid[2:66, 68:132], samples[0])
    # RMS by hand: a held-out face against a training set of one other face.
    _, report = memorisation(Pretrained(g, d), faces[:1], faces[1:2], n=1)
    rms = np.sqrt(((faces[1].astype(float) - faces[0]) ** 2).mean())
    assert abs(report["held_out_to_nearest_train_rms"][0] - round(rms, 2)) < 0.01
