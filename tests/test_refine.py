"""The refinement after the search (search.refine): the trust map by distance to the known
pixels, worked out by hand; each image's copy of G learns from that image alone; the output is
the refined completion on the rim and the searched candidate's deep inside, each blended before
they are mixed (tiny random networks: plumbing and arithmetic, not quality)."""

from __future__ import annotations

import copy
import importlib
import math

import numpy as np
import pytest
import torch

from semantic_inpaint import complete, masks
from semantic_inpaint.blend import put_back
from semantic_inpaint.config import FAST, YEH2017, SearchConfig
from semantic_inpaint.errors import InpaintInputError
from semantic_inpaint.evaluate.methods import runs
from semantic_inpaint.losses.context import context_loss
from semantic_inpaint.losses.prior import prior_loss
from semantic_inpaint.search import search
from semantic_inpaint.search.objective import Objective
from semantic_inpaint.models.dcgan import Generator, fold_batchnorm
from semantic_inpaint.search.refine import combine, first_tuned, hole_distance, per_image_renderer, refine, trust, vmap_renderer

SMALL = {"iterations": 3, "candidates": 2}


def _hole(h: int, w: int, top: int, left: int, size: int) -> torch.Tensor:
    m = torch.ones(1, 1, h, w)
    m[..., top : top + size, left : left + size] = 0
    return m


def test_distance_and_trust_are_worked_out_by_hand():
    m = _hole(8, 8, 2, 2, 4)  # a 4x4 hole: a rim of 12 pixels at distance 1, 4 inside at 2
    d = hole_distance(m)[0, 0]
    assert torch.all(d[m[0, 0] == 1] == 0)
    assert d[2, 2] == d[2, 5] == d[3, 2] == 1 and d[3, 3] == d[4, 4] == 2
    assert int((d == 1).sum()) == 12 and int((d == 2).sum()) == 4
    a = trust(m, reach=2.0)[0, 0]
    assert torch.all(a[d <= 1] == 1) and torch.allclose(a[d == 2], torch.tensor(math.exp(-0.5)))
    # Against a brute force: the nearest known pixel by Euclidean distance.
    rng = np.random.default_rng(0)
    r = torch.from_numpy((rng.random((1, 1, 12, 12)) < 0.3).astype(np.float32))
    known = np.argwhere(r[0, 0].numpy() == 1)
    brute = np.array([[np.min(np.hypot(*(known - (i, j)).T)) for j in range(12)] for i in range(12)])
    assert np.allclose(hole_distance(r)[0, 0].numpy(), brute)


def _objective(tiny_models, faces, mask: torch.Tensor) -> Objective:
    g, d = tiny_models
    y = torch.from_numpy(faces).permute(0, 3, 1, 2).float() / 127.5 - 1
    return Objective.build(g, d, y, mask.expand(len(y), 1, 64, 64), YEH2017.loss)


def test_refinement_fits_the_known_pixels_and_each_image_learns_alone(tiny_models, faces, monkeypatch):
    objective = _objective(tiny_models, faces[:2], masks.named("centre")[None, None].float())
    z = torch.rand(2, objective.z_dim) * 2 - 1
    with torch.no_grad():
        picked = objective.generator(z)
    refined = refine(objective, z, steps=20, lr=1e-3)
    before, after = (context_loss(x[:, None], objective.image, objective.weights)[:, 0] for x in (picked, refined))
    assert torch.all(after < 0.8 * before)  # G's copies drew the known pixels much closer
    # Image 0 refined alone is image 0 refined beside image 1: its copy of G saw only its own face.
    alone = Objective.build(*tiny_models, objective.image[:1], objective.mask[:1], YEH2017.loss)
    assert torch.allclose(refine(alone, z[:1], steps=20, lr=1e-3), refined[:1], atol=1e-5)
    monkeypatch.setattr(importlib.import_module("semantic_inpaint.search.refine"), "CHUNK", 1)  # one image at a time: the same refinement
    assert torch.allclose(refine(objective, z, steps=20, lr=1e-3), refined, atol=1e-5)


def test_per_image_weights_draw_what_each_images_own_copy_of_g_draws(tiny_models, device, monkeypatch):
    # The batched matrix products and col2im of the folded generator against G itself, run once per
    # image with that image's weights loaded: images, and the weights' gradients through them.
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)  # cuDNN's convolutions in full fp32, as the products are
    g = fold_batchnorm(tiny_models[0]).to(device)
    torch.manual_seed(1)
    z = torch.rand(3, g.z_dim, device=device) * 2 - 1
    weights = {k: (p + 0.05 * torch.randn(3, *p.shape, device=device)).requires_grad_(True) for k, p in g.named_parameters()}
    drawn = per_image_renderer(g)(weights, z)
    one_by_one = []
    for i in range(3):
        copy_i = copy.deepcopy(g)
        copy_i.load_state_dict({k: w[i].detach() for k, w in weights.items()})
        one_by_one.append(copy_i(z[i : i + 1])[0])
    assert torch.allclose(drawn, torch.stack(one_by_one), atol=1e-5)
    # The gradients are vmap's (the path for any other generator), image by image.
    probe = torch.randn_like(drawn)
    fast, general = (torch.autograd.grad((draw(weights, z) * probe).sum(), list(weights.values())) for draw in (per_image_renderer(g), vmap_renderer(g)))
    for a, b in zip(fast, general):
        assert torch.allclose(a, b, atol=1e-5 * b.abs().max().item())


def test_the_fused_adam_is_torchs_adam_to_float_rounding(tiny_models, faces, monkeypatch):
    module = importlib.import_module("semantic_inpaint.search.refine")
    if tuple(int(v) for v in torch.__version__.split(".")[:2]) >= (2, 4):  # torch has a fused CPU Adam from 2.4
        assert module.adam([torch.zeros(3, requires_grad=True)], 1e-3).defaults["fused"]
    objective = _objective(tiny_models, faces[:2], masks.named("centre")[None, None].float())
    z = torch.rand(2, objective.z_dim) * 2 - 1
    with torch.no_grad():
        picked = objective.generator(z)
    fused = refine(objective, z, steps=20, lr=1e-3)
    monkeypatch.setattr(module, "adam", lambda params, lr: torch.optim.Adam(params, lr=lr, foreach=False))
    plain = refine(objective, z, steps=20, lr=1e-3)
    assert not torch.equal(fused, picked) and torch.allclose(fused, plain, atol=1e-4)


def test_deep_in_the_hole_the_searched_candidate_stays():
    m = _hole(8, 8, 2, 2, 4)  # rim at distance 1, four pixels inside at 2
    refined, picked = torch.full((1, 3, 8, 8), 0.9), torch.full((1, 3, 8, 8), 0.1)
    d = hole_distance(m).expand_as(refined)
    short = combine(refined, picked, m, reach=1e-3)
    assert torch.all(short[d <= 1] == 0.9) and torch.all(short[d >= 2] == 0.1)  # known and rim: refined; inside: searched
    one = combine(refined, picked, m, reach=1.0)  # inside: exp(-1) of the refined
    assert torch.allclose(one[d >= 2], torch.tensor(0.1 + 0.8 * math.exp(-1)))
    assert torch.equal(combine(refined, picked, m, reach=math.inf), refined)


def test_complete_builds_its_images_from_the_refined_candidate(tiny_models, faces):
    plain = complete(faces[0], "centre", models=tiny_models, preset="yeh2017", blend="overlay", **SMALL)
    c = complete(faces[0], "centre", models=tiny_models, preset="yeh2017", blend="overlay", refine_steps=4, refine_reach=1e-3, **SMALL)
    assert plain.refined is None and c.refined.shape == (1, 3, 64, 64)
    assert torch.equal(c.best, plain.best) and torch.equal(c.candidates, plain.candidates)  # the same search
    assert torch.equal(c.best_candidates, plain.best_candidates)
    d = hole_distance(c.masks).expand_as(c.refined)
    rim, inside = (d > 0) & (d <= 1), d >= 2
    assert torch.allclose(c.images[rim], c.refined[rim]) and torch.allclose(c.images[inside], plain.images[inside])
    assert not torch.allclose(c.refined[rim], plain.images[rim])
    # pick='mean': the refined best candidate on the rim still, the candidates' mix inside.
    mean, plain_mean = c.repicked("mean"), plain.repicked("mean")
    assert torch.allclose(mean.images[rim], c.refined[rim]) and torch.allclose(mean.images[inside], plain_mean.images[inside])
    assert not torch.allclose(plain_mean.images[inside], plain.images[inside])
    with pytest.raises(ValueError, match="refinement"):
        c.without_landmark_ranking()
    again = complete(faces[0], "centre", models=tiny_models, preset="yeh2017", blend="overlay", refine_steps=4, refine_reach=1e-3, **SMALL)
    assert torch.equal(again.images, c.images)  # the same seed, the same output


def test_the_poisson_blend_comes_before_the_mix(tiny_models, faces):
    # Each rendering is blended into the image first, then the two completions are mixed by trust:
    # blending the mix would let the refined rim hide the searched candidate's colour error.
    c = complete(faces[0], "centre", models=tiny_models, preset="yeh2017", blend="poisson", refine_steps=4, refine_lr=1e-2, **SMALL)
    x, m = c.inputs, c.masks
    first = combine(put_back(c.refined, x, m, "poisson"), put_back(c.best_candidates, x, m, "poisson"), m, c.config.refine_reach)
    assert torch.allclose(c.images, first, atol=1e-6)
    mixed_first = put_back(combine(c.refined, c.best_candidates, m, c.config.refine_reach), x, m, "poisson")
    assert not torch.allclose(c.images, mixed_first, atol=1e-3)


def test_refinement_settings_are_checked_and_fast_refines():
    assert FAST.refine_steps > 0 and YEH2017.refine_steps == 0 and SearchConfig().refine_steps == 0
    for bad in ({"refine_steps": -1}, {"refine_lr": 0.0}, {"refine_reach": 0.0}, {"refine_reach": float("nan")}):
        with pytest.raises(InpaintInputError, match="refine_steps must be >= 0"):
            SearchConfig(**bad)
    with pytest.raises(InpaintInputError, match="refine_steps must be a whole number"):
        SearchConfig(refine_steps=1.5)


def test_search_reports_the_refinement_steps_after_its_own(tiny_models, faces):
    y = torch.from_numpy(faces[:1]).permute(0, 3, 1, 2).float() / 127.5 - 1
    m = masks.named("centre")[None, None].float()
    steps: list[int] = []
    config = YEH2017.with_overrides(refine_steps=2, **SMALL)
    result = search(*tiny_models, y, m, config, on_step=steps.append)
    assert steps == [0, 1, 2, 3, 4] and result.refined.shape == y.shape


def test_evaluate_gives_thesis_and_yeh2017_their_own_refined_searches():
    # One shared search re-ranked serves both without refinement; with it, each pick needs its own.
    assert runs(["thesis", "yeh2017", "tv"], {}) == [("thesis", "yeh2017"), ("tv",)]
    assert runs(["thesis", "yeh2017", "tv"], {"refine_steps": 5}) == [("thesis",), ("yeh2017",), ("tv",)]


def test_a_gpu_refines_more_images_at_a_time(tiny_models, faces, device, monkeypatch):
    # CHUNK images at a time on the CPU (memory), CUDA_CHUNK on a GPU (fewer, fuller launches).
    module = importlib.import_module("semantic_inpaint.search.refine")
    monkeypatch.setattr(module, "CHUNK", 1)
    monkeypatch.setattr(module, "CUDA_CHUNK", 2)
    g, d = (copy.deepcopy(m).to(device) for m in tiny_models)
    y = torch.from_numpy(faces[:3]).permute(0, 3, 1, 2).float().to(device) / 127.5 - 1
    objective = Objective.build(g, d, y, masks.named("centre")[None, None].float().expand(3, 1, 64, 64).to(device), YEH2017.loss)
    sizes = []
    fine_tune = module._fine_tune
    monkeypatch.setattr(module, "_fine_tune", lambda objective, part, z, *a: sizes.append(len(z)) or fine_tune(objective, part, z, *a))
    out = refine(objective, torch.rand(3, objective.z_dim, device=device) * 2 - 1, steps=1, lr=1e-3)
    assert out.shape == (3, 3, 64, 64) and out.device.type == device.type
    assert sizes == ([2, 1] if device.type == "cuda" else [1, 1, 1])


def test_refinement_reports_each_step_once_however_many_chunks(tiny_models, faces, monkeypatch):
    objective = _objective(tiny_models, faces[:3], masks.named("centre")[None, None].float())
    z = torch.rand(3, objective.z_dim) * 2 - 1
    module = importlib.import_module("semantic_inpaint.search.refine")
    monkeypatch.setattr(module, "CHUNK", 1)  # three chunks of one image
    chunks_begun, seen = [], []
    fine_tune = module._fine_tune
    monkeypatch.setattr(module, "_fine_tune", lambda *a: chunks_begun.append(1) or fine_tune(*a))
    refine(objective, z, steps=6, lr=1e-3, on_step=lambda t: seen.append((t, len(chunks_begun))))
    # The bar's six steps once each, in order, two in each chunk rather than all in the last.
    assert seen == [(0, 1), (1, 1), (2, 2), (3, 2), (4, 3), (5, 3)]


def test_refining_the_last_layers_leaves_the_first_as_trained(tiny_models, faces):
    # refine(layers=2) against each image's own copy of G, its last two transposed convolutions
    # trained by torch's plain Adam and the rest frozen: the same renderings to float rounding.
    objective = _objective(tiny_models, faces[:2], masks.named("centre")[None, None].float())
    g, d = objective.generator, objective.discriminator
    convs = [i for i, m in enumerate(g.layers) if isinstance(m, torch.nn.ConvTranspose2d)]
    assert len(convs) == 5
    z = torch.rand(2, objective.z_dim, generator=torch.Generator().manual_seed(3)) * 2 - 1
    refined = refine(objective, z, steps=5, lr=1e-3, layers=2)
    by_hand = []
    for i in range(2):
        copy_i = copy.deepcopy(g)
        tuned = [p for name, p in copy_i.named_parameters() if int(name.split(".")[1]) >= convs[-2]]
        for p in copy_i.parameters():
            p.requires_grad_(any(p is t for t in tuned))
        opt = torch.optim.Adam(tuned, lr=1e-3, foreach=False)
        for _ in range(5):
            x = copy_i(z[i : i + 1])
            loss = context_loss(x[:, None], objective.image[i : i + 1], objective.weights[i : i + 1])[:, 0] + prior_loss(d(x), YEH2017.loss.prior_weight)
            opt.zero_grad()
            loss.sum().backward()
            opt.step()
        with torch.no_grad():
            by_hand.append(copy_i(z[i : i + 1])[0])
    assert torch.allclose(refined, torch.stack(by_hand), atol=1e-4)
    assert not torch.allclose(refined, refine(objective, z, steps=5, lr=1e-3), atol=1e-4)  # all of G moves differently


def test_refine_layers_is_checked():
    assert SearchConfig(refine_layers=np.int64(3)).refine_layers == 3 and type(SearchConfig(refine_layers=np.int64(3)).refine_layers) is int
    for bad in (0, -1, 1.5, True, "3"):
        with pytest.raises(InpaintInputError, match="refine_layers must be a whole number >= 1"):
            SearchConfig(refine_layers=bad)
    g = fold_batchnorm(Generator())
    assert first_tuned(g, None) == 0 and first_tuned(g, 5) == 0 and first_tuned(g, 1) == 8
    with pytest.raises(InpaintInputError, match="G has 5 transposed convolutions: use 1 - 5"):
        first_tuned(g, 6)
    with pytest.raises(InpaintInputError, match="use refine_layers=None"):
        first_tuned(torch.nn.Sequential(torch.nn.Linear(100, 3 * 64 * 64)), 2)


def test_a_refine_layers_g_lacks_is_refused_before_the_search(tiny_models, faces):
    steps = []
    y = torch.from_numpy(faces[:1]).permute(0, 3, 1, 2).float() / 127.5 - 1
    config = YEH2017.with_overrides(iterations=2, candidates=2, refine_steps=1, refine_layers=6)
    with pytest.raises(InpaintInputError, match="G has 5 transposed convolutions"):
        search(*tiny_models, y, masks.named("centre")[None, None].float(), config, on_step=steps.append)
    assert steps == []  # refused before the first step of the search
