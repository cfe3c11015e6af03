"""The differentiable losses against finite differences in float64 (torch.autograd.gradcheck),
and their float32 values against float64 ones."""

from __future__ import annotations

import pytest
import torch

from semantic_inpaint import masks
from semantic_inpaint.losses.context import context_loss, importance_weights
from semantic_inpaint.losses.prior import prior_loss
from semantic_inpaint.losses.soft_landmarks import soft_landmark_loss


def _away_from_kinks(shape: tuple[int, ...], gen: torch.Generator) -> torch.Tensor:
    """Values whose differences to the targets below stay off |.|'s kink at 0 by >= 0.05, so a
    finite difference of step 1e-6 never crosses it."""
    sign = torch.randint(0, 2, shape, generator=gen).double() * 2 - 1
    return sign * (0.05 + torch.rand(shape, generator=gen, dtype=torch.float64) * 0.5)


def test_context_loss_gradient():
    gen = torch.Generator().manual_seed(0)
    image = torch.zeros(2, 3, 16, 16, dtype=torch.float64)
    mask = masks.centre(16)[None, None].double().expand(2, 1, 16, 16)
    weights = importance_weights(mask, 7)
    candidates = _away_from_kinks((2, 3, 3, 16, 16), gen).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda c: context_loss(c, image, weights), (candidates,))


def test_prior_loss_gradient_even_where_d_is_sure():
    logits = torch.tensor([-30.0, -2.0, 0.0, 3.0, 40.0], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda l: prior_loss(l, 0.003), (logits,))
    assert torch.isfinite(prior_loss(logits.detach().float(), 0.003)).all()  # log(1 - D) at D = 1 in fp32


def test_soft_landmark_loss_gradient():
    gen = torch.Generator().manual_seed(1)
    reference = torch.rand(2, 68, 2, generator=gen, dtype=torch.float64) * 64
    points = (reference + torch.randn(2, 68, 2, generator=gen, dtype=torch.float64) * 4).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda p: soft_landmark_loss(p, reference, 3.0, 1.0), (points,))


@pytest.mark.parametrize("loss", ["context", "prior", "soft_landmark"])
def test_float32_agrees_with_float64(loss: str):
    gen = torch.Generator().manual_seed(2)
    if loss == "context":
        mask = masks.centre()[None, None]
        args = (torch.rand(1, 4, 3, 64, 64, generator=gen, dtype=torch.float64), torch.rand(1, 3, 64, 64, generator=gen, dtype=torch.float64))
        fn = lambda c, y: context_loss(c, y, importance_weights(mask.to(c.dtype), 7))  # noqa: E731
    elif loss == "prior":
        args = (torch.randn(8, generator=gen, dtype=torch.float64) * 5,)
        fn = prior_loss
    else:
        args = (torch.rand(3, 68, 2, generator=gen, dtype=torch.float64) * 64, torch.rand(3, 68, 2, generator=gen, dtype=torch.float64) * 64)
        fn = soft_landmark_loss
    wide, narrow = fn(*args), fn(*(a.float() for a in args))
    assert narrow.dtype == torch.float32 and torch.allclose(narrow.double(), wide, rtol=1e-5, atol=1e-6)
