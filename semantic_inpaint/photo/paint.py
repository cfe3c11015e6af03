"""Paint the hole on a photo in Jupyter (JupyterLab 4, Notebook 7, VS Code), offline.

    from semantic_inpaint.photo import MaskPainter, complete_photo
    painter = MaskPainter("photo.jpg")   # shows the photo: paint the hole with the mouse
    result = complete_photo("photo.jpg", painter.mask)

The widget is an anywidget (PyPI `anywidget`, MIT; `pip install semantic-inpaint[notebook]`):
its JavaScript, `paint.js`, ships inside this package, so nothing is fetched at run time.
Tools: a round brush (its size in photo pixels), an eraser, a rectangle, and clear. The hole
travels between the browser and Python as a PNG at the photo's own size (`hole`, a data URL:
opaque where the hole is), so the mask is exact in photo pixels whatever size it is shown at.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
from PIL import Image

from semantic_inpaint.errors import InpaintInputError
from semantic_inpaint.photo.complete_photo import read_mask, read_photo

try:
    import anywidget
    import traitlets
except ImportError as e:  # the widget is optional: the rest of the library needs no Jupyter
    raise ImportError("the mask painter needs anywidget: pip install 'semantic-inpaint[notebook]' (or pip install anywidget)") from e

TOOLS = ("brush", "eraser", "rectangle")
ESM = Path(__file__).with_name("paint.js")  # the widget's front end, shipped in the package


def _data_url(picture: Image.Image) -> str:
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def hole_from_url(url: str, shape: tuple[int, int]) -> np.ndarray:
    """bool (H, W), True in the hole, from the widget's PNG data URL ('' = no hole).

    Painted edges are antialiased; a pixel is in the hole when it is at least half covered."""
    if not url:
        return np.zeros(shape, dtype=bool)
    picture = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGBA")
    hole = np.asarray(picture)[..., 3] >= 128
    if hole.shape != shape:
        raise InpaintInputError(f"the painted hole is {hole.shape[1]}x{hole.shape[0]}, the photo {shape[1]}x{shape[0]}")
    return hole


def hole_to_url(hole: np.ndarray) -> str:
    """The widget's PNG data URL of a bool (H, W) hole ('' when there is none)."""
    if not hole.any():
        return ""
    rgba = np.zeros((*hole.shape, 4), dtype=np.uint8)
    rgba[hole] = 255
    return _data_url(Image.fromarray(rgba, "RGBA"))


class MaskPainter(anywidget.AnyWidget):
    """A photo to paint the hole on; `mask` is the painted mask (1 = known, 0 = hole).

    photo: a path, PIL image or uint8 array, as `complete_photo` takes it (a file is shown
    upright, as its EXIF orientation says). brush: the brush's diameter in photo pixels.
    display_width: the widest the photo is shown, in screen pixels (it shrinks to fit).
    """

    _esm = ESM
    photo = traitlets.Unicode("").tag(sync=True)
    width = traitlets.Int(0).tag(sync=True)
    height = traitlets.Int(0).tag(sync=True)
    display_width = traitlets.Int(640).tag(sync=True)
    brush = traitlets.Int(16).tag(sync=True)
    tool = traitlets.Enum(TOOLS, default_value="brush").tag(sync=True)
    hole = traitlets.Unicode("").tag(sync=True)

    def __init__(self, photo: object, brush: int = 16, display_width: int = 640, **kwargs: object) -> None:
        if not (isinstance(brush, int) and brush >= 1):
            raise InpaintInputError(f"brush must be a whole number of photo pixels >= 1, got {brush!r}")
        pixels = read_photo(photo)
        self._shape = pixels.shape[:2]
        super().__init__(
            photo=_data_url(Image.fromarray(pixels)),
            width=pixels.shape[1],
            height=pixels.shape[0],
            brush=brush,
            display_width=display_width,
            **kwargs,
        )

    @property
    def mask(self) -> np.ndarray:
        """float32 (H, W) at the photo's size: 1 = known, 0 = the painted hole."""
        return (~hole_from_url(self.hole, self._shape)).astype(np.float32)

    @mask.setter
    def mask(self, mask: object) -> None:
        """Show a mask of the photo's size (1 = known, 0 = hole), e.g. to start from or to
        paint in code what a person would paint by hand. (`clear()` removes the hole.)"""
        self.hole = hole_to_url(~read_mask(mask, self._shape))

    def __repr__(self) -> str:
        # Not the traits: `photo` is the whole picture as a data URL.
        return f"MaskPainter({self.width}x{self.height} photo, brush {self.brush} px, hole {int((self.mask == 0).sum())} px)"

    def clear(self) -> None:
        """Remove the whole hole."""
        self.hole = ""


__all__ = ["MaskPainter", "hole_from_url", "hole_to_url"]
