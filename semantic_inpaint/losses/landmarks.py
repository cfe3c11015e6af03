"""The landmark loss of the thesis (eqs. 17-18), with dlib's 68-point shape predictor.

dlib's predictor (Kazemi & Sullivan 2014, trained on iBUG 300-W) runs on the *masked* input
y * M to give the reference points, and on every candidate masked the same way. Masked pixels
take the value 0 in [-1, 1] space (mid grey, uint8 128) before conversion, for both. On 64x64
images dlib's face detector finds nothing, so the whole frame is the face rectangle.

This loss is a step function of dlib's output: it has no gradient with respect to z. The
search therefore uses it to rank candidates and to report, never in the Adam update.
"""

from __future__ import annotations

import functools
import importlib.util
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from semantic_inpaint.errors import LandmarkError
from semantic_inpaint.viz import to_uint8

ENV_VAR = "SEMANTIC_INPAINT_DLIB_MODEL"
MODEL_FILE = "shape_predictor_68_face_landmarks.dat"
# dlib's answer for an image with no structure is its mean shape; points closer than this
# (mean |dx|, |dy| in px) to that answer mean dlib read nothing from the image.
BLANK_TOLERANCE = 0.5


def dlib_model_path(path: str | os.PathLike | None = None) -> Path:
    """The 68-point model: `path`, else $SEMANTIC_INPAINT_DLIB_MODEL, else the one in PyPI
    `face-recognition-models`, else Debian's `libdlib-data` (/usr/share/dlib)."""
    if path is None and os.environ.get(ENV_VAR):
        path = os.environ[ENV_VAR]
    if path is not None:
        if not Path(path).is_file():
            raise LandmarkError(f"dlib landmark model not found at {path}; point to {MODEL_FILE} (or unset ${ENV_VAR}).")
        return Path(path)
    looked = []
    # find_spec, not import: the package's __init__ imports pkg_resources, gone from recent setuptools.
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is not None and spec.submodule_search_locations:
        looked.append(Path(spec.submodule_search_locations[0]) / "models" / MODEL_FILE)
    looked.append(Path("/usr/share/dlib") / MODEL_FILE)
    for candidate in looked:
        if candidate.is_file():
            return candidate
    raise LandmarkError(
        f"dlib's {MODEL_FILE} not found (looked in: {', '.join(map(str, looked)) or 'nowhere'}). "
        f"Install it with `pip install face-recognition-models`, or pass landmark_model=PATH / set ${ENV_VAR}; "
        "or use preset='yeh2017' (no landmark loss)."
    )


@functools.lru_cache(maxsize=4)
def _predictor(path: str):
    try:
        import dlib
    except ImportError:
        raise LandmarkError("dlib is not installed: `pip install dlib-bin` (a prebuilt wheel), or use preset='yeh2017'.") from None
    try:
        return dlib.shape_predictor(path)
    except RuntimeError as e:
        raise LandmarkError(f"dlib cannot load {path} ({e}); is it a complete {MODEL_FILE}?") from None


def _detect(predict, frames: np.ndarray) -> np.ndarray:
    import dlib

    h, w = frames.shape[1:3]
    box = dlib.rectangle(0, 0, w - 1, h - 1)
    out = np.empty((len(frames), 68, 2))
    for i, frame in enumerate(frames):
        out[i] = [(p.x, p.y) for p in predict(np.ascontiguousarray(frame), box).parts()]
    return out


_worker_predict = None  # the predictor inside a pool worker, loaded once by _init_worker


def _init_worker(path: str) -> None:
    global _worker_predict
    _worker_predict = _predictor(path)


def _detect_in_worker(frames: np.ndarray) -> np.ndarray:
    return _detect(_worker_predict, frames)


class LandmarkDetector:
    """dlib's 68 points for uint8 (B, H, W, 3) RGB frames, the whole frame as the face box.

    Returns float64 (B, 68, 2) arrays of (x, y) in pixels. `workers` > 1 splits a batch over
    that many processes (dlib holds the GIL, so threads do not help: measured in
    benchmarks/bench_landmarks.py); the pool starts on first use and lives with the detector.
    """

    def __init__(self, model_path: str | os.PathLike | None = None, workers: int = 1) -> None:
        self.model_path = dlib_model_path(model_path)
        self._predict = _predictor(str(self.model_path))
        self.workers = max(1, int(workers))
        self._pool: ProcessPoolExecutor | None = None

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            raise LandmarkError(f"landmark detection takes uint8 (B, H, W, 3) frames, got {frames.dtype} {frames.shape}")
        if self.workers == 1 or len(frames) < 2 * self.workers:
            return _detect(self._predict, frames)
        if self._pool is None:
            # fork on Linux: the workers share the loaded 100 MB model and need no
            # `if __name__ == "__main__"` guard in the user's script; they only run dlib and
            # numpy, never torch, whose thread pools do not survive a fork. spawn elsewhere.
            ctx = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
            self._pool = ProcessPoolExecutor(self.workers, ctx, initializer=_init_worker, initargs=(str(self.model_path),))
        return np.concatenate(list(self._pool.map(_detect_in_worker, np.array_split(frames, self.workers))))

    def close(self) -> None:
        """Stop the worker processes (also done at interpreter exit)."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    @functools.cached_property
    def blank(self) -> np.ndarray:
        """dlib's points for a featureless mid-grey frame of 64x64: what it answers when it reads nothing."""
        return self(np.full((1, 64, 64, 3), 128, np.uint8))[0]

    def check_readable(self, points: np.ndarray) -> None:
        """Raise LandmarkError for each reference point set that equals dlib's blank-frame answer."""
        unread = [i for i, p in enumerate(points) if np.abs(p - self.blank).mean() < BLANK_TOLERANCE]
        if unread:
            raise LandmarkError(
                f"dlib could not read a face in image(s) {unread}: its 68 points equal those it gives a blank "
                "frame. Check that the known pixels show a face (64x64, roughly aligned), or use "
                "preset='yeh2017' / landmark='none' to search without the landmark loss."
            )


def masked_frames(x: Tensor, mask: Tensor) -> np.ndarray:
    """What dlib sees: (B, 3, H, W) in [-1, 1] with missing pixels set to 0 (grey) -> uint8 (B, H, W, 3)."""
    x = torch.where(mask.bool(), x, torch.zeros((), dtype=x.dtype, device=x.device))
    return to_uint8(x)


def landmark_loss(points: Tensor, reference: Tensor, threshold: float = 3.0) -> Tensor:
    """Eqs. 17-18: per point, 0.5 if |x - x_ref| > threshold plus 0.5 if |y - y_ref| > threshold.

    points: (..., 68, 2); reference: broadcastable to it. Returns (...), each in [0, 68].
    """
    off = (points - reference).abs() > threshold
    return 0.5 * off.flatten(-2).sum(-1).to(torch.float32)
