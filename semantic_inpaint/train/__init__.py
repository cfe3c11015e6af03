"""Training the DCGAN the search runs on."""

from semantic_inpaint.train.dcgan import TrainConfig, damage, export, teacher_warm_start, train

__all__ = ["TrainConfig", "damage", "export", "teacher_warm_start", "train"]
