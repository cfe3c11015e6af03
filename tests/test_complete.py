"""`complete()` end to end on a tiny random DCGAN: shapes, overlay exactness, reproducibility."""

import copy
import importlib
from dataclasses import replace

import numpy as np
import pytest
import torch
from PIL import Image

from semantic_inpaint import Completion, complete, masks
from semantic_inpaint.models.dcgan import Discriminator, Generator, freeze, frozen
from semantic_inpaint.search import LossTerms

FAST = dict(iterations=4, candidates=3)


def test_known_pixels_are_bit_exact_and_shapes_right(tiny_models, faces, device):
    r = complete(faces[:2], "centre", preset="thesis", models=tiny_models, device=device, progress=False, **FAST)
    assert isinstance(r, Completion)
    x = torch.from_numpy(faces[:2]).permute(0, 3, 1, 2).float() / 255
    known = r.masks.bool().expand_as(x)
    assert torch.equal(r.images[known], x[known])
    assert r.images.shape == (2, 3, 64, 64) and r.candidates.shape == (2, 3, 3, 64, 64)
    assert r.losses.total.shape == (2, 3) and r.z.shape == (2, 3, 100)
    assert r.images.min() >= 0 and r.images.max() <= 1
    hole = ~r.masks.bool().expand_as(x)
    torch.testing.assert_close(r.images[hole], r.best_candidates[hole])  # the hole is G(z_best)


def test_pil_in_pil_out(tiny_models, faces):
    r = complete(Image.fromarray(faces[0]), "left", models=tiny_models, preset="yeh2017", **FAST)
    img = r.image()
    assert img.size == (64, 64) and img.mode == "RGB"
    out = np.asarray(img)
    np.testing.assert_array_equal(out[:, 32:], faces[0][:, 32:])
    assert "1 image(s)" in repr(r)


def test_same_seed_same_output(tiny_models, faces, device):
    kw = dict(models=tiny_models, device=device, preset="yeh2017", seed=7, **FAST)
    a, b = complete(faces[0], "centre", **kw), complete(faces[0], "centre", **kw)
    assert torch.equal(a.images, b.images)


def test_poisson_blend_keeps_known_pixels(tiny_models, faces):
    r = complete(faces[0], "centre", models=tiny_models, preset="yeh2017", blend="poisson", **FAST)
    plain = complete(faces[0], "centre", models=tiny_models, preset="yeh2017", **FAST)
    x = torch.from_numpy(faces[:1]).permute(0, 3, 1, 2).float() / 255
    known = r.masks.bool().expand_as(x)
    assert torch.equal(r.images[known], x[known])
    assert not torch.equal(r.images, plain.images)  # blending changed the hole


def test_random_mask_has_its_own_seed(tiny_models, faces):
    a = complete(faces[0], "random", models=tiny_models, preset="yeh2017", seed=1, **FAST)
    b = complete(faces[0], "random", models=tiny_models, preset="yeh2017", seed=2, **FAST)
    assert torch.equal(a.masks, b.masks) and not torch.equal(a.z, b.z)  # another z seed, the same hole
    c = complete(faces[0], "random", models=tiny_models, preset="yeh2017", seed=1, mask_seed=5, **FAST)
    assert not torch.equal(a.masks, c.masks) and torch.equal(c.masks[0, 0], masks.random(seed=5))
    assert abs(1 - a.masks.mean().item() - 0.8) < 0.03


def test_runs_under_no_grad(tiny_models, faces):
    with torch.no_grad():
        r = complete(faces[0], "centre", models=tiny_models, preset="yeh2017", **FAST)
    assert (r.history.context[-1] <= r.history.context[0]).all()


def test_without_landmark_ranking_equals_a_yeh2017_run(tiny_models, faces):
    thesis = complete(faces[:2], "centre", preset="thesis", models=tiny_models, iterations=5, candidates=6, blend="poisson")
    derived = thesis.without_landmark_ranking()
    direct = complete(faces[:2], "centre", preset="yeh2017", models=tiny_models, iterations=5, candidates=6, blend="poisson")
    assert torch.equal(derived.best, direct.best)
    assert torch.equal(derived.images, direct.images)
    assert torch.equal(derived.losses.total, direct.losses.total)
    assert derived.config == direct.config


def test_mean_pick_mixes_the_candidates_by_their_losses(tiny_models, faces):
    kw = dict(models=tiny_models, preset="yeh2017", progress=False, iterations=4, candidates=4)
    best, mean = complete(faces[:2], "centre", **kw), complete(faces[:2], "centre", pick="mean", **kw)
    assert torch.equal(best.z, mean.z)  # the same search: only what fills the hole differs
    hole = ~mean.masks.bool().expand_as(mean.images)
    assert torch.equal(best.images[hole], best.best_candidates[hole]) and torch.equal(best.weights, torch.eye(4)[best.best])
    total = mean.losses.total.double().numpy()
    low = total.min(1, keepdims=True)
    w = np.exp(-(total - low) / low)  # SearchConfig.pick: exp(-(L_k - L_min) / L_min), normalised
    w /= w.sum(1, keepdims=True)
    np.testing.assert_allclose(mean.weights.numpy(), w, rtol=1e-5)
    expected = np.einsum("nk,nkchw->nchw", w, mean.candidates.double().numpy())
    np.testing.assert_allclose(mean.images[hole].numpy(), torch.from_numpy(expected)[hole].numpy(), atol=1e-6)
    assert "pick='mean'" in repr(mean)
    # Either fill from the other's search, without searching again.
    assert torch.equal(mean.repicked("best").images, best.images) and torch.equal(best.repicked("mean").images, mean.images)
    assert best.repicked("mean", temperature=0.5).config.pick_temperature == 0.5


def test_halving_ranks_only_the_survivors(tiny_models, faces):
    r = complete(faces[0], "centre", preset="thesis", models=tiny_models, progress=False, iterations=4, candidates=4, halve_at=(1,))
    assert r.survivors.sum().item() == 2 and bool(r.survivors[0, r.best[0]])
    # Make a dropped candidate the cheapest by far: the yeh2017 re-ranking must still pass it over.
    dropped = int((~r.survivors[0]).nonzero()[0])
    context = r.losses.context.clone()
    context[0, dropped] = -1e6
    rigged = replace(r, losses=LossTerms(context, r.losses.prior, r.losses.landmark, r.losses.total))
    survivors = r.survivors[0].nonzero().flatten().tolist()
    expected = min(survivors, key=lambda c: float(context[0, c] + r.losses.prior[0, c]))
    assert int(rigged.without_landmark_ranking().best[0]) == expected
    mean = complete(faces[0], "centre", preset="thesis", models=tiny_models, progress=False, iterations=4, candidates=4, halve_at=(1,), pick="mean")
    assert (mean.weights[~mean.survivors] == 0).all() and mean.weights.sum().item() == pytest.approx(1)


def test_progress_bar_counts_the_search_steps(tiny_models, faces, monkeypatch):
    bars = []

    class Bar:  # records what complete() asks of tqdm
        def __init__(self, **kw):
            self.kw, self.n, self.closed = kw, 0, False
            bars.append(self)

        def update(self, n=1):
            self.n += n

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.closed = True

    monkeypatch.setattr(importlib.import_module("semantic_inpaint.progress"), "tqdm", Bar)
    for progress in (True, False):
        complete(faces[0], "centre", models=tiny_models, preset="yeh2017", progress=progress, **FAST)
    # True: shown; False: hidden. (None without a terminal, as under pytest: lines, below.)
    assert [b.kw["disable"] for b in bars] == [False, True]
    assert all(b.kw["total"] == b.n == FAST["iterations"] and b.closed for b in bars)
    # An early stop leaves the bar at the steps that ran.
    r = complete(faces[0], "centre", models=tiny_models, preset="yeh2017", progress=True, iterations=12, candidates=2, patience=2, min_improvement=1.0)
    assert bars[-1].n == len(r.history.context) == 4 and bars[-1].kw["total"] == 12


def test_progress_lines_without_a_terminal(tiny_models, faces, capsys, monkeypatch):
    # stderr is captured here, as in a log or CI: no bar, a line every PROGRESS_EVERY seconds.
    complete(faces[0], "centre", models=tiny_models, preset="yeh2017", **FAST)
    assert capsys.readouterr() == ("", "")  # a search shorter than the interval says nothing
    monkeypatch.setattr(importlib.import_module("semantic_inpaint.progress"), "PROGRESS_EVERY", 0.0)
    complete(faces[0], "centre", models=tiny_models, preset="yeh2017", **FAST)
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(",")[0] for line in lines] == [f"search: {i}/4 steps" for i in range(1, 5)]
    assert lines[-1].endswith("0 min left")
    complete(faces[0], "centre", models=tiny_models, preset="yeh2017", progress=False, **FAST)
    assert capsys.readouterr() == ("", "")


def test_progress_goes_to_stderr_only_when_asked(tiny_models, faces, capsys):
    complete(faces[0], "centre", models=tiny_models, preset="yeh2017", progress=True, **FAST)
    out, err = capsys.readouterr()
    assert out == "" and "search" in err
    complete(faces[0], "centre", models=tiny_models, preset="yeh2017", progress=False, **FAST)
    assert capsys.readouterr() == ("", "")


def test_the_callers_networks_are_left_as_they_were(faces, device):
    # A G and D the caller is still training: train mode, weights that want gradients, on the CPU.
    # Freezing them in place would silently stop that training; the search freezes copies.
    torch.manual_seed(0)
    g, d = Generator(width=8), Discriminator(width=8)
    before = [{k: v.clone() for k, v in net.state_dict().items()} for net in (g, d)]
    r = complete(faces[:1], "centre", preset="yeh2017", models=(g, d), device=device, progress=False, **FAST)
    for net, state in zip((g, d), before):
        assert net.training and all(p.requires_grad and p.grad is None and p.device.type == "cpu" for p in net.parameters())
        assert all(torch.equal(v, net.state_dict()[k]) for k, v in state.items())  # batch norm's statistics too
    # ... and the completion is the one the same networks give frozen by the caller,
    frozen_pair = tuple(freeze(copy.deepcopy(net)) for net in (g, d))
    again = complete(faces[:1], "centre", preset="yeh2017", models=frozen_pair, device=device, progress=False, **FAST)
    assert torch.equal(r.images, again.images)
    # which, already frozen on the device, the search takes as they are (no copy each call).
    on_device = tuple(frozen(net, device) for net in frozen_pair)
    assert all(frozen(net, device) is net for net in on_device)
    assert all(frozen(net, torch.device(device.type)) is net for net in on_device)  # 'cuda' is the current GPU
