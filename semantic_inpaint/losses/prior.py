"""The perceptual (prior) loss of Yeh et al. 2017 (thesis eq. 19)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor


def prior_loss(logits: Tensor, weight: float = 0.003) -> Tensor:
    """Eq. 19: L_p = lambda * log(1 - D(G(z))), per candidate (not averaged over the batch).

    Computed from D's logit l: log(1 - sigmoid(l)) = -softplus(l), which stays finite where
    D(G(z)) rounds to 1 in floating point. Minimising it pushes D(G(z)) towards 1 (realistic).
    """
    return -weight * F.softplus(logits)
