"""Prior loss (eq. 19): lambda * log(1 - D(G(z))), per candidate, stable from the logit."""

import math

import torch

from semantic_inpaint.losses.prior import prior_loss


def test_hand_computed_values(device):
    logits = torch.tensor([[0.0, math.log(3.0)]], device=device)  # D = 1/2 and D = 3/4
    out = prior_loss(logits, weight=0.003)
    expected = torch.tensor([[0.003 * math.log(0.5), 0.003 * math.log(0.25)]], device=device)
    torch.testing.assert_close(out, expected)
    assert out.shape == (1, 2)  # per candidate, not averaged


def test_matches_the_naive_formula_where_that_is_finite():
    logits = torch.linspace(-8, 8, 33, dtype=torch.float64)
    naive = 0.003 * torch.log(1 - torch.sigmoid(logits))
    torch.testing.assert_close(prior_loss(logits), naive)


def test_stable_where_the_naive_formula_is_not():
    logits = torch.tensor([100.0, 1000.0])
    assert torch.isinf(torch.log(1 - torch.sigmoid(logits))).all()  # the naive form breaks
    out = prior_loss(logits, weight=1.0)
    torch.testing.assert_close(out, -logits)  # log(1 - sigmoid(l)) -> -l for large l
    logits.requires_grad_(True)
    prior_loss(logits).sum().backward()
    assert torch.isfinite(logits.grad).all()


def test_lower_when_d_finds_the_image_more_real():
    out = prior_loss(torch.tensor([-2.0, 0.0, 2.0]))
    assert out[0] > out[1] > out[2]
