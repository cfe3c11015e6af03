"""The tables harness: methods x masks on a set of faces, per-image metrics, resumable.

`evaluate` (`run`) completes every face under every mask with every method (`methods`: GAN
presets and the local baselines of the thesis's figure 6, in any mix), scores each image
(`scores`) and writes, under OUT:
- per_image.csv: one row per image, mask and method; rows already there are not recomputed,
  so an interrupted run resumes;
- settings.json: each GAN method's full search settings (its preset with the run's
  `overrides`); a run that adds rows of a method already there must search with the same ones;
- inputs.json: a hash of every face and of the generator's weights; a run with other faces at
  the same indices, or another weight set, is refused (a longer set of the same faces resumes);
- results.md: tables laid out like the thesis's tables 1 and 2 (masks down, methods across,
  mean and bootstrap 95 % interval; `summary`);
- images/{mask}/{column}/{index}.png and figure_{mask}.png: every picture, and the comparison
  figures like the thesis's figures 6 and 7 drawn from them (`pictures`).
`resume` keeps the folder whole: its lock, the checks of settings.json and inputs.json, and
the rows already done.

The model card's projection PSNR and D report, `project` and `prior_report`, live in
`semantic_inpaint.train.card`; they are importable from here as well.
"""

from __future__ import annotations

from semantic_inpaint.evaluate.methods import MAX_BATCH, SHARED_SEARCH, check_methods, default_batch_size
from semantic_inpaint.evaluate.pictures import FIGURE_IMAGES, figure, image_path
from semantic_inpaint.evaluate.resume import fingerprint
from semantic_inpaint.evaluate.run import evaluate, mask_for
from semantic_inpaint.evaluate.scores import FIELDS, METRICS
from semantic_inpaint.evaluate.summary import bootstrap_ci, mean_and_interval, summarise


def __getattr__(name: str) -> object:
    # Imported on first use: train.card itself imports from this package.
    if name in ("project", "prior_report"):
        from semantic_inpaint.train import card

        return getattr(card, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FIELDS",
    "FIGURE_IMAGES",
    "MAX_BATCH",
    "METRICS",
    "SHARED_SEARCH",
    "bootstrap_ci",
    "check_methods",
    "default_batch_size",
    "evaluate",
    "figure",
    "fingerprint",
    "image_path",
    "mask_for",
    "mean_and_interval",
    "summarise",
]
