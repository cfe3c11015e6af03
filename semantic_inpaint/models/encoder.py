"""The encoder of the learned start (ours, after Lahiri et al., CVPR 2020): a damaged face and its
mask -> a latent z that G maps close to the whole face.

The latent search (eq. 14) starts from uniform noise and spends most of its steps finding the
neighbourhood of the answer; starting the candidates around E's guess lets a much shorter search
reach the same quality (the `fast` preset). E is trained for one generator
(`semantic_inpaint.train.encoder`) and is only valid with it: its manifest entry records that
generator's sha256.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class Encoder(nn.Module):
    """(image (B, 3, 64, 64) in [-1, 1], mask (B, 1, 64, 64), 1 = known) -> z (B, z_dim) in (-1, 1).

    The DCGAN discriminator's layout (stride-2 4x4 convolutions, LeakyReLU 0.2, batch norm
    after the first layer) on four channels: the known pixels (the hole grey, 0) and the mask.
    A tanh head keeps z inside the [-1, 1] box the search clamps to.
    """

    def __init__(self, z_dim: int = 100, width: int = 64) -> None:
        super().__init__()
        self.z_dim, self.width = z_dim, width
        w = width
        layers: list[nn.Module] = [nn.Conv2d(4, w, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
        for c in (w, 2 * w, 4 * w):
            layers += [nn.Conv2d(c, 2 * c, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * c), nn.LeakyReLU(0.2, inplace=True)]
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(8 * w * 4 * 4, z_dim)

    def forward(self, image: Tensor, mask: Tensor) -> Tensor:
        x = torch.cat([image * mask, mask], dim=1)
        return torch.tanh(self.head(self.features(x).flatten(1)))
