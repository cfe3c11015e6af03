"""Seconds of the Poisson blend (blend.poisson_blend) as `fast` calls it for a batch of faces, by
the number of threads torch is given (the blend solves masks of their own on that many threads).

    python benchmarks/bench_blend.py [--faces 64] [--masks centre,random] [--threads 1,2] [--rounds 3]

`fast` blends two renderings a face (the refined one and the candidates' mix) under the face's
mask: 2 x --faces images here, the masks as `evaluate` has them (the centre hole shared by every
face, so one factorisation; a random mask of its own for each face, one factorisation each).
The time of the sparse solve depends on the masks alone, so the images are seeded noise. Prints
the best of --rounds for each thread count and its speed-up over the first, and checks that
every thread count gives the same pixels.
"""

from __future__ import annotations

import argparse
import time

import torch

from semantic_inpaint.blend import poisson_blend
from semantic_inpaint.evaluate.run import mask_for
from semantic_inpaint.machine import describe


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--faces", type=int, default=64)
    p.add_argument("--masks", default="centre,random")
    p.add_argument("--threads", default=f"1,{torch.get_num_threads()}", help="comma-separated thread counts (default: 1 and torch's)")
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    print(f"{describe('cpu')}; {args.faces} faces x 2 renderings, best of {args.rounds}")
    rng = torch.Generator().manual_seed(0)
    generated, image = (torch.rand(2 * args.faces, 3, 64, 64, generator=rng) * 2 - 1 for _ in range(2))
    for name in args.masks.split(","):
        mask = torch.stack([mask_for(name, i) for i in range(args.faces)])[:, None].float().repeat_interleave(2, 0)
        first, reference = None, None
        for n in threads:
            torch.set_num_threads(n)
            best = float("inf")
            for _ in range(args.rounds):
                start = time.perf_counter()
                out = poisson_blend(generated, image, mask)
                best = min(best, time.perf_counter() - start)
            reference = out if reference is None else reference
            first = best if first is None else first
            same = "same pixels" if torch.equal(out, reference) else "DIFFERENT pixels"
            print(f"{name:>7}, {n:>2} threads: {best * 1e3:7.1f} ms  {first / best:5.2f}x  ({same})", flush=True)


if __name__ == "__main__":
    main()
