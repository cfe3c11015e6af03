"""The soft landmark loss: the smoothed eqs. 17-18, its gradient with respect to z, and the
`structure` preset end to end (on the tiny random DCGAN and a tiny random landmark net)."""

import copy
import math

import pytest
import torch

from semantic_inpaint import complete
from semantic_inpaint.config import STRUCTURE, YEH2017
from semantic_inpaint.losses.landmarks import landmark_loss
from semantic_inpaint.losses.soft_landmarks import masked_points, soft_landmark_loss
from semantic_inpaint.models import LandmarkNet, freeze
from semantic_inpaint.search import search


@pytest.fixture(scope="module")
def tiny_net() -> LandmarkNet:
    """A random width-4 net whose head is scaled up, so that different images move its points
    by pixels (a fresh net's points barely move), as a trained net's do."""
    torch.manual_seed(1)
    net = LandmarkNet(width=4)
    with torch.no_grad():
        net.head.weight.mul_(2000)
    return freeze(net)


def test_hand_computed_values():
    ref = torch.zeros(68, 2)
    at_threshold = torch.full((68, 2), 3.0)  # every coordinate exactly 3 px off: sigmoid(0) = 1/2
    same = torch.zeros(68, 2)
    one_far = torch.zeros(68, 2)
    one_far[5, 1] = -103.0  # one y 100 px past the threshold: that coordinate costs 0.5
    loss = soft_landmark_loss(torch.stack([at_threshold, same, one_far]), ref, threshold=3.0, tau=1.0)
    s = 1 / (1 + math.exp(3.0))  # sigmoid(-3): a coordinate on the reference
    expected = torch.tensor([136 * 0.5 * 0.5, 136 * 0.5 * s, 135 * 0.5 * s + 0.5])
    torch.testing.assert_close(loss, expected)


def test_tends_to_the_thesis_count_as_tau_shrinks():
    gen = torch.Generator().manual_seed(0)
    ref = torch.rand(68, 2, generator=gen) * 64
    pts = ref + (torch.rand(16, 68, 2, generator=gen) - 0.5) * 16  # offsets up to 8 px
    pts = torch.where(((pts - ref).abs() - 3).abs() < 0.05, pts + 0.1, pts)  # keep off the step itself
    torch.testing.assert_close(soft_landmark_loss(pts, ref, 3.0, tau=1e-3), landmark_loss(pts, ref, 3.0), atol=1e-3, rtol=0)


def test_rejects_a_zero_width():
    with pytest.raises(ValueError, match="tau"):
        soft_landmark_loss(torch.zeros(68, 2), torch.zeros(68, 2), tau=0.0)


def test_gradient_wrt_z_is_nonzero_and_descends(tiny_models, tiny_net, device):
    # float64, so the finite differences below measure the gradient, not rounding.
    g, net = (copy.deepcopy(m).double().to(device) for m in (tiny_models[0], tiny_net))
    gen = torch.Generator().manual_seed(0)
    z_ref, z = (torch.rand(2, 8, 100, generator=gen, dtype=torch.float64) * 2 - 1).to(device)
    mask = torch.ones(8, 1, 64, 64, device=device, dtype=torch.float64)
    mask[..., 16:48, 16:48] = 0
    with torch.no_grad():
        ref = masked_points(net, g(z_ref), mask)

    def loss_at(zz):
        return soft_landmark_loss(masked_points(net, g(zz), mask), ref, threshold=3.0, tau=1.0).sum()

    z.requires_grad_(True)
    loss = loss_at(z)
    (grad,) = torch.autograd.grad(loss, z)
    assert 0 < loss < 8 * 68  # a mix of points within and beyond the threshold
    assert grad.norm() > 1e-2
    # A small step against the gradient lowers the loss by what the gradient predicts.
    eps = 1e-4
    with torch.no_grad():
        drop = loss - loss_at(z - eps * grad / grad.norm())
    assert drop > 0
    assert drop.item() == pytest.approx(eps * grad.norm().item(), rel=0.05)


def _run(models, net, faces, config):
    y = torch.from_numpy(faces[:2]).permute(0, 3, 1, 2).float().div(127.5).sub(1)
    m = torch.ones(2, 1, 64, 64)
    m[..., 16:48, 16:48] = 0
    return search(*models, y, m, config, landmark_net=net)


def test_soft_loss_steers_the_search(tiny_models, tiny_net, faces):
    base = dict(iterations=10, candidates=4)
    plain = _run(tiny_models, None, faces, YEH2017.with_overrides(**base))
    soft = _run(tiny_models, tiny_net, faces, STRUCTURE.with_overrides(**base))
    again = _run(tiny_models, tiny_net, faces, STRUCTURE.with_overrides(**base))
    assert not torch.equal(plain.z, soft.z)  # the term moved z (the hard one cannot: test_search)
    torch.testing.assert_close(soft.z, again.z, rtol=0, atol=0)  # and the run is reproducible
    assert soft.history.landmark.shape == (10, 2, 4) and soft.history.landmark_steps == list(range(10))
    assert (soft.losses.landmark > 0).all()
    torch.testing.assert_close(soft.losses.total, soft.losses.context + soft.losses.prior + soft.losses.landmark)


def test_structure_gives_an_image_the_same_result_in_any_batch(tiny_models, tiny_net, faces):
    # The soft landmark net runs in eval mode (no batch statistics), so a face's search does
    # not depend on the faces beside it, as for yeh2017 (test_search).
    cfg = STRUCTURE.with_overrides(iterations=6, candidates=4)
    m = torch.ones(4, 1, 64, 64)
    m[..., 16:48, 16:48] = 0
    y = torch.from_numpy(faces).permute(0, 3, 1, 2).float().div(127.5).sub(1)
    alone = search(*tiny_models, y[1:2], m[1:2], cfg, landmark_net=tiny_net)
    batched = search(*tiny_models, y, m, cfg, landmark_net=tiny_net)
    torch.testing.assert_close(batched.z[1], alone.z[0], rtol=1e-4, atol=1e-5)
    assert batched.best[1] == alone.best[0]


def test_search_without_a_net_says_so(tiny_models, faces):
    with pytest.raises(ValueError, match="needs a LandmarkNet"):
        _run(tiny_models, None, faces, STRUCTURE.with_overrides(iterations=1, candidates=2))


def test_structure_preset_end_to_end(tiny_models, tiny_net, faces):
    r = complete(faces[:1], "centre", preset="structure", models=tiny_models, landmark_model=tiny_net, iterations=3, candidates=4, device="cpu")
    assert r.config.loss.landmark == "soft" and r.images.shape == (1, 3, 64, 64)
    assert int(r.best) == int(r.losses.total.argmin())
    with pytest.raises(ValueError, match="changed the z trajectory"):
        r.without_landmark_ranking()


def test_wrong_landmark_model_for_the_loss(tiny_models, tiny_net, faces):
    with pytest.raises(ValueError, match="needs a LandmarkNet"):
        complete(faces[:1], "centre", preset="structure", models=tiny_models, landmark_model="some/dlib.dat", iterations=1, device="cpu")
    with pytest.raises(ValueError, match="runs dlib"):
        complete(faces[:1], "centre", preset="thesis", models=tiny_models, landmark_model=tiny_net, iterations=1, device="cpu")
