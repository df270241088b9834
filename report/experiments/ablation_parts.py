"""The variants that report/experiments/gan_ablation.py measured and no preset uses, added on import to the
core's tables: generator upsamplers (``archs.srresnet.UPSAMPLERS``), discriminators
(``archs.DISCRIMINATORS``), views of D's input (``archs.discriminators.D_INPUTS``) and a content loss
(``losses.CONTENT_LOSSES``). The core keeps what the presets use and the papers define; these
are the ablation's (report/README.md, "Attempts and improvements", has what each did).

| name | table | what |
|---|---|---|
| ``resize_bilinear``, ``resize_blur`` | upsampler | resize-conv. with bilinear x2, or a [1, 2, 1] blur after the conv |
| ``subpixel_icnr`` | upsampler | sub-pixel convolution with ICNR initialisation (Aitken et al. 2017) |
| ``srgan_antialias`` | discriminator | SRGAN's D with blurred stride-2 downsampling (Zhang 2019) |
| ``patch``, ``unet`` | discriminator | PatchGAN (Isola et al. 2017), Real-ESRGAN's U-Net D |
| ``luma``, ``gray_highpass``, ``translate_<n>`` | D's input | BT.601 luma, high-passed gray, random +-n px shifts |
| ``lr_mse`` | content loss | MSE of output and HR both downscaled by MATLAB's bicubic |
| ``mse_chromaticity`` | content loss | pixel MSE + 10 x MSE of the chromaticities R, G, B / (R + G + B) |
| ``mse_texture_<w>`` | content loss | pixel MSE + w x EnhanceNet's texture loss on random filters of the gray image |

    from report.experiments import ablation_parts  # noqa: F401  (before building a config that names them)
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

import losses
from archs import DISCRIMINATORS, Discriminator
from archs.common import Blur121
from archs.discriminators import D_INPUTS, _sn
from archs.srresnet import UPSAMPLERS, ResizeConvBlock, SubPixelBlock
from imresize import imresize_torch


# ----------------------------------------------------------------------------------------------
# Generator upsamplers
# ----------------------------------------------------------------------------------------------
class BilinearResizeConvBlock(ResizeConvBlock):
    """Bilinear x``upscale``, 3x3 conv, PReLU. After a nearest upsampling the filter still sees
    whether it sits at the left or the right of a 2x2 block, so a pattern of period 2 stays
    within reach; bilinear upsampling smooths that edge away."""

    def __init__(self, channels=64, upscale=2, kernel_size=3, prelu_per_channel=False):
        super().__init__(channels, upscale, kernel_size, prelu_per_channel)
        self.body[0] = nn.Upsample(scale_factor=upscale, mode="bilinear")

    @staticmethod
    def input_radius(kernel_radius):
        return kernel_radius / 2 + 1  # the interpolation reads one more input pixel each way


class BlurResizeConvBlock(ResizeConvBlock):
    """Nearest x``upscale``, 3x3 conv, [1, 2, 1] x [1, 2, 1] / 16 blur (StyleGAN's upsampling),
    PReLU: the blur's response at the Nyquist frequency is zero, so no pattern of period 2 can
    leave the block."""

    def __init__(self, channels=64, upscale=2, kernel_size=3, prelu_per_channel=False):
        super().__init__(channels, upscale, kernel_size, prelu_per_channel)
        self.body.insert(2, Blur121(padding="replicate"))

    @staticmethod
    def input_radius(kernel_radius):
        return (kernel_radius + 1) / 2  # one more pixel at the x2 resolution


def icnr_(weight, upscale=2, init=nn.init.kaiming_normal_):
    """ICNR initialisation, in place, of a conv weight (C * upscale**2, C_in, k, k) feeding a
    PixelShuffle(upscale): one random filter per output channel, repeated for its sub-pixels."""
    out_channels = weight.shape[0]
    if out_channels % upscale ** 2:
        raise ValueError(f"ICNR needs output channels divisible by upscale**2 = {upscale ** 2}, "
                         f"got {out_channels}")
    with torch.no_grad():
        base = torch.empty(out_channels // upscale ** 2, *weight.shape[1:])
        init(base)
        weight.copy_(base.repeat_interleave(upscale ** 2, dim=0))  # PixelShuffle's channel order
    return weight


class ICNRSubPixelBlock(SubPixelBlock):
    """A sub-pixel block whose conv starts with ICNR (Aitken et al., 2017): the ``upscale**2``
    filters that PixelShuffle interleaves into one output channel start equal, so the block
    starts as a conv followed by nearest-neighbour upsampling, with no checkerboard."""

    def __init__(self, channels=64, upscale=2, kernel_size=3, prelu_per_channel=False):
        super().__init__(channels, upscale, kernel_size, prelu_per_channel)
        icnr_(self.body[0].weight, upscale)
        nn.init.zeros_(self.body[0].bias)


# ----------------------------------------------------------------------------------------------
# Discriminators
# ----------------------------------------------------------------------------------------------
def _down_conv(in_channels, out_channels, stride, antialias, spectral_norm, kernel_size=3):
    """A conv with the given stride; with ``antialias``, stride 1 then the blurred x2
    downsampling of :class:`archs.common.Blur121`."""
    pad = (kernel_size - 1) // 2
    if stride == 1 or not antialias:
        return [_sn(nn.Conv2d(in_channels, out_channels, kernel_size, stride, pad), spectral_norm)]
    return [_sn(nn.Conv2d(in_channels, out_channels, kernel_size, 1, pad), spectral_norm),
            Blur121(padding="reflect", stride=2)]


class AntialiasDiscriminator(Discriminator):
    """SRGAN's discriminator with blurred downsampling (Zhang, ICML 2019) in place of its
    stride-2 convs: a conv with stride 2 sees a pattern of period 2 or 4 at one phase only, so
    D could key on texture locked to the output grid."""

    @staticmethod
    def down_conv(in_channels, out_channels, stride, spectral_norm):
        return _down_conv(in_channels, out_channels, stride, True, spectral_norm)


class PatchDiscriminator(nn.Module):
    """PatchGAN (Isola et al., CVPR 2017): a map of logits, each judging one local patch.

    4x4 convs: ``channels`` (stride 2, no norm), 2x, 4x (stride 2), 8x ``channels`` (stride 1),
    then a 4x4 conv to one channel; LeakyReLU 0.2, BN after the middle convs unless
    ``spectral_norm``. With ``n_layers=3`` every logit sees a 70x70 patch of the input (the
    pix2pix "70x70 PatchGAN"): the realism feedback is per region, so texture is judged where
    it is drawn instead of being averaged into one logit per image.

    Args:
        channels (int): channels of the first conv (64).
        n_layers (int): stride-2 convs (3).
        batch_norm (bool): BN after the middle convs (True).
        spectral_norm (bool): spectral normalisation of every conv (False).
        antialias (bool): blurred downsampling in place of the stride-2 convs (False).

    Shapes: (N, 3, H, W) in [-1, 1] -> (N, 1, ~H/8, ~W/8) logits (H, W >= 32 for the default).
    """

    def __init__(self, channels=64, n_layers=3, batch_norm=True, spectral_norm=False,
                 antialias=False):
        super().__init__()
        layers = _down_conv(3, channels, 2, antialias, spectral_norm, 4) + [nn.LeakyReLU(0.2, True)]
        in_channels = channels
        for k in range(1, n_layers + 1):
            out_channels = channels * 2 ** min(k, 3)
            layers += _down_conv(in_channels, out_channels, 2 if k < n_layers else 1, antialias,
                                 spectral_norm, 4)
            if batch_norm:
                layers.append(nn.BatchNorm2d(out_channels))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            in_channels = out_channels
        layers.append(_sn(nn.Conv2d(in_channels, 1, 4, 1, 1), spectral_norm))
        self.body = nn.Sequential(*layers)

    def forward(self, hr_imgs):
        return self.body(hr_imgs)  # (N, 1, h', w') logits


class UNetDiscriminator(nn.Module):
    """The U-Net discriminator with spectral normalisation of Real-ESRGAN (Wang et al., 2021).

    A 3x3 conv, three 4x4 stride-2 convs down (``channels`` x 2, 4, 8), three bilinear x2
    upsamplings + 3x3 convs back up with skip connections (sums), two 3x3 convs and a 3x3 conv
    to one channel: one logit per pixel, so the generator learns where its output looks fake,
    not only whether it does. Spectral norm on every conv but the first and the last; no BN.

    Args:
        channels (int): channels of the first conv (64).
        skip_connection (bool): the U-Net's skip sums (True).
        spectral_norm (bool): spectral normalisation (True, as Real-ESRGAN).

    Shapes: (N, 3, H, W) in [-1, 1] -> (N, 1, H, W) logits (any H, W >= 8).
    """

    def __init__(self, channels=64, skip_connection=True, spectral_norm=True):
        super().__init__()
        c, sn = channels, spectral_norm
        self.skip_connection = skip_connection
        self.conv0 = nn.Conv2d(3, c, 3, 1, 1)
        self.down = nn.ModuleList([_sn(nn.Conv2d(c, c * 2, 4, 2, 1, bias=False), sn),
                                   _sn(nn.Conv2d(c * 2, c * 4, 4, 2, 1, bias=False), sn),
                                   _sn(nn.Conv2d(c * 4, c * 8, 4, 2, 1, bias=False), sn)])
        self.up = nn.ModuleList([_sn(nn.Conv2d(c * 8, c * 4, 3, 1, 1, bias=False), sn),
                                 _sn(nn.Conv2d(c * 4, c * 2, 3, 1, 1, bias=False), sn),
                                 _sn(nn.Conv2d(c * 2, c, 3, 1, 1, bias=False), sn)])
        self.head = nn.Sequential(
            _sn(nn.Conv2d(c, c, 3, 1, 1, bias=False), sn), nn.LeakyReLU(0.2, inplace=True),
            _sn(nn.Conv2d(c, c, 3, 1, 1, bias=False), sn), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(c, 1, 3, 1, 1))

    def forward(self, hr_imgs):
        x = F.leaky_relu(self.conv0(hr_imgs), 0.2)  # (N, c, H, W)
        skips = [x]
        for conv in self.down:
            x = F.leaky_relu(conv(x), 0.2)  # (N, 2c, H/2, W/2), then H/4, then H/8
            skips.append(x)
        skips.pop()  # the bottom of the U has no skip of its own
        for conv in self.up:
            skip = skips.pop()
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = F.leaky_relu(conv(x), 0.2)
            if self.skip_connection:
                x = x + skip
        return self.head(x)  # (N, 1, H, W) logits


# ----------------------------------------------------------------------------------------------
# What D sees of an image, and the LR-consistency content loss
# ----------------------------------------------------------------------------------------------
def luma(imgs):
    """The luma of RGB images (ITU-R BT.601 weights), repeated over the three channels.

    With ``stage.d_input = "luma"`` every input of the discriminator goes through it: D judges
    texture, not colour (DPED's texture discriminator sees gray images, Ignatov et al., ICCV
    2017). Its gradient still moves the chroma (report/notes/README.md, speckle); the core's ``"gray"`` view
    does not.

    Args:
        imgs (Tensor): (N, 3, H, W), any range (the weights sum to 1: [-1, 1] stays [-1, 1]).

    Returns:
        Tensor: (N, 3, H, W), three equal channels; differentiable.
    """
    weights = imgs.new_tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    return (imgs * weights).sum(dim=1, keepdim=True).expand_as(imgs)


def gray_highpass(imgs, sigma=2.0):
    """:func:`gray` minus its Gaussian blur (``sigma`` HR pixels): what D sees under frequency
    separation (Fritsche et al., ICCVW 2019): the adversary judges the fine detail only; colour
    and coarse structure are left to the content loss."""
    y = imgs.mean(dim=1, keepdim=True)  # (N, 1, H, W), chroma-free gradient
    radius = int(3 * sigma + 0.5)
    x = torch.arange(-radius, radius + 1, device=imgs.device, dtype=imgs.dtype)
    kernel = torch.exp(-x ** 2 / (2 * sigma ** 2))
    kernel = kernel / kernel.sum()
    padded = F.pad(y, (radius,) * 4, mode="reflect")
    blurred = F.conv2d(F.conv2d(padded, kernel.view(1, 1, 1, -1)), kernel.view(1, 1, -1, 1))
    return (y - blurred).expand_as(imgs)


def random_translate(imgs, max_shift):
    """Shift each image by its own random offset of -max_shift..max_shift pixels per axis
    (reflected borders, same size): DiffAugment's translation (Zhao et al., 2020).

    Applied to every input of the discriminator, real and fake alike, and differentiable, so
    the generator's gradient passes through it. A pattern locked to the generator's 4x4 output
    grid then lands at a random phase of D's stride-2 grid, and D cannot key on it.

    Args:
        imgs (Tensor): (N, C, H, W), H and W > max_shift.
        max_shift (int): 0 returns ``imgs`` unchanged.
    """
    if not max_shift:
        return imgs
    n, _, h, w = imgs.shape
    padded = F.pad(imgs, (max_shift,) * 4, mode="reflect")
    offsets = torch.randint(0, 2 * max_shift + 1, (n, 2)).tolist()  # global RNG: resumable
    return torch.stack([padded[i, :, dy:dy + h, dx:dx + w] for i, (dy, dx) in enumerate(offsets)])




def lr_mse(sr, hr, scale=4):
    """MSE between the output and HR both downscaled by 1 / ``scale`` (MATLAB bicubic,
    ``imresize_torch``): it pins what the LR image determines and leaves the detail above its
    frequencies to the adversarial loss, as the consistency constraints of PULSE (Menon et al.,
    2020) and of Bahat and Michaeli (2020)."""
    return F.mse_loss(imresize_torch(sr, 1 / scale), imresize_torch(hr, 1 / scale))


def chromaticity(imgs, eps=0.02):
    """Each pixel's share of R, G and B in their sum, of ``imgs`` in [-1, 1] taken to [0, 1],
    with ``eps`` (about 5 gray levels) added to each channel so that near-black pixels stay
    stable. A change of all three channels by the same amount, which is how a gray
    discriminator's gradient moves the output (report/notes/README.md, speckle), changes it."""
    x = (imgs.float() + 1) / 2 + eps  # (N, 3, H, W) in [eps, 1 + eps]
    return x / x.sum(dim=1, keepdim=True)


def mse_chromaticity(sr, hr, weight=10.0):
    """The pixel MSE plus ``weight`` times the MSE of the chromaticities (:func:`chromaticity`):
    a colour term in which darkening a band without taking its colour out costs (notes, iris-rim)."""
    return F.mse_loss(sr, hr) + weight * F.mse_loss(chromaticity(sr), chromaticity(hr))


def random_texture_filters(sizes=(3, 5, 7, 11), per_size=32, seed=0):
    """The fixed filters of :func:`texture_loss`: ``per_size`` random filters of each side in
    ``sizes`` (Ustyuzhaninov et al., "What does it take to generate natural textures?", ICLR
    2017: one layer of random multi-scale filters, rectified, matched by Gram matrices, makes
    natural textures without ImageNet weights), each zero-mean (blind to the local brightness,
    which the pixel loss pins) and of unit L2 norm, drawn from ``seed``: the same in every run.

    Returns:
        list: one (per_size, 1, k, k) float32 tensor per side k.
    """
    generator = torch.Generator().manual_seed(seed)
    filters = []
    for k in sizes:
        w = torch.randn(per_size, 1, k, k, generator=generator)
        w = w - w.mean(dim=(2, 3), keepdim=True)
        filters.append(w / w.flatten(1).norm(dim=1).view(-1, 1, 1, 1))
    return filters


def texture_grams(imgs, window=16):
    """Gram matrices of the rectified random-filter responses (:func:`random_texture_filters`)
    of the gray image (the channels' mean: the loss's gradient moves luma only, as a gray D's),
    one per ``window`` x ``window`` tile (EnhanceNet's patch-wise texture loss).

    Args:
        imgs (Tensor): (N, 3, H, W) in [-1, 1], H and W multiples of ``window``.

    Returns:
        Tensor: (N * tiles, C, C), C = 128, the mean over the tile of f f^T, in float32.
    """
    gray = imgs.float().mean(dim=1, keepdim=True)  # (N, 1, H, W)
    # reflected borders: with zero-mean filters a uniform brightness change moves no response
    maps = [F.relu(F.conv2d(F.pad(gray, (w.shape[-1] // 2,) * 4, mode="reflect"), w.to(gray.device)))
            for w in random_texture_filters()]
    f = torch.cat(maps, dim=1)  # (N, C, H, W), C = 128
    n, c, h, w = f.shape
    tiles = f.reshape(n, c, h // window, window, w // window, window).permute(0, 2, 4, 1, 3, 5)
    tiles = tiles.reshape(-1, c, window * window)  # (N * tiles, C, window^2)
    return tiles @ tiles.transpose(1, 2) / (window * window)


def texture_loss(sr, hr, window=16):
    """EnhanceNet's texture loss (Sajjadi, Schoelkopf and Hirsch, ICCV 2017, Eq. 4): the MSE of
    the tile-wise Gram matrices (:func:`texture_grams`) of the output and of HR. It asks each
    16 x 16 tile for HR's texture statistics, not for HR's pixels: texture where HR has texture,
    drawn anywhere within the tile, and none where HR's tile is flat. In the sample GAN stage it
    drew grain, not the fur's hairs (report/notes/README.md, fur)."""
    with torch.no_grad():
        target = texture_grams(hr, window)
    return F.mse_loss(texture_grams(sr, window), target)


def mse_texture(weight):
    """The pixel MSE plus ``weight`` times :func:`texture_loss`: a content loss."""
    def loss(sr, hr):
        return F.mse_loss(sr, hr) + weight * texture_loss(sr, hr)
    return loss


UPSAMPLERS.update(resize_bilinear=BilinearResizeConvBlock, resize_blur=BlurResizeConvBlock,
                  subpixel_icnr=ICNRSubPixelBlock)
DISCRIMINATORS.update(srgan_antialias=AntialiasDiscriminator, patch=PatchDiscriminator,
                      unet=UNetDiscriminator)
D_INPUTS.update(luma=luma, gray_highpass=gray_highpass,
                **{f"translate_{n}": (lambda n: lambda imgs: random_translate(imgs, n))(n) for n in (1, 2, 3)})
losses.CONTENT_LOSSES.update(lr_mse=lr_mse, mse_chromaticity=mse_chromaticity,
                             **{f"mse_texture_{w:g}": mse_texture(w) for w in (1000, 3000)})
