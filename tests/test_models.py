"""models: the paper's architectures (parameter counts, shapes, ranges) and the VGG loss network."""
import urllib.error

import pytest
import torch
import torchvision

import models
from models import (Discriminator, ResidualBlock,
                    ResizeConvBlock, SRResNet, SubPixelBlock, TruncatedVGG19,
                    build_discriminator)


def n_params(module):
    return sum(p.numel() for p in module.parameters())


def test_paper_parameter_counts():
    assert n_params(SRResNet()) == 1_549_462  # single-parameter PReLUs
    # One slope per channel: 16 residual blocks + head + 2 upsampling PReLUs of 64 channels.
    assert n_params(SRResNet(prelu_per_channel=True)) == 1_549_462 + 19 * 63
    assert n_params(Discriminator()) == 23_565_505
    # Without BN: 33 BN layers of 64 channels (weight + bias) fewer.
    assert n_params(SRResNet(batch_norm=False)) == 1_549_462 - 33 * 128


@pytest.mark.parametrize("scale", [2, 4, 8])
def test_generator_shapes_and_range(scale):
    generator = SRResNet(n_blocks=2, channels=8, scale=scale)
    lr_imgs = torch.rand(2, 3, 4, 5)
    sr_imgs = generator(lr_imgs)
    assert sr_imgs.shape == (2, 3, 4 * scale, 5 * scale)
    assert sr_imgs.min() >= -1 and sr_imgs.max() <= 1


def test_building_blocks():
    x = torch.randn(1, 8, 6, 6)
    assert ResidualBlock(8)(x).shape == x.shape
    assert SubPixelBlock(8)(x).shape == (1, 8, 12, 12)
    with pytest.raises(ValueError, match="scale must be one of 2, 4, 8, got 3"):
        SRResNet(scale=3)


@pytest.mark.parametrize("size", [(16, 16), (96, 96), (40, 72)])
def test_discriminator_gives_one_logit_for_any_size(size):
    discriminator = Discriminator(channels=4, fc_size=16)
    assert discriminator(torch.rand(3, 3, *size) * 2 - 1).shape == (3,)


@pytest.mark.parametrize("i, j, channels, down", [(5, 4, 512, 16), (2, 2, 128, 2), (1, 1, 64, 1)])
def test_truncated_vgg_shapes(i, j, channels, down):
    vgg = TruncatedVGG19(i, j, weights=None)
    features = vgg(torch.rand(1, 3, 32, 32) * 2 - 1)
    assert features.shape == (1, channels, 32 // down, 32 // down)
    assert features.min() >= 0  # after the ReLU


def test_truncated_vgg_is_frozen_and_before_activation():
    vgg = TruncatedVGG19(2, 2, weights=None, before_activation=True)
    assert not any(p.requires_grad for p in vgg.parameters())
    vgg.train()
    assert not vgg.training
    assert isinstance(vgg.features[-1], torch.nn.Conv2d)
    assert vgg(torch.rand(1, 3, 16, 16) * 2 - 1).min() < 0
    with pytest.raises(ValueError, match="phi_"):
        TruncatedVGG19(2, 3, weights=None)


def test_vgg_weights_from_a_torchvision_file(tmp_path):
    reference = torchvision.models.vgg19(weights=None)
    path = tmp_path / "vgg19.pth"
    torch.save(reference.state_dict(), path)
    vgg = TruncatedVGG19(2, 2, weights=path)
    torch.testing.assert_close(vgg.features[0].weight, reference.features[0].weight)
    x = torch.rand(1, 3, 16, 16)
    normalised = (x - torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)) / \
        torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    torch.testing.assert_close(vgg(x * 2 - 1), reference.features[:9](normalised))


def test_missing_vgg_file_names_it(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        TruncatedVGG19(weights=tmp_path / "nowhere" / "vgg19.pth")
    message = str(info.value)
    assert str(tmp_path / "nowhere" / "vgg19.pth") in message
    assert models.VGG19_URL in message and "stage.loss.content.type 'mse' or 'l1'" in message


def test_offline_default_weights_error(monkeypatch, tmp_path):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))  # an empty cache
    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(FileNotFoundError) as info:
        TruncatedVGG19()
    message = str(info.value)
    assert "vgg19-dcbb9e9d.pth" in message and "torchvision's cache" in message
    assert "stage.loss.content.type 'mse' or 'l1'" in message


# --- the adversarial stage's network options ------------------------------------------------


def test_resize_conv_generator_and_option_errors():
    generator = SRResNet(n_blocks=1, channels=8, upsampler="resize")
    assert isinstance(generator.upsample[0], ResizeConvBlock)
    assert generator(torch.rand(1, 3, 6, 6)).shape == (1, 3, 24, 24)
    with pytest.raises(ValueError, match="upsampler must be one of"):
        SRResNet(upsampler="deconv")


def test_discriminator_parameter_counts_and_spectral_norm_variant():
    with torch.device("meta"):
        net = build_discriminator("srgan")
    assert sum(p.numel() for p in net.parameters()) == 23_565_505
    small = build_discriminator("srgan", channels=4, fc_size=8, spectral_norm=True, batch_norm=False)
    assert small(torch.randn(2, 3, 45, 45)).shape == (2,)
    with pytest.raises(ValueError, match="discriminator arch must be one of"):
        build_discriminator("stylegan")
