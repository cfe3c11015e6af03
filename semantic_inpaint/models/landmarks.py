"""A small differentiable 68-point landmark model: dlib's predictor distilled into a CNN.

dlib's shape predictor (Kazemi & Sullivan 2014) is a cascade of regression trees: its output
is piecewise constant in the pixels, so the thesis's landmark loss (eqs. 17-18) cannot steer
z. This CNN is trained (`semantic_inpaint.train.landmarks`) to reproduce dlib's 68 points on
masked 64x64 generator samples and faces, exactly as the loss sees them (missing pixels grey,
the whole frame as the face box), so it gives the landmark term a gradient.

Cost: about 16 M multiply-adds per image, a sixth of G's or D's 104 M, so the soft landmark
term adds little to an iteration of the search.
"""

from __future__ import annotations

from torch import Tensor, nn

N_POINTS = 68


def _block(c_in: int, c_out: int) -> list[nn.Module]:
    # Stride-2 4x4 convolutions as in the DCGAN's discriminator; batch norm + ReLU. ReLU
    # rather than LeakyReLU: the net is frozen when used, and either gives a gradient to z.
    return [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(True)]


class LandmarkNet(nn.Module):
    """(B, 3, 64, 64) in [-1, 1] -> (B, 68, 2) points (x, y) in pixels, as dlib gives them."""

    def __init__(self, width: int = 24) -> None:
        super().__init__()
        self.width = w = width
        self.features = nn.Sequential(*_block(3, w), *_block(w, 2 * w), *_block(2 * w, 4 * w), *_block(4 * w, 8 * w))
        self.head = nn.Linear(8 * w * 4 * 4, 2 * N_POINTS)

    def forward(self, x: Tensor) -> Tensor:
        # The head predicts offsets from the frame centre in units of half the frame, so
        # its initial output (about 0) is a plausible shape and the targets are O(1).
        half = x.shape[-1] / 2
        out = self.head(self.features(x).flatten(1)).view(-1, N_POINTS, 2)
        return half + half * out
