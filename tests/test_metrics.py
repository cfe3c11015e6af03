"""Tests for semantic_inpaint.metrics: PSNR / SSIM, whole image and hole only.

Expected values are worked out by hand (PSNR) or taken from independent
implementations (pytorch-msssim, scikit-image called directly), never from the
module under test.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from semantic_inpaint.errors import InpaintInputError
from semantic_inpaint.metrics import hole, landmark_error, psnr, ssim

H = W = 64


def _smooth(n: int, seed: int, coarse: int = 8) -> torch.Tensor:
    """Random smooth images in [0, 1]: uniform noise on a coarse grid, bilinearly upsampled to 64x64."""
    g = torch.Generator().manual_seed(seed)
    return F.interpolate(torch.rand(n, 3, coarse, coarse, generator=g), size=(H, W), mode="bilinear", align_corners=False)


def _quarter_pair(dtype=torch.float64):
    """x all 0.5; y = x + 0.1 on the top-left quadrant (exactly 1/4 of the pixels, all channels)."""
    x = torch.full((2, 3, H, W), 0.5, dtype=dtype)
    y = x.clone()
    y[:, :, : H // 2, : W // 2] += 0.1
    quarter = torch.zeros(1, 1, H, W, dtype=torch.bool)
    quarter[..., : H // 2, : W // 2] = True
    return x, y, quarter


def _center_mask(n: int = 1, size: int = 24) -> torch.Tensor:
    """Float mask, 1 = known, 0 = a centred size x size hole."""
    m = torch.ones(n, 1, H, W)
    a = (H - size) // 2
    m[..., a : a + size, a : a + size] = 0
    return m


# --------------------------------------------------------------------------- hole


def test_hole_float_and_bool_masks():
    m = _center_mask(2)
    h = hole(m)
    assert h.dtype == torch.bool and h.shape == m.shape
    assert int(h.sum()) == 2 * 24 * 24
    assert torch.equal(hole(m.bool()), h)
    assert torch.equal(hole(m[0]), h[0])  # single (1, H, W) mask


# --------------------------------------------------------------------------- PSNR


def test_psnr_hand_computed_quarter():
    x, y, _ = _quarter_pair()
    p = psnr(x, y)
    # MSE = 0.1**2 * 1/4 = 0.0025 -> 10 log10(1 / 0.0025) = 26.0206 dB
    assert p.dtype == torch.float64 and p.shape == (2,)
    assert p.tolist() == pytest.approx([10 * math.log10(400.0)] * 2, abs=1e-9)
    assert p[0].item() == pytest.approx(26.0206, abs=1e-4)


def test_psnr_float32_inputs():
    x, y, _ = _quarter_pair(torch.float32)
    # float32 0.6 - 0.5 is 0.1 to ~2.4e-8 -> a few 1e-6 dB.
    assert psnr(x, y).tolist() == pytest.approx([26.0206] * 2, abs=1e-4)


def test_psnr_region_is_changed_quarter():
    x, y, quarter = _quarter_pair()
    # Only the changed pixels: MSE = 0.01 -> 20 dB; region (1, 1, H, W) broadcasts over N = 2.
    assert psnr(x, y, region=quarter).tolist() == pytest.approx([20.0, 20.0], abs=1e-9)
    # The unchanged three quarters: MSE = 0 -> +inf.
    assert torch.isinf(psnr(x, y, region=~quarter)).all()


def test_psnr_region_from_hole_per_image():
    x, y, quarter = _quarter_pair()
    mask = torch.stack([(~quarter[0]).float(), torch.ones(1, H, W)])  # image 0: hole = quarter
    mask[1, :, -1, -1] = 0  # image 1: a one-pixel hole where nothing changed
    p = psnr(x, y, region=hole(mask))
    assert p[0].item() == pytest.approx(20.0, abs=1e-9)
    assert math.isinf(p[1].item())


def test_psnr_data_range_255_same_db():
    x, y, quarter = _quarter_pair()
    assert psnr(x * 255, y * 255, data_range=255).tolist() == pytest.approx(psnr(x, y).tolist(), abs=1e-9)
    assert psnr(x * 255, y * 255, data_range=255.0, region=quarter).tolist() == pytest.approx([20.0, 20.0], abs=1e-9)


def test_psnr_matches_skimage():
    from skimage.metrics import peak_signal_noise_ratio

    x = _smooth(3, 10)
    y = (x + 0.1 * (_smooth(3, 11) - 0.5)).clamp(0, 1)
    ref = [peak_signal_noise_ratio(b.double().numpy(), a.double().numpy(), data_range=1.0) for a, b in zip(x, y)]
    assert psnr(x, y).tolist() == pytest.approx(ref, abs=1e-12)


def test_psnr_identical_is_inf_and_single_image():
    x = _smooth(1, 0)[0]  # (3, H, W)
    p = psnr(x, x)
    assert p.shape == (1,) and p.dtype == torch.float64
    assert math.isinf(p.item()) and p.item() > 0


# --------------------------------------------------------------------------- SSIM


def test_ssim_matches_pytorch_msssim():
    pytorch_msssim = pytest.importorskip("pytorch_msssim")
    x = _smooth(4, 1)
    y = (x + 0.3 * (_smooth(4, 2) - 0.5)).clamp(0, 1)
    ours = ssim(x, y)
    ref = pytorch_msssim.ssim(
        x, y, data_range=1, size_average=False, win_size=11, win_sigma=1.5, K=(0.01, 0.03)
    ).double()
    assert ours.dtype == torch.float64 and ours.shape == (4,)
    # Both: Gaussian 11 taps / sigma 1.5, population covariances, valid (5-px cropped) border,
    # per-channel then averaged. Measured max |diff| over ~190 such 64x64 images (coarse grids
    # 4..64, many seeds): 1.6e-6 (5.5e-7 here), from pytorch-msssim building its window in
    # float32 (and convolving in float32 for float32 input) vs skimage's float64.
    # 1e-5 leaves ~6x margin and is 10x tighter than the nominal 1e-4.
    assert torch.allclose(ours, ref, rtol=0, atol=1e-5), (ours - ref).abs().max()
    assert (ours < 0.99).all()  # the comparison is not vacuous


def test_ssim_identical_is_one():
    x = _smooth(2, 3)
    assert ssim(x, x).tolist() == pytest.approx([1.0, 1.0], abs=1e-12)
    assert ssim(x, x, region=hole(_center_mask())).tolist() == pytest.approx([1.0, 1.0], abs=1e-12)


def test_ssim_against_skimage_directly():
    from skimage.metrics import structural_similarity

    x = _smooth(1, 4)
    y = (x + 0.2 * (_smooth(1, 5) - 0.5)).clamp(0, 1)
    xs = x[0].permute(1, 2, 0).double().numpy()
    ys = y[0].permute(1, 2, 0).double().numpy()
    mssim, smap = structural_similarity(
        xs, ys, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
        data_range=1.0, channel_axis=-1, full=True,
    )
    # Whole image: skimage's scalar (border-cropped mean), i.e. the cropped map's mean.
    assert ssim(x, y).item() == pytest.approx(mssim, abs=1e-12)
    assert ssim(x, y).item() == pytest.approx(smap[5:-5, 5:-5].mean(), abs=1e-12)
    # Region = everything: mean of the full, uncropped map (over channels and pixels).
    everything = torch.ones(1, 1, H, W, dtype=torch.bool)
    assert ssim(x, y, region=everything).item() == pytest.approx(smap.mean(), abs=1e-12)
    # Region = a centred hole: mean over channels, then over the hole's pixels.
    m = _center_mask()
    assert ssim(x, y, region=hole(m)).item() == pytest.approx(smap.mean(-1)[hole(m)[0, 0].numpy()].mean(), abs=1e-12)


def test_ssim_hole_only_lower_than_whole_when_only_hole_differs():
    x = _smooth(2, 6)
    m = _center_mask()
    other = _smooth(2, 7, coarse=16)
    y = m * x + (1 - m) * other  # overlay: known pixels copied from x, hole filled with something else
    whole = ssim(x, y)
    in_hole = ssim(x, y, region=hole(m))
    assert (in_hole < whole).all(), (in_hole, whole)
    assert (whole < 1).all()


def test_ssim_data_range_255_same_value():
    x = _smooth(1, 8)
    y = (x + 0.2 * (_smooth(1, 9) - 0.5)).clamp(0, 1)
    assert ssim(x * 255, y * 255, data_range=255).item() == pytest.approx(ssim(x, y).item(), abs=1e-9)


# --------------------------------------------------------------------------- validation

METRICS = pytest.mark.parametrize("metric", [psnr, ssim], ids=["psnr", "ssim"])


@METRICS
def test_shape_mismatch(metric):
    with pytest.raises(InpaintInputError, match="same shape"):
        metric(torch.rand(2, 3, H, W), torch.rand(1, 3, H, W))


@METRICS
@pytest.mark.parametrize("shape", [(H, W), (1, 2, 3, H, W)])
def test_wrong_number_of_dims(metric, shape):
    dims = len(shape)
    with pytest.raises(InpaintInputError, match=rf"\(3, H, W\) or \(N, 3, H, W\), got shape {re.escape(str(shape))}: {dims} dims, not 3 or 4"):
        metric(torch.rand(shape), torch.rand(shape))


@METRICS
def test_channels_last_single_image_quotes_the_shape_passed(metric):
    x = torch.rand(H, W, 3)  # (H, W, 3): the message names this shape, not (1, H, W, 3)
    with pytest.raises(InpaintInputError, match=r"got shape \(64, 64, 3\): it needs 3 \(RGB\) channels first.*permute\(2, 0, 1\)"):
        metric(x, x)


@METRICS
def test_wrong_channels(metric):
    x = torch.rand(1, H, W, 3)  # channels last
    with pytest.raises(InpaintInputError, match=r"3 \(RGB\) channels.*permute"):
        metric(x, x)


@METRICS
def test_values_above_range(metric):
    x = torch.rand(1, 3, H, W) * 255
    with pytest.raises(InpaintInputError, match=r"outside \[0, data_range=1\].*data_range=255"):
        metric(x, x)


@METRICS
def test_values_in_minus_one_one(metric):
    x = torch.rand(1, 3, H, W) * 2 - 1
    with pytest.raises(InpaintInputError, match=r"outside \[0, data_range=1\].*\(x \+ 1\) / 2"):
        metric(torch.rand(1, 3, H, W), x)


@METRICS
def test_values_within_tolerance_accepted(metric):
    x = torch.rand(1, 3, H, W, dtype=torch.float64)
    x[0, 0, 0, 0] = 1 + 5e-7
    x[0, 0, 0, 1] = -5e-7
    assert metric(x, x).shape == (1,)


@METRICS
def test_nan_rejected(metric):
    x = torch.rand(1, 3, H, W)
    x[0, 0, 0, 0] = float("nan")
    with pytest.raises(InpaintInputError, match="NaN"):
        metric(x, x)


@METRICS
def test_integer_images_rejected(metric):
    x = torch.randint(0, 256, (1, 3, H, W), dtype=torch.uint8)
    with pytest.raises(InpaintInputError, match="floating-point.*float"):
        metric(x, x)


@METRICS
@pytest.mark.parametrize("bad", [0, -1.0, float("inf"), "1.0", None])
def test_bad_data_range(metric, bad):
    x = torch.rand(1, 3, H, W)
    with pytest.raises(InpaintInputError, match="data_range must be a positive"):
        metric(x, x, data_range=bad)


@METRICS
def test_empty_region_no_hole(metric):
    x = torch.rand(2, 3, H, W)
    mask = torch.ones(2, 1, H, W)
    mask[0, :, 10:20, 10:20] = 0  # image 0 has a hole, image 1 none
    with pytest.raises(InpaintInputError, match=r"region is empty.*image\(s\) \[1\].*no hole"):
        metric(x, x, region=hole(mask))


@METRICS
def test_region_must_be_bool(metric):
    x = torch.rand(1, 3, H, W)
    with pytest.raises(InpaintInputError, match="bool tensor.*hole\\(mask\\)"):
        metric(x, x, region=_center_mask())


@METRICS
@pytest.mark.parametrize("shape", [(3, 1, H, W), (1, 1, 32, 32), (1, 3, H, W)])
def test_region_shape_mismatch(metric, shape):
    x = torch.rand(2, 3, H, W)
    with pytest.raises(InpaintInputError, match=r"region.*\(N, 1, H, W\)|does not match the images"):
        metric(x, x, region=torch.ones(shape, dtype=torch.bool))


def test_ssim_too_small():
    x = torch.rand(1, 3, 8, 8)
    with pytest.raises(InpaintInputError, match="at least 11x11"):
        ssim(x, x)
    assert psnr(x, x).shape == (1,)  # PSNR has no window, any size is fine


@pytest.mark.parametrize(
    "mask, match",
    [
        (torch.ones(1, 3, H, W), r"shape \(N, 1, H, W\)"),
        (torch.full((1, 1, H, W), 2.0), r"mask values must lie in \[0, 1\]"),
        (torch.ones(1, 1, H, W, dtype=torch.int64), "float or bool"),
        (np.ones((1, 1, H, W)), "torch.Tensor"),
    ],
)
def test_hole_bad_masks(mask, match):
    with pytest.raises(InpaintInputError, match=match):
        hole(mask)


def test_landmark_error_data_range_and_identity(faces):
    x = torch.from_numpy(faces[:2]).permute(0, 3, 1, 2).double() / 255
    # The same face twice: dlib finds the same points, error 0 exactly.
    assert landmark_error(x, x).tolist() == [0.0, 0.0]
    y = torch.roll(x, shifts=3, dims=-1)  # the face moved 3 px right (wrapping round)
    err = landmark_error(y, x)
    # Every point moves with the face, by 3 px; dlib reads these two faces 3.04 and 3.17 px apart.
    assert ((err - 3).abs() < 0.5).all(), err
    # [0, 255] with data_range=255 is rounded to the same 8-bit frames as [0, 1]: the same error.
    assert torch.equal(landmark_error(y * 255, x * 255, data_range=255.0), err)
    with pytest.raises(InpaintInputError, match=r"outside \[0, data_range=1\].*data_range=255"):
        landmark_error(y * 255, x * 255)
