"""Landmark loss (eqs. 17-18) on hand-made point sets, and what dlib is shown."""

import numpy as np
import pytest
import torch

from semantic_inpaint.losses.landmarks import LandmarkDetector, landmark_loss, masked_frames


def test_threshold_is_strict_and_counts_each_coordinate():
    ref = torch.zeros(68, 2)
    pts = torch.zeros(4, 68, 2)
    pts[0, :, 0] = 3.0  # exactly 3 px off: not more than 3, free
    pts[1, 0, 0] = 3.5  # one x off: 0.5
    pts[2, 0] = torch.tensor([4.0, -4.0])  # one point off in x and y: 1.0
    pts[2, 1, 1] = 10.0  # plus one y: 0.5
    pts[3] = 20.0  # every coordinate off: 68
    loss = landmark_loss(pts, ref, threshold=3.0)
    torch.testing.assert_close(loss, torch.tensor([0.0, 0.5, 1.5, 68.0]))


def test_broadcasts_reference_over_candidates():
    ref = torch.stack([torch.zeros(68, 2), torch.full((68, 2), 10.0)])  # 2 images
    pts = torch.zeros(2, 3, 68, 2)  # 3 candidates each, all at 0
    loss = landmark_loss(pts, ref[:, None])
    torch.testing.assert_close(loss, torch.tensor([[0.0] * 3, [68.0] * 3]))


def test_masked_pixels_become_mid_grey():
    x = torch.full((1, 3, 4, 4), 0.5)
    m = torch.ones(1, 1, 4, 4)
    m[..., 1, 2] = 0
    frames = masked_frames(x, m)
    assert frames.dtype == np.uint8 and frames.shape == (1, 4, 4, 3)
    assert (frames[0, 1, 2] == 128).all()  # 0 in [-1, 1] -> 127.5 -> 128
    assert (frames[0, 0, 0] == 191).all()  # 0.5 -> 191.25 -> 191


def test_dlib_finds_68_points_in_the_frame(faces):
    det = LandmarkDetector()
    pts = det(faces)
    assert pts.shape == (len(faces), 68, 2)
    same = det(faces)
    np.testing.assert_array_equal(pts, same)  # deterministic


def test_identical_images_cost_nothing(faces):
    det = LandmarkDetector()
    pts = torch.from_numpy(det(faces[:1]))
    assert landmark_loss(pts, pts).item() == 0


@pytest.mark.parametrize("colour", [0, 128, 255])
def test_flat_images_are_unreadable(colour):
    det = LandmarkDetector()
    pts = det(np.full((1, 64, 64, 3), colour, np.uint8))
    with pytest.raises(Exception, match="could not read a face"):
        det.check_readable(pts)


def test_process_pool_gives_the_serial_answer(faces):
    frames = np.concatenate([faces, faces[:, :, ::-1]])  # 8 frames: enough to split over 2 workers
    pooled = LandmarkDetector(workers=2)
    try:
        np.testing.assert_array_equal(pooled(frames), LandmarkDetector()(frames))
        assert pooled._pool is not None  # the pool really ran
    finally:
        pooled.close()
