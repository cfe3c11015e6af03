"""The latent search (eq. 14, section 3.3): Adam on a batch of K latent vectors per image.

z starts uniform in [-1, 1] (`start`) and is clamped back into [-1, 1] after every step
(`loop`). Each step minimises lambda_1 (L_c + L_p) summed over candidates (`objective`); the
candidates do not interact (G and D are frozen, in eval mode), so summing gives each z its own
gradient, and Adam's per-element update keeps them independent. The hard landmark loss L_d has
no gradient, so it cannot change the z trajectory: it is computed on the final candidates to
rank them (eq. 20) and, if asked, every `landmark_every` steps for the record. The soft
landmark loss (losses.soft_landmarks) is differentiable and joins the objective at every step.
With `patience` > 0 the search stops early once no candidate improves, and with `halve_at`
each image keeps only the better half of its remaining candidates at the given steps
(`schedules`; both ours, off in every preset). With `adapt='colour'` (ours) each candidate
also carries six colour numbers c in [-1, 1], searched and clamped with z (`apply_colour`).
With `init='encoder'` (ours) the candidates start around each image's `start`, the encoder's
guess (`start_points`). With `refine_steps` (ours) a copy of G per image is then fine-tuned on
its known pixels with the best z fixed (`refine`); its completion is trusted near the known
pixels (`combine`, applied by `complete` after the blend). The search does no
I/O and no printing: progress goes to a callback.
"""

from semantic_inpaint.search.loop import LossHistory, SearchResult, search
from semantic_inpaint.search.objective import BIAS_RANGE, COLOUR_DIMS, GAIN_RANGE, LossTerms, apply_colour, best_survivor, candidate_weights
from semantic_inpaint.search.refine import combine, refine, trust
from semantic_inpaint.search.start import start_points

__all__ = [
    "BIAS_RANGE",
    "COLOUR_DIMS",
    "GAIN_RANGE",
    "LossHistory",
    "LossTerms",
    "SearchResult",
    "apply_colour",
    "best_survivor",
    "candidate_weights",
    "combine",
    "refine",
    "search",
    "start_points",
    "trust",
]
