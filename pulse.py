"""PULSE (Menon, Damian, Hu, Ravi and Rudin, CVPR 2020): super-resolution by latent search.

No LR/HR pairs and no training: PULSE looks in the latent space of a pretrained StyleGAN
(Karras et al., CVPR 2019) for an image whose downscaled version matches the LR input, on the
sphere where the generator's Gaussian latents live. It gives many HR images for one LR image
(one per random restart), each a plausible face that downscales to the input; it does not
recover the person's identity. ``super_resolution.ipynb`` runs it on a face LR image when the
authors' weight files are present (:func:`load_networks` names them and where to put them).

What is here, written for this project with the layouts of the authors' files:

- :class:`Mapping` (8 dense layers, learning-rate multiplier 0.01) and :class:`Synthesis` (a
  learned 4x4 constant, two styled convs per resolution, per-layer noise inputs, 18 styles at
  1024x1024), whose ``state_dict`` keys and shapes are those of PULSE's ``mapping.pt`` and
  ``synthesis.pt`` (the PULSE repository's ``stylegan.py``), so they load with
  ``strict=True``; the resolution and widths are parameters, so tests build small ones;
- :func:`gaussian_fit`: the mean and standard deviation of the mapping network's output before
  its last LeakyReLU, which turn a standard normal latent into one of the W space;
- :class:`SphericalOptimizer`: any torch optimizer, each latent vector and trainable noise map
  projected back to its initial norm after every step;
- :func:`geocross`: the squared pairwise geodesic distance between the style vectors;
- :func:`search`: the paper's loop (Adam, lr 0.4, 100 steps, linear one-cycle schedule with a
  drop, 5 trainable noise layers, loss 100 x L2 clamped at eps + 0.05 x GEOCROSS), with
  random restarts; the downscaler is this project's MATLAB-exact bicubic (``imresize_torch``),
  so "downscales to the input" means what the benchmark LR images mean.

Ranges: the synthesis network outputs about [-1, 1]; :func:`search` works on images in
[0, 1], (N, 3, H, W).
"""
import math
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from archs.common import Blur121
from imresize import imresize_torch
from utils import signed_to_unit

# The authors' files (PULSE.py downloads them from Google Drive into its cache_dir).
WEIGHT_FILES = {
    "synthesis.pt": "https://drive.google.com/uc?id=1TCViX1YpQyRsklTVYEJwdbmK91vklCo8",
    "mapping.pt": "https://drive.google.com/uc?id=14R6iHGf5iuVx3DMNsACAl7eBr7Vdpd0k",
}
GAUSSIAN_FIT_FILE = "gaussian_fit.pt"  # made from mapping.pt on first use, as PULSE does
GAIN = math.sqrt(2)


# ----------------------------------------------------------------------------------------------
# StyleGAN's layers (equalised learning rate: weights stored at unit scale, scaled at run time)
# ----------------------------------------------------------------------------------------------
class EqualizedLinear(nn.Module):
    """Dense layer, weights ~ N(0, 1 / lr_mul) scaled by He's constant x ``lr_mul`` at run time."""

    def __init__(self, in_features, out_features, gain=GAIN, lr_mul=1.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = nn.Parameter(torch.zeros(out_features))
        self.w_mul, self.b_mul = gain * in_features ** -0.5 * lr_mul, lr_mul

    def forward(self, x):
        return F.linear(x, self.weight * self.w_mul, self.bias * self.b_mul)


class EqualizedConv2d(nn.Module):
    """Conv with an equalised learning rate; with ``upscale``, x2 upsampling first and the blur
    after. At outputs of 128 px and more StyleGAN fuses the upsampling into a transposed conv
    with the 3x3 kernel summed over 2x2 shifts (a 4x4 kernel), which is not the same arithmetic
    as nearest upsampling + conv at the borders; both are kept, so published weights give the
    published images."""

    def __init__(self, in_channels, out_channels, kernel_size, gain=GAIN, upscale=False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.w_mul = gain * (in_channels * kernel_size ** 2) ** -0.5
        self.upscale = upscale
        self.intermediate = Blur121() if upscale else None  # StyleGAN's: zero borders

    def forward(self, x):
        weight = self.weight * self.w_mul
        if self.upscale and min(x.shape[2:]) * 2 >= 128:  # fused upsampling + conv
            w = F.pad(weight.permute(1, 0, 2, 3), (1, 1, 1, 1))
            w = w[:, :, 1:, 1:] + w[:, :, :-1, 1:] + w[:, :, 1:, :-1] + w[:, :, :-1, :-1]
            x = F.conv_transpose2d(x, w, stride=2, padding=(w.shape[-1] - 1) // 2)
        else:
            if self.upscale:
                x = F.interpolate(x, scale_factor=2, mode="nearest")
            x = F.conv2d(x, weight, padding=weight.shape[-1] // 2)
        if self.intermediate is not None:
            x = self.intermediate(x)
        return x + self.bias.view(1, -1, 1, 1)


class NoiseInput(nn.Module):
    """Adds a per-pixel noise map (one per image, shared by the channels), weighted per channel."""

    def __init__(self, channels):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(channels))

    def forward(self, x, noise):
        return x + self.weight.view(1, -1, 1, 1) * noise


class StyleModulation(nn.Module):
    """AdaIN's affine part: a style vector gives a scale (1 + s) and a shift per channel."""

    def __init__(self, latent_size, channels):
        super().__init__()
        self.lin = EqualizedLinear(latent_size, 2 * channels, gain=1.0)

    def forward(self, x, style):
        scale, shift = self.lin(style).view(-1, 2, x.shape[1], 1, 1).unbind(1)
        return x * (scale + 1) + shift


class LayerEpilogue(nn.Module):
    """After each conv: noise, LeakyReLU 0.2, instance norm, style modulation."""

    def __init__(self, channels, latent_size):
        super().__init__()
        self.noise = NoiseInput(channels)
        self.top_epi = nn.Sequential(OrderedDict([("activation", nn.LeakyReLU(0.2)),
                                                  ("instance_norm", nn.InstanceNorm2d(channels))]))
        self.style_mod = StyleModulation(latent_size, channels)

    def forward(self, x, style, noise):
        return self.style_mod(self.top_epi(self.noise(x, noise)), style)


class InputBlock(nn.Module):
    """4x4: the learned constant (+ bias), epilogue, 3x3 conv, epilogue."""

    def __init__(self, channels, latent_size):
        super().__init__()
        self.const = nn.Parameter(torch.ones(1, channels, 4, 4))
        self.bias = nn.Parameter(torch.ones(channels))
        self.epi1 = LayerEpilogue(channels, latent_size)
        self.conv = EqualizedConv2d(channels, channels, 3)
        self.epi2 = LayerEpilogue(channels, latent_size)

    def forward(self, styles, noises):
        x = self.const.expand(styles.shape[0], -1, -1, -1) + self.bias.view(1, -1, 1, 1)
        x = self.epi1(x, styles[:, 0], noises[0])
        return self.epi2(self.conv(x), styles[:, 1], noises[1])


class SynthesisBlock(nn.Module):
    """One resolution up: x2 upsampling 3x3 conv (+ blur), epilogue, 3x3 conv, epilogue."""

    def __init__(self, in_channels, out_channels, latent_size):
        super().__init__()
        self.conv0_up = EqualizedConv2d(in_channels, out_channels, 3, upscale=True)
        self.epi1 = LayerEpilogue(out_channels, latent_size)
        self.conv1 = EqualizedConv2d(out_channels, out_channels, 3)
        self.epi2 = LayerEpilogue(out_channels, latent_size)

    def forward(self, x, styles, noises):
        x = self.epi1(self.conv0_up(x), styles[:, 0], noises[0])
        return self.epi2(self.conv1(x), styles[:, 1], noises[1])


# ----------------------------------------------------------------------------------------------
# The two networks
# ----------------------------------------------------------------------------------------------
class Mapping(nn.Sequential):
    """z -> w: pixel norm, then 8 dense layers of ``latent_size`` with LeakyReLU 0.2, learning
    rate multiplier 0.01 (StyleGAN's mapping network; PULSE's ``mapping.pt`` layout).

    Shapes: (N, latent_size) -> (N, latent_size)."""

    def __init__(self, latent_size=512, n_layers=8, lr_mul=0.01):
        layers = [("pixel_norm", PixelNorm())]
        for k in range(n_layers):
            layers += [(f"dense{k}", EqualizedLinear(latent_size, latent_size, lr_mul=lr_mul)),
                       (f"dense{k}_act", nn.LeakyReLU(0.2))]
        super().__init__(OrderedDict(layers))


class PixelNorm(nn.Module):
    """Each latent vector divided by its RMS."""

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + 1e-8)


class Synthesis(nn.Module):
    """StyleGAN's synthesis network (PULSE's ``synthesis.pt`` layout at the defaults).

    Channels per resolution 2^r: min(fmap_base / 2^(r-1), fmap_max); two styles and two noise
    maps per resolution from 4x4 to ``resolution`` (18 at 1024); a 1x1 conv to RGB.

    Args:
        resolution (int): output side, a power of two >= 4 (1024).
        latent_size (int): style vector size (512).
        fmap_base, fmap_max (int): channel widths (8192, 512).

    Shapes: styles (N, n_styles, latent_size) and ``n_styles`` noise maps (N, 1, s, s) ->
    (N, 3, resolution, resolution), about [-1, 1].
    """

    def __init__(self, resolution=1024, latent_size=512, fmap_base=8192, fmap_max=512):
        super().__init__()
        log2 = int(math.log2(resolution))
        if resolution < 4 or 2 ** log2 != resolution:
            raise ValueError(f"resolution must be a power of two >= 4, got {resolution}")
        channels = [min(int(fmap_base / 2 ** (r - 1)), fmap_max) for r in range(2, log2 + 1)]
        blocks = [("4x4", InputBlock(channels[0], latent_size))]
        for r in range(3, log2 + 1):
            blocks.append((f"{2 ** r}x{2 ** r}", SynthesisBlock(channels[r - 3], channels[r - 2], latent_size)))
        self.blocks = nn.ModuleDict(OrderedDict(blocks))
        self.torgb = EqualizedConv2d(channels[-1], 3, 1, gain=1.0)
        self.resolution, self.latent_size = resolution, latent_size
        self.n_styles = 2 * len(blocks)

    def noise_shapes(self, batch):
        """The shape of each noise input: (batch, 1, s, s), two per resolution."""
        return [(batch, 1, 2 ** (i // 2 + 2), 2 ** (i // 2 + 2)) for i in range(self.n_styles)]

    def forward(self, styles, noises):
        blocks = list(self.blocks.values())
        x = blocks[0](styles[:, 0:2], noises[0:2])  # (N, C, 4, 4)
        for i, block in enumerate(blocks[1:], start=1):  # x2 each: 8x8 ... resolution
            x = block(x, styles[:, 2 * i:2 * i + 2], noises[2 * i:2 * i + 2])
        return self.torgb(x)  # (N, 3, resolution, resolution), about [-1, 1]


# ----------------------------------------------------------------------------------------------
# Weights and the Gaussian fit
# ----------------------------------------------------------------------------------------------
def load_networks(weights_dir="weights/pulse", device="cpu"):
    """PULSE's synthesis network and the Gaussian fit of its mapping network, from the authors'
    files in ``weights_dir``. ``gaussian_fit.pt`` is computed from ``mapping.pt`` (10^6
    samples) and saved there when absent.

    Raises:
        FileNotFoundError: naming each missing file, its download address and the folder.
    """
    weights_dir = Path(weights_dir)
    fit_path = weights_dir / GAUSSIAN_FIT_FILE
    needed = ["synthesis.pt"] + ([] if fit_path.exists() else ["mapping.pt"])
    missing = [name for name in needed if not (weights_dir / name).is_file()]
    if missing:
        lines = "\n".join(f"  {name}: {WEIGHT_FILES[name]}" for name in missing)
        raise FileNotFoundError(
            f"PULSE needs the authors' StyleGAN weights (FFHQ faces, 1024x1024), missing from "
            f"{weights_dir}/:\n{lines}\nDownload each file (the addresses of the PULSE "
            f"repository, adamian98/pulse, PULSE.py) and put it in {weights_dir}/ under that name. "
            f"The rest of the project does not need them.")
    synthesis = Synthesis()
    synthesis.load_state_dict(torch.load(weights_dir / "synthesis.pt", map_location="cpu",
                                         weights_only=True))
    if fit_path.exists():
        fit = torch.load(fit_path, map_location="cpu", weights_only=True)
    else:
        mapping = Mapping()
        mapping.load_state_dict(torch.load(weights_dir / "mapping.pt", map_location="cpu",
                                           weights_only=True))
        fit = gaussian_fit(mapping.to(device))
        torch.save({k: v.cpu() for k, v in fit.items()}, fit_path)
    return synthesis.to(device).eval().requires_grad_(False), {k: v.to(device) for k, v in fit.items()}


@torch.no_grad()
def gaussian_fit(mapping, samples=10 ** 6, seed=0, batch=10 ** 5):
    """Mean and standard deviation, per dimension, of the mapping network's output with its
    last LeakyReLU(0.2) undone (LeakyReLU(5)), over ``samples`` standard normal latents: the
    Gaussian that :func:`search` maps its latents through (``LeakyReLU(0.2)(z * std + mean)``).

    Returns:
        dict: ``mean`` and ``std``, (latent_size,) float32.
    """
    device = next(mapping.parameters()).device
    generator = torch.Generator(device=device).manual_seed(seed)
    size = mapping.dense0.weight.shape[1]
    total, total_sq, n = 0.0, 0.0, 0
    for start in range(0, samples, batch):
        z = torch.randn(min(batch, samples - start), size, generator=generator, device=device)
        w = F.leaky_relu(mapping(z), 5.0).double()
        total, total_sq, n = total + w.sum(0), total_sq + w.pow(2).sum(0), n + w.shape[0]
    mean = total / n
    std = ((total_sq - n * mean ** 2) / (n - 1)).clamp(min=0).sqrt()
    return {"mean": mean.float(), "std": std.float()}


# ----------------------------------------------------------------------------------------------
# The search
# ----------------------------------------------------------------------------------------------
class SphericalOptimizer:
    """``optimizer_class(params, **kwargs)``, and after each step every parameter projected back
    onto the sphere of its initial radius, per vector: the norm over all dimensions after the
    first two (a latent (N, 18, 512): each of the 18 vectors of each image; a noise map
    (N, 1, s, s): each map). High-dimensional Gaussian samples concentrate near that sphere,
    so the search stays where the generator was trained."""

    def __init__(self, optimizer_class, params, **kwargs):
        self.params = list(params)
        self.opt = optimizer_class(self.params, **kwargs)
        with torch.no_grad():
            self.radii = [self._norm(p) for p in self.params]

    @staticmethod
    def _norm(param):
        return (param.pow(2).sum(tuple(range(2, param.ndim)), keepdim=True) + 1e-9).sqrt()

    @torch.no_grad()
    def step(self):
        self.opt.step()
        for param, radius in zip(self.params, self.radii):
            param.mul_(radius / self._norm(param))


def geocross(styles):
    """PULSE's GEOCROSS: the mean squared geodesic (angular) distance between the style vectors
    of each image, x latent_size / 8, summed over the batch. 0 when all vectors are equal; it
    pulls the 18 styles together, towards images the generator makes from one latent.

    Args:
        styles (Tensor): (N, n_styles, latent_size).
    """
    x, y = styles.unsqueeze(1), styles.unsqueeze(2)  # (N, 1, S, L), (N, S, 1, L)
    a = ((x - y).pow(2).sum(-1) + 1e-9).sqrt()
    b = ((x + y).pow(2).sum(-1) + 1e-9).sqrt()
    distance = 2 * torch.atan2(a, b)  # (N, S, S) angles between the vectors
    return (distance.pow(2) * styles.shape[-1]).mean((1, 2)).sum() / 8


def downscale(hr_imgs, factor):
    """MATLAB's bicubic x 1/factor (antialiased): what made the benchmark LR images."""
    return imresize_torch(hr_imgs, 1 / factor)


def linear_one_cycle_drop(step, steps):
    """PULSE's default schedule: a linear rise to 1 and fall over 90 % of the steps (from 0.1),
    then a linear drop from 0.1 to 0.001: the learning-rate multiplier at ``step``."""
    if step < 0.9 * steps:
        return (9 * (1 - abs(step / (0.9 * steps) - 0.5) * 2) + 1) / 10
    return 0.1 + (step - 0.9 * steps) / (0.1 * steps) * (0.001 - 0.1)


@dataclass
class SearchConfig:
    """The paper's defaults (the PULSE repository's run.py)."""
    steps: int = 100
    learning_rate: float = 0.4
    eps: float = 2e-3                   # the L2 target: success when the downscale loss reaches it
    l2_weight: float = 100.0
    geocross_weight: float = 0.05
    trainable_noise: int = 5            # the first noise maps (coarsest) are optimised too
    bad_noise_layers: tuple = (17,)     # noise maps set to zero
    restarts: int = 4                   # random restarts: several HR solutions for one LR
    seed: int = 0
    optimizer: type = field(default=torch.optim.Adam)


@dataclass
class Solution:
    """One restart's best image (N, 3, H, W) in [0, 1], its downscale L2 (per image) and whether
    it reached eps."""
    image: torch.Tensor
    l2: list
    success: bool


def search(synthesis, fit, lr_imgs, config=SearchConfig(), log=print):
    """PULSE: restarts of the spherical latent search for images whose x1/factor bicubic
    downscale matches ``lr_imgs``.

    Args:
        synthesis (Synthesis): frozen.
        fit (dict): :func:`gaussian_fit`'s ``mean`` and ``std``.
        lr_imgs (Tensor): (N, 3, h, w) in [0, 1], square, h dividing the synthesis resolution.
        config (SearchConfig): the paper's defaults.

    Returns:
        list[Solution]: one per restart. If none reached eps, a ``RuntimeWarning`` says so and
        what to change.
    """
    import warnings

    n, _, h, w = lr_imgs.shape
    factor = synthesis.resolution // h
    if h != w or factor * h != synthesis.resolution:
        raise ValueError(f"the LR images must be square with a side dividing "
                         f"{synthesis.resolution}, got {h}x{w}")
    device = lr_imgs.device
    generator = torch.Generator(device=device).manual_seed(config.seed)
    solutions = []
    for restart in range(config.restarts):
        latent = torch.randn(n, synthesis.n_styles, synthesis.latent_size, generator=generator,
                             device=device).requires_grad_(True)
        noises, trainable = [], []
        for i, shape in enumerate(synthesis.noise_shapes(n)):
            noise = torch.randn(shape, generator=generator, device=device)
            if i in config.bad_noise_layers:
                noise = torch.zeros(shape, device=device)
            elif i < config.trainable_noise:
                noise.requires_grad_(True)
                trainable.append(noise)
            noises.append(noise)
        optimizer = SphericalOptimizer(config.optimizer, [latent] + trainable, lr=config.learning_rate)
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer.opt, lambda step: linear_one_cycle_drop(step, config.steps))
        best, best_loss = None, math.inf
        for _ in range(config.steps):
            optimizer.opt.zero_grad()
            styles = F.leaky_relu(latent * fit["std"] + fit["mean"], 0.2)  # into W space
            hr = signed_to_unit(synthesis(styles, noises))  # (N, 3, H, W), about [0, 1]
            l2 = (downscale(hr, factor) - lr_imgs).pow(2).mean((1, 2, 3))  # per image
            loss = config.l2_weight * l2.clamp(min=config.eps).sum() + \
                config.geocross_weight * geocross(styles)
            if loss.item() < best_loss:
                best_loss, best = loss.item(), (hr.detach().clamp(0, 1), l2.detach().tolist())
            loss.backward()
            optimizer.step()
            scheduler.step()
        solution = Solution(best[0], best[1], all(v <= config.eps for v in best[1]))
        log(f"PULSE restart {restart + 1}/{config.restarts}: downscale L2 "
            + ", ".join(f"{v:.2e}" for v in solution.l2) + (" (reached eps)" if solution.success else ""))
        solutions.append(solution)
    if not any(s.success for s in solutions):
        warnings.warn(
            f"PULSE found no image whose downscale is within eps = {config.eps:g} of the LR input "
            f"in {config.restarts} restarts of {config.steps} steps (best L2 "
            f"{min(min(s.l2) for s in solutions):.2e}). The LR image may be outside what the "
            f"generator makes (PULSE needs an aligned face crop like FFHQ's); otherwise raise "
            f"SearchConfig.steps or restarts, or eps.", RuntimeWarning, stacklevel=2)
    return solutions
