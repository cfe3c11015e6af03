"""Measure the 64x64 landmark template that `semantic_inpaint.photo` aligns real photos to.

The DCGAN learnt faces as `load_images("celeba-mini:fit")` gives them: CelebA's aligned
178x218 photos, centre crop 108x108, resized to 64x64. A photo's face must land where those
faces sit, so the template is the mean of dlib's 68 points over those 849 faces, measured
the way `complete_photo` reads a photo (`photo.align.detect`: dlib's frontal detector, then
the 68-point predictor inside the detector's box) on the full-resolution files, and mapped
into the 64x64 frame by the crop and resize the faces went through.

Why not dlib on the 64x64 faces with the whole frame as the box (`LandmarkDetector`)? dlib's
predictor leans on its box: on the same faces that reading puts the points about 6 px higher
(the nose tip 8.5 px) and the face smaller than where they are, and a photo never gets that
box. The script measures both and prints how far apart they are.

Run once (about a minute on one core); it rewrites semantic_inpaint/photo/template.json:

    .venv/bin/python tools/measure_template.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from semantic_inpaint.data import load_images
from semantic_inpaint.data.celeba import CROP
from semantic_inpaint.data.celeba_mini import celeba_mini_dir, split_names
from semantic_inpaint.data.folder import _open_rgb
from semantic_inpaint.losses.landmarks import LandmarkDetector
from semantic_inpaint.photo.align import SIZE, detect

SPLIT = "fit"
OUT = Path(__file__).resolve().parents[1] / "semantic_inpaint" / "photo" / "template.json"


def to_frame(points: np.ndarray, width: int, height: int) -> np.ndarray:
    """Photo points -> the 64x64 frame of folder.load_face(crop=108): a centred crop (odd
    margins leave the extra pixel right/bottom), then a resize, whose pixel centres map as
    x_out = (x_in + 0.5) * 64 / 108 - 0.5 (PIL's convention)."""
    offset = np.array([(width - CROP) // 2, (height - CROP) // 2])
    return (points - offset + 0.5) * SIZE / CROP - 0.5


def main() -> None:
    folder, points, skipped = celeba_mini_dir(), [], []
    for name in split_names(SPLIT):
        photo = np.asarray(_open_rgb(folder / name))
        faces = detect(photo)
        if not faces:
            skipped.append(name)
            continue
        # A second detection in a CelebA photo is a face in the background: keep the largest.
        box, found = max(faces, key=lambda f: (f[0][2] - f[0][0]) * (f[0][3] - f[0][1]))
        points.append(to_frame(found, photo.shape[1], photo.shape[0]))
    points = np.array(points)
    template = points.mean(0)
    spread = np.linalg.norm(points - template, axis=-1).mean()
    whole_frame = LandmarkDetector()(load_images(f"celeba-mini:{SPLIT}")).mean(0)
    offset = np.linalg.norm(whole_frame - template, axis=-1)
    record = {
        "note": (
            "Mean of dlib's 68 landmarks over CelebA img_align_celeba 000001-000849 "
            f"(celeba-mini:{SPLIT}, what the celeba weights learnt), each read on the full 178x218 "
            "photo as complete_photo reads photos (frontal face detector, then "
            "shape_predictor_68_face_landmarks in its box) and mapped into the 64x64 frame of "
            "the training faces (centre crop 108, resize 64). (x, y) in frame pixels, pixel "
            "centres at integers. Made by tools/measure_template.py."
        ),
        "size": SIZE,
        "faces": len(points),
        "faces_without_detection": skipped,
        "mean_distance_to_template_px": round(float(spread), 3),
        "whole_frame_box_offset_px": {"mean": round(float(offset.mean()), 3), "max": round(float(offset.max()), 3)},
    }
    # one [x, y] pair a line, so that the file reads as a table
    rows = ",\n".join(f"  [{x:.3f}, {y:.3f}]" for x, y in template)
    OUT.write_text(json.dumps(record, indent=1)[:-2] + f',\n "points": [\n{rows}\n ]\n}}\n')
    print(f"{len(points)} faces ({len(skipped)} without a detection); mean distance of a face's points to the template {spread:.2f} px")
    print(f"whole-frame-box reading (LandmarkDetector on the 64x64 faces) differs by {offset.mean():.2f} px mean, {offset.max():.2f} max")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
