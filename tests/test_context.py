"""Importance weights (eq. 15) and context loss (eq. 16) against hand-computed values."""

import pytest
import torch

from semantic_inpaint import masks
from semantic_inpaint.losses.context import context_loss, importance_weights


def brute_force_weights(mask: torch.Tensor, window: int) -> torch.Tensor:
    """Eq. 15 pixel by pixel: the window clipped to the image, |N(i)| its in-image count."""
    h, w = mask.shape
    r = window // 2
    out = torch.zeros(h, w, dtype=torch.float64)
    for i in range(h):
        for j in range(w):
            if mask[i, j] == 0:
                continue
            win = mask[max(0, i - r) : i + r + 1, max(0, j - r) : j + r + 1]
            out[i, j] = (1 - win).sum() / win.numel()
    return out


def weights(mask: torch.Tensor, window: int) -> torch.Tensor:
    return importance_weights(mask[None, None].float(), window)[0, 0].double()


def test_single_missing_pixel_window_3():
    m = torch.ones(9, 9)
    m[4, 4] = 0
    w = weights(m, 3)
    expected = torch.zeros(9, 9, dtype=torch.float64)
    expected[3:6, 3:6] = 1 / 9  # the 8 neighbours each see 1 missing pixel among 9
    expected[4, 4] = 0  # missing pixels get no weight
    torch.testing.assert_close(w, expected)


def test_three_by_three_hole_hand_values():
    m = torch.ones(9, 9)
    m[3:6, 3:6] = 0
    w = weights(m, 3)
    assert w[2, 2].item() == pytest.approx(1 / 9)  # diagonal corner: one hole pixel in view
    assert w[2, 3].item() == pytest.approx(2 / 9)
    assert w[2, 4].item() == pytest.approx(3 / 9)  # edge middle: a whole row of the hole
    assert w[1, 4].item() == 0  # two px away: outside a 3x3 window
    assert (w[3:6, 3:6] == 0).all()
    torch.testing.assert_close(w, brute_force_weights(m, 3))


def test_window_7_clipped_at_the_border():
    m = torch.ones(9, 9)
    m[4, 4] = 0
    w = weights(m, 7)
    # (1, 1): rows 0..4 and cols 0..4 are in the image, |N| = 25, one missing pixel.
    assert w[1, 1].item() == pytest.approx(1 / 25)
    # (4, 1): rows 1..7 (7) x cols 0..4 (5) = 35.
    assert w[4, 1].item() == pytest.approx(1 / 35)
    # (0, 0): rows 0..3 x cols 0..3 = 16 px, but (4, 4) is 4 px away: outside the window.
    assert w[0, 0].item() == 0
    torch.testing.assert_close(w, brute_force_weights(m, 7))


def test_hole_touching_the_border_does_not_wrap():
    m = torch.ones(9, 9)
    m[0:3, 0] = 0
    w = weights(m, 3)
    assert w[0, 1].item() == pytest.approx(2 / 6)  # window clipped to 2x3; (0,0),(1,0) missing
    assert w[3, 0].item() == pytest.approx(1 / 6)  # window clipped to 3x2; (2,0) missing
    assert (w[:, 8] == 0).all()  # no wrap-around to the far column
    torch.testing.assert_close(w, brute_force_weights(m, 3))


@pytest.mark.parametrize("window", [3, 7])
def test_both_polarities_against_brute_force(window):
    m = masks.centre()
    r = window // 2
    for mask in (m, 1 - m):
        w = weights(mask, window)
        torch.testing.assert_close(w, brute_force_weights(mask, window))
        assert (w[mask == 0] == 0).all()
    # centre hole: weight exactly on the known ring within r px of the hole
    w = weights(m, window)
    ring = torch.zeros(64, 64, dtype=torch.bool)
    ring[16 - r : 48 + r, 16 - r : 48 + r] = True
    ring[16:48, 16:48] = False
    assert torch.equal(w > 0, ring)
    # inverted (only the centre known): weight on the known pixels within r px of its edge
    w_inv = weights(1 - m, window)
    inner = torch.zeros(64, 64, dtype=torch.bool)
    inner[16:48, 16:48] = True
    inner[16 + r : 48 - r, 16 + r : 48 - r] = False
    assert torch.equal(w_inv > 0, inner)


def test_batched_masks_are_independent():
    ms = torch.stack([masks.centre(), masks.left(), masks.random(seed=3)])[:, None]
    w = importance_weights(ms, 7)
    for i in range(3):
        torch.testing.assert_close(w[i, 0].double(), brute_force_weights(ms[i, 0], 7))


def test_context_loss_hand_computed(device):
    m = torch.ones(1, 1, 5, 5, device=device)
    m[0, 0, 2, 2] = 0
    wts = importance_weights(m, 3)  # 1/9 on the 8 neighbours of (2, 2)
    y = torch.zeros(1, 3, 5, 5, device=device)
    cands = torch.zeros(1, 4, 3, 5, 5, device=device)
    cands[0, 1, :, 2, 2] = 5.0  # differs only in the hole: costs nothing
    cands[0, 2, 0, 1, 1] = 0.9  # one channel of one weighted pixel: 0.9 / 9
    cands[0, 3, :, 0, 0] = -2.0  # a pixel with zero weight
    cands[0, 3, :, 1, 2] = 0.3  # three channels of a weighted pixel: 3 * 0.3 / 9
    loss = context_loss(cands, y, wts)
    expected = torch.tensor([[0.0, 0.0, 0.1, 0.1]], device=device)
    torch.testing.assert_close(loss, expected)
    assert loss.shape == (1, 4)


def test_context_loss_broadcasts_each_image_to_its_candidates():
    y = torch.stack([torch.zeros(3, 8, 8), torch.ones(3, 8, 8)])
    m = torch.ones(2, 1, 8, 8)
    m[:, :, 3:5, 3:5] = 0
    wts = importance_weights(m, 3)
    cands = torch.zeros(2, 3, 3, 8, 8)  # all candidates black
    loss = context_loss(cands, y, wts)
    assert torch.all(loss[0] == 0)
    torch.testing.assert_close(loss[1], torch.full((3,), 3 * wts[1].sum().item()))
