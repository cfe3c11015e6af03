"""The tables harness against crashes and a second run: the output folder's lock, a per_image.csv
left empty or with a torn last row, truncated and half-written pictures, and runs of
`semantic-inpaint evaluate` killed with SIGKILL at random moments, each resumed."""

from __future__ import annotations

import csv
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from semantic_inpaint.errors import InpaintInputError
from semantic_inpaint.evaluate import FIELDS, evaluate, image_path
from semantic_inpaint.safe_files import LOCK_NAME, replacing
from semantic_inpaint.train import export

KEY = ("image", "mask", "method")
BASELINE = dict(masks=("centre",), methods=("telea",), progress=False)  # no search: quick


def _rows(out: Path) -> list[dict]:
    with open(out / "per_image.csv", newline="") as f:
        return list(csv.DictReader(f))


def _by_key(rows: list[dict], seconds: bool = True) -> dict[tuple, dict]:
    """Rows by (image, mask, method), checked to be there once each and whole."""
    keyed = {tuple(r[k] for k in KEY): r if seconds else {k: v for k, v in r.items() if k != "seconds"} for r in rows}
    assert len(keyed) == len(rows), "a row is there twice"
    assert all(sorted(r) == sorted(FIELDS) and None not in r.values() for r in rows), "a row is not whole"
    return keyed


def _partial_files(out: Path) -> list[Path]:
    return sorted(out.rglob(".*.partial*"))


# -- the lock ----------------------------------------------------------------------------------

HOLD = "import sys, time\nfrom semantic_inpaint.safe_files import FolderLock\nlock = FolderLock(sys.argv[1])\nprint('held', flush=True)\ntime.sleep(600)\n"


def test_a_second_run_into_a_folder_in_use_is_refused_until_the_first_dies(faces, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(InpaintInputError) as refused:
            evaluate(faces[:1], out, **BASELINE)
        message = str(refused.value)
        assert str(out) in message and f"pid {holder.pid} on {socket.gethostname()}" in message
        assert "wait for that run to finish, or write to another --out folder" in message
        assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME]  # refused before reading or writing anything
    finally:
        holder.kill()  # SIGKILL: no clean-up runs, the kernel drops the lock
        holder.wait()
        holder.stdout.close()
    assert len(evaluate(faces[:1], out, **BASELINE)) == 1
    assert len(evaluate(faces[:1], out, **BASELINE)) == 1  # and a finished run lets the next one in


# -- per_image.csv left empty or torn ----------------------------------------------------------


@pytest.fixture(scope="module")
def reference(faces, tmp_path_factory) -> tuple[str, dict]:
    """per_image.csv of an uninterrupted baseline run on 3 faces: its text and rows by key."""
    out = tmp_path_factory.mktemp("reference")
    evaluate(faces[:3], out, **BASELINE)
    return (out / "per_image.csv").read_bytes().decode(), _by_key(_rows(out), seconds=False)  # csv's \r\n kept


def _resume_from(text: str, faces: np.ndarray, out: Path, reference: dict) -> None:
    """Resume a run whose per_image.csv reads `text`; every row must come out once, whole, with the reference's values."""
    out.mkdir()
    (out / "per_image.csv").write_bytes(text.encode())
    rows = evaluate(faces[:3], out, **BASELINE)
    assert _by_key(rows, seconds=False) == _by_key(_rows(out), seconds=False) == reference


def test_an_empty_csv_gets_its_header(faces, tmp_path, reference):
    # A kill before the header reached the disk: the resume used to append headerless rows,
    # and the run after it failed with KeyError: 'image'.
    _resume_from("", faces, tmp_path / "out", reference[1])
    assert len(evaluate(faces[:3], tmp_path / "out", **BASELINE)) == 3


@pytest.mark.parametrize(
    "tail",
    [
        lambda row: row[:20],  # cut mid-field, no line end
        lambda row: row[:-1],  # cut between its \r and \n
        lambda row: ",".join(row.split(",")[:4]) + "\r\n",  # a line end, but fields missing
    ],
    ids=["mid-field", "before-newline", "fields-missing"],
)
def test_a_torn_last_row_is_dropped_and_computed_again(faces, tmp_path, reference, tail):
    lines = reference[0].splitlines(keepends=True)
    whole = "".join(lines[:3])  # the header and 2 rows
    with pytest.warns(UserWarning, match="dropped its torn last line"):
        _resume_from(whole + tail(lines[3]), faces, tmp_path / "out", reference[1])
    assert (tmp_path / "out" / "per_image.csv").read_bytes().decode().startswith(whole)  # whole rows kept as they were


def test_a_torn_header_is_written_again(faces, tmp_path, reference):
    with pytest.warns(UserWarning, match="dropped its torn last line"):
        _resume_from(reference[0][:13], faces, tmp_path / "out", reference[1])


# -- pictures ----------------------------------------------------------------------------------


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:100])


def test_truncated_pictures_do_not_stop_a_resume(faces, tmp_path):
    out = tmp_path / "out"
    evaluate(faces[:3], out, **BASELINE)
    before = _rows(out)
    telea = {i: image_path(out, "centre", "telea", i).read_bytes() for i in range(3)}
    # As an older version killed mid-save left them: image 0's row is done, image 1's is not.
    _truncate(image_path(out, "centre", "telea", 0))
    _truncate(image_path(out, "centre", "telea", 1))
    _truncate(image_path(out, "centre", "truth", 2))
    with open(out / "per_image.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(r for r in before if r["image"] != "1")
    (out / "figure_centre.png").unlink()

    with pytest.warns(UserWarning, match=r"telea/0\.png cannot be read .* left blank in the figure"):
        rows = evaluate(faces[:3], out, **BASELINE)
    assert sorted(_by_key(rows)) == sorted(_by_key(before))
    assert image_path(out, "centre", "telea", 1).read_bytes() == telea[1]  # its row was missing: computed again
    assert np.array_equal(np.asarray(Image.open(image_path(out, "centre", "truth", 2))), faces[2])  # drawn again from the face
    Image.open(out / "figure_centre.png").load()  # drawn, whole, image 0's telea cell blank
    # Redrawing image 0's picture takes a search (minutes a face for a GAN method): its row
    # stands, and deleting it is the way to compute the picture again.
    assert len(image_path(out, "centre", "telea", 0).read_bytes()) == 100


def test_a_failed_write_leaves_the_old_file_and_killed_writes_are_cleared(faces, tmp_path):
    out = tmp_path / "out"
    evaluate(faces[:2], out, **BASELINE)
    results = (out / "results.md").read_text()
    with pytest.raises(RuntimeError), replacing(out / "results.md") as temp:
        temp.write_text("half a tab")
        raise RuntimeError("killed")
    assert (out / "results.md").read_text() == results and not _partial_files(out)
    # What a SIGKILL between writing a temp file and renaming it leaves behind:
    stale = [out / ".results.md.0badf00d.partial.md", image_path(out, "centre", "telea", 0).with_name(".0.png.0badf00d.partial.png")]
    for path in stale:
        path.write_bytes(b"half")
    evaluate(faces[:2], out, **BASELINE)
    assert not _partial_files(out) and (out / "figure_centre.png").is_file()


# -- SIGKILL at random moments -----------------------------------------------------------------


def _cli(data: Path, weights: Path, out: Path) -> subprocess.Popen:
    """`semantic-inpaint evaluate` into `out`, started; its output goes to OUT.log (a pipe nobody reads could fill and stall it)."""
    argv = ["evaluate", "--data", str(data), "--n", "4", "--weights", str(weights), "--device", "cpu", "--iterations", "2", "--candidates", "2"]
    argv += ["--masks", "centre", "--methods", "yeh2017,tv", "--out", str(out)]
    env = os.environ | {"OMP_NUM_THREADS": "1"}  # every run on one thread: the same arithmetic
    with open(out.with_suffix(".log"), "a") as log:
        return subprocess.Popen([sys.executable, "-m", "semantic_inpaint.cli", *argv], env=env, stdout=log, stderr=subprocess.STDOUT)


def _log(out: Path) -> str:
    return out.with_suffix(".log").read_text()[-3000:]


def _started(run: subprocess.Popen, out: Path, timeout: float = 120.0) -> float:
    """When `run` took the folder's lock, so began to read and write under `out` (the lock
    file keeps the pid of its last holder, so this works also once `run` has ended)."""
    lock, mine, deadline = out / LOCK_NAME, f"pid {run.pid} ".encode(), time.monotonic() + timeout
    while not (lock.is_file() and lock.read_bytes().startswith(mine)):
        assert run.poll() is None, _log(out)
        assert time.monotonic() < deadline, "the run never took the lock"
        time.sleep(0.01)
    return time.monotonic()


def _done(out: Path) -> int:
    """Rows in per_image.csv, counted by their line ends (a torn last row has none)."""
    path = out / "per_image.csv"
    return max(0, path.read_bytes().count(b"\n") - 1) if path.is_file() else 0


def _timed(run: subprocess.Popen, out: Path, rows: int) -> tuple[float, float]:
    """Seconds from `run` taking the lock until per_image.csv holds `rows` rows, and until its successful end."""
    start = _started(run, out)
    while _done(out) < rows and run.poll() is None:
        time.sleep(0.01)
    rows_at = time.monotonic() - start
    assert run.wait(timeout=300) == 0, _log(out)
    return rows_at, time.monotonic() - start


@pytest.mark.slow
def test_runs_killed_at_random_moments_resume_to_the_uninterrupted_rows(tiny_models, faces, tmp_path):
    data, weights, whole, out = tmp_path / "faces", tmp_path / "weights", tmp_path / "whole", tmp_path / "killed"
    data.mkdir()
    for i, face in enumerate(faces):
        Image.fromarray(face).save(data / f"{i}.png")
    export(*tiny_models, weights)

    total = 4 * 2
    rows_at, _ = _timed(_cli(data, weights, whole), whole, total)
    _, idle = _timed(_cli(data, weights, whole), whole, total)  # a run with every row done: it reads and redraws
    expected = _by_key(_rows(whole), seconds=False)
    assert len(expected) == total

    rng, runs = random.Random(0), []
    for _ in range(20):
        done = _done(out)
        # Aimed at what is left: reading, the pictures and rows; once all rows are done, the tables and figure.
        delay = rng.uniform(0, rows_at if done < total else idle)
        run = _cli(data, weights, out)
        time.sleep(max(0.0, _started(run, out) + delay - time.monotonic()))
        run.send_signal(signal.SIGKILL)
        runs.append((done, round(delay, 2), run.wait(timeout=60)))
        keys = [tuple(r[k] for k in KEY) for r in _rows(out)] if (out / "per_image.csv").is_file() else []
        assert len(set(keys)) == len(keys), f"a row written twice: {keys}"
    assert sum(code == -signal.SIGKILL for *_, code in runs) >= 10, f"most runs should be stopped mid-way (rows done, delay, exit code): {runs}"
    assert _cli(data, weights, out).wait(timeout=300) == 0, _log(out)

    assert _by_key(_rows(out), seconds=False) == expected  # every row once, with the uninterrupted run's numbers
    assert not _partial_files(out)
    pictures = sorted(p.relative_to(out) for p in out.rglob("*.png"))
    assert pictures == sorted(p.relative_to(whole) for p in whole.rglob("*.png"))
    for path in pictures:
        Image.open(out / path).load()  # whole, not cut short
    for path in [p for p in pictures if p.parts[0] == "images"] + [Path("settings.json"), Path("inputs.json")]:
        assert (out / path).read_bytes() == (whole / path).read_bytes(), path
