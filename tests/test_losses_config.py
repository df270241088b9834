"""losses: known values of the adversarial losses; config: one source, unknown keys refused."""
import math

import pytest
import torch
from easydict import EasyDict

from archs import build_discriminator, build_generator
from config import PRESETS, srcnn_config, training_config
from losses import GeneratorLoss, discriminator_loss, feature_matching_loss, gradient_map, needs_real_logits


def n_params(module):
    return sum(p.numel() for p in module.parameters())


def spec(**terms):
    """A GAN stage's loss spec: pixel-MSE content (weight 1), vanilla adversarial at 1e-3, then
    ``terms`` (dicts replace, None removes)."""
    return EasyDict(dict(content=dict(type="mse", weight=1.0),
                         adversarial=dict(type="vanilla", weight=1e-3)), **terms)


def test_vanilla_losses_known_values():
    zero = torch.zeros(4)
    real, fake = discriminator_loss("vanilla", zero, zero)
    assert real.item() == pytest.approx(math.log(2)) and fake.item() == pytest.approx(math.log(2))
    loss, terms = GeneratorLoss(spec(adversarial=dict(type="vanilla", weight=0.5)))(
        torch.zeros(1, 3, 4, 4), torch.ones(1, 3, 4, 4), zero)
    assert terms["content_loss"].item() == 1.0 and terms["adversarial_loss"].item() == pytest.approx(math.log(2))
    assert loss.item() == pytest.approx(1 + 0.5 * math.log(2))


def test_relativistic_losses_depend_only_on_the_gap():
    real, fake = torch.full((2, 1, 3, 3), 2.0), torch.full((2, 1, 3, 3), -1.0)
    d_real, d_fake = discriminator_loss("relativistic", real, fake)
    softplus = lambda x: math.log1p(math.exp(x))  # noqa: E731  BCE(x, 1) = softplus(-x)
    assert d_real.item() == pytest.approx(softplus(-3) / 2) and d_fake.item() == pytest.approx(softplus(-3) / 2)
    shifted = discriminator_loss("relativistic", real + 5, fake + 5)
    assert shifted[0].item() == pytest.approx(d_real.item())
    loss = GeneratorLoss(spec(adversarial=dict(type="relativistic", weight=1.0)))
    _, terms = loss(torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 4, 4), fake, real)
    assert terms["adversarial_loss"].item() == pytest.approx(softplus(3))
    assert needs_real_logits("relativistic") and not needs_real_logits("vanilla")


def test_feature_matching_known_values():
    maps = [torch.zeros(2, 4, 8, 8), torch.zeros(2, 8, 4, 4)]
    assert feature_matching_loss(maps, maps).item() == 0
    # the mean over layers of each layer's mean absolute difference: (1 + 3) / 2
    other = [torch.ones(2, 4, 8, 8), torch.full((2, 8, 4, 4), -3.0)]
    assert feature_matching_loss(other, maps).item() == pytest.approx(2.0)
    loss = GeneratorLoss(spec(adversarial=dict(type="vanilla", weight=0.0),
                              feature_matching=dict(weight=0.5)))
    total, terms = loss(torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 4, 4), torch.zeros(1),
                        torch.zeros(1), other, maps)
    assert terms["feature_matching_loss"].item() == pytest.approx(2.0) and total.item() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="2 feature maps of the output, 1 of HR"):
        feature_matching_loss(other, maps[:1])


@pytest.mark.parametrize("slope", [0.0, 0.05, 0.5])
def test_gradient_loss_known_values(slope):
    # a horizontal ramp of ``slope`` per pixel: central differences 2 * slope across, 0 down
    ramp = (slope * torch.arange(16.0)).expand(1, 3, 16, 16)
    magnitude = math.sqrt((2 * slope) ** 2 + 1e-6)
    assert gradient_map(ramp).shape == (1, 3, 14, 14)
    assert torch.allclose(gradient_map(ramp), torch.full((1, 3, 14, 14), magnitude))
    loss = GeneratorLoss(spec(adversarial=dict(type="vanilla", weight=0.0), gradient=dict(weight=2.0)))
    total, terms = loss(ramp, torch.zeros(1, 3, 16, 16), torch.zeros(1))
    assert terms["gradient_loss"].item() == pytest.approx(magnitude - 1e-3, rel=1e-6, abs=1e-7)
    assert total.item() == pytest.approx(terms["content_loss"].item() + 2 * terms["gradient_loss"].item())
    # a sign flip or a shift of the ramp changes the pixels, not the gradient map
    assert loss(-ramp, ramp, torch.zeros(1))[1]["gradient_loss"].item() == 0


def test_flat_term_is_the_mse_on_the_flat_regions_alone():
    sr, hr = torch.zeros(1, 3, 4, 4), torch.ones(1, 3, 4, 4)
    flat = torch.zeros(1, 1, 4, 4)
    flat[..., :, :1] = 1  # one column of four is flat
    loss = GeneratorLoss(spec(adversarial=dict(type="vanilla", weight=0.0), flat=dict(weight=10.0)))
    total, terms = loss(sr, hr, torch.zeros(1), flat=flat)
    assert terms["flat_loss"].item() == pytest.approx(0.25)  # a squared error of 1 on a quarter of the pixels
    assert total.item() == pytest.approx(1.0 + 10 * 0.25)
    assert "flat_loss" not in loss(sr, hr, torch.zeros(1))[1]  # no map: no term


@pytest.mark.parametrize("terms, message", [
    (dict(content=dict(type="ssim", weight=1.0)), r"stage.loss.content.type must be one of \[.*'vgg'\], got 'ssim'"),
    (dict(adversarial=dict(type="wgan", weight=1.0)), "stage.loss.adversarial.type must be one of"),
    (dict(content=dict(type="vgg", weight=1.0)), "needs the VGG19"),
    (dict(content=dict(type="vgg", weight=1.0, distance="l2")),
     r"stage.loss.content.distance must be one of \['l1', 'mse'\]"),
    (dict(content=dict(type="mse", weight=1.0, distance="l1")),
     "stage.loss.content takes no 'distance' \\(type 'mse'\\)"),
    (dict(grid=dict(type="l1")), "stage.loss.grid needs a weight"),
    (dict(perceptual=dict(weight=1.0)), "stage.loss.perceptual is not a loss term"),
    (dict(adversarial=None), "a GAN stage needs stage.loss.adversarial"),
    (dict(flat=dict(weight=1.0, threshold=0.1)), "stage.loss.flat takes no 'threshold'"),
])
def test_bad_loss_specs_are_clear_errors(terms, message):
    with pytest.raises(ValueError, match=message):
        GeneratorLoss(spec(**terms))


def test_l1_content_loss_and_pretraining_without_adversary():
    loss = GeneratorLoss(EasyDict(content=dict(type="l1", weight=2.0)), mode="pretrain")
    total, terms = loss(torch.zeros(1, 3, 2, 2), torch.full((1, 3, 2, 2), 0.5))
    assert terms == {"content_loss": pytest.approx(0.5)} and total.item() == pytest.approx(1.0)


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
        assert (pre.loss.content, pre.lr_g, pre.gamma, pre.milestones[0]) == (
            {"type": "l1", "weight": 1.0}, 2e-4, 0.5, 2e5)
        assert gan.loss == {"content": {"type": "vgg", "weight": 1.0, "scale": 1.0, "distance": "l1",
                                        "before_activation": True},
                            "pixel": {"type": "l1", "weight": 5e-3},
                            "adversarial": {"type": "relativistic", "weight": 5e-3},
                            "grid": None, "feature_matching": None, "artifacts": None,
                            "gradient": None, "flat": None}
        assert (gan.lr_g, gan.iterations, gan.milestones, config.hr_patch, config.batch_size) == (
            1e-4, 4e5, [5e4, 1e5, 2e5, 3e5], 128, 16)
        assert n_params(generator) == 16_697_987
    if preset in ("sample", "shared"):  # report/notes: moving-average, speckle
        gan = config.stages.gan
        assert (config.generator.upsampler, gan.loss.grid, gan.ema_decay, gan.d_input,
                gan.loss.feature_matching, gan.loss.artifacts, gan.loss.content, gan.d_regions,
                gan.loss.flat) == (
            "resize", {"weight": 1e2}, 0.99, "gray", {"weight": 0.3},
            {"weight": {"sample": 100.0, "shared": 30.0}[preset]},  # notes: iris-rim
            {"type": "mse", "weight": 3.0}, {"threshold": 0.025},
            {"weight": 10.0})
    if preset == "sample":  # 3600 pretraining iterations: report/notes, iris-rim
        pre = config.stages.pretrain
        assert (pre.iterations, pre.lr_g, pre.milestones, pre.gamma) == (3600, 1.5e-3, [1200], 0.2)
    if preset in ("sample_esrgan", "shared_esrgan"):  # sections 7c and 10
        gan = config.stages.gan
        assert (gan.ema_decay, gan.d_input, gan.loss.feature_matching, gan.loss.artifacts,
                gan.loss.grid, gan.loss.content, gan.loss.pixel, gan.loss.adversarial, gan.d_regions,
                gan.loss.flat, gan.loss.gradient) == (
            0.99, "gray", {"weight": 0.3}, {"weight": 30.0}, {"weight": 1e2},
            {"type": "l1", "weight": {"sample_esrgan": 5.0, "shared_esrgan": 3.0}[preset]}, None,  # 10ab
            {"type": "relativistic", "weight": 5e-3},
            {"threshold": 0.06}, {"weight": {"sample_esrgan": 120.0, "shared_esrgan": 60.0}[preset]},
            {"weight": 1.0})
    if preset == "paper":
        gan = config.stages.gan
        assert gan.loss == {"content": {"type": "vgg", "weight": 1.0}, "pixel": None,
                            "adversarial": {"type": "vanilla", "weight": 1e-3}, "grid": None,
                            "feature_matching": None, "artifacts": None, "gradient": None,
                            "flat": None}
        assert (gan.ema_decay, gan.d_input, gan.d_regions) == (None, "rgb", None)
        assert config.discriminator == {"arch": "srgan", "channels": 64, "fc_size": 1024}


@pytest.mark.parametrize("override, name", [
    ({"batchsize": 8}, "config.batchsize"),
    ({"stages": {"gan": {"adversarial_weight": 1}}}, "config.stages.gan.adversarial_weight"),
    ({"stages": {"pretrain": {"d_input": "gray"}}}, "config.stages.pretrain.d_input"),
    ({"stages": {"gan": {"loss": {"perceptual": {"weight": 1}}}}}, "config.stages.gan.loss.perceptual"),
])
def test_unknown_keys_are_errors_naming_the_key(override, name):
    with pytest.raises(KeyError, match=name.replace(".", r"\.")):
        training_config("sample", override)


def test_another_arch_or_loss_type_replaces_its_parameters():
    config = training_config("sample", {"discriminator": {"arch": "vgg", "channels": 8}})
    assert config.discriminator == {"arch": "vgg", "channels": 8}
    esrgan = {"type": "vgg", "weight": 1.0, "scale": 1.0, "distance": "l1", "before_activation": True}
    config = training_config("esrgan", {"stages": {"gan": {"loss": {"content": {"type": "l1", "weight": 2.0}}}}})
    assert config.stages.gan.loss.content == {"type": "l1", "weight": 2.0}
    config = training_config("esrgan", {"stages": {"gan": {"loss": {"content": {"weight": 2.0}}}}})
    assert config.stages.gan.loss.content == dict(esrgan, weight=2.0)
    config = training_config("sample", {"discriminator": {"spectral_norm": True}})
    assert config.discriminator.spectral_norm and "arch" in config.discriminator


def test_discriminator_outputs_are_relativistic_for_the_relativistic_loss():
    from losses import discriminator_outputs

    real, fake = torch.full((3,), 102.0), torch.full((3,), 100.0)  # drifted logits, gap 2
    d_real, d_fake = discriminator_outputs("relativistic", real, fake)
    assert d_real.item() == pytest.approx(1 / (1 + math.exp(-2)))
    assert d_fake.item() == pytest.approx(1 / (1 + math.exp(2)))
    assert discriminator_outputs("vanilla", real, fake)[1].item() == pytest.approx(1.0)


def test_srcnn_baseline_shares_the_run_data_and_folder():
    config = training_config("sample", {"out_dir": "elsewhere", "srcnn": {"iterations": 7}})
    baseline = srcnn_config(config)
    assert baseline.generator == {"arch": "srcnn"} and baseline.out_dir == "elsewhere"
    assert baseline.stages.pretrain.name == "srcnn" and baseline.stages.pretrain.iterations == 7
    assert baseline.stages.gan.iterations == 0 and baseline.train_list == config.train_list
    assert srcnn_config(training_config("sample_esrgan")) is None


def test_esrgan_losses_compose_with_their_weights():
    stage = spec(content=dict(type="vgg", weight=1.0, scale=1.0, distance="l1"),
                 pixel=dict(type="l1", weight=0.5), adversarial=dict(type="relativistic", weight=0.25))
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
    loss, terms = GeneratorLoss(spec(adversarial=None, grid=dict(weight=10.0)), scale=4, mode="pretrain")(
        hr + pattern.repeat(1, 1, 4, 4), hr)
    assert terms["grid_loss"].item() == pytest.approx((pattern ** 2).mean().item())
    assert loss.item() == pytest.approx(terms["content_loss"].item() + 10 * terms["grid_loss"].item())


def test_artifact_map_is_ldls_and_zero_where_g_beats_its_average():
    from losses import artifact_loss, artifact_map

    torch.manual_seed(0)
    hr = torch.rand(2, 3, 12, 12)
    sr = hr + 0.1 * torch.randn_like(hr)
    # the moving average exactly right: every pixel of G is worse, the map is LDL's product
    weights = artifact_map(sr, hr, hr)
    residual = (hr - sr).abs().sum(1, keepdim=True)
    patch = residual.var(dim=(1, 2, 3), keepdim=True) ** 0.2
    windows = torch.nn.functional.pad(residual, (3,) * 4, mode="reflect").unfold(2, 7, 1).unfold(3, 7, 1)
    torch.testing.assert_close(weights, patch * windows.var(dim=(-1, -2)))
    # the average worse everywhere: nothing is an artifact of G's
    assert artifact_map(sr, hr, hr + 1).abs().max() == 0
    assert artifact_loss(hr * 2 - 1, hr * 2 - 1, sr * 2 - 1).item() == 0
    assert artifact_loss(sr * 2 - 1, hr * 2 - 1, hr * 2 - 1).item() > 0
