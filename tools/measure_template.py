"""Measure the 64x64 landmark template that `semantic_inpaint.photo` aligns real photos to.

The DCGAN learnt faces as `load_images("celeba-mini:fit")` gives them: CelebA's aligned photos,
centre crop 108, resized to 64x64. A photo's face must land where those faces sit, so the
template is measured on exactly those 849 images, with the library's own landmark reader
(dlib's 68-point predictor, the whole 64x64 frame as the face box, as in
`losses.landmarks.LandmarkDetector`), and is the mean of the 68 points over the faces dlib
could read. Run once; it rewrites semantic_inpaint/photo/template.json:

    .venv/bin/python tools/measure_template.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from semantic_inpaint.data import load_images
from semantic_inpaint.losses.landmarks import BLANK_TOLERANCE, LandmarkDetector

SPEC = "celeba-mini:fit"
OUT = Path(__file__).resolve().parents[1] / "semantic_inpaint" / "photo" / "template.json"


def main() -> None:
    faces = load_images(SPEC)
    detector = LandmarkDetector()
    points = detector(faces)
    # A face dlib could not read gets its blank-frame answer (its mean shape): leave those out.
    read = np.abs(points - detector.blank).mean(axis=(1, 2)) >= BLANK_TOLERANCE
    mean = points[read].mean(0)
    spread = np.sqrt(((points[read] - mean) ** 2).sum(-1)).mean()
    record = {
        "note": (
            "Mean of dlib's 68 landmarks (shape_predictor_68_face_landmarks, the whole 64x64 frame "
            f"as the face box) over the faces of load_images({SPEC!r}): CelebA img_align_celeba "
            "000001-000849, centre crop 108, resized to 64x64 (bicubic). (x, y) in pixels of the "
            "64x64 frame, pixel centres at integers. Made by tools/measure_template.py."
        ),
        "size": 64,
        "faces": int(len(faces)),
        "faces_read": int(read.sum()),
        "mean_distance_to_template_px": round(float(spread), 3),
        "points": np.round(mean, 3).tolist(),
    }
    OUT.write_text(json.dumps(record, indent=1) + "\n")
    print(f"{read.sum()} of {len(faces)} faces read; mean point distance to the template {spread:.2f} px; wrote {OUT}")


if __name__ == "__main__":
    main()
