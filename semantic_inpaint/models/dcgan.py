"""The 64x64 DCGAN of the thesis (section 2.3, 3.3; Radford et al. 2016).

Generator: z in R^100 (uniform in [-1, 1]) is projected to 4x4x(8w), then four transposed
convolutions double the size and halve the channels to 64x64x3; batch norm on every layer but
the output, tanh output. The thesis writes LeakyReLU for the generator too; we use ReLU as
Radford et al. do, which also lets the generator warm-start from the PyTorch-tutorial DCGAN.

Discriminator: the mirror image with strided convolutions, LeakyReLU 0.2, no batch norm on
the input layer, one logit out (the sigmoid is applied by the losses, from the logit, for
numerical stability).
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor, nn
from torch.nn.utils.fusion import fuse_conv_bn_weights

Z_DIM = 100
IMAGE_SIZE = 64


class Generator(nn.Module):
    """G: (B, z_dim) in [-1, 1] -> (B, 3, 64, 64) in [-1, 1]."""

    def __init__(self, z_dim: int = Z_DIM, width: int = 64, channels: int = 3) -> None:
        super().__init__()
        self.z_dim, self.width = z_dim, width
        w = width
        self.layers = nn.Sequential(
            nn.ConvTranspose2d(z_dim, w * 8, 4, 1, 0, bias=False),  # 1x1 -> 4x4: the projection
            nn.BatchNorm2d(w * 8),
            nn.ReLU(True),
            nn.ConvTranspose2d(w * 8, w * 4, 4, 2, 1, bias=False),  # 8x8
            nn.BatchNorm2d(w * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(w * 4, w * 2, 4, 2, 1, bias=False),  # 16x16
            nn.BatchNorm2d(w * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(w * 2, w, 4, 2, 1, bias=False),  # 32x32
            nn.BatchNorm2d(w),
            nn.ReLU(True),
            nn.ConvTranspose2d(w, channels, 4, 2, 1, bias=False),  # 64x64
            nn.Tanh(),
        )
        init_weights(self)

    def forward(self, z: Tensor) -> Tensor:
        return self.layers(z.reshape(z.shape[0], self.z_dim, 1, 1))


class Discriminator(nn.Module):
    """D: (B, 3, 64, 64) in [-1, 1] -> (B,) logits; D(x) = sigmoid(logit)."""

    def __init__(self, width: int = 64, channels: int = 3) -> None:
        super().__init__()
        self.width = width
        w = width
        self.layers = nn.Sequential(
            nn.Conv2d(channels, w, 4, 2, 1, bias=False),  # 32x32, no batch norm on the input layer
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(w, w * 2, 4, 2, 1, bias=False),  # 16x16
            nn.BatchNorm2d(w * 2),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(w * 2, w * 4, 4, 2, 1, bias=False),  # 8x8
            nn.BatchNorm2d(w * 4),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(w * 4, w * 8, 4, 2, 1, bias=False),  # 4x4
            nn.BatchNorm2d(w * 8),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(w * 8, 1, 4, 1, 0, bias=False),  # 1x1: the logit
        )
        init_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x).flatten()


def init_weights(module: nn.Module) -> None:
    """N(0, 0.02) for convolutions, N(1, 0.02) and zero bias for batch norm (Radford et al.)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def freeze(module: nn.Module) -> nn.Module:
    """Ready `module` for the search, in place: eval mode (batch norm on running statistics),
    no weight gradients (the search only moves z) and channels_last weights, so activations
    flow in NHWC, the layout oneDNN and cuDNN compute convolutions in: with NCHW, oneDNN
    reorders every activation in and out of each convolution (measured 1.2x slower per search
    step on a 2-core Intel Xeon CPU, docs/performance.md)."""
    module.to(memory_format=torch.channels_last)
    module.eval()
    for p in module.parameters():
        p.requires_grad_(False)
    return module


def frozen(module: nn.Module, device: torch.device) -> nn.Module:
    """`module` ready for the search on `device` without changing the caller's network: itself
    if it is already frozen there (the shipped weights are: `load_pretrained` freezes them), else
    a frozen copy. Freezing a network the caller is still training, in place, would silently stop
    its training: no gradients reach weights that do not require them."""
    if device.type == "cuda" and device.index is None:  # 'cuda': the current one, as .to() takes it
        device = torch.device("cuda", torch.cuda.current_device())
    weights = list(module.parameters())
    if not module.training and not any(w.requires_grad for w in weights) and all(w.device == device for w in weights):
        return module
    return freeze(copy.deepcopy(module).to(device))


def fold_batchnorm(module: Generator | Discriminator) -> Generator | Discriminator:
    """A frozen copy of G or D with each batch norm folded into the convolution before it.

    In eval mode batch norm is a fixed affine map per channel, y = a x + b with
    a = gamma / sqrt(var + eps), b = beta - a * mean, so conv-then-BN is one convolution with
    weights scaled by a (per output channel) and bias b: the same function up to fp32
    round-off, without batch norm's passes over the activations forward and backward.
    PyTorch's `fuse_conv_bn_weights` does the arithmetic; it uses the running statistics
    whatever the module's mode.
    """
    if not isinstance(module, (Generator, Discriminator)):
        raise TypeError(f"fold_batchnorm folds the DCGAN's Generator or Discriminator, got {type(module).__name__}")
    folded = copy.deepcopy(module)
    out: list[nn.Module] = []
    for layer in folded.layers:
        conv = out[-1] if out else None
        if isinstance(layer, nn.BatchNorm2d) and isinstance(conv, (nn.Conv2d, nn.ConvTranspose2d)):
            with torch.no_grad():
                # Output channels are dim 0 of a Conv2d weight, dim 1 of a ConvTranspose2d's.
                conv.weight, conv.bias = fuse_conv_bn_weights(
                    conv.weight, conv.bias, layer.running_mean, layer.running_var, layer.eps, layer.weight, layer.bias,
                    transpose=isinstance(conv, nn.ConvTranspose2d),
                )
        else:
            out.append(layer)
    folded.layers = nn.Sequential(*out)
    return freeze(folded)


def sample_z(n: int, z_dim: int = Z_DIM, generator: torch.Generator | None = None) -> Tensor:
    """z ~ U[-1, 1]^z_dim, the prior the DCGAN is trained with (so the search's clamp stays in range)."""
    return torch.rand(n, z_dim, generator=generator) * 2 - 1
