"""archs: ESRGAN's and SRCNN's networks (published parameter counts and state-dict layouts),
receptive radii measured against the networks, tiled inference per family, the generator
factory, checkpoints of every family, and network interpolation."""
import pytest
import torch

import inference
from archs import (GENERATORS, SRCNN, RRDBNet, SRResNet, VGGStyleDiscriminator, build_generator,
                   full_kwargs)
from checkpoints import save_checkpoint
from report.experiments import ablation_parts  # noqa: F401  (the bilinear and blurred upsamplers)

# small networks of every family (tests stay fast)
SMALL = {
    "srresnet": dict(arch="srresnet", n_blocks=2, channels=8),
    "srresnet_resize": dict(arch="srresnet", n_blocks=2, channels=8, upsampler="resize"),
    "srresnet_bilinear": dict(arch="srresnet", n_blocks=1, channels=8, upsampler="resize_bilinear"),
    "srresnet_blur": dict(arch="srresnet", n_blocks=1, channels=8, upsampler="resize_blur"),
    "rrdbnet": dict(arch="rrdbnet", n_blocks=1, channels=8, growth=4),
    "srcnn": dict(arch="srcnn", channels=(8, 4)),
}


def n_params(module):
    return sum(p.numel() for p in module.parameters())


def test_esrgan_networks_have_the_published_sizes_and_layouts():
    with torch.device("meta"):
        generator, discriminator = RRDBNet(), VGGStyleDiscriminator()
    assert n_params(generator) == 16_697_987  # ESRGAN's RRDB_ESRGAN_x4.pth
    keys = generator.state_dict()
    # BasicSR / ESRGAN release names, so the published weights load with strict=True
    assert {"conv_first.weight", "body.22.rdb3.conv5.bias", "conv_body.weight", "conv_up1.weight",
            "conv_up2.weight", "conv_hr.weight", "conv_last.bias"} <= set(keys)
    assert keys["body.0.rdb1.conv5.weight"].shape == (64, 64 + 4 * 32, 3, 3)
    assert n_params(discriminator) == 14_499_401
    assert {"conv0_0.weight", "bn0_1.weight", "conv4_1.weight", "bn4_1.running_var",
            "linear1.weight", "linear2.bias"} <= set(discriminator.state_dict())
    assert "conv5_0.weight" not in discriminator.state_dict()
    assert discriminator.state_dict()["linear1.weight"].shape == (100, 512 * 4 * 4)


def test_srcnn_is_the_9_1_5_network_on_bicubic():
    net = SRCNN()
    assert [tuple(c.weight.shape) for c in net.convs] == [(64, 3, 9, 9), (32, 64, 1, 1), (3, 32, 5, 5)]
    assert n_params(net) == 20_099
    with torch.no_grad():  # with the identity as its layers, SRCNN is MATLAB's bicubic
        for conv in net.convs:
            conv.weight.zero_()
            conv.bias.zero_()
        net.convs[0].weight[:3, :, 4, 4] = torch.eye(3)
        net.convs[1].weight[:3, :3, 0, 0] = torch.eye(3)
        net.convs[2].weight[:, :3, 2, 2] = torch.eye(3) / 2
        lr = torch.rand(1, 3, 6, 5)
        from imresize import imresize_torch
        expected = imresize_torch(lr, 4).clamp(min=0)  # ReLU in between
        torch.testing.assert_close((net(lr) + 1), expected)


def test_vgg_discriminator_sizes_and_clear_error():
    d = VGGStyleDiscriminator(channels=4, input_size=32)
    assert d(torch.randn(2, 3, 32, 32)).shape == (2,)
    with pytest.raises(ValueError, match="takes 32x32 patches, got \\(48, 48\\)"):
        d(torch.randn(1, 3, 48, 48))
    with pytest.raises(ValueError, match="power of two >= 8, got 96"):
        VGGStyleDiscriminator(input_size=96)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_receptive_radius_bounds_the_measured_one(name):
    """The gradient of one output pixel reaches no LR pixel beyond ``receptive_radius``."""
    torch.manual_seed(0)
    net = build_generator(scale=4, **SMALL[name]).double().eval()
    radius = net.receptive_radius
    size = 2 * radius + 9
    lr = torch.rand(1, 3, size, size, dtype=torch.float64, requires_grad=True)
    centre = size // 2
    net(lr)[0, :, 4 * centre + 1, 4 * centre + 2].sum().backward()
    ys, xs = torch.nonzero(lr.grad.abs().sum(0).sum(0))[:, 0], torch.nonzero(lr.grad.abs().sum(0).sum(0))[:, 1]
    measured = max((ys - centre).abs().max().item(), (xs - centre).abs().max().item())
    assert measured <= radius
    assert radius - measured <= 2  # and it is not a loose bound


@pytest.mark.parametrize("name", sorted(SMALL))
def test_tiled_equals_whole_with_the_network_margin(name):
    torch.manual_seed(0)
    net = build_generator(scale=4, **SMALL[name]).eval()
    lr = torch.rand(1, 3, 37, 29)
    whole = inference.super_resolve(net, lr)
    tiled = inference.super_resolve(net, lr, tile=8)
    torch.testing.assert_close(tiled, whole, rtol=0, atol=1e-5)


def test_deeper_generator_tiles_exactly():
    """The old constant margin (40 LR px) broke "tiled equals whole" for deeper generators."""
    torch.manual_seed(0)
    net = SRResNet(n_blocks=24, channels=4, batch_norm=False).eval()
    assert net.receptive_radius > 40
    lr = torch.rand(1, 3, 120, 16)
    torch.testing.assert_close(inference.super_resolve(net, lr, tile=16),
                               inference.super_resolve(net, lr), rtol=0, atol=1e-5)


def test_build_generator_names_the_families():
    assert set(GENERATORS) == {"srresnet", "rrdbnet", "srcnn"}
    with pytest.raises(ValueError, match="generator arch must be one of .*got 'edsr'"):
        build_generator("edsr")
    assert isinstance(build_generator("srresnet", n_blocks=1, channels=4), SRResNet)
    assert (full_kwargs("generator", {"arch": "srresnet", "n_blocks": 16})
            == full_kwargs("generator", {"arch": "srresnet"}))  # a default written out or left out
    assert full_kwargs("generator", {"arch": "srcnn"}) != full_kwargs("generator", {"arch": "srresnet"})
    with pytest.raises(ValueError, match="config.generator names no arch"):
        full_kwargs("generator", {"n_blocks": 16})


@pytest.mark.parametrize("name", ["srresnet", "rrdbnet", "srcnn"])
def test_load_generator_rebuilds_every_family(tmp_path, name):
    torch.manual_seed(0)
    kwargs = SMALL[name]
    net = build_generator(scale=4, **kwargs)
    save_checkpoint({"config": {"generator": kwargs, "scale": 4}, "generator": net.state_dict()},
                    tmp_path / "g.pth")
    loaded = inference.load_generator(tmp_path / "g.pth")
    assert type(loaded) is type(net)
    lr = torch.rand(1, 3, 8, 8)
    torch.testing.assert_close(loaded(lr), net.eval()(lr))


def test_a_checkpoint_without_arch_is_named_with_how_to_load_it(tmp_path):
    net = SRResNet(n_blocks=1, channels=8)
    save_checkpoint({"config": {"generator": {"n_blocks": 1, "channels": 8}, "scale": 4},
                     "generator": net.state_dict()}, tmp_path / "old.pth")
    with pytest.raises(ValueError, match=r"old\.pth: its config names no generator arch.*arch='srresnet'"):
        inference.load_generator(tmp_path / "old.pth")
    loaded = inference.load_generator(tmp_path / "old.pth", arch="srresnet", n_blocks=1, channels=8)
    assert isinstance(loaded, SRResNet)


@pytest.mark.parametrize("name", ["srresnet", "rrdbnet"])
def test_interpolation_endpoints_are_exact_and_middle_blends(name):
    torch.manual_seed(0)
    psnr_net, gan_net = (build_generator(**SMALL[name]).eval() for _ in range(2))
    for alpha, expected in ((0.0, psnr_net), (1.0, gan_net)):
        blended = inference.interpolate_generators(psnr_net, gan_net, alpha)
        for key, value in blended.state_dict().items():
            assert torch.equal(value, expected.state_dict()[key]), (alpha, key)
    half = inference.interpolate_generators(psnr_net, gan_net, 0.5).state_dict()
    key = next(k for k, v in half.items() if v.is_floating_point())
    torch.testing.assert_close(half[key], (psnr_net.state_dict()[key] + gan_net.state_dict()[key]) / 2)
    assert torch.equal(next(psnr_net.parameters()), psnr_net.state_dict()[key])  # untouched


def test_interpolation_refuses_other_networks():
    with pytest.raises(ValueError, match="alpha must be in \\[0, 1\\], got 1.5"):
        inference.interpolate_state_dicts({}, {}, 1.5)
    a, b = SRResNet(n_blocks=1, channels=8), SRResNet(n_blocks=2, channels=8)
    with pytest.raises(ValueError, match="the two networks differ"):
        inference.interpolate_generators(a, b, 0.5)


def test_blurred_resize_conv_cannot_output_a_period_two_pattern():
    """[1, 2, 1] has no response at Nyquist: whatever the conv draws, a checkerboard cannot
    leave the block (away from the borders)."""
    from archs.common import Blur121

    checker = ((torch.arange(12)[:, None] + torch.arange(12)[None, :]) % 2).float()
    out = Blur121(padding="replicate")(checker[None, None] * 2 - 1)
    torch.testing.assert_close(out[..., 1:-1, 1:-1], torch.zeros(1, 1, 10, 10))
