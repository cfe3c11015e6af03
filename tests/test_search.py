"""The Adam search on z: clamp, ranking, independence, and the landmark loss's (lack of) effect."""

import importlib
import warnings

import numpy as np
import pytest
import torch
from torch.optim.optimizer import register_optimizer_step_post_hook

from semantic_inpaint import masks
from semantic_inpaint.config import THESIS, YEH2017
from semantic_inpaint.losses.context import context_loss, importance_weights
from semantic_inpaint.losses.landmarks import LandmarkDetector
from semantic_inpaint.machine import cpu_computes_bf16
from semantic_inpaint.models import freeze
from semantic_inpaint.models.landmarks import LandmarkNet
from semantic_inpaint.search import candidate_weights, search
from semantic_inpaint.search.schedules import EarlyStopping, SuccessiveHalving


def inputs(faces, device, n=1):
    """The first n faces in [-1, 1] and a centre mask: what `run` searches."""
    y = torch.from_numpy(faces[:n]).permute(0, 3, 1, 2).float().div(127.5).sub(1).to(device)
    m = torch.ones(n, 1, 64, 64, device=device)
    m[..., 16:48, 16:48] = 0
    return y, m


def run(models, faces, device, config, n=1, **kw):
    g, d = (m.to(device) for m in models)
    y, m = inputs(faces, device, n)
    det = LandmarkDetector() if config.loss.landmark == "hard" else None
    return search(g, d, y, m, config, det, **kw)


def test_clamp_holds_after_every_step(tiny_models, faces, device):
    # A large lr drives z out of [-1, 1] at once; search(t steps) is the trajectory up to step t.
    cfg = YEH2017.with_overrides(lr=0.5, candidates=4)
    hit_bound = False
    for t in range(1, 6):
        z = run(tiny_models, faces, device, cfg.with_overrides(iterations=t)).z
        assert z.min() >= -1 and z.max() <= 1
        hit_bound |= bool((z.abs() == 1).any())
    assert hit_bound  # the clamp was active, not idle


def test_loss_goes_down(tiny_models, faces, device):
    r = run(tiny_models, faces, device, YEH2017.with_overrides(iterations=30, candidates=4))
    first, last = r.history.context[0], r.history.context[-1]
    assert (last < first).all()


def test_hard_landmark_loss_leaves_the_trajectory_unchanged(tiny_models, faces):
    base = YEH2017.with_overrides(iterations=12, candidates=4)
    without = run(tiny_models, faces, "cpu", base)
    with_ld = run(tiny_models, faces, "cpu", base.with_overrides(landmark="hard", landmark_every=1))
    assert torch.equal(without.z, with_ld.z)
    assert torch.equal(without.history.context, with_ld.history.context)
    assert with_ld.history.landmark.shape == (12, 1, 4)  # computed at every step, for the record
    assert with_ld.history.landmark_steps == list(range(12))
    assert (with_ld.losses.landmark >= 0).all() and (with_ld.losses.landmark <= 68).all()


def test_best_is_the_lowest_total_of_eq_20(tiny_models, faces):
    r = run(tiny_models, faces, "cpu", THESIS.with_overrides(iterations=3, candidates=6, weight=2.0), n=2)
    total = 2.0 * (r.losses.context + r.losses.prior + r.losses.landmark)
    torch.testing.assert_close(r.losses.total, total)
    assert torch.equal(r.best, total.argmin(1))


def test_same_seed_same_result_other_seed_other_result(tiny_models, faces, device):
    cfg = YEH2017.with_overrides(iterations=5, candidates=3)
    a, b = run(tiny_models, faces, device, cfg), run(tiny_models, faces, device, cfg)
    assert torch.equal(a.z, b.z) and torch.equal(a.candidates, b.candidates)
    c = run(tiny_models, faces, device, cfg.with_overrides(seed=1))
    assert not torch.equal(a.z, c.z)


def test_search_asks_cudnn_for_deterministic_algorithms_and_restores_the_setting(tiny_models, faces, monkeypatch):
    # On the CPU cuDNN is unused, so this checks the setting itself: on while G runs, as before after.
    monkeypatch.setattr(torch.backends.cudnn, "deterministic", False)
    g, d = tiny_models
    seen = []
    hook = g.register_forward_hook(lambda *_: seen.append(torch.backends.cudnn.deterministic))
    try:
        search(g, d, *inputs(faces, "cpu"), YEH2017.with_overrides(iterations=2, candidates=2))
    finally:
        hook.remove()
    assert seen and all(seen)
    assert torch.backends.cudnn.deterministic is False


@pytest.mark.skipif(not torch.cuda.is_available(), reason="run-to-run differences were measured on CUDA (cuDNN)")
def test_full_size_search_repeats_exactly_on_cuda(faces):
    # The shipped networks at the size evaluate() runs them (16 images x 64 candidates), where
    # cuDNN's choice of algorithm made two runs of the same searches differ before the fix.
    from semantic_inpaint import load_pretrained

    g, d = load_pretrained(device="cuda")
    y, m = inputs(np.repeat(faces[:1], 16, axis=0), "cuda", n=16)
    cfg = YEH2017.with_overrides(iterations=30)
    a, b = (search(g, d, y, m, cfg) for _ in range(2))
    assert torch.equal(a.z, b.z) and torch.equal(a.best, b.best)


def test_images_in_a_batch_do_not_interact(tiny_models, faces):
    cfg = YEH2017.with_overrides(iterations=8, candidates=3)
    both = run(tiny_models, faces, "cpu", cfg, n=2)
    alone = run(tiny_models, faces, "cpu", cfg, n=1)  # image 0 starts from the same z
    torch.testing.assert_close(both.z[:1], alone.z, atol=1e-5, rtol=0)


def test_hard_landmark_needs_a_detector(tiny_models, faces):
    g, d = tiny_models
    y = torch.zeros(1, 3, 64, 64)
    with pytest.raises(ValueError, match="LandmarkDetector"):
        search(g, d, y, torch.ones(1, 1, 64, 64), THESIS.with_overrides(iterations=1), None)


def test_early_stopping_stops_on_the_trajectory(tiny_models, faces):
    base = YEH2017.with_overrides(iterations=40, candidates=4)
    # A relative improvement of 100 % per window is impossible: the check at step 5 sets the
    # mark, the one at step 10 stops.
    stopped = run(tiny_models, faces, "cpu", base.with_overrides(patience=5, min_improvement=1.0))
    assert stopped.history.context.shape[0] == 10
    ten = run(tiny_models, faces, "cpu", base.with_overrides(iterations=10))
    torch.testing.assert_close(stopped.z, ten.z, rtol=0, atol=0)  # the same path, cut at step 10
    full = run(tiny_models, faces, "cpu", base.with_overrides(patience=5, min_improvement=0.0))
    assert full.history.context.shape[0] == 40  # still improving: never stopped


def test_early_stopping_is_off_in_the_presets():
    assert THESIS.patience == 0 and YEH2017.patience == 0


def test_an_image_gets_the_same_result_in_any_batch(tiny_models, faces):
    cfg = YEH2017.with_overrides(iterations=5, candidates=4)
    alone = run(tiny_models, faces[1:2], "cpu", cfg)
    batched = run(tiny_models, faces, "cpu", cfg, n=2)  # faces[1] is second in this batch
    torch.testing.assert_close(batched.z[1], alone.z[0], rtol=1e-4, atol=1e-5)
    assert batched.best[1] == alone.best[0]


def test_bf16_networks_keep_z_and_losses_fp32_and_stay_close(tiny_models, faces, device):
    cfg = YEH2017.with_overrides(iterations=10, candidates=4)
    full = run(tiny_models, faces, device, cfg)
    low = run(tiny_models, faces, device, cfg.with_overrides(precision="bf16"))
    assert low.z.dtype == low.history.context.dtype == low.losses.total.dtype == torch.float32
    assert not torch.equal(low.z, full.z)  # the networks really ran in bf16
    # bf16 keeps 8 bits of mantissa: the losses agree to a few per cent, not to round-off.
    torch.testing.assert_close(low.losses.context, full.losses.context, rtol=0.05, atol=0)


def test_bf16_on_a_cpu_without_native_bf16_warns_and_names_the_fix(tiny_models, faces, monkeypatch):
    loop = importlib.import_module("semantic_inpaint.search.loop")
    cfg = YEH2017.with_overrides(iterations=2, candidates=2)
    monkeypatch.setattr(loop, "cpu_computes_bf16", lambda: False)
    with pytest.warns(UserWarning, match="precision='fp32'"):
        run(tiny_models, faces, "cpu", cfg.with_overrides(precision="bf16"))
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="precision='bf16'")  # fp32, or a CPU with bf16: no such warning
        run(tiny_models, faces, "cpu", cfg)
        monkeypatch.setattr(loop, "cpu_computes_bf16", lambda: True)
        run(tiny_models, faces, "cpu", cfg.with_overrides(precision="bf16"))


def test_cpu_bf16_check_says_yes_where_torch_cannot_tell(monkeypatch):
    monkeypatch.setattr(torch.ops, "mkldnn", object())  # a torch without the op
    assert cpu_computes_bf16() is True


def test_bf16_search_returns_the_fp32_render_and_losses_of_its_z(tiny_models, faces, device, ieee_fp32):
    # Only the steps run in bf16: the candidates and losses returned are those of the final z
    # in fp32, so the ranking and the pictures carry no bf16 round-off.
    cfg = YEH2017.with_overrides(iterations=4, candidates=4, precision="bf16")
    res = run(tiny_models, faces, device, cfg)
    g = tiny_models[0].to(device)
    with torch.no_grad():
        x = g(res.z.flatten(0, 1)).view_as(res.candidates)
    # Relative to the output's scale (the tiny G's outputs are ~1e-4): a bf16 render is ~1e-2
    # of it off, fp32 round-off (the search's G has batch norm folded in) ~1e-7.
    torch.testing.assert_close(res.candidates, x, rtol=0, atol=1e-5 * x.abs().max().item())
    y, m = inputs(faces, device)
    torch.testing.assert_close(res.losses.context, context_loss(x, y, importance_weights(m, cfg.loss.window)))


def test_fp32_last_runs_the_last_steps_in_fp32(tiny_models, faces, device):
    cfg = YEH2017.with_overrides(iterations=5, candidates=4, precision="bf16")
    # All 5 steps in fp32: exactly the fp32 search.
    all_fp32 = run(tiny_models, faces, device, cfg.with_overrides(fp32_last=5))
    fp32 = run(tiny_models, faces, device, cfg.with_overrides(precision="fp32"))
    assert torch.equal(all_fp32.z, fp32.z)
    # The last 2 in fp32: the first 3 steps are the bf16 search's, the last 2 are not.
    mixed = run(tiny_models, faces, device, cfg.with_overrides(fp32_last=2))
    bf16 = run(tiny_models, faces, device, cfg)
    assert torch.equal(mixed.history.context[:3], bf16.history.context[:3])
    assert not torch.equal(mixed.history.context[3:], bf16.history.context[3:])
    assert not torch.equal(mixed.z, fp32.z)


def test_bad_fp32_last_is_refused():
    with pytest.raises(ValueError, match="fp32_last"):
        YEH2017.with_overrides(precision="bf16", fp32_last=-1)


def test_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="precision"):
        YEH2017.with_overrides(precision="fp8")


def _better_half(loss: torch.Tensor, alive: list[int]) -> list[int]:
    """The survivors a halving must keep, worked out from the full search's history: the
    ceil(k/2) lowest of `loss` among the `alive` candidates, in their original order."""
    ranked = sorted(alive, key=lambda c: float(loss[c]))
    return sorted(ranked[: (len(alive) + 1) // 2])


def test_halving_keeps_the_better_half_and_their_paths(tiny_models, faces, device, ieee_fp32):
    base = YEH2017.with_overrides(iterations=12, candidates=7)
    full = run(tiny_models, faces, device, base, n=2)
    halved = run(tiny_models, faces, device, base.with_overrides(halve_at=(3, 6)), n=2)
    total = full.history.context + full.history.prior  # (T, N, K), weight 1: the loss minimised
    for i in range(2):
        after_3 = _better_half(total[3, i], list(range(7)))  # 7 -> 4
        after_6 = _better_half(total[6, i], after_3)  # 4 -> 2
        assert halved.survivors[i].nonzero().flatten().tolist() == after_6
        # The survivors go on exactly as in the full search (up to the round-off of a smaller
        # batch), so the same z and losses at the end ...
        torch.testing.assert_close(halved.z[i, after_6], full.z[i, after_6], atol=1e-5, rtol=0)
        torch.testing.assert_close(halved.losses.context[i, after_6], full.losses.context[i, after_6], rtol=1e-4, atol=0)
        # ... and the best is the lowest total among them.
        assert int(halved.best[i]) == after_6[int(full.losses.total[i, after_6].argmin())]
        # Dropped candidates: history up to their last step, NaN after; z as when dropped.
        dropped_early = sorted(set(range(7)) - set(after_3))
        assert not halved.history.context[:4, i, dropped_early].isnan().any()
        assert halved.history.context[4:, i, dropped_early].isnan().all()
        torch.testing.assert_close(halved.history.context[:4, i], full.history.context[:4, i], rtol=1e-4, atol=0)
    # 7 candidates for 4 steps, 4 for 3, 2 for 5: the history shows what ran.
    assert (~halved.history.context.isnan()).sum().item() == 2 * (7 * 4 + 4 * 3 + 2 * 5)


def test_halving_keeps_thesis_and_yeh2017_on_one_search(tiny_models, faces):
    # The halving ranks by the loss being minimised, not the hard landmark loss, so the two
    # presets keep the same survivors and still share one search in the harness.
    cfg = dict(iterations=6, candidates=6, halve_at=(2,))
    thesis = run(tiny_models, faces, "cpu", THESIS.with_overrides(**cfg))
    yeh = run(tiny_models, faces, "cpu", YEH2017.with_overrides(**cfg))
    assert torch.equal(thesis.survivors, yeh.survivors) and torch.equal(thesis.z, yeh.z)
    total = thesis.losses.total.masked_fill(~thesis.survivors, float("inf"))
    assert torch.equal(thesis.best, total.argmin(1))


def test_halving_with_early_stopping_and_soft_landmarks_runs(tiny_models, faces):
    torch.manual_seed(0)
    net = freeze(LandmarkNet(width=4))
    cfg = YEH2017.with_overrides(iterations=8, candidates=4, halve_at=(2, 4), landmark="soft", patience=2, min_improvement=0.0)
    r = run(tiny_models, faces, "cpu", cfg, landmark_net=net)
    assert r.survivors.sum().item() == 1
    assert r.history.landmark.shape == r.history.context.shape  # soft: every step, NaN once dropped
    assert r.history.landmark[-1].isnan().sum().item() == 3


@pytest.mark.parametrize("bad", [(5,), (-1,), (2, 2), ("x",)])
def test_halving_steps_are_checked(bad):
    with pytest.raises(ValueError, match="halve_at"):
        YEH2017.with_overrides(iterations=5, halve_at=bad)


def test_halving_is_off_in_the_presets_and_normalised():
    assert THESIS.halve_at == YEH2017.halve_at == ()
    assert YEH2017.with_overrides(halve_at=[300, 100]).halve_at == (100, 300)


def test_apply_colour_by_hand():
    from semantic_inpaint.search import apply_colour

    x = torch.full((1, 3, 2, 2), 0.4)
    c = torch.tensor([[1.0, 0.0, -1.0, 0.5, 0.0, -0.5]])
    # gain 1 + 0.5 c[:3] = (1.5, 1, 0.5); bias 0.5 c[3:] = (0.25, 0, -0.25)
    expected = torch.tensor([0.4 * 1.5 + 0.25, 0.4, 0.4 * 0.5 - 0.25])
    torch.testing.assert_close(apply_colour(x, c)[0, :, 0, 0], expected)
    assert torch.equal(apply_colour(x, torch.zeros(1, 6)), x)  # c = 0 is the identity
    assert apply_colour(torch.ones(1, 3, 2, 2), c).max() == 1  # clipped to G's range


def test_colour_adaptation_is_searched_clamped_and_rendered(tiny_models, faces, device):
    from semantic_inpaint.search import apply_colour

    cfg = YEH2017.with_overrides(adapt="colour", iterations=20, candidates=3, lr=0.2)
    r = run(tiny_models, faces, device, cfg, n=2)
    assert r.z.shape == (2, 3, 100) and r.colour.shape == (2, 3, 6)
    assert r.colour.abs().max() <= 1 and r.colour.abs().max() > 0.1  # moved, and within the clamp
    g = tiny_models[0].to(device)
    torch.testing.assert_close(r.candidates, apply_colour(g(r.z.flatten(0, 1)).view(2, 3, 3, 64, 64), r.colour), atol=1e-5, rtol=0)
    # Off (every preset but adapt), nothing rides along and the z path is the one without it.
    plain = run(tiny_models, faces, device, YEH2017.with_overrides(iterations=20, candidates=3, lr=0.2), n=2)
    assert plain.colour.shape == (2, 3, 0)
    assert torch.equal(plain.z[:, :, :0], r.z[:, :, :0]) and not torch.equal(plain.z, r.z)


def _reference_search(g, d, image, mask, steps: int, k: int, seed: int):
    """The search written out plainly, independently of the search package: eq. 15's weights by explicit
    windows, eq. 16 and eq. 19 by hand, torch's Adam, the clamp after every step."""
    known = mask[0, 0].numpy()
    weights = np.zeros_like(known)
    for i in range(64):
        for j in range(64):
            if known[i, j]:
                window = known[max(0, i - 3) : i + 4, max(0, j - 3) : j + 4]
                weights[i, j] = (1 - window).mean()
    weights = torch.from_numpy(weights)
    z = (torch.rand(k, 100, generator=torch.Generator().manual_seed(seed)) * 2 - 1).requires_grad_(True)
    opt = torch.optim.Adam([z], lr=0.01, betas=(0.9, 0.999))
    contexts = []
    for _ in range(steps):
        x = g(z)
        context = (weights * (x - image).abs()).sum(dim=(1, 2, 3))
        prior = 0.003 * torch.log1p(-torch.sigmoid(d(x).reshape(-1)))
        contexts.append(context.detach())
        opt.zero_grad()
        (context + prior).sum().backward()
        opt.step()
        with torch.no_grad():
            z.clamp_(-1, 1)
    return z.detach(), torch.stack(contexts)


def test_the_search_follows_the_plainly_written_one_step_by_step(tiny_models, faces):
    g, d = tiny_models
    image = torch.from_numpy(faces[:1]).permute(0, 3, 1, 2).float() / 127.5 - 1
    mask = masks.centre()[None, None]
    z_ref, contexts = _reference_search(g, d, image, mask, steps=40, k=4, seed=5)
    assert (z_ref.abs() == 1).any()  # the clamp acted along the way: the comparison can see it
    result = search(g, d, image, mask, YEH2017.with_overrides(iterations=40, candidates=4, seed=5))
    # batch norm folded into the convolutions (search.objective) changes the last bits only
    assert torch.allclose(result.history.context[:, 0], contexts, rtol=1e-4, atol=1e-3)
    assert torch.allclose(result.z[0], z_ref, atol=1e-4)


def _stops_after(losses: list, patience: int, min_improvement: float) -> int | None:
    """The step after which EarlyStopping stops on `losses`: per step, one number (one image,
    one candidate) or an (N, k) nested list; None if it never stops."""
    seq = torch.tensor(losses, dtype=torch.float32)
    seq = seq[:, None, None] if seq.ndim == 1 else seq
    stopping = EarlyStopping(patience, min_improvement, tuple(seq.shape[1:]), torch.device("cpu"))
    return next((t for t, loss in enumerate(seq) if stopping.should_stop(t, loss)), None)


@pytest.mark.parametrize(
    ("losses", "patience", "min_improvement", "expected"),
    [
        # The check after step 1 only sets the mark (9); after step 3 the lowest, 8.2, is not
        # below 9 - 0.1 * 9 = 8.1: stop.
        ([10, 9, 8.5, 8.2, 1, 1], 2, 0.1, 3),
        # 8.0 < 8.1 after step 3: on, mark 8; after step 5, 7.5 is not below 8 - 0.8 = 7.2.
        ([10, 9, 8.0, 8.05, 7.9, 7.5, 0], 2, 0.1, 5),
        # The lowest loss of the window counts, not the last one: 8.0 at step 3 despite 100 at step 2.
        ([10, 9, 100, 8.0, 50, 50], 2, 0.1, 5),
        # Negative losses (the prior term is negative): relative to |mark| = 10, -10.5 is not below -11.
        ([-9, -10, -10.2, -10.5], 2, 0.1, 3),
        ([-9, -10, -10.2, -11.5, -11.6, -11.7], 2, 0.1, 5),  # -11.5 < -11: on; -11.7 is not below -12.65
        # min_improvement 0: any decrease goes on, a flat window stops.
        ([5, 4, 3, 2, 2, 2, 1], 2, 0.0, 5),
        ([5, 4, 3, 2, 1, 0, -1], 2, 0.0, None),
        ([1, 1, 1, 1, 1, 1], 0, 0.1, None),  # patience 0: off
        ([1, 1, 1, 1, 1, 1], 3, 0.1, 5),  # patience 3: checks after steps 2 and 5
    ],
)
def test_early_stopping_on_hand_made_losses(losses, patience, min_improvement, expected):
    assert _stops_after(losses, patience, min_improvement) == expected


def test_early_stopping_goes_on_while_any_candidate_of_any_image_improves():
    flat, falling = [5, 5, 5, 5, 5, 5], [10, 9, 8, 7, 6, 5]  # falling: 7 < 8.1, 5 < 6.3
    one_image = [[[a, b]] for a, b in zip(flat, falling)]  # (T, 1, 2)
    two_images = [[[a], [b]] for a, b in zip(flat, falling)]  # (T, 2, 1)
    assert _stops_after(one_image, 2, 0.1) is None and _stops_after(two_images, 2, 0.1) is None
    both_flat = [[[a, a]] for a in flat]
    assert _stops_after(both_flat, 2, 0.1) == 3


def test_early_stopping_follows_a_halving():
    stopping = EarlyStopping(2, 0.1, (1, 3), torch.device("cpu"))
    stopping.should_stop(0, torch.tensor([[3.0, 1.0, 2.0]]))
    stopping.keep(torch.tensor([[0, 2]]))
    assert stopping.best.tolist() == [[3.0, 2.0]] and stopping.mark.shape == (1, 2)


def test_halving_keeps_the_better_half_with_its_adam_moments():
    gen = torch.Generator().manual_seed(0)
    z = torch.rand(2, 5, 3, generator=gen).requires_grad_(True)
    opt = torch.optim.Adam([z], lr=0.1)
    grads = [torch.randn(2, 5, 3, generator=gen) for _ in range(5)]

    def step(optimizer: torch.optim.Adam, param: torch.Tensor, grad: torch.Tensor) -> None:
        param.grad = grad
        optimizer.step()

    for g in grads[:2]:
        step(opt, z, g)
    halving = SuccessiveHalving([2, 4], z)
    assert halving.due(2) and halving.due(4) and not halving.due(3)
    at_halving = z.detach().clone()
    moments = {key: opt.state[z][key].clone() for key in ("exp_avg", "exp_avg_sq")}
    # The 3 lowest of each row, in their original order.
    half, half_opt, keep = halving.halve(z, opt, torch.tensor([[5.0, 1, 4, 2, 3], [0, 9, 8, 7, 1]]))
    kept = torch.tensor([[1, 3, 4], [0, 3, 4]])
    rows = torch.arange(2)[:, None]
    assert torch.equal(keep, kept) and torch.equal(halving.alive, kept)
    assert half.is_leaf and half.requires_grad and torch.equal(half, at_halving[rows, kept])
    state = half_opt.state[half]
    assert int(state["step"]) == 2 and half_opt.defaults == opt.defaults
    for key, value in moments.items():
        assert torch.equal(state[key], value[rows, kept])
    # Two more steps: the survivors move as they do in the full search (a fresh Adam would
    # move each coordinate by about lr = 0.1 on its first step instead).
    for g in grads[2:4]:
        step(opt, z, g)
        step(half_opt, half, g[rows, kept])
    torch.testing.assert_close(half.detach(), z.detach()[rows, kept], rtol=0, atol=1e-6)
    # Halving again ranks among the survivors; alive keeps the original indices.
    quarter, _, keep = halving.halve(half, half_opt, torch.tensor([[3.0, 1, 2], [1, 2, 0]]))
    assert keep.tolist() == [[1, 2], [0, 2]] and halving.alive.tolist() == [[3, 4], [0, 4]]
    full = halving.full(quarter)
    assert halving.survivors().tolist() == [[False, False, False, True, True], [True, False, False, False, True]]
    assert torch.equal(full[rows, halving.alive], quarter.detach())
    assert torch.equal(full[0, [0, 2]], at_halving[0, [0, 2]]) and torch.equal(full[1, [1, 2]], at_halving[1, [1, 2]])  # dropped first
    assert torch.equal(full[0, 1], half[0, 0].detach()) and torch.equal(full[1, 3], half[1, 1].detach())  # dropped second


def test_on_step_follows_each_step_in_order_and_nothing_is_printed(tiny_models, faces, capfd):
    events = []
    hook = register_optimizer_step_post_hook(lambda *_: events.append("adam"))
    try:
        run(tiny_models, faces, "cpu", YEH2017.with_overrides(iterations=4, candidates=2), on_step=events.append)
    finally:
        hook.remove()
    assert events == ["adam", 0, "adam", 1, "adam", 2, "adam", 3]  # after each Adam step
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_on_step_counts_the_steps_an_early_stop_ran(tiny_models, faces):
    seen = []
    cfg = YEH2017.with_overrides(iterations=40, candidates=4, patience=5, min_improvement=1.0)  # stops after 10 steps
    r = run(tiny_models, faces, "cpu", cfg, on_step=seen.append)
    assert seen == list(range(10)) and r.history.context.shape[0] == 10


def test_search_asks_for_a_callback_not_a_progress_bar(tiny_models, faces):
    cfg = YEH2017.with_overrides(iterations=1, candidates=1)
    with pytest.raises(TypeError, match="on_step"):
        run(tiny_models, faces, "cpu", cfg, on_step=True)
    with pytest.raises(TypeError, match="progress"):  # no progress flag: the caller owns the bar
        run(tiny_models, faces, "cpu", cfg, progress=False)


def test_candidate_weights_by_hand() -> None:
    total, every = torch.tensor([[1.0, 2.0, 3.0]]), torch.ones(1, 3, dtype=torch.bool)
    e = np.exp
    torch.testing.assert_close(candidate_weights(total, every, "mean", 1.0), torch.tensor([[1, e(-1), e(-2)]]).float() / (1 + e(-1) + e(-2)))
    torch.testing.assert_close(candidate_weights(total, every, "mean", 2.0), torch.tensor([[1, e(-0.5), e(-1)]]).float() / (1 + e(-0.5) + e(-1)))
    # A dropped candidate has no share; the survivors' lowest loss sets the scale.
    torch.testing.assert_close(candidate_weights(total, torch.tensor([[False, True, True]]), "mean", 1.0), torch.tensor([[0, 1, e(-0.5)]]).float() / (1 + e(-0.5)))
    assert torch.equal(candidate_weights(total, every, "best", 1.0), torch.tensor([[1.0, 0, 0]]))
    # A perfect fit (loss 0) takes the whole hole rather than dividing by zero.
    assert torch.equal(candidate_weights(torch.tensor([[0.5, 0.0]]), torch.ones(1, 2, dtype=torch.bool), "mean", 1.0), torch.tensor([[0.0, 1.0]]))
    # So does a best loss below 0 (the prior term is negative).
    assert torch.equal(candidate_weights(torch.tensor([[-0.01, 5.0]]), torch.ones(1, 2, dtype=torch.bool), "mean", 1.0), torch.tensor([[1.0, 0.0]]))
