"""pulse: the published StyleGAN layout (on the meta device), the spherical optimizer, GEOCROSS,
and the search on a small random generator: a reachable target is matched within eps, an
unreachable one gets the clear failure message."""
import warnings

import pytest
import torch

import pulse

SMALL = dict(resolution=32, latent_size=32, fmap_base=64, fmap_max=16)


def test_the_published_layout_on_the_meta_device():
    with torch.device("meta"):
        synthesis, mapping = pulse.Synthesis(), pulse.Mapping()
    state = synthesis.state_dict()
    # the keys of PULSE's synthesis.pt (stylegan.py): 4x4 input block, 8 upsampling blocks
    # (each with its blur kernel buffer), torgb; 100 entries
    assert len(state) == 100 and synthesis.n_styles == 18
    expected = {"blocks.4x4.const": (1, 512, 4, 4), "blocks.4x4.bias": (512,),
                "blocks.4x4.epi1.style_mod.lin.weight": (1024, 512),
                "blocks.8x8.conv0_up.intermediate.kernel": (1, 1, 3, 3),
                "blocks.64x64.conv0_up.weight": (256, 512, 3, 3),
                "blocks.1024x1024.conv1.weight": (16, 16, 3, 3),
                "blocks.1024x1024.epi2.noise.weight": (16,), "torgb.weight": (3, 16, 1, 1)}
    for key, shape in expected.items():
        assert tuple(state[key].shape) == shape, key
    assert [k for k in mapping.state_dict()] == [f"dense{i}.{p}" for i in range(8) for p in ("weight", "bias")]
    n = sum(p.numel() for p in synthesis.parameters()) + sum(p.numel() for p in mapping.parameters())
    assert round(n / 1e6, 1) == 26.2  # StyleGAN's generator: 26.2M parameters (Karras et al. 2019)


def test_spherical_optimizer_keeps_each_vector_norm():
    torch.manual_seed(0)
    latent = torch.randn(2, 18, 512, requires_grad=True)
    noise = torch.randn(2, 1, 8, 8, requires_grad=True)
    before = [latent.norm(dim=-1), noise.flatten(2).norm(dim=-1)]
    optimizer = pulse.SphericalOptimizer(torch.optim.Adam, [latent, noise], lr=0.4)
    for _ in range(3):
        optimizer.opt.zero_grad()
        (latent.sum() * latent.mean() + noise.pow(3).sum()).backward()
        optimizer.step()
    torch.testing.assert_close(latent.norm(dim=-1), before[0])
    torch.testing.assert_close(noise.flatten(2).norm(dim=-1), before[1])
    assert not torch.equal(latent.norm(dim=(1, 2)), torch.zeros(2))


def test_geocross_is_zero_for_equal_vectors_and_positive_otherwise():
    one = torch.randn(1, 1, 512).expand(2, 18, 512)
    assert pulse.geocross(one).item() < 1e-4
    styles = torch.randn(2, 18, 512)
    assert pulse.geocross(styles).item() > 1.0
    opposite = torch.cat([one[:, :1], -one[:, :1]], 1)  # pi apart: (pi^2 * 512 / 2) / 8 per image
    assert pulse.geocross(opposite).item() == pytest.approx(2 * torch.pi ** 2 * 512 / 2 / 8, rel=1e-4)


def test_schedule_is_the_papers():
    steps = 100
    assert pulse.linear_one_cycle_drop(0, steps) == pytest.approx(0.1)
    assert pulse.linear_one_cycle_drop(45, steps) == pytest.approx(1.0)
    assert pulse.linear_one_cycle_drop(90, steps) == pytest.approx(0.1)
    assert pulse.linear_one_cycle_drop(100, steps) == pytest.approx(0.001)


@pytest.fixture(scope="module")
def small_generator():
    torch.manual_seed(0)
    synthesis = pulse.Synthesis(**SMALL).requires_grad_(False)
    with torch.no_grad():  # random weights give outputs of std ~1 in [0, 1] units; a trained
        synthesis.torgb.weight.mul_(0.2)  # StyleGAN's are images: bring them to that range
    fit = pulse.gaussian_fit(pulse.Mapping(latent_size=32), samples=20000, batch=5000)
    return synthesis, fit


def generated(synthesis, fit, seed):
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(1, synthesis.n_styles, synthesis.latent_size, generator=g)
    noises = [torch.randn(s, generator=g) for s in synthesis.noise_shapes(1)]
    with torch.no_grad():
        return (synthesis(torch.nn.functional.leaky_relu(z * fit["std"] + fit["mean"], 0.2), noises) + 1) / 2


def test_gaussian_fit_shapes(small_generator):
    _, fit = small_generator
    assert fit["mean"].shape == fit["std"].shape == (32,) and bool((fit["std"] > 0).all())


def test_search_matches_a_reachable_target_within_eps(small_generator):
    synthesis, fit = small_generator
    target = pulse.downscale(generated(synthesis, fit, seed=1), 4)  # (1, 3, 8, 8)
    other = pulse.downscale(generated(synthesis, fit, seed=2), 4)
    config = pulse.SearchConfig(restarts=2, seed=3)
    assert (other - target).pow(2).mean().item() > config.eps  # not matched by chance
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # success: no warning
        solutions = pulse.search(synthesis, fit, target, config, log=lambda *a: None)
    assert len(solutions) == 2 and any(s.success for s in solutions)
    best = min(solutions, key=lambda s: s.l2[0])
    assert best.image.shape == (1, 3, 32, 32) and 0 <= best.image.min() and best.image.max() <= 1
    assert (pulse.downscale(best.image, 4) - target).pow(2).mean().item() <= config.eps * 1.5


def test_search_says_so_when_no_latent_reaches_the_target(small_generator):
    synthesis, fit = small_generator
    checker = (torch.arange(8)[:, None] + torch.arange(8)[None, :]) % 2  # 0/1 at the LR Nyquist
    target = checker.float().expand(1, 3, 8, 8).clone()
    config = pulse.SearchConfig(restarts=1, steps=30)
    with pytest.warns(RuntimeWarning, match="PULSE found no image whose downscale is within eps"):
        solutions = pulse.search(synthesis, fit, target, config, log=lambda *a: None)
    assert not solutions[0].success
    with pytest.raises(ValueError, match="square with a side dividing 32"):
        pulse.search(synthesis, fit, torch.zeros(1, 3, 8, 6), config)


def test_missing_weights_name_each_file_and_where_it_goes(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        pulse.load_networks(tmp_path)
    message = str(info.value)
    for name, url in pulse.WEIGHT_FILES.items():
        assert name in message and url in message
    assert str(tmp_path) in message
