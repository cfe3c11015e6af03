"""Overlay and Poisson blending against values worked out by hand or from closed forms."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from semantic_inpaint import blend as blend_module
from semantic_inpaint.blend import factorise, overlay, poisson_blend
from semantic_inpaint.complete import _factorised_meanwhile
from semantic_inpaint.config import get_preset
from semantic_inpaint.errors import InpaintInputError


@pytest.fixture(
    params=[
        "cpu",
        pytest.param(
            "cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
        ),
    ]
)
def device(request: pytest.FixtureRequest) -> torch.device:
    return torch.device(request.param)


def _images(
    device: torch.device, n: int = 2, size: int = 16, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    generated = torch.rand(n, 3, size, size, generator=gen) * 2 - 1
    image = torch.rand(n, 3, size, size, generator=gen) * 2 - 1
    return generated.to(device), image.to(device)


def _centre_hole(device: torch.device, size: int = 16, lo: int = 5, hi: int = 11) -> torch.Tensor:
    mask = torch.ones(1, 1, size, size)
    mask[..., lo:hi, lo:hi] = 0
    return mask.to(device)


def _ramp(size: int, a: float, b: float, c: float) -> torch.Tensor:
    axis = torch.arange(size, dtype=torch.float32)
    y, x = torch.meshgrid(axis, axis, indexing="ij")
    return (a * x + b * y + c).expand(1, 3, size, size)


def test_overlay_copies_known_and_fills_hole(device: torch.device) -> None:
    generated, image = _images(device)
    mask = _centre_hole(device)
    out = overlay(generated, image, mask)
    known = mask.bool().expand_as(image)
    assert torch.equal(out[known], image[known])
    assert torch.equal(out[~known], generated[~known])


def test_poisson_keeps_known_pixels_bit_exact(device: torch.device) -> None:
    generated, image = _images(device)
    mask = _centre_hole(device)
    out = poisson_blend(generated, image, mask)
    assert out.dtype == image.dtype and out.device == image.device and out.shape == image.shape
    known = mask.bool().expand_as(image)
    assert torch.equal(out[known], image[known])
    assert not torch.equal(out[~known], generated[~known])


@pytest.mark.parametrize(
    "hole",
    [(slice(5, 11), slice(5, 11)), (slice(None), slice(0, 8))],
    ids=["centre", "left-half-touching-border"],
)
def test_poisson_constant_offset_is_reproduced(device: torch.device, hole: tuple[slice, slice]) -> None:
    generated, _ = _images(device)
    offset = torch.tensor([0.3, -0.2, 0.1], device=device).view(1, 3, 1, 1)
    image = generated + offset
    mask = torch.ones(1, 1, 16, 16, device=device)
    mask[(..., *hole)] = 0
    out = poisson_blend(generated, image, mask)
    torch.testing.assert_close(out, image, atol=1e-5, rtol=0)


def test_poisson_of_identical_images_is_identity(device: torch.device) -> None:
    generated, _ = _images(device)
    out = poisson_blend(generated, generated.clone(), _centre_hole(device))
    torch.testing.assert_close(out, generated, atol=1e-6, rtol=0)


def test_poisson_single_pixel_hole_by_hand(device: torch.device) -> None:
    # Image neighbours up/left/right/down: 0.2, -0.4, 0.6, 0.0 -> mean 0.1.
    # Generated centre 0.5, neighbours 0.1, 0.3, -0.1, 0.5 -> mean 0.2, so g_p - mean = 0.3.
    # Expected f_p = 0.1 + 0.3 = 0.4 (and -0.4 in the negated channel).
    # Corners (0.9) and the centre (-0.8) of the image must not matter.
    image = torch.tensor([[0.9, 0.2, 0.9], [-0.4, -0.8, 0.6], [0.9, 0.0, 0.9]])
    generated = torch.tensor([[0.7, 0.1, -0.9], [0.3, 0.5, -0.1], [0.8, 0.5, -0.6]])
    sign = torch.tensor([1.0, -1.0, 1.0]).view(3, 1, 1)
    image, generated = (image * sign)[None].to(device), (generated * sign)[None].to(device)
    mask = torch.ones(1, 1, 3, 3, device=device)
    mask[..., 1, 1] = 0
    out = poisson_blend(generated, image, mask)
    torch.testing.assert_close(out[0, :, 1, 1].cpu(), torch.tensor([0.4, -0.4, 0.4]), atol=1e-6, rtol=0)


def test_poisson_corner_pixel_uses_only_in_image_neighbours(device: torch.device) -> None:
    # Top-left hole: neighbours right 0.6 and down -0.2 -> mean 0.2; generated corner 0.1
    # with neighbours 0.5 and -0.1 -> mean 0.2, so g_p - mean = -0.1. Expected 0.2 - 0.1 = 0.1.
    image = torch.tensor([[0.0, 0.6], [-0.2, 0.9]]).expand(1, 3, 2, 2).to(device)
    generated = torch.tensor([[0.1, 0.5], [-0.1, -0.7]]).expand(1, 3, 2, 2).to(device)
    mask = torch.tensor([[0.0, 1.0], [1.0, 1.0]]).view(1, 1, 2, 2).to(device)
    out = poisson_blend(generated, image, mask)
    torch.testing.assert_close(out[0, :, 0, 0].cpu(), torch.full((3,), 0.1), atol=1e-6, rtol=0)


def test_poisson_random_sparse_mask(device: torch.device) -> None:
    gen = torch.Generator().manual_seed(1)
    mask = (torch.rand(2, 1, 64, 64, generator=gen) > 0.8).float().to(device)
    generated, _ = _images(device, size=64)
    offset = torch.tensor([0.3, -0.2, 0.1], device=device).view(1, 3, 1, 1)
    image = generated + offset
    out = poisson_blend(generated, image, mask)
    known = mask.bool().expand_as(image)
    assert torch.equal(out[known], image[known])
    torch.testing.assert_close(out, image, atol=1e-5, rtol=0)


def test_poisson_reproduces_harmonic_ramp(device: torch.device) -> None:
    # Linear functions have zero discrete Laplacian, so with Δg = 0 and Dirichlet data from
    # the image ramp, the unique solution in an interior hole is the image ramp itself.
    size = 16
    image = _ramp(size, 0.05, -0.03, -0.2).to(device)
    generated = _ramp(size, -0.04, 0.02, 0.4).to(device)
    out = poisson_blend(generated, image, _centre_hole(device, size=size, lo=3, hi=13))
    torch.testing.assert_close(out, image, atol=1e-5, rtol=0)


def test_poisson_hole_free_mask_returns_image(device: torch.device) -> None:
    generated, image = _images(device)
    out = poisson_blend(generated, image, torch.ones(1, 1, 16, 16, device=device))
    assert torch.equal(out, image)


def test_poisson_extra_batch_dim_and_float64(device: torch.device) -> None:
    generated, image = _images(device, n=4)
    generated, image = generated.double().view(2, 2, 3, 16, 16), image.double().view(2, 2, 3, 16, 16)
    mask = _centre_hole(device)
    out = poisson_blend(generated, image, mask)
    assert out.shape == image.shape and out.dtype == torch.float64
    flat = poisson_blend(generated.view(4, 3, 16, 16), image.view(4, 3, 16, 16), mask)
    assert torch.equal(out.view(4, 3, 16, 16), flat)


@pytest.mark.parametrize("threads", [1, 3])
def test_poisson_batch_equals_each_image_alone(device: torch.device, threads: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Images that share a mask share one factorisation: the batch must give, bit for bit, what
    # each image gets alone, whatever the mix of shared and own masks, and whether its three
    # masks are solved one after another or on three threads at once.
    monkeypatch.setattr(torch, "get_num_threads", lambda: threads)
    generated, image = _images(device, n=5)
    centre = _centre_hole(device)[0]
    own = (torch.rand(2, 1, 16, 16, generator=torch.Generator().manual_seed(2)) > 0.5).float().to(device)
    mask = torch.stack([centre, own[0], centre, own[1], centre])
    out = poisson_blend(generated, image, mask)
    for i in range(5):
        assert torch.equal(out[i : i + 1], poisson_blend(generated[i : i + 1], image[i : i + 1], mask[i : i + 1]))


def test_poisson_with_systems_factorised_ahead(device: torch.device, monkeypatch: pytest.MonkeyPatch) -> None:
    # factorise() gives one system per distinct hole (none for a hole-free mask); the blend given
    # them factorises nothing more and gives the same pixels as the blend that factorises itself.
    generated, image = _images(device, n=5)
    centre = _centre_hole(device)[0]
    own = (torch.rand(2, 1, 16, 16, generator=torch.Generator().manual_seed(2)) > 0.5).float().to(device)
    mask = torch.stack([centre, own[0], centre, own[1], torch.ones_like(centre)])
    systems, others = factorise(mask), factorise(1 - mask[:1])
    assert len(systems) == 3
    expected = poisson_blend(generated, image, mask)
    built = []
    real = blend_module._HoleSystem
    monkeypatch.setattr(blend_module, "_HoleSystem", lambda known: built.append(known) or real(known))
    assert torch.equal(poisson_blend(generated, image, mask, systems), expected)
    assert built == []
    # Systems of other holes are not used: the blend factorises its own.
    assert torch.equal(poisson_blend(generated, image, mask, others), expected)
    assert len(built) == 3


def test_factorised_meanwhile_only_for_poisson_on_a_gpu() -> None:
    # The systems are factorised beside the search on a GPU; on the CPU the search has the cores.
    mask = torch.stack([_centre_hole(torch.device("cpu"))[0]] * 2)
    fast = get_preset("fast")
    assert _factorised_meanwhile(mask, fast, torch.device("cpu")) is None
    assert _factorised_meanwhile(mask, fast.with_overrides(blend="overlay"), torch.device("cuda")) is None
    ahead = _factorised_meanwhile(mask, fast, torch.device("cuda"))  # no CUDA needed: the CPU factorises
    assert ahead is not None and list(ahead.result()) == list(factorise(mask))


@pytest.mark.parametrize("blend", [overlay, poisson_blend])
def test_bad_inputs_raise(blend: Callable[..., torch.Tensor], device: torch.device) -> None:
    generated, image = _images(device)
    mask = _centre_hole(device)
    with pytest.raises(InpaintInputError, match="same shape"):
        blend(generated[..., :8], image, mask)
    with pytest.raises(InpaintInputError, match=r"mask must have one channel.*got shape \(1, 3, 16, 16\)"):
        blend(generated, image, mask.expand(1, 3, 16, 16))
    with pytest.raises(InpaintInputError, match="not binary"):
        blend(generated, image, mask * 0.5)
    with pytest.raises(InpaintInputError, match=r"mask shape \(3, 1, 16, 16\) does not match the images \(2, 3, 16, 16\): expected \(2 or 1, 1, 16, 16\)"):
        blend(generated, image, mask.expand(3, 1, 16, 16))
    with pytest.raises(InpaintInputError, match=r"generated must be a torch.Tensor.*got list"):
        blend([0.0], image, mask)
    with pytest.raises(InpaintInputError, match=r"image must be a float tensor.*got dtype torch.int64"):
        blend(generated.long(), image.long(), mask)


def test_bad_devices_raise() -> None:
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    generated, image = _images(torch.device("cpu"))
    with pytest.raises(InpaintInputError, match=r"generated, image and mask are on cpu, cpu and cuda:0; move them to one device"):
        overlay(generated, image, _centre_hole(torch.device("cuda")))


def test_poisson_without_known_pixel_raises(device: torch.device) -> None:
    generated, image = _images(device)
    mask = torch.ones(2, 1, 16, 16, device=device)
    mask[1] = 0
    with pytest.raises(InpaintInputError, match="no known pixel"):
        poisson_blend(generated, image, mask)
