"""Image-quality metrics for the thesis tables: PSNR, SSIM and the landmark error of inpainted faces.

What the tables report
----------------------
Each inpainted image is scored against its ground truth *after the overlay of
the known pixels*, i.e. the candidate passed in is ``mask * truth + (1 - mask) *
generated``: outside the hole it equals the truth exactly.  This package does not
perform that overlay; the caller passes the blended image.

* **Whole image (primary figure)** -- ``psnr(x, y)`` and ``ssim(x, y)`` over
  the full 64x64 picture.  This is the number most inpainting papers report, so
  it is the headline column.  Because the known pixels are copied over, it
  depends on the hole size as well as on the fill.
* **Hole only (secondary)** -- ``psnr(x, y, region=hole(mask))`` and
  ``ssim(x, y, region=hole(mask))``, restricted to the missing pixels; it
  isolates the quality of the fill itself.
* **Landmark error** -- ``landmark_error(x, y)``, how far dlib's 68 face points
  on the inpainted face lie from those on the truth: whether the face's
  structure (eyes, nose, mouth, jaw) is where it should be.

One metric per module: `psnr.py`, `ssim.py`, `landmark_error.py`; `region.py`
holds `hole` and the check of a ``region``.

Conventions
-----------
* Images: float torch tensors with values in ``[0, data_range]`` (default
  ``data_range=1.0``), shape ``(N, 3, H, W)`` or a single ``(3, H, W)``.
* Masks: ``(N, 1, H, W)`` or ``(1, 1, H, W)`` (a single ``(1, H, W)`` is also
  accepted), float or bool, **1 = known pixel, 0 = missing (hole)**.
* Regions: bool tensors of the mask's shape, True where the metric is taken;
  ``hole(mask)`` gives the hole, ``mask.bool()`` the known pixels.
* Every metric returns a float64 CPU tensor of shape ``(N,)``, one value per
  image (N = 1 for a single ``(3, H, W)`` input).  PSNR and SSIM compute in
  float64 on the CPU whatever the inputs' dtype and device.
* Bad input raises :class:`semantic_inpaint.errors.InpaintInputError` naming
  the problem and the fix, before anything is computed (`semantic_inpaint.validate`).
"""

from semantic_inpaint.metrics.landmark_error import landmark_error
from semantic_inpaint.metrics.psnr import psnr
from semantic_inpaint.metrics.region import hole
from semantic_inpaint.metrics.ssim import ssim

__all__ = ["hole", "landmark_error", "psnr", "ssim"]
