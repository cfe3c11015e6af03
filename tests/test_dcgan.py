"""Folding batch norm into the convolutions (what the search does) keeps G and D the
same functions, forward and backward to the input."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from semantic_inpaint.models.dcgan import Discriminator, Generator, fold_batchnorm, freeze


def _with_batchnorm_statistics(module: nn.Module) -> nn.Module:
    """Random running statistics and affine parameters, so that no batch norm is the identity
    (freshly initialised ones have mean 0, variance 1)."""
    gen = torch.Generator().manual_seed(1)
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=gen))
            m.running_var.copy_(torch.rand(c, generator=gen) * 3 + 0.1)
            m.weight.data.copy_(torch.randn(c, generator=gen))
            m.bias.data.copy_(torch.randn(c, generator=gen))
    return freeze(module.double())


@pytest.mark.parametrize("net", ["G", "D"])
def test_folded_net_is_the_same_function_and_its_gradient(net):
    torch.manual_seed(0)
    module = _with_batchnorm_statistics(Generator(width=4) if net == "G" else Discriminator(width=4))
    x = torch.rand(5, 100, dtype=torch.float64) * 2 - 1 if net == "G" else torch.rand(5, 3, 64, 64, dtype=torch.float64) * 2 - 1
    x.requires_grad_(True)
    folded = fold_batchnorm(module)

    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    assert sum(isinstance(m, nn.BatchNorm2d) for m in module.modules()) == (4 if net == "G" else 3)  # the original is untouched
    out, out_folded = module(x), folded(x)
    torch.testing.assert_close(out_folded, out, rtol=1e-12, atol=1e-12)
    (grad,) = torch.autograd.grad(out.square().sum(), x)
    (grad_folded,) = torch.autograd.grad(out_folded.square().sum(), x)
    torch.testing.assert_close(grad_folded, grad, rtol=1e-10, atol=1e-12)
    # Frozen like the original: the search moves z only.
    assert not folded.training and not any(p.requires_grad for p in folded.parameters())


def test_fold_refuses_other_modules():
    with pytest.raises(TypeError, match="Generator or Discriminator"):
        fold_batchnorm(nn.Sequential(nn.Conv2d(3, 3, 1), nn.BatchNorm2d(3)))


def test_fold_uses_the_running_statistics_in_any_mode():
    # A module still in training mode (as a user might pass it) folds to its eval-mode function.
    torch.manual_seed(0)
    module = _with_batchnorm_statistics(Generator(width=4)).train()
    folded = fold_batchnorm(module)
    z = torch.rand(3, 100, dtype=torch.float64) * 2 - 1
    with torch.no_grad():
        torch.testing.assert_close(folded(z), module.eval()(z), rtol=1e-12, atol=1e-12)
