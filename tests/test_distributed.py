"""torchrun on 2 CPU processes (gloo) with the tiny random DCGAN: `evaluate` sharded by image
(4 faces, 2 iterations, 2 candidates) and `train` data-parallel (a batch of 4, 3 steps),
each against one process. Plumbing, not quality."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from semantic_inpaint import cli
from semantic_inpaint.distributed import World
from semantic_inpaint.models.weights import fingerprint, load_encoder, load_pretrained
from semantic_inpaint.train import export
from semantic_inpaint.train.encoder import encoder_samples

KEY = ("image", "mask", "method")


def _rows(out: Path) -> list[dict]:
    with open(out / "per_image.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_world_of_one_is_a_no_op():
    one = World()
    assert one.is_main and all(one.owns(i) for i in range(5))
    assert one.gather_others([1, 2]) == [] and one.broadcast("x") == "x"
    assert [i for i in range(7) if World(1, 3).owns(i)] == [1, 4]


def _faces_and_weights(tiny_models, faces: np.ndarray, tmp_path: Path) -> tuple[Path, Path]:
    data, weights = tmp_path / "faces", tmp_path / "weights"
    data.mkdir()
    for i, face in enumerate(faces):
        Image.fromarray(face).save(data / f"{i}.png")
    export(*tiny_models, weights)
    return data, weights


def _in_this_process(argv: list[str]) -> None:
    """`cli.main(argv)` on one thread, like each torchrun worker: the same arithmetic."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        cli.main(argv)
    finally:
        torch.set_num_threads(threads)


def _torchrun(argv: list[str]) -> None:
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    # `--` ends torchrun's own options: its parser would take `--n` for an abbreviation of `--nnodes`.
    launch = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "semantic_inpaint.cli", "--"]
    done = subprocess.run([*launch, *argv], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]


def test_torchrun_evaluation_matches_one_process(tiny_models, faces: np.ndarray, tmp_path: Path) -> None:
    data, weights = _faces_and_weights(tiny_models, faces, tmp_path)
    argv = ["evaluate", "--data", str(data), "--n", "4", "--weights", str(weights), "--device", "cpu", "--batch-size", "1"]
    argv += ["--iterations", "2", "--candidates", "2", "--masks", "centre,random", "--methods", "yeh2017,thesis"]

    _in_this_process([*argv, "--out", str(tmp_path / "one")])
    one = {tuple(r[k] for k in KEY): r for r in _rows(tmp_path / "one")}
    assert len(one) == 4 * 2 * 2

    # Resume: image 2's rows are already in the CSV the sharded run starts from.
    sharded = tmp_path / "sharded"
    sharded.mkdir()
    (sharded / "per_image.csv").write_text((tmp_path / "one" / "per_image.csv").read_text().splitlines()[0] + "\n")
    with open(sharded / "per_image.csv", "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(next(iter(one.values()))))
        writer.writerows(r for k, r in one.items() if k[0] == "2")

    _torchrun([*argv, "--out", str(sharded)])

    rows = _rows(sharded)
    keys = [tuple(r[k] for k in KEY) for r in rows]
    assert sorted(keys) == sorted(one)  # every image, mask and method exactly once
    for key, row in zip(keys, rows):
        expected = one[key]
        if key[0] != "2":  # recomputed by a rank: the same numbers; only the timing differs
            row, expected = {k: v for k, v in row.items() if k != "seconds"}, {k: v for k, v in expected.items() if k != "seconds"}
        assert row == expected, key  # image 2: the resumed row, untouched
    assert "(n=4)" in (sharded / "results.md").read_text()


def test_torchrun_training_is_one_process_on_the_whole_batch(tiny_models, faces: np.ndarray, tmp_path: Path) -> None:
    data, weights = _faces_and_weights(tiny_models, faces, tmp_path)
    argv = ["train", "--data", str(data), "--n", "4", "--warm-start", str(weights), "--batch-size", "4", "--d-only-steps", "1"]
    argv += ["--damaged-negatives", "0.5", "--augment", "color,translation", "--freeze-d", "1", "--sample-every", "2", "--device", "cpu"]
    argv += ["--reconstruction", "1"]  # and G with an encoder rebuilding 2 faces a step, 1 in each process
    _in_this_process([*argv, "--steps", "3", "--out", str(tmp_path / "one"), "--export", str(tmp_path / "one.w")])
    # Two processes, each with 2 of the 4 faces (and 1 of the 2 damaged ones), stopped at step 2
    # and resumed to step 3 from rank 0's checkpoint.
    _torchrun([*argv, "--steps", "2", "--out", str(tmp_path / "two")])
    _torchrun([*argv, "--steps", "3", "--out", str(tmp_path / "two"), "--export", str(tmp_path / "two.w")])

    one, two = (load_pretrained(tmp_path / w, "cpu") for w in ("one.w", "two.w"))
    manifest = json.loads((tmp_path / "one.w" / "manifest.json").read_text())
    assert manifest["warm_start"] == str(weights) and manifest["warm_start_generator"] == fingerprint(tiny_models[0])  # where it began
    assert manifest["steps"] == 3 and manifest["files"]["encoder"]["generator"] == fingerprint(one.generator)
    encoders = [load_encoder(models.generator, tmp_path / w, "cpu") for models, w in ((one, "one.w"), (two, "two.w"))]
    drawn = np.asarray(Image.open(tmp_path / "one.w" / "encoder_samples.png"))
    assert np.array_equal(drawn, np.asarray(encoder_samples(encoders[0], one.generator)))  # the card's picture, of the exported nets
    for a, b in ((one.generator, two.generator), (one.discriminator, two.discriminator), encoders):
        for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
            # The same arithmetic, summed in another order: equal to float32 rounding, but for the
            # odd weight whose gradient is about 0, where Adam's division by sqrt(v) turns the
            # rounding into a step of up to lr (2e-4). Another batch split moves most weights.
            same = torch.isclose(x.double(), y.double(), rtol=1e-4, atol=1e-5)
            assert same.double().mean() > 0.999 and (x - y).abs().max() <= 3 * 2e-4, name
    logs = [np.loadtxt(tmp_path / run / "log.csv", delimiter=",", skiprows=1, usecols=(0, 2, 3, 4, 5, 6, 7)) for run in ("one", "two")]
    assert logs[0].shape == (3, 7) and np.allclose(logs[0], logs[1], atol=2e-4)  # the whole batch's losses
    assert sorted(p.name for p in (tmp_path / "two" / "samples").iterdir()) == ["step_000002.png", "step_000003.png"]


def test_a_batch_that_does_not_split_is_refused() -> None:
    from semantic_inpaint.train.parallel import rows_of, share

    assert [share(6, r, 3) for r in range(3)] == [slice(0, 2), slice(2, 4), slice(4, 6)]
    assert rows_of([(4, share(4, 1, 2)), (4, share(4, 1, 2)), (2, share(2, 1, 2))]).tolist() == [2, 3, 6, 7, 9]
    with pytest.raises(ValueError, match="batch of 6 does not split evenly across 4 processes"):
        share(6, 1, 4)
