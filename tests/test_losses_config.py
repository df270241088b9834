"""losses: known values of the adversarial losses; config: one source, unknown keys refused."""
import math

import pytest
import torch
from easydict import EasyDict

from archs import build_discriminator, build_generator
from config import PRESETS, srcnn_config, training_config
from losses import GeneratorLoss, discriminator_loss, feature_matching_loss, needs_real_logits


def n_params(module):
    return sum(p.numel() for p in module.parameters())


def test_vanilla_losses_known_values():
    zero = torch.zeros(4)
    real, fake = discriminator_loss("vanilla", zero, zero)
    assert real.item() == pytest.approx(math.log(2)) and fake.item() == pytest.approx(math.log(2))
    loss, terms = GeneratorLoss(EasyDict(adversarial_weight=0.5))(torch.zeros(1, 3, 4, 4),
                                                                   torch.ones(1, 3, 4, 4), zero)
    assert terms["content_loss"].item() == 1.0 and terms["adversarial_loss"].item() == pytest.approx(math.log(2))
    assert loss.item() == pytest.approx(1 + 0.5 * math.log(2))


def test_relativistic_losses_depend_only_on_the_gap():
    real, fake = torch.full((2, 1, 3, 3), 2.0), torch.full((2, 1, 3, 3), -1.0)
    d_real, d_fake = discriminator_loss("relativistic", real, fake)
    softplus = lambda x: math.log1p(math.exp(x))  # noqa: E731  BCE(x, 1) = softplus(-x)
    assert d_real.item() == pytest.approx(softplus(-3) / 2) and d_fake.item() == pytest.approx(softplus(-3) / 2)
    shifted = discriminator_loss("relativistic", real + 5, fake + 5)
    assert shifted[0].item() == pytest.approx(d_real.item())
    loss = GeneratorLoss(EasyDict(adversarial_loss="relativistic", adversarial_weight=1.0))
    _, terms = loss(torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 4, 4), fake, real)
    assert terms["adversarial_loss"].item() == pytest.approx(softplus(3))
    assert needs_real_logits("relativistic") and not needs_real_logits("vanilla")


def test_feature_matching_known_values():
    maps = [torch.zeros(2, 4, 8, 8), torch.zeros(2, 8, 4, 4)]
    assert feature_matching_loss(maps, maps).item() == 0
    # the mean over layers of each layer's mean absolute difference: (1 + 3) / 2
    other = [torch.ones(2, 4, 8, 8), torch.full((2, 8, 4, 4), -3.0)]
    assert feature_matching_loss(other, maps).item() == pytest.approx(2.0)
    loss = GeneratorLoss(EasyDict(adversarial_weight=0.0, feature_matching_weight=0.5))
    total, terms = loss(torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 4, 4), torch.zeros(1),
                        torch.zeros(1), other, maps)
    assert terms["feature_matching_loss"].item() == pytest.approx(2.0) and total.item() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="2 feature maps of the output, 1 of HR"):
        feature_matching_loss(other, maps[:1])


@pytest.mark.parametrize("stage, message", [
    (dict(content_loss="ssim"), "content_loss must be one of"),
    (dict(adversarial_loss="wgan"), "adversarial_loss must be one of"),
    (dict(content_loss="vgg"), "needs the VGG19"),
])
def test_bad_loss_names_are_clear_errors(stage, message):
    with pytest.raises(ValueError, match=message):
        GeneratorLoss(EasyDict(stage))


def test_l1_content_loss():
    _, terms = GeneratorLoss(EasyDict(content_loss="l1"))(torch.zeros(1, 3, 2, 2), torch.full((1, 3, 2, 2), 0.5))
    assert terms["content_loss"].item() == pytest.approx(0.5)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_presets_build_and_paper_keeps_the_paper_gan(preset):
    config = training_config(preset)
    data = preset.split("_")[0] if preset.startswith(("sample", "shared")) else "paper"
    assert config.preset == preset and config.out_dir == f"runs/{data}"
    with torch.device("meta"):  # every preset's networks build (nothing allocated)
        generator = build_generator(scale=config.scale, **config.generator)
        if config.stages.gan.iterations:
            build_discriminator(**config.discriminator)
    assert generator.receptive_radius > 0
    if preset == "esrgan":  # the paper's recipe
        pre, gan = config.stages.pretrain, config.stages.gan
        assert (pre.content_loss, pre.lr_g, pre.gamma, pre.milestones[0]) == ("l1", 2e-4, 0.5, 2e5)
        assert (gan.content_loss, gan.vgg_before_activation, gan.vgg_distance, gan.pixel_loss,
                gan.adversarial_loss, gan.adversarial_weight, gan.lr_g, gan.iterations,
                gan.milestones, config.hr_patch, config.batch_size) == (
            "vgg", True, "l1", "l1", "relativistic", 5e-3, 1e-4, 4e5, [5e4, 1e5, 2e5, 3e5], 128, 16)
        assert n_params(generator) == 16_697_987
    if preset in ("sample", "shared"):  # report section 5d's recipe
        gan = config.stages.gan
        assert (config.generator.upsampler, gan.grid_weight, gan.ema_decay, gan.d_input) == (
            "resize", 1e2, 0.99, "rgb")
    if preset == "sample_esrgan":  # section 7c
        assert config.stages.gan.ema_decay == 0.99
    if preset == "paper":
        gan = config.stages.gan
        assert (gan.adversarial_loss, gan.adversarial_weight, gan.content_loss, gan.d_translate,
                gan.ema_decay) == ("vanilla", 1e-3, "vgg", 0, None)
        assert config.discriminator == {"arch": "srgan", "channels": 64, "fc_size": 1024}


@pytest.mark.parametrize("override, name", [
    ({"batchsize": 8}, "config.batchsize"),
    ({"stages": {"gan": {"adversarial_wieght": 1}}}, "config.stages.gan.adversarial_wieght"),
    ({"stages": {"pretrain": {"d_translate": 3}}}, "config.stages.pretrain.d_translate"),
])
def test_unknown_keys_are_errors_naming_the_key(override, name):
    with pytest.raises(KeyError, match=name.replace(".", r"\.")):
        training_config("sample", override)


def test_another_discriminator_arch_replaces_its_kwargs():
    config = training_config("sample", {"discriminator": {"arch": "unet", "channels": 8}})
    assert config.discriminator == {"arch": "unet", "channels": 8}
    config = training_config("sample", {"discriminator": {"spectral_norm": True}})
    assert config.discriminator.spectral_norm and "arch" in config.discriminator


def test_discriminator_outputs_are_relativistic_for_the_relativistic_loss():
    from losses import discriminator_outputs

    real, fake = torch.full((3,), 102.0), torch.full((3,), 100.0)  # drifted logits, gap 2
    d_real, d_fake = discriminator_outputs("relativistic", real, fake)
    assert d_real.item() == pytest.approx(1 / (1 + math.exp(-2))) and d_fake.item() == pytest.approx(1 / (1 + math.exp(2)))
    assert discriminator_outputs("vanilla", real, fake)[1].item() == pytest.approx(1.0)


def test_lr_mse_ignores_what_the_downscale_removes_and_sees_the_rest():
    from imresize import imresize_torch

    torch.manual_seed(0)
    loss = GeneratorLoss(EasyDict(content_loss="lr_mse"), scale=4)
    hr = torch.rand(1, 3, 32, 32) * 2 - 1
    checkerboard = 0.3 * (1 - 2 * ((torch.arange(32)[:, None] + torch.arange(32)[None, :]) % 2))
    assert loss(hr + checkerboard, hr)[0].item() < 1e-3 * torch.nn.functional.mse_loss(hr + checkerboard, hr).item()
    darker = hr - 0.2
    expected = torch.nn.functional.mse_loss(imresize_torch(darker, 0.25), imresize_torch(hr, 0.25))
    assert loss(darker, hr)[0].item() == pytest.approx(expected.item()) and expected.item() > 0.03


def test_srcnn_baseline_shares_the_run_data_and_folder():
    config = training_config("sample", {"out_dir": "elsewhere", "srcnn": {"iterations": 7}})
    baseline = srcnn_config(config)
    assert baseline.generator == {"arch": "srcnn"} and baseline.out_dir == "elsewhere"
    assert baseline.stages.pretrain.name == "srcnn" and baseline.stages.pretrain.iterations == 7
    assert baseline.stages.gan.iterations == 0 and baseline.train_list == config.train_list
    assert srcnn_config(training_config("sample_esrgan")) is None


def test_esrgan_losses_compose_with_their_weights():
    stage = EasyDict(content_loss="vgg", vgg_loss_scale=1.0, vgg_distance="l1",
                     pixel_loss="l1", pixel_weight=0.5, adversarial_loss="relativistic",
                     adversarial_weight=0.25)
    loss = GeneratorLoss(stage, feature_net=lambda x: 2 * x)
    sr, hr = torch.zeros(1, 3, 2, 2), torch.full((1, 3, 2, 2), 0.5)
    fake, real = torch.zeros(1), torch.zeros(1)
    total, terms = loss(sr, hr, fake, real)
    assert terms["content_loss"].item() == pytest.approx(1.0)  # L1 of the features 0 vs 1
    assert terms["pixel_loss"].item() == pytest.approx(0.5)
    assert terms["adversarial_loss"].item() == pytest.approx(math.log(2))  # both sides at 0.5
    assert total.item() == pytest.approx(1.0 + 0.5 * 0.5 + 0.25 * math.log(2))


def test_grid_loss_sees_a_pattern_on_the_grid_and_nothing_else():
    from losses import grid_loss

    torch.manual_seed(0)
    hr = torch.randn(2, 3, 16, 16)
    pattern = torch.zeros(1, 1, 4, 4)
    pattern[..., 0, 0] = 1.0
    pattern = pattern - pattern.mean()  # zero mean per block: invisible to the block means
    assert grid_loss(hr + pattern.repeat(1, 1, 4, 4), hr).item() == pytest.approx((pattern ** 2).mean().item())
    assert grid_loss(hr + 0.3, hr).item() == pytest.approx(0.0, abs=1e-12)  # a shift: not on the grid
    shifted = torch.roll(hr, 1, dims=-1)
    assert grid_loss(hr, hr).item() == 0 and grid_loss(shifted, hr).item() > 0
    loss, terms = GeneratorLoss(EasyDict(grid_weight=10.0), scale=4)(hr + pattern.repeat(1, 1, 4, 4), hr)
    assert terms["grid_loss"].item() == pytest.approx((pattern ** 2).mean().item())
    assert loss.item() == pytest.approx(terms["content_loss"].item() + 10 * terms["grid_loss"].item())
