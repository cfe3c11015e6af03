"""The frozen DCGAN and its shipped weights."""

from semantic_inpaint.models.dcgan import Discriminator, Generator, freeze, sample_z
from semantic_inpaint.models.weights import Pretrained, load_pretrained, load_weights, save_weights

__all__ = [
    "Discriminator",
    "Generator",
    "Pretrained",
    "freeze",
    "load_pretrained",
    "load_weights",
    "sample_z",
    "save_weights",
]
