"""Tune the `fast` preset's own settings on the validation faces, then check the pick on the
test faces.

    python benchmarks/tune_fast.py --device cuda --out results/tune-fast

Each setting (one field of `fast` changed at a time, none costing more steps x candidates than
the preset) completes the 50 `celeba-mini:val` faces under the four masks; the rule, fixed
before the run: the setting with the highest mean val PSNR over the masks is picked if it is at
least `--min-gain` dB above the preset. Only the pick then runs on the 100 `celeba-mini:test`
faces, through `evaluate` (OUT/test/per_image.csv), so that the test faces choose nothing.
About 90 s on one H100; the CPU takes an hour or more.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from semantic_inpaint import complete, load_pretrained
from semantic_inpaint.data import load_images
from semantic_inpaint.evaluate import evaluate
from semantic_inpaint.evaluate.run import mask_for
from semantic_inpaint.metrics import psnr

MASKS = ("centre", "left", "right", "random")
SETTINGS: dict[str, dict[str, object]] = {
    "preset": {},
    "prior_weight=0": {"prior_weight": 0.0},
    "prior_weight=0.01": {"prior_weight": 0.01},
    "prior_weight=0.03": {"prior_weight": 0.03},
    "init_spread=0.1": {"init_spread": 0.1},
    "init_spread=0.4": {"init_spread": 0.4},
    "init_uniform=0.25": {"init_uniform": 0.25},
    "init_uniform=0.75": {"init_uniform": 0.75},
    "iterations=50": {"iterations": 50},
    "candidates=32, iterations=50": {"candidates": 32, "iterations": 50},
}
FIRST_VAL = 850  # celeba-mini:val is files 000850 - 000899; a random mask is seeded by the file's index


def val_psnr(faces: torch.Tensor, models, device: str, overrides: dict[str, object]) -> dict[str, float]:
    """Mean whole-image PSNR of `fast` with `overrides` on `faces`, for each mask."""
    scores = {}
    for name in MASKS:
        m = torch.stack([mask_for(name, FIRST_VAL + i) for i in range(len(faces))])[:, None]
        c = complete(faces, m, "fast", models=models, device=device, progress=False, **overrides)
        scores[name] = float(psnr(c.images, faces).mean())
    return scores


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--n", type=int, default=50, help="validation faces (the first n of celeba-mini:val)")
    p.add_argument("--min-gain", type=float, default=0.10, help="dB over the preset, mean over the masks, to pick a setting")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    models = load_pretrained("celeba", device=args.device)
    val = torch.from_numpy(load_images("celeba-mini:val", n=args.n)).permute(0, 3, 1, 2).float() / 255
    results = {}
    for label, overrides in SETTINGS.items():
        scores = val_psnr(val, models, args.device, overrides)
        results[label] = scores | {"mean": float(np.mean(list(scores.values())))}
        print(f"{label:>30} " + " ".join(f"{k} {v:.3f}" for k, v in scores.items()) + f"  mean {results[label]['mean']:.3f}", flush=True)
    best = max(results, key=lambda k: results[k]["mean"])
    gain = results[best]["mean"] - results["preset"]["mean"]
    pick = best if gain >= args.min_gain else "preset"
    print(f"best on val: {best} ({gain:+.3f} dB); picked: {pick}", flush=True)
    (args.out / "val.json").write_text(json.dumps({"val": results, "picked": pick, "settings": SETTINGS}, indent=1))
    if pick != "preset":
        test = load_images("celeba-mini:test", n=100)
        evaluate(test, args.out / "test", masks=MASKS, methods=("fast",), models=models, device=args.device, progress=False, **SETTINGS[pick])


if __name__ == "__main__":
    main()
