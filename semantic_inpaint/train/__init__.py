"""Training the DCGAN the search runs on."""

from semantic_inpaint.train.dcgan import TrainConfig, export, teacher_warm_start, train
from semantic_inpaint.train.dcgan_step import damage

__all__ = ["TrainConfig", "damage", "export", "teacher_warm_start", "train"]
