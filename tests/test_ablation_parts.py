"""report/experiments/ablation_parts.py: the variants the GAN ablation measured, outside the core (published
parameter counts, the properties each was chosen for), and the ablation's variant table."""
import pytest
import torch
from easydict import EasyDict

import archs
from archs import build_discriminator
from archs.common import Blur121
from archs.discriminators import D_INPUTS
from config import training_config
from losses import GeneratorLoss, check_spec
import solver
from report.experiments import ablation_init, ablation_parts, gan_ablation


def test_icnr_sub_pixel_block_starts_as_nearest_neighbour_upsampling():
    torch.manual_seed(0)
    block = ablation_parts.ICNRSubPixelBlock(channels=4)
    out = block(torch.randn(1, 4, 5, 5))  # (1, 4, 10, 10)
    cells = out.reshape(1, 4, 5, 2, 5, 2)
    assert torch.allclose(cells, cells[:, :, :, :1, :, :1].expand_as(cells))  # constant 2x2 cells
    plain = archs.SubPixelBlock(channels=4)(torch.randn(1, 4, 5, 5)).reshape(1, 4, 5, 2, 5, 2)
    assert not torch.allclose(plain, plain[:, :, :, :1, :, :1].expand_as(plain))


@pytest.mark.parametrize("arch, kwargs, count", [
    ("patch", {}, 2_766_529),  # pix2pix's 70x70 PatchGAN (n_layers=3, 64 channels)
    ("unet", {}, 4_376_897),   # Real-ESRGAN's UNetDiscriminatorSN (64 channels)
    ("srgan_antialias", {}, 23_565_505),  # SRGAN's D: the blur has no parameters
])
def test_discriminator_parameter_counts(arch, kwargs, count):
    with torch.device("meta"):
        net = build_discriminator(arch, **kwargs)
    assert sum(p.numel() for p in net.parameters()) == count


@pytest.mark.parametrize("arch, kwargs, shape", [
    ("srgan_antialias", dict(channels=4, fc_size=8, spectral_norm=True, batch_norm=False), (2,)),
    ("patch", dict(channels=4, spectral_norm=True, batch_norm=False), (2, 1, 3, 3)),
    ("patch", dict(channels=4, antialias=True), (2, 1, 3, 3)),
    ("unet", dict(channels=4), (2, 1, 45, 45)),
])
def test_discriminator_variants_shapes(arch, kwargs, shape):
    assert build_discriminator(arch, **kwargs)(torch.randn(2, 3, 45, 45)).shape == shape


def test_spectral_norm_bounds_each_layer():
    torch.manual_seed(0)
    net = ablation_parts.UNetDiscriminator(channels=4)
    net.train()
    for _ in range(30):  # power iterations converge during forward passes in training mode
        net(torch.randn(1, 3, 16, 16))
    weight = net.down[0].weight.detach().flatten(1)
    assert torch.linalg.matrix_norm(weight, ord=2) == pytest.approx(1.0, abs=0.05)


def test_blur_downsample_removes_the_grid_frequency():
    stripes = torch.tensor([1.0, -1.0] * 8).repeat(1, 1, 16, 1)  # period 2 along x
    assert Blur121(padding="reflect", stride=2)(stripes).abs().max() < 1e-6
    assert torch.allclose(Blur121(padding="reflect", stride=2)(torch.ones(1, 1, 8, 8)), torch.ones(1, 1, 4, 4))
    net = ablation_parts.PatchDiscriminator(channels=4, antialias=True)
    assert net(torch.randn(1, 3, 32, 32)).shape == (1, 1, 2, 2)
    assert any(isinstance(m, Blur121) for m in build_discriminator("srgan_antialias", channels=4).modules())


def test_random_translate_shifts_within_range_and_keeps_gradients():
    torch.manual_seed(0)
    x = torch.arange(16.0).repeat(4, 3, 16, 1).requires_grad_()
    y = ablation_parts.random_translate(x, 3)
    assert y.shape == x.shape and ablation_parts.random_translate(x, 0) is x
    shift = (y[:, 0, 5, 5] - x[:, 0, 5, 5]).detach()
    assert shift.abs().max() <= 3 and len(set(shift.tolist())) > 1  # per-image offsets
    y.sum().backward()
    assert x.grad is not None


def test_luma_view_keeps_gray_and_gives_colour_changes_at_constant_luma_no_gradient():
    gray = torch.rand(2, 1, 8, 8).expand(2, 3, 8, 8)
    torch.testing.assert_close(ablation_parts.luma(gray), gray)
    red = torch.zeros(1, 3, 2, 2)
    red[:, 0] = 1
    torch.testing.assert_close(ablation_parts.luma(red), torch.full((1, 3, 2, 2), 0.299))
    # whatever D does with the view, its gradient on the input is the luma weights times one
    # map: a change of colour that keeps the luma (orthogonal to them) gets no gradient
    torch.manual_seed(0)
    x = torch.rand(2, 3, 8, 8, requires_grad=True)
    conv = torch.nn.Conv2d(3, 1, 3)
    conv(D_INPUTS["luma"](x)).tanh().sum().backward()
    weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    torch.testing.assert_close(x.grad, weights * x.grad.sum(1, keepdim=True))


def test_gray_highpass_view_removes_flat_images():
    flat = torch.full((1, 3, 16, 16), 0.3)
    torch.testing.assert_close(ablation_parts.gray_highpass(flat), torch.zeros_like(flat))


def test_lr_mse_ignores_what_the_downscale_removes_and_sees_the_rest():
    from imresize import imresize_torch

    torch.manual_seed(0)
    loss = GeneratorLoss(EasyDict(content=dict(type="lr_mse", weight=1.0)), mode="pretrain")
    hr = torch.rand(1, 3, 32, 32) * 2 - 1
    checkerboard = 0.3 * (1 - 2 * ((torch.arange(32)[:, None] + torch.arange(32)[None, :]) % 2))
    assert loss(hr + checkerboard, hr)[0].item() < 1e-3 * torch.nn.functional.mse_loss(hr + checkerboard, hr).item()
    darker = hr - 0.2
    expected = torch.nn.functional.mse_loss(imresize_torch(darker, 0.25), imresize_torch(hr, 0.25))
    assert loss(darker, hr)[0].item() == pytest.approx(expected.item()) and expected.item() > 0.03


def test_chromaticity_sees_a_gray_shift_of_a_coloured_pixel_only():
    gray, brown = torch.zeros(1, 3, 1, 1), torch.tensor([0.0, -0.4, -0.8]).view(1, 3, 1, 1)
    assert torch.allclose(ablation_parts.chromaticity(gray), torch.full((1, 3, 1, 1), 1 / 3))
    assert torch.allclose(ablation_parts.chromaticity(gray - 0.5), torch.full((1, 3, 1, 1), 1 / 3))
    darker = ablation_parts.chromaticity(brown - 0.1)[0, :, 0, 0]  # the same in each channel
    assert darker[0] > ablation_parts.chromaticity(brown)[0, 0, 0, 0]  # R's share rises
    loss = GeneratorLoss(EasyDict(content=dict(type="mse_chromaticity", weight=1.0)), mode="pretrain")
    mse = torch.nn.functional.mse_loss(brown - 0.1, brown).item()
    assert loss(brown, brown)[0].item() == 0 and loss(brown - 0.1, brown)[0].item() > mse


def test_texture_loss_sees_texture_statistics_not_brightness_nor_colour():
    torch.manual_seed(0)
    filters = ablation_parts.random_texture_filters()
    assert [tuple(w.shape) for w in filters] == [(32, 1, k, k) for k in (3, 5, 7, 11)]
    assert all(torch.equal(a, b) for a, b in zip(filters, ablation_parts.random_texture_filters()))  # fixed
    stripes = 0.5 * torch.sin(torch.arange(32.0) * 1.3).view(1, 1, 1, 32).expand(1, 3, 32, 32)  # vertical
    assert ablation_parts.texture_grams(stripes).shape == (4, 128, 128)  # four 16 x 16 tiles, 128 filters
    loss = ablation_parts.texture_loss
    assert loss(stripes, stripes).item() == 0
    assert loss(stripes + 0.3, stripes).item() < 1e-12  # zero-mean filters, reflected borders
    assert loss(stripes.roll(3, dims=-1), stripes).item() < 0.1 * loss(stripes.transpose(-1, -2), stripes).item()
    assert loss(torch.zeros_like(stripes), stripes).item() > 0  # flat where HR has texture
    sr = (stripes + 0.1 * torch.randn(1, 3, 32, 32)).requires_grad_()
    loss(sr, stripes).backward()  # the loss sees the channels' mean: the same gradient on each
    assert sr.grad.abs().max() > 0 and torch.allclose(sr.grad[:, :1].expand_as(sr.grad), sr.grad)
    content = GeneratorLoss(EasyDict(content=dict(type="mse_texture_1000", weight=1.0)), mode="pretrain")
    mse = torch.nn.functional.mse_loss(stripes.roll(3, dims=-1), stripes).item()
    assert content(stripes.roll(3, dims=-1), stripes)[0].item() == pytest.approx(
        mse + 1000 * loss(stripes.roll(3, dims=-1), stripes).item())


@pytest.mark.parametrize("name", sorted(gan_ablation.VARIANTS))
def test_every_ablation_variant_builds(name):
    """Each variant's GAN stage passes the solver's checks (a term that needs another key fails
    there, not after pretraining) and builds its networks."""
    config = training_config("sample", gan_ablation.BASE, gan_ablation.VARIANTS[name], {"device": "cpu"})
    check_spec(config.stages.gan.loss, "gan")
    assert config.stages.gan.d_input in D_INPUTS
    solver.build_training(config, config.stages.gan, torch.device("cpu"))


@pytest.mark.parametrize("init", [False, True])
def test_init_ablation_runs_the_stage_it_describes(init, tmp_path):
    """report/experiments/ablation_init.py: pixel MSE + 1e-3 adversarial on the 4-block sub-pixel generator,
    none of the later terms, the preset's own later changes included."""
    config = ablation_init.gan_config(tmp_path, iterations=10, init=init)
    loss = config.stages.gan.loss
    assert loss.content == {"type": "mse", "weight": 1.0} and loss.adversarial == {"type": "vanilla", "weight": 1e-3}
    assert not any(loss[term] for term in ("grid", "feature_matching", "artifacts", "gradient", "flat"))
    assert (config.generator.n_blocks, config.generator.upsampler, config.stages.gan.ema_decay) == (4, "subpixel", None)
    assert config.stages.gan.init_from == ("srresnet" if init else None)
    solver.build_training(config, config.stages.gan, torch.device("cpu"))
