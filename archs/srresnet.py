"""SRResNet, the SRGAN generator (Ledig et al., CVPR 2017), and its upsampling blocks.

``archs.build_generator("srresnet", ...)`` builds it from ``config.generator``; ``train.ipynb``
pretrains it alone with pixel MSE (stage 1), then trains it as SRGAN's generator (stage 2).

The upsampling blocks are ``UPSAMPLERS``: the paper's sub-pixel convolution, or
``upsampler="resize"`` (nearest x2 + conv, Odena et al. 2016, as ESRGAN's RRDBNet), the remedy
against the grid pattern that the CPU presets use (``report/experiments/gan_ablation.py`` adds the other
variants it measured).

PReLU choice: one learned slope per PReLU layer (``nn.PReLU()``, as the paper's Figure 4 draws
it); with the defaults SRResNet then has 1,549,462 parameters. ``prelu_per_channel=True`` gives
one slope per channel instead.
"""
import math

import torch
import torch.nn as nn

from utils import check_scale


# Tile margins measured on photographs with trained weights (report/README.md, "Inference with
# published generators"): the smallest margin at which 99.99 % of the output values stay within one uint8 level of the
# whole image's, by (n_blocks, channels, upsampler, batch_norm, scale): the sample preset's
# generator. Other sizes tile with their exact receptive radius.
TILE_MARGINS = {(4, 32, "resize", False, 4): 8}


def _prelu(channels, per_channel):
    return nn.PReLU(channels if per_channel else 1)


def _norm(channels, batch_norm):
    return nn.BatchNorm2d(channels) if batch_norm else nn.Identity()


class ResidualBlock(nn.Module):
    """[3x3 conv, BN, PReLU, 3x3 conv, BN] + identity (the paper's B residual blocks).

    ``batch_norm=False`` drops both BNs (as EDSR does; see SRResNet).
    """

    def __init__(self, channels=64, kernel_size=3, prelu_per_channel=False, batch_norm=True):
        super().__init__()
        pad = kernel_size // 2
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, kernel_size, padding=pad),
            _norm(channels, batch_norm),
            _prelu(channels, prelu_per_channel),
            nn.Conv2d(channels, channels, kernel_size, padding=pad),
            _norm(channels, batch_norm),
        )

    def forward(self, x):
        return x + self.body(x)


class SubPixelBlock(nn.Module):
    """3x3 conv to ``upscale**2`` times the channels, PixelShuffle(upscale), PReLU (x2 upsampling)."""

    def __init__(self, channels=64, upscale=2, kernel_size=3, prelu_per_channel=False):
        super().__init__()
        conv = nn.Conv2d(channels, channels * upscale ** 2, kernel_size, padding=kernel_size // 2)
        self.body = nn.Sequential(conv, nn.PixelShuffle(upscale), _prelu(channels, prelu_per_channel))

    @staticmethod
    def input_radius(kernel_radius):
        """Pixels of the block's input an output pixel depends on, each way: the conv works
        before the x2."""
        return kernel_radius

    def forward(self, x):
        return self.body(x)


class ResizeConvBlock(nn.Module):
    """Nearest-neighbour x``upscale`` upsampling, 3x3 conv, PReLU (resize-convolution).

    Odena, Dumoulin and Olah (2016): unlike a sub-pixel or transposed convolution, every output
    pixel is made by the same filter. ESRGAN's RRDBNet upsamples this way.
    """

    def __init__(self, channels=64, upscale=2, kernel_size=3, prelu_per_channel=False):
        super().__init__()
        self.body = nn.Sequential(
            nn.Upsample(scale_factor=upscale, mode="nearest"),
            nn.Conv2d(channels, channels, kernel_size, padding=kernel_size // 2),
            _prelu(channels, prelu_per_channel),
        )

    @staticmethod
    def input_radius(kernel_radius):
        """Pixels of the block's input an output pixel depends on, each way: the conv works
        after the x2."""
        return kernel_radius / 2

    def forward(self, x):
        return self.body(x)


# upsampler name: x2 block (channels, upscale, kernel_size, prelu_per_channel), with input_radius
UPSAMPLERS = {"subpixel": SubPixelBlock, "resize": ResizeConvBlock}


class SRResNet(nn.Module):
    """The SRGAN generator (SRResNet), with the paper's defaults.

    9x9 conv (64) + PReLU; ``n_blocks`` residual blocks; 3x3 conv + BN + the long skip from the
    first block's input; log2(scale) sub-pixel x2 upsampling blocks; 9x9 conv to 3 channels; tanh.

    Args:
        n_blocks (int): residual blocks (B = 16).
        channels (int): feature channels (64).
        scale (int): 2, 4 or 8.
        large_kernel (int): first and last conv kernel (9).
        small_kernel (int): residual and upsampling conv kernel (3).
        prelu_per_channel (bool): one PReLU slope per channel instead of one per layer.
        batch_norm (bool): the paper's BN layers (True). False removes them, as Lim et al.
            (EDSR, 2017) do: evaluation then does not depend on running statistics, which
            lag behind the weights early in training (the ``sample`` preset uses this).
        upsampler (str): ``"subpixel"`` (the paper's) or ``"resize"`` (nearest x2 + conv,
            :class:`ResizeConvBlock`): a key of ``UPSAMPLERS``.

    Shapes: (N, 3, h, w) in [0, 1] -> (N, 3, h * scale, w * scale) in [-1, 1]. Receptive
    radius (``receptive_radius``): 40 LR pixels with the defaults (head 4 + 16 blocks x 2 +
    fuse 1 + upsampling + tail 9x9 at x4, rounded up).
    """

    input_multiple = 1  # any LR size

    def __init__(self, n_blocks=16, channels=64, scale=4, large_kernel=9, small_kernel=3,
                 prelu_per_channel=False, batch_norm=True, upsampler="subpixel"):
        super().__init__()
        check_scale(scale)
        if upsampler not in UPSAMPLERS:
            raise ValueError(f"upsampler must be one of {sorted(UPSAMPLERS)}, got {upsampler!r}")
        self.scale = scale
        self.head = nn.Sequential(
            nn.Conv2d(3, channels, large_kernel, padding=large_kernel // 2),
            _prelu(channels, prelu_per_channel),
        )
        self.blocks = nn.Sequential(*[
            ResidualBlock(channels, small_kernel, prelu_per_channel, batch_norm)
            for _ in range(n_blocks)])
        self.fuse = nn.Sequential(
            nn.Conv2d(channels, channels, small_kernel, padding=small_kernel // 2),
            _norm(channels, batch_norm),
        )
        self.upsample = nn.Sequential(*[
            UPSAMPLERS[upsampler](channels, 2, small_kernel, prelu_per_channel)
            for _ in range(int(math.log2(scale)))])
        self.tail = nn.Conv2d(channels, 3, large_kernel, padding=large_kernel // 2)
        # LR pixels: head, 2 convs per block, fuse; each x2 upsampling block's radius in its
        # input's pixels (2**i per LR pixel); the tail at x scale. tests/test_archs.py measures it.
        k, r = large_kernel // 2, small_kernel // 2
        ups = [UPSAMPLERS[upsampler].input_radius(r) / 2 ** i for i in range(int(math.log2(scale)))]
        self.receptive_radius = math.ceil(k + 2 * r * n_blocks + r + sum(ups) + k / scale)
        measured = TILE_MARGINS.get((n_blocks, channels, upsampler, batch_norm, scale))
        self.tile_margin = min(self.receptive_radius, measured or self.receptive_radius)

    def forward(self, lr_imgs):
        features = self.head(lr_imgs)  # (N, 64, h, w)
        features = features + self.fuse(self.blocks(features))  # long skip connection
        return torch.tanh(self.tail(self.upsample(features)))  # (N, 3, h*s, w*s) in [-1, 1]
