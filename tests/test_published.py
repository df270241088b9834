"""Published generators: ESRGAN/Real-ESRGAN release files load through the public loader and
compute what an independent runtime computes; their family and size come from their keys;
BasicSR's x2 layout; fine-tuning from a release file; ``upscale.py`` with one."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import DataLoader

import inference
import solver
import upscale
from archs import RRDBNet
from test_solver import fixed_batches, stage, tiny_config
from utils import signed_to_uint8, uint8_to_unit

RELEASES = {"RealESRGAN_x4plus": dict(n_blocks=23, params=16_697_987),
            "RealESRGAN_x4plus_anime_6B": dict(n_blocks=6, params=4_467_779)}
TINY = dict(n_blocks=2, channels=8, growth=4)


def release_file(tmp_path, net, key="params_ema", name="release.pth"):
    """``net``'s weights saved as BasicSR's release files are: {key: state dict}."""
    path = tmp_path / name
    torch.save({key: net.state_dict()}, path)
    return path


@pytest.mark.parametrize("name", sorted(RELEASES))
def test_release_files_match_the_independent_runtime(shared_weights, name):
    """The ncnn runtime's outputs on three Set5 crops (README of ../shared/weights), within 1e-5."""
    generator = inference.load_generator(shared_weights / f"{name}.pth")
    assert isinstance(generator, RRDBNet) and len(generator.body) == RELEASES[name]["n_blocks"]
    assert sum(p.numel() for p in generator.parameters()) == RELEASES[name]["params"]
    golden = np.load(shared_weights / f"{name}_ncnn_outputs.npz")
    for crop in ("baby", "bird", "butterfly"):
        lr = uint8_to_unit(golden[f"{crop}_lr"]).unsqueeze(0)  # (1, 3, 48, 48) in [0, 1]
        sr = (inference.super_resolve(generator, lr)[0] + 1) / 2  # the release's [0, 1]
        np.testing.assert_allclose(sr.numpy(), golden[f"{crop}_sr"], rtol=0, atol=2e-5)


@pytest.mark.parametrize("scale, in_channels, ups", [(2, 12, 2), (4, 3, 2), (8, 3, 3)])
@pytest.mark.parametrize("key", ["params_ema", "params", None])
def test_family_and_size_come_from_the_keys_and_shapes(tmp_path, scale, in_channels, ups, key):
    torch.manual_seed(0)
    net = RRDBNet(scale=scale, **TINY)
    assert net.conv_first.in_channels == in_channels and net.n_up == ups
    if key is None:  # a bare state dict
        path = tmp_path / "bare.pth"
        torch.save(net.state_dict(), path)
    else:
        path = release_file(tmp_path, net, key)
    kwargs, state, what = inference.read_generator(path)
    assert kwargs == dict(arch="rrdbnet", scale=scale, **TINY)
    loaded = inference.load_generator(path)
    lr = torch.rand(1, 3, 6, 8)
    torch.testing.assert_close(loaded(lr), net.eval()(lr))


def basicsr_rrdbnet_x2(state, x):
    """BasicSR's RRDBNet forward at x2 (archs/rrdb_arch.py), written from its state dict alone."""
    def conv(name, t):
        return F.conv2d(t, state[f"{name}.weight"], state[f"{name}.bias"], padding=1)

    def lrelu(t):
        return F.leaky_relu(t, 0.2)

    feat = conv("conv_first", F.pixel_unshuffle(x, 2))
    body = feat
    for b in range(1 + max(int(k.split(".")[1]) for k in state if k.startswith("body."))):
        rrdb_in = body
        for r in (1, 2, 3):
            xs = [body]
            for c in range(1, 5):
                xs.append(lrelu(conv(f"body.{b}.rdb{r}.conv{c}", torch.cat(xs, 1))))
            body = body + 0.2 * conv(f"body.{b}.rdb{r}.conv5", torch.cat(xs, 1))
        body = rrdb_in + 0.2 * body
    feat = feat + conv("conv_body", body)
    feat = lrelu(conv("conv_up1", F.interpolate(feat, scale_factor=2, mode="nearest")))
    feat = lrelu(conv("conv_up2", F.interpolate(feat, scale_factor=2, mode="nearest")))
    return conv("conv_last", lrelu(conv("conv_hr", feat)))


def test_x2_rrdbnet_is_basicsrs_and_tiles_exactly_on_odd_sizes():
    """RealESRGAN_x2plus's layout: pixel-unshuffle, 12 input channels, then x4; odd sides are
    reflect-padded as Real-ESRGAN's inference does, and tiles stay on the unshuffle grid."""
    torch.manual_seed(0)
    net = RRDBNet(scale=2, **TINY).eval()
    lr = torch.rand(1, 3, 10, 14)
    with torch.no_grad():
        torch.testing.assert_close((net(lr) + 1) / 2, basicsr_rrdbnet_x2(net.state_dict(), lr))
    odd = torch.rand(1, 3, 37, 29)
    whole = inference.super_resolve(net, odd)
    assert whole.shape == (1, 3, 74, 58)
    torch.testing.assert_close(inference.super_resolve(net, odd, tile=9), whole, rtol=0, atol=1e-5)


def test_receptive_radius_of_the_x2_rrdbnet_bounds_the_measured_one():
    torch.manual_seed(0)
    net = RRDBNet(scale=2, n_blocks=1, channels=4, growth=2).double().eval()
    radius, size = net.receptive_radius, 2 * net.receptive_radius + 10
    lr = torch.rand(1, 3, size, size, dtype=torch.float64, requires_grad=True)
    centre = size // 2
    net(lr)[0, :, 2 * centre + 1, 2 * centre].sum().backward()
    ys, xs = torch.nonzero(lr.grad.abs().sum((0, 1)), as_tuple=True)
    measured = max((ys - centre).abs().max().item(), (xs - centre).abs().max().item())
    assert measured <= radius <= measured + 2


def test_files_of_other_kinds_are_named_with_what_they_hold(tmp_path):
    torch.save({"model": {"weight": torch.zeros(1)}, "epoch": 3}, tmp_path / "other.pth")
    with pytest.raises(ValueError, match=r"other\.pth is neither a checkpoint of this project.*"
                                         r"top-level keys: epoch, model"):
        inference.load_generator(tmp_path / "other.pth")
    net = RRDBNet(**TINY)
    path = release_file(tmp_path, net, key="params")
    with pytest.raises(ValueError, match=r"release file with \['params'\], not params_ema"):
        inference.load_generator(path, weights="ema")
    state = dict(net.state_dict(), **{"conv_first.weight": torch.zeros(8, 48, 3, 3)})
    torch.save({"params": state}, tmp_path / "x1.pth")
    with pytest.raises(ValueError, match="first conv takes 48 channels"):
        inference.load_generator(tmp_path / "x1.pth")


def test_a_gan_stage_fine_tunes_from_a_release_file(tmp_path):
    torch.manual_seed(0)
    release = release_file(tmp_path, RRDBNet(**TINY))
    config = tiny_config(tmp_path, generator=dict(arch="rrdbnet", **TINY))
    loader = DataLoader(fixed_batches(n_batches=1, batch=2), batch_size=2)
    messages = []
    training = solver.fit(config, stage("gan", iterations=0, init_from=str(release)), loader, None,
                          log=messages.append)
    assert any(f"generator initialised from {release}" in m for m in messages)
    torch.testing.assert_close(training.generator.conv_last.weight,
                               torch.load(release, weights_only=True)["params_ema"]["conv_last.weight"])
    other = tiny_config(tmp_path / "b", generator=dict(arch="rrdbnet", n_blocks=3, channels=8, growth=4))
    with pytest.raises(ValueError, match=r"release\.pth holds generator=.*n_blocks.: 2.*this run's config"):
        solver.fit(other, stage("gan", iterations=1, init_from=str(release)), loader, None,
                   log=lambda m: None)


# --- upscale.py with a release file ------------------------------------------------------------
def test_upscale_with_a_release_file_matches_the_independent_runtime(shared_weights, tmp_path):
    golden = np.load(shared_weights / "RealESRGAN_x4plus_anime_6B_ncnn_outputs.npz")
    Image.fromarray(golden["bird_lr"]).save(tmp_path / "bird.png")
    assert upscale.main(["-m", str(shared_weights / "RealESRGAN_x4plus_anime_6B.pth"), "-o", str(tmp_path / "out"),
                         "-d", "cpu", "-p", "fp32", str(tmp_path / "bird.png")]) == 0
    out = np.asarray(Image.open(tmp_path / "out" / "bird.png")).astype(int)
    expected = np.clip(np.round(golden["bird_sr"].transpose(1, 2, 0) * 255), 0, 255)
    assert np.abs(out - expected).max() <= 1


def test_tiles_take_the_measured_margin_where_it_was_measured():
    with torch.device("meta"):
        assert RRDBNet(n_blocks=6).tile_margin == 48 and RRDBNet(n_blocks=6).receptive_radius == 94
        x2 = RRDBNet(n_blocks=6, scale=2)
    assert x2.tile_margin == x2.receptive_radius  # not measured: exact
    tiny = RRDBNet(**TINY)
    assert tiny.tile_margin == tiny.receptive_radius
    torch.manual_seed(0)
    lr = torch.rand(1, 3, 20, 20)
    torch.testing.assert_close(inference.super_resolve(tiny.eval(), lr, tile=6, margin="exact"),
                               inference.super_resolve(tiny, lr), rtol=0, atol=1e-5)


def test_the_measured_margin_keeps_tiles_within_a_level_on_a_photograph(shared_weights, shared_data):
    """The 6-block release generator on a 96x144 crop of Set14's largest LR image (books, face,
    wicker chair), tiles of 48 with its margin: six tiles, seams across both axes."""
    generator = inference.load_generator(shared_weights / "RealESRGAN_x4plus_anime_6B.pth")
    lr = uint8_to_unit(np.asarray(Image.open(shared_data / "Set14" / "LR_bicubic" / "X4" / "barbara.png")
                                  .convert("RGB"))[:96, 36:]).unsqueeze(0)  # (1, 3, 96, 144) in [0, 1]
    assert lr.shape == (1, 3, 96, 144)
    whole = signed_to_uint8(inference.super_resolve(generator, lr)[0]).astype(int)
    tiled = signed_to_uint8(inference.super_resolve(generator, lr, tile=48)[0]).astype(int)  # margin 48
    assert np.mean(np.abs(tiled - whole) <= 1) >= 0.9999
