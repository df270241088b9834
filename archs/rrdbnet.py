"""RRDBNet, the ESRGAN generator (Wang et al., ECCV Workshops 2018).

``archs.build_generator("rrdbnet", ...)`` builds it from ``config.generator`` (the ``esrgan``
preset of ``config.py``): PSNR-oriented pretraining with L1, then the GAN stage with ESRGAN's
losses. Against SRResNet: no BatchNorm, Residual-in-Residual Dense Blocks with residual scaling
0.2, nearest-neighbour x2 upsampling + conv, LeakyReLU 0.2.

The ``state_dict`` keys and shapes are those of BasicSR's ``RRDBNet`` (``conv_first``,
``body.<n>.rdb<k>.conv<m>``, ``conv_body``, ``conv_up1``, ``conv_up2``, ``conv_hr``,
``conv_last``), the layout of the ESRGAN and Real-ESRGAN release files, which load with
``strict=True`` (``inference.load_generator``; tests compare with an independent runtime's
outputs). At x2 the network pixel-unshuffles its input first and upsamples x4, as BasicSR's
(``conv_first`` then takes 12 channels: ``RealESRGAN_x2plus``). The release weights map
[0, 1] to [0, 1], and :meth:`RRDBNet.forward` maps that output to this project's [-1, 1].
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from utils import check_scale, unit_to_signed


# Tile margins measured on photographs with the Real-ESRGAN release weights (report/README.md,
# "Inference with published generators"): the smallest margin at which 99.99 % of the output
# values stay within one uint8 level of the whole image's, by (n_blocks, channels, growth, scale). Other sizes tile with
# their exact receptive radius.
TILE_MARGINS = {(6, 64, 32, 4): 48, (23, 64, 32, 4): 96}


class ResidualDenseBlock(nn.Module):
    """Five 3x3 convs, each fed the block input and every earlier output (dense connections),
    LeakyReLU 0.2 after all but the last; output ``x + 0.2 * conv5(...)`` (residual scaling).

    Initialised as ESRGAN: Kaiming normal scaled by 0.1, zero biases, so that a deep stack of
    blocks starts close to the identity.
    """

    def __init__(self, channels=64, growth=32, residual_scale=0.2):
        super().__init__()
        self.residual_scale = residual_scale
        for m in range(1, 6):
            out_channels = channels if m == 5 else growth
            conv = nn.Conv2d(channels + (m - 1) * growth, out_channels, 3, 1, 1)
            nn.init.kaiming_normal_(conv.weight)
            with torch.no_grad():
                conv.weight.mul_(0.1)
            nn.init.zeros_(conv.bias)
            self.add_module(f"conv{m}", conv)

    def forward(self, x):
        features = [x]
        for m in range(1, 5):
            features.append(F.leaky_relu(getattr(self, f"conv{m}")(torch.cat(features, 1)), 0.2))
        return x + self.residual_scale * self.conv5(torch.cat(features, 1))


class RRDB(nn.Module):
    """Residual in Residual Dense Block: three dense blocks, ``x + 0.2 * rdb3(rdb2(rdb1(x)))``."""

    def __init__(self, channels=64, growth=32, residual_scale=0.2):
        super().__init__()
        self.residual_scale = residual_scale
        self.rdb1 = ResidualDenseBlock(channels, growth, residual_scale)
        self.rdb2 = ResidualDenseBlock(channels, growth, residual_scale)
        self.rdb3 = ResidualDenseBlock(channels, growth, residual_scale)

    def forward(self, x):
        return x + self.residual_scale * self.rdb3(self.rdb2(self.rdb1(x)))


class RRDBNet(nn.Module):
    """The ESRGAN generator, with the paper's defaults (16,697,987 parameters at x4).

    3x3 conv; ``n_blocks`` RRDBs; 3x3 conv + the long skip; log2(scale) times (nearest x2,
    3x3 conv, LeakyReLU 0.2); 3x3 conv, LeakyReLU 0.2, 3x3 conv to 3 channels. No output
    activation (as released). At x2, BasicSR's layout: the input pixel-unshuffled by 2 (12
    channels into the first conv), then two x2 upsamplings.

    Args:
        n_blocks (int): RRDBs (23).
        channels (int): feature channels (64).
        growth (int): channels added by each dense conv (32).
        scale (int): 2, 4 or 8 (``utils.SCALES``).
        residual_scale (float): 0.2.

    Shapes: (N, 3, h, w) in [0, 1] -> (N, 3, h * scale, w * scale), about [-1, 1] (linear, not
    clamped); h and w even at x2. Receptive radius (``receptive_radius``): 349 LR pixels with
    the defaults (1 + 23 x 3 x 5 + 1 + upsampling convs + 2 convs at x4, rounded up): tiled
    inference with an exact margin then hardly tiles; pass a smaller ``margin`` to
    ``inference.super_resolve`` for bounded memory at the cost of exactness (ESRGAN's own
    tiling uses 10).
    """

    def __init__(self, n_blocks=23, channels=64, growth=32, scale=4, residual_scale=0.2):
        super().__init__()
        check_scale(scale)
        self.scale = scale
        self.unshuffle = 2 if scale == 2 else 1  # BasicSR's x2: space to depth, then x4
        self.input_multiple = self.unshuffle  # LR sides must be multiples of it
        self.conv_first = nn.Conv2d(3 * self.unshuffle ** 2, channels, 3, 1, 1)
        self.body = nn.Sequential(*[RRDB(channels, growth, residual_scale) for _ in range(n_blocks)])
        self.conv_body = nn.Conv2d(channels, channels, 3, 1, 1)
        self.n_up = int(math.log2(scale * self.unshuffle))
        for i in range(1, self.n_up + 1):
            self.add_module(f"conv_up{i}", nn.Conv2d(channels, channels, 3, 1, 1))
        self.conv_hr = nn.Conv2d(channels, channels, 3, 1, 1)
        self.conv_last = nn.Conv2d(channels, 3, 3, 1, 1)
        # in LR pixels: the convs at the features' resolution (1 / unshuffle of the LR's), the
        # span of an unshuffled pixel, the conv after each x2, and the two at the output's
        u = self.unshuffle
        ups = sum(u / 2 ** i for i in range(1, self.n_up + 1))
        self.receptive_radius = math.ceil((2 + 15 * n_blocks) * u + (u - 1) + ups + 2 / scale)
        measured = TILE_MARGINS.get((n_blocks, channels, growth, scale))
        self.tile_margin = min(self.receptive_radius, measured or self.receptive_radius)

    def forward(self, lr_imgs):
        if self.unshuffle > 1:
            lr_imgs = F.pixel_unshuffle(lr_imgs, self.unshuffle)  # (N, 12, h / 2, w / 2)
        features = self.conv_first(lr_imgs)  # (N, 64, h, w)
        features = features + self.conv_body(self.body(features))  # long skip connection
        for i in range(1, self.n_up + 1):
            features = F.interpolate(features, scale_factor=2, mode="nearest")
            features = F.leaky_relu(getattr(self, f"conv_up{i}")(features), 0.2)
        out = self.conv_last(F.leaky_relu(self.conv_hr(features), 0.2))  # (N, 3, H, W), ~[0, 1]
        return unit_to_signed(out)  # ~[-1, 1], the project's HR range
