"""What the photo path costs beside the search: detection, alignment and paste-back.

    python benchmarks/bench_photo.py [--canvas 1024x768] [--repeats 3] [--steps 10]

A celeba-mini photo (178x218, from the installed package) is placed on a grey canvas, a hole
drawn over its nose and mouth. `complete_photo` and `complete` (on the aligned face) both run
with 0 iterations, so their difference is what the photo path adds (the pre-fill, dlib's
detector and 68 points, the warps and the feathered paste-back); the search is timed as
`--steps` steps of the thesis preset (K = 64) and scaled to the thesis's 1000. Prints the
seconds and the overhead as a fraction of a thesis-settings search (target: <= 5 %).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from PIL import Image

from semantic_inpaint import complete, complete_photo, load_pretrained
from semantic_inpaint.data.celeba_mini import celeba_mini_dir


def best_of(repeats: int, fn) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--canvas", default="1024x768")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--steps", type=int, default=10)
    args = p.parse_args()
    w, h = map(int, args.canvas.split("x"))
    canvas = np.full((h, w, 3), 128, np.uint8)
    face = np.asarray(Image.open(celeba_mini_dir() / "000900.jpg").convert("RGB"))
    y, x = (h - face.shape[0]) // 2, (w - face.shape[1]) // 2
    canvas[y : y + face.shape[0], x : x + face.shape[1]] = face
    known = np.ones((h, w), np.uint8)
    known[y + 120 : y + 165, x + 60 : x + 115] = 0
    models = load_pretrained(device="cpu")
    kw = dict(models=models, device="cpu", progress=False)
    result = complete_photo(canvas, known, iterations=0, **kw)
    aligned = result.faces[0].completion
    photo = best_of(args.repeats, lambda: complete_photo(canvas, known, iterations=0, **kw))
    alone = best_of(args.repeats, lambda: complete(aligned.inputs, aligned.masks, iterations=0, **kw))
    steps = best_of(1, lambda: complete(aligned.inputs, aligned.masks, iterations=args.steps, **kw)) - alone
    search = steps / args.steps * 1000
    overhead = photo - alone
    print(f"canvas {w}x{h}: photo path {photo:.3f} s, complete() alone {alone:.3f} s -> overhead {overhead:.3f} s")
    print(f"thesis-settings search (K = 64, 1000 steps, from {args.steps} steps): {search:.0f} s")
    print(f"overhead / search = {100 * overhead / search:.2f} % (target <= 5 %)")


if __name__ == "__main__":
    main()
