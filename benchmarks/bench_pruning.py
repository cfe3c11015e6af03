"""Candidate pruning (successive halving, `SearchConfig.halve_at`): steps saved and PSNR cost.

The K candidates of a search never interact (G and D are frozen; each z gets its own gradient
and Adam's update is per element), so a pruned search's survivors follow exactly the paths
they follow in the full search (tests/test_search.py checks this). One full search per face
therefore tells what *any* pruning schedule would have returned: rank the survivors by their
loss at each halving step, as the search does, and pick the best survivor at the end.

    collect   full thesis-preset searches (K = 64, 1000 iterations by default) on held-out
              faces, one .npz each under OUT: per-candidate loss histories (the hard
              landmark loss every 25 steps), final losses, and every candidate's PSNR / SSIM
              after the overlay. Resumable: finished faces are skipped.
    analyse   for each schedule: the fraction of candidate-steps it runs, and each face's
              PSNR change against the full search (mean, bootstrap 95 % CI, worst case),
              for the yeh2017 ranking (context + prior) and the thesis ranking (+ L_d);
              then the full searches' own PSNR / SSIM per mask and ranking.
    compare   searches under OUT against those of the same faces under AGAINST, e.g. bf16
              against fp32 (optionally with OUT halved): the PSNR of each ranking's pick,
              paired by face.
    time      wall time of a real pruned search against the full one, same face, in each
              precision asked for, and the candidate each picks.

    python benchmarks/bench_pruning.py collect --faces 5 --out results/pruning
    python benchmarks/bench_pruning.py analyse --out results/pruning
    python benchmarks/bench_pruning.py collect --faces 5 --precision bf16 --out results/pruning-bf16
    python benchmarks/bench_pruning.py compare --out results/pruning-bf16 --halve-at 400,700
    python benchmarks/bench_pruning.py time --halve-at 400,700 --precisions fp32,bf16
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from bench_complete import time_naive

from semantic_inpaint import complete, load_pretrained
from semantic_inpaint.blend import overlay
from semantic_inpaint.data import load_images
from semantic_inpaint.evaluate import bootstrap_ci, mask_for
from semantic_inpaint.machine import describe
from semantic_inpaint.metrics import hole, psnr, ssim

MASKS = ("centre", "random", "left", "right")
LANDMARK_EVERY = 25  # the hard loss's history: halving steps must be multiples of this
SCHEDULES = ("100,200,300", "200,400,600", "250,500,750", "300,600", "400,600,800", "400,700", "500")


def collect(out: Path, faces: int, iterations: int, candidates: int, masks: tuple[str, ...], device: str, precision: str,
            fp32_last: int = 0, halve_at: tuple[int, ...] = ()) -> None:
    """One thesis-preset search per (face, mask) (full unless `halve_at` is given), faces
    interleaved over masks so that a cut-off run still covers every mask; each saved as
    OUT/{mask}_{face}.npz."""
    out.mkdir(parents=True, exist_ok=True)
    truth_all = torch.from_numpy(load_images("synthetic-holdout", n=faces)).permute(0, 3, 1, 2).float() / 255
    models = load_pretrained(device=device)
    for i in range(faces):
        for name in masks:
            path = out / f"{name}_{i}.npz"
            if path.is_file():
                continue
            truth, m = truth_all[i : i + 1], mask_for(name, i)[None, None]
            t0 = time.perf_counter()
            c = complete(truth, m, "thesis", models=models, device=device, progress=False,
                         iterations=iterations, candidates=candidates, landmark_every=LANDMARK_EVERY, precision=precision,
                         fp32_last=fp32_last, halve_at=halve_at)
            seconds = time.perf_counter() - t0
            k = c.candidates.shape[1]
            filled = overlay(c.candidates[0], truth.expand(k, -1, -1, -1), m.expand(k, -1, -1, -1))
            target, region = truth.expand(k, -1, -1, -1), hole(m).expand(k, -1, -1, -1)
            np.savez_compressed(
                path,
                context=c.history.context[:, 0].numpy(),  # (T, K): loss at z before step t
                prior=c.history.prior[:, 0].numpy(),
                landmark=c.history.landmark[:, 0].numpy(),  # (R, K) at landmark_steps
                landmark_steps=np.array(c.history.landmark_steps),
                final_context=c.losses.context[0].numpy(),
                final_prior=c.losses.prior[0].numpy(),
                final_landmark=c.losses.landmark[0].numpy(),
                psnr=psnr(filled, target).numpy(),
                psnr_hole=psnr(filled, target, region=region).numpy(),
                ssim=ssim(filled, target).numpy(),
                seconds=seconds,
                precision=precision,
                fp32_last=fp32_last,
                halve_at=np.array(halve_at, dtype=int),
            )
            print(f"{path.name}: {seconds:.0f} s, best (thesis) #{int(c.best[0])}, PSNR {float(psnr(c.images, truth)[0]):.2f} dB", flush=True)


def final_loss(r: np.lib.npyio.NpzFile, ranking: str) -> np.ndarray:
    """(K,) the loss a search ranks its candidates by at the end: context + prior, plus the
    hard landmark loss for the thesis."""
    return r["final_context"] + r["final_prior"] + (r["final_landmark"] if ranking == "thesis" else 0)


def survivors(loss: np.ndarray, halve_at: tuple[int, ...]) -> np.ndarray:
    """The candidates a search with `halve_at` keeps, from the full search's loss history
    (T, K): at each halving step the better half (ceil) of those left, as `search` ranks."""
    alive = np.arange(loss.shape[1])
    for t in sorted(halve_at):
        alive = np.sort(alive[np.argsort(loss[t, alive], kind="stable")[: (len(alive) + 1) // 2]])
    return alive


def steps_list(text: str) -> tuple[int, ...]:
    """'400,700' -> (400, 700); '' -> ()."""
    return tuple(int(t) for t in text.split(",") if t)


def picks(a: np.lib.npyio.NpzFile, b: np.lib.npyio.NpzFile, ranking: str, halve_at: tuple[int, ...]) -> tuple[np.ndarray, int, int]:
    """For one (mask, face): the candidates search `a` keeps under `halve_at`, its pick among
    them, and search `b`'s pick in full, both by `ranking`."""
    kept = survivors(a["context"] + a["prior"], halve_at)
    return kept, int(kept[np.argmin(final_loss(a, ranking)[kept])]), int(np.argmin(final_loss(b, ranking)))


def work(halve_at: tuple[int, ...], k: int, steps: int) -> float:
    """Candidate-steps a halving schedule runs, as a fraction of the full search's k x steps."""
    alive, done, last = k, 0, 0
    for t in sorted(halve_at):
        done += alive * (t + 1 - last)  # step t runs with all of them, then they are halved
        alive, last = (alive + 1) // 2, t + 1
    return (done + alive * (steps - last)) / (k * steps)


def analyse(out: Path, schedules: list[tuple[int, ...]]) -> None:
    """Per schedule: candidate-steps run, and the PSNR change of the picked completion against
    the full search, paired by face, for both rankings. 'by L_d too' halves on the thesis's
    total with the hard landmark loss (the library halves on context + prior only)."""
    runs = {p.stem: np.load(p) for p in sorted(out.glob("*.npz"))}
    if not runs:
        raise SystemExit(f"no searches under {out}: run `collect` first")
    masks = sorted({name.split("_")[0] for name in runs})
    some = next(iter(runs.values()))
    steps, k = some["context"].shape
    print(f"{len(runs)} full searches (K = {k}, {steps} iterations) under {out}: masks {', '.join(f'{m} {sum(n.startswith(m) for n in runs)}' for m in masks)}")
    print(f"mean search time {np.mean([float(r['seconds']) for r in runs.values()]):.0f} s\n")
    print("| halve at | candidate-steps | ranking | PSNR change, dB: mean [95 % CI] | worst | pick changed | loss of the pick: mean, worst |")
    print("|---|---|---|---|---|---|---|")
    for halve_at in schedules:
        for ranking in ("yeh2017", "thesis", "thesis, by L_d too"):
            diffs, losses, changed = [], [], 0
            for r in runs.values():
                final = final_loss(r, "yeh2017" if ranking == "yeh2017" else "thesis")
                history = r["context"] + r["prior"]
                if ranking == "thesis, by L_d too":
                    if any(t % LANDMARK_EVERY for t in halve_at):
                        break
                    at = {int(s): i for i, s in enumerate(r["landmark_steps"])}
                    history = history.copy()
                    for t in halve_at:
                        history[t] += r["landmark"][at[t]]
                full_pick = int(np.argmin(final))
                kept = survivors(history, halve_at)
                pick = int(kept[np.argmin(final[kept])])
                diffs.append(r["psnr"][pick] - r["psnr"][full_pick])
                losses.append(final[pick] / final[full_pick] - 1)  # >= 0: the full search's pick is the lowest
                changed += pick != full_pick
            else:
                d = np.array(diffs)
                lo, hi = bootstrap_ci(d)
                print(f"| {','.join(map(str, halve_at))} | {work(halve_at, k, steps):.1%} | {ranking} | {d.mean():+.3f} [{lo:+.3f}, {hi:+.3f}] | {d.min():+.2f} | {changed}/{len(d)} | +{np.mean(losses):.1%}, +{np.max(losses):.1%} |")
    # The plain alternative to halving: fewer candidates. sample_z draws row by row, so a
    # search with K' < K candidates is the first K' of these (same seed), replayed exactly.
    for fewer in (k // 2, k // 4):
        for ranking in ("yeh2017", "thesis"):
            diffs, losses = [], []
            for r in runs.values():
                final = final_loss(r, ranking)
                full_pick, pick = int(np.argmin(final)), int(np.argmin(final[:fewer]))
                diffs.append(r["psnr"][pick] - r["psnr"][full_pick])
                losses.append(final[pick] / final[full_pick] - 1)
            d = np.array(diffs)
            lo, hi = bootstrap_ci(d)
            changed = int(np.sum(np.array(losses) > 0))
            print(f"| K = {fewer}, no halving | {fewer / k:.1%} | {ranking} | {d.mean():+.3f} [{lo:+.3f}, {hi:+.3f}] | {d.min():+.2f} | {changed}/{len(d)} | +{np.mean(losses):.1%}, +{np.max(losses):.1%} |")

    # How far behind the eventual winner can be: a halving at step t keeps it only if its rank
    # among those left is in the better half.
    checks = [t for t in (50, 100, 200, 300, 400, 500, 600, 800) if t < steps]
    ranks = np.array([[int(((r["context"] + r["prior"])[t] < (r["context"] + r["prior"])[t, w]).sum()) for t in checks]
                      for r in runs.values() for w in [int(np.argmin(final_loss(r, "yeh2017")))]])
    print(f"\nRank (0 = lowest loss) of the yeh2017 winner among all {k} candidates at step t, over the {len(ranks)} searches:\n")
    print("| step | " + " | ".join(map(str, checks)) + " |")
    print("|---" * (len(checks) + 1) + "|")
    print("| median | " + " | ".join(f"{v:.0f}" for v in np.median(ranks, 0)) + " |")
    print("| worst | " + " | ".join(str(v) for v in ranks.max(0)) + " |")
    print("\nThe full searches' own results (what `evaluate` gives these faces at the same settings):\n")
    print("| mask | n | ranking | PSNR (dB) | hole PSNR (dB) | SSIM |")
    print("|---|---|---|---|---|---|")
    for name in masks:
        mine = [r for n, r in runs.items() if n.startswith(name + "_")]
        for ranking in ("yeh2017", "thesis"):
            picks = [int(np.argmin(final_loss(r, ranking))) for r in mine]
            cells = []
            for key in ("psnr", "psnr_hole", "ssim"):
                v = np.array([r[key][c] for r, c in zip(mine, picks)])
                lo, hi = bootstrap_ci(v)
                f = ".3f" if key == "ssim" else ".2f"
                cells.append(f"{v.mean():{f}} [{lo:{f}}, {hi:{f}}]")
            print(f"| {name} | {len(mine)} | {ranking} | " + " | ".join(cells) + " |")
    oracle = np.mean([r["psnr"].max() - r["psnr"][np.argmin(final_loss(r, "yeh2017"))] for r in runs.values()])
    print(f"\nfor scale: the best of the {k} candidates by PSNR is {oracle:.2f} dB above the yeh2017 pick, on average")


def compare(out: Path, against: Path, halve_at: tuple[int, ...]) -> None:
    """The searches under OUT (e.g. bf16) against those of the same (mask, face) under AGAINST
    (e.g. fp32): the PSNR of each ranking's pick, paired by face. OUT's searches are replayed
    with `halve_at` from their own histories; AGAINST's are taken in full."""
    mine = {p.stem: np.load(p) for p in sorted(out.glob("*.npz"))}
    ref = {p.stem: np.load(p) for p in sorted(against.glob("*.npz"))}
    shared = sorted(set(mine) & set(ref))
    if not shared:
        raise SystemExit(f"no (mask, face) searched under both {out} and {against}: run `collect` for both")
    k = mine[shared[0]]["context"].shape[1]
    steps = mine[shared[0]]["context"].shape[0]
    label = f"halved at {','.join(map(str, halve_at))} ({work(halve_at, k, steps):.1%} of the candidate-steps)" if halve_at else "in full"
    print(f"{len(shared)} (mask, face) pairs; {out} {label} against {against} in full")
    print(f"mean search time: {np.mean([float(mine[n]['seconds']) for n in shared]):.0f} s against {np.mean([float(ref[n]['seconds']) for n in shared]):.0f} s\n")
    print(f"| mask | n | ranking | PSNR, {out.name} | PSNR, {against.name} | change, dB: mean [95 % CI] | worst | best | same pick | loss of the pick: mean change | every survivor: PSNR change, mean [95 % CI] |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    masks = sorted({n.split("_")[0] for n in shared})
    for group in [*masks, "all"]:
        names = [n for n in shared if group == "all" or n.startswith(group + "_")]
        for ranking in ("yeh2017", "thesis"):
            a_psnr, b_psnr, same, loss, every = [], [], 0, [], []
            for n in names:
                a, b = mine[n], ref[n]
                kept, pa, pb = picks(a, b, ranking, halve_at)
                a_psnr.append(a["psnr"][pa])
                b_psnr.append(b["psnr"][pb])
                same += pa == pb
                loss.append(final_loss(a, ranking)[pa] / final_loss(b, ranking)[pb] - 1)  # both fp32 renders
                every.append(np.mean(a["psnr"][kept] - b["psnr"][kept]))  # candidate k against k (same start), OUT's survivors
            d = np.array(a_psnr) - np.array(b_psnr)
            lo, hi = bootstrap_ci(d)
            e_lo, e_hi = bootstrap_ci(np.array(every))
            print(f"| {group} | {len(names)} | {ranking} | {np.mean(a_psnr):.2f} | {np.mean(b_psnr):.2f} | {d.mean():+.3f} [{lo:+.3f}, {hi:+.3f}] | {d.min():+.2f} | {d.max():+.2f} | {same}/{len(d)} | {np.mean(loss):+.1%} | {np.mean(every):+.3f} [{e_lo:+.3f}, {e_hi:+.3f}] |")
    print(f"\nEach surviving candidate's final loss (context + prior), {out.name} over {against.name} - 1, per mask:\n")
    print("| mask | median | 25 % - 75 % | share lower |")
    print("|---|---|---|---|")
    for group in masks:
        r = np.concatenate([(final_loss(mine[n], "yeh2017") / final_loss(ref[n], "yeh2017") - 1)[picks(mine[n], ref[n], "yeh2017", halve_at)[0]]
                            for n in shared if n.startswith(group + "_")])
        print(f"| {group} | {np.median(r):+.2%} | {np.percentile(r, 25):+.2%} - {np.percentile(r, 75):+.2%} | {np.mean(r < 0):.0%} |")
    print(f"\nyeh2017 picks per search: {against.name}'s pick, where it ends in {out.name}, and {out.name}'s pick (# candidate, PSNR dB, loss):\n")
    print(f"| search | {against.name} pick | the same candidate in {out.name} | its rank there | {out.name} pick |")
    print("|---|---|---|---|---|")
    for n in shared:
        a, b = mine[n], ref[n]
        fa, fb = final_loss(a, "yeh2017"), final_loss(b, "yeh2017")
        kept, pa, pb = picks(a, b, "yeh2017", halve_at)
        rank = int((fa[kept] < fa[pb]).sum()) if pb in kept else "dropped"
        print(f"| {n} | #{pb} {b['psnr'][pb]:.2f} {fb[pb]:.3f} | {a['psnr'][pb]:.2f} {fa[pb]:.3f} | {rank} | #{pa} {a['psnr'][pa]:.2f} {fa[pa]:.3f} |")


def time_search(faces: int, halve_at: tuple[int, ...], iterations: int, naive_steps: int, device: str, precisions: tuple[str, ...]) -> None:
    """Wall time of the full and the halved yeh2017 search (K = 64) on the same faces, in each
    precision, the naive loop's seconds per step, and the candidate each run picks."""
    models = load_pretrained(device=device)
    truth = torch.from_numpy(load_images("synthetic-holdout", n=faces)).permute(0, 3, 1, 2).float() / 255
    print(f"{describe(torch.device(device))}; yeh2017, K = 64, {iterations} iterations, centre mask, {faces} face(s), one at a time")
    naive = time_naive(models, truth[:1].to(device) * 2 - 1, naive_steps)
    print(f"naive loop: {naive:.3f} s / step (median of {naive_steps}) -> {naive * iterations:.0f} s per face")
    for i in range(faces):
        for precision in precisions:
            walls, picks = {}, {}
            for name, schedule in (("full", ()), ("halved", halve_at)):
                t0 = time.perf_counter()
                c = complete(truth[i], "centre", "yeh2017", models=models, device=device, progress=False,
                             iterations=iterations, halve_at=schedule, precision=precision)
                if device == "cuda":
                    torch.cuda.synchronize()
                walls[name], picks[name] = time.perf_counter() - t0, (int(c.best[0]), float(psnr(c.images, truth[i : i + 1])[0]))
            print(
                f"face {i}, {precision}: full {walls['full']:.0f} s (x{naive * iterations / walls['full']:.2f} naive), "
                f"halved at {','.join(map(str, halve_at))} {walls['halved']:.0f} s (x{naive * iterations / walls['halved']:.2f} naive, "
                f"x{walls['full'] / walls['halved']:.2f} full); picks #{picks['full'][0]} ({picks['full'][1]:.2f} dB) and #{picks['halved'][0]} ({picks['halved'][1]:.2f} dB)",
                flush=True,
            )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    pc = sub.add_parser("collect")
    pc.add_argument("--out", type=Path, default=Path("results/pruning"))
    pc.add_argument("--faces", type=int, default=8)
    pc.add_argument("--iterations", type=int, default=1000)
    pc.add_argument("--candidates", type=int, default=64)
    pc.add_argument("--masks", default=",".join(MASKS))
    pc.add_argument("--device", default="cpu")
    pc.add_argument("--precision", default="fp32", help="fp32 or bf16 (the networks during the search; see SearchConfig)")
    pc.add_argument("--fp32-last", type=int, default=0, help="with bf16: the last this many steps in fp32")
    pc.add_argument("--halve-at", default="", help="real halved searches (e.g. 400,700) instead of full ones; judge them with `compare --halve-at` the same")
    pa = sub.add_parser("analyse")
    pa.add_argument("--out", type=Path, default=Path("results/pruning"))
    pa.add_argument("--schedules", default=";".join(SCHEDULES), help="schedules separated by ';', steps by ','")
    pm = sub.add_parser("compare")
    pm.add_argument("--out", type=Path, required=True, help="the searches to judge, e.g. results/pruning-bf16")
    pm.add_argument("--against", type=Path, default=Path("docs/results/pruning-searches"))
    pm.add_argument("--halve-at", default="", help="OUT's halving steps, e.g. 400,700: replayed on full searches, or those a halved `collect` used")
    pt = sub.add_parser("time")
    pt.add_argument("--faces", type=int, default=1)
    pt.add_argument("--halve-at", default="400,700", help="the schedule to time (default: the one that kept the picks, docs/results/pruning.md)")
    pt.add_argument("--iterations", type=int, default=1000)
    pt.add_argument("--naive-steps", type=int, default=5)
    pt.add_argument("--device", default="cpu")
    pt.add_argument("--precisions", default="fp32", help="comma-separated: fp32, bf16")
    a = p.parse_args()
    if a.command == "collect":
        collect(a.out, a.faces, a.iterations, a.candidates, tuple(a.masks.split(",")), a.device, a.precision, a.fp32_last, steps_list(a.halve_at))
    elif a.command == "analyse":
        analyse(a.out, [steps_list(s) for s in a.schedules.split(";")])
    elif a.command == "compare":
        compare(a.out, a.against, steps_list(a.halve_at))
    else:
        time_search(a.faces, steps_list(a.halve_at), a.iterations, a.naive_steps, a.device, tuple(a.precisions.split(",")))


if __name__ == "__main__":
    main()
