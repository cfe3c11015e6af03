"""semantic-inpaint: face inpainting by latent-space search in a pretrained 64x64 DCGAN.

    from semantic_inpaint import complete, load_image
    result = complete(load_image("face.png"), "centre")   # masks: 1 = known, 0 = missing
    result.image().save("completed.png")

    from semantic_inpaint import complete_photo      # a photo of any size: find, align, complete, paste back
    complete_photo("photo.jpg", "eyes").image.save("completed.jpg")
"""

from semantic_inpaint import masks
from semantic_inpaint.complete import Completion, complete
from semantic_inpaint.config import ADAPT, FAST, PRESETS, STRUCTURE, THESIS, YEH2017, LossConfig, SearchConfig
from semantic_inpaint.errors import InpaintInputError, LandmarkError, WeightsError
from semantic_inpaint.io import load_image
from semantic_inpaint.losses.landmarks import LandmarkDetector
from semantic_inpaint.models.weights import load_pretrained
from semantic_inpaint.photo import PhotoCompletion, complete_photo

__version__ = "0.1.0"
__all__ = [
    "ADAPT",
    "FAST",
    "PRESETS",
    "STRUCTURE",
    "THESIS",
    "YEH2017",
    "Completion",
    "InpaintInputError",
    "LandmarkDetector",
    "LandmarkError",
    "LossConfig",
    "PhotoCompletion",
    "SearchConfig",
    "WeightsError",
    "complete",
    "complete_photo",
    "load_image",
    "load_pretrained",
    "masks",
]
