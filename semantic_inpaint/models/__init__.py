"""The frozen DCGAN, the landmark net of the soft landmark loss, and their shipped weights."""

from semantic_inpaint.models.dcgan import Discriminator, Generator, freeze, sample_z
from semantic_inpaint.models.landmarks import LandmarkNet
from semantic_inpaint.models.weights import Pretrained, load_landmark_net, load_pretrained, load_weights, save_weights

__all__ = [
    "Discriminator",
    "Generator",
    "LandmarkNet",
    "Pretrained",
    "freeze",
    "load_landmark_net",
    "load_pretrained",
    "load_weights",
    "sample_z",
    "save_weights",
]
