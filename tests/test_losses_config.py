"""losses: known values of the adversarial losses; config: one source, unknown keys refused."""
import math

import pytest
import torch
from easydict import EasyDict

from config import PRESETS, training_config
from losses import GeneratorLoss, discriminator_loss, needs_real_logits


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
    assert config.preset == preset and config.out_dir == f"runs/{preset}"
    if preset == "paper":
        gan = config.stages.srgan
        assert (gan.adversarial_loss, gan.adversarial_weight, gan.content_loss, gan.d_translate,
                gan.ema_decay) == ("vanilla", 1e-3, "vgg", 0, None)
        assert config.discriminator == {"arch": "srgan", "channels": 64, "fc_size": 1024}


@pytest.mark.parametrize("override, name", [
    ({"batchsize": 8}, "config.batchsize"),
    ({"stages": {"srgan": {"adversarial_wieght": 1}}}, "config.stages.srgan.adversarial_wieght"),
    ({"stages": {"srresnet": {"d_translate": 3}}}, "config.stages.srresnet.d_translate"),
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
