"""`evaluate` sharded over processes with torchrun: 2 CPU processes on gloo, the tiny random
DCGAN, 4 faces, 2 iterations, 2 candidates. Plumbing, not quality."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from semantic_inpaint import cli
from semantic_inpaint.distributed import World
from semantic_inpaint.train import export

KEY = ("image", "mask", "method")


def _rows(out: Path) -> list[dict]:
    with open(out / "per_image.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_world_of_one_is_a_no_op():
    one = World()
    assert one.is_main and all(one.owns(i) for i in range(5))
    assert one.gather_others([1, 2]) == [] and one.broadcast("x") == "x"
    assert [i for i in range(7) if World(1, 3).owns(i)] == [1, 4]


def test_torchrun_evaluation_matches_one_process(tiny_models, faces: np.ndarray, tmp_path: Path) -> None:
    data, weights = tmp_path / "faces", tmp_path / "weights"
    data.mkdir()
    for i, face in enumerate(faces):
        Image.fromarray(face).save(data / f"{i}.png")
    export(*tiny_models, weights)
    argv = ["evaluate", "--data", str(data), "--n", "4", "--weights", str(weights), "--device", "cpu", "--batch-size", "1"]
    argv += ["--iterations", "2", "--candidates", "2", "--masks", "centre,random", "--methods", "yeh2017,thesis"]

    # One process, in this one, on one thread like each torchrun worker: the same arithmetic.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        cli.main([*argv, "--out", str(tmp_path / "one")])
    finally:
        torch.set_num_threads(threads)
    one = {tuple(r[k] for k in KEY): r for r in _rows(tmp_path / "one")}
    assert len(one) == 4 * 2 * 2

    # Resume: image 2's rows are already in the CSV the sharded run starts from.
    sharded = tmp_path / "sharded"
    sharded.mkdir()
    (sharded / "per_image.csv").write_text((tmp_path / "one" / "per_image.csv").read_text().splitlines()[0] + "\n")
    with open(sharded / "per_image.csv", "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(next(iter(one.values()))))
        writer.writerows(r for k, r in one.items() if k[0] == "2")

    env = os.environ | {"OMP_NUM_THREADS": "1"}
    # `--` ends torchrun's own options: its parser would take `--n` for an abbreviation of `--nnodes`.
    launch = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "semantic_inpaint.cli", "--"]
    done = subprocess.run([*launch, *argv, "--out", str(sharded)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]

    rows = _rows(sharded)
    keys = [tuple(r[k] for k in KEY) for r in rows]
    assert sorted(keys) == sorted(one)  # every image, mask and method exactly once
    for key, row in zip(keys, rows):
        expected = one[key]
        if key[0] != "2":  # recomputed by a rank: the same numbers; only the timing differs
            row, expected = {k: v for k, v in row.items() if k != "seconds"}, {k: v for k, v in expected.items() if k != "seconds"}
        assert row == expected, key  # image 2: the resumed row, untouched
    assert "(n=4)" in (sharded / "results.md").read_text()
