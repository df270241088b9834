"""The networks of SRGAN (Ledig et al., CVPR 2017): generator, discriminators, VGG19 features.

``train.ipynb`` builds :class:`SRResNet` (pretrained alone with pixel MSE, then the SRGAN
generator) and a discriminator through :func:`build_discriminator`; :class:`TruncatedVGG19`
computes the VGG content loss. ``test.ipynb`` and ``super_resolution.ipynb`` load SRResNet
checkpoints for inference.

Ranges: the generator takes LR images in [0, 1] and returns HR images in [-1, 1] (tanh); the
discriminators and the VGG take HR-range images in [-1, 1].

Remedies for the adversarial stage, each an option whose default is the paper's network:

- generator: ``upsampler="resize"`` (nearest x2 + conv, Odena et al. 2016, as ESRGAN's RRDBNet)
  instead of sub-pixel convolutions, or ``icnr=True`` (Aitken et al. 2017: each PixelShuffle
  starts as nearest-neighbour upsampling); both remove the checkerboard a freshly initialised
  sub-pixel convolution draws on the 2x2 output grid;
- :class:`Discriminator`: ``spectral_norm`` (Miyato et al. 2018), ``batch_norm`` and
  ``antialias`` (blurred stride-2 downsampling, Zhang 2019, so that D cannot key on a pattern
  locked to the output grid);
- other discriminators that judge local texture: :class:`PatchDiscriminator` (PatchGAN, Isola
  et al. 2017) and :class:`UNetDiscriminator` (Real-ESRGAN, Wang et al. 2021), one logit per
  region or per pixel instead of one per image; ``DISCRIMINATORS`` names them.

PReLU choice: one learned slope per PReLU layer (``nn.PReLU()``, as the paper's Figure 4 draws
it); with the defaults SRResNet then has 1,549,462 parameters. ``prelu_per_channel=True`` gives
one slope per channel instead.
"""
import math
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

from utils import IMAGENET_MEAN, IMAGENET_STD, signed_to_unit, unit_to_imagenet

VGG19_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"


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
    """3x3 conv to ``upscale**2`` times the channels, PixelShuffle(upscale), PReLU (x2 upsampling).

    ``icnr=True`` initialises the conv with ICNR (Aitken et al., 2017): the ``upscale**2``
    filters that PixelShuffle interleaves into one output channel start equal, so the block
    starts as a conv followed by nearest-neighbour upsampling, with no checkerboard.
    """

    def __init__(self, channels=64, upscale=2, kernel_size=3, prelu_per_channel=False, icnr=False):
        super().__init__()
        conv = nn.Conv2d(channels, channels * upscale ** 2, kernel_size, padding=kernel_size // 2)
        if icnr:
            icnr_(conv.weight, upscale)
            nn.init.zeros_(conv.bias)
        self.body = nn.Sequential(conv, nn.PixelShuffle(upscale), _prelu(channels, prelu_per_channel))

    def forward(self, x):
        return self.body(x)


class ResizeConvBlock(nn.Module):
    """Nearest-neighbour x``upscale`` upsampling, 3x3 conv, PReLU (resize-convolution).

    Odena, Dumoulin and Olah (2016): unlike a sub-pixel or transposed convolution, every output
    pixel is made by the same filter, so the block cannot draw a pattern locked to the output
    grid. ESRGAN's RRDBNet upsamples this way.
    """

    def __init__(self, channels=64, upscale=2, kernel_size=3, prelu_per_channel=False):
        super().__init__()
        self.body = nn.Sequential(
            nn.Upsample(scale_factor=upscale, mode="nearest"),
            nn.Conv2d(channels, channels, kernel_size, padding=kernel_size // 2),
            _prelu(channels, prelu_per_channel),
        )

    def forward(self, x):
        return self.body(x)


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
            :class:`ResizeConvBlock`), a key of ``UPSAMPLERS``.
        icnr (bool): ICNR initialisation of the sub-pixel convs (:class:`SubPixelBlock`).

    Shapes: (N, 3, h, w) in [0, 1] -> (N, 3, h * scale, w * scale) in [-1, 1]. Receptive
    radius: 40 LR pixels with the defaults (4 + 16 x 2 + 1 + 1 + 0.5 + 1, rounded up); fewer
    blocks, or resize-convolution, only make it smaller.
    """

    def __init__(self, n_blocks=16, channels=64, scale=4, large_kernel=9, small_kernel=3,
                 prelu_per_channel=False, batch_norm=True, upsampler="subpixel", icnr=False):
        super().__init__()
        if scale not in (2, 4, 8):
            raise ValueError(f"scale must be 2, 4 or 8, got {scale}")
        if upsampler not in UPSAMPLERS:
            raise ValueError(f"upsampler must be one of {sorted(UPSAMPLERS)}, got {upsampler!r}")
        if icnr and upsampler != "subpixel":
            raise ValueError(f"icnr=True initialises sub-pixel convs; upsampler is {upsampler!r}")
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
        extra = dict(icnr=icnr) if upsampler == "subpixel" else {}
        self.upsample = nn.Sequential(*[
            UPSAMPLERS[upsampler](channels, 2, small_kernel, prelu_per_channel, **extra)
            for _ in range(int(math.log2(scale)))])
        self.tail = nn.Conv2d(channels, 3, large_kernel, padding=large_kernel // 2)

    def forward(self, lr_imgs):
        features = self.head(lr_imgs)  # (N, 64, h, w)
        features = features + self.fuse(self.blocks(features))  # long skip connection
        return torch.tanh(self.tail(self.upsample(features)))  # (N, 3, h*s, w*s) in [-1, 1]


def _sn(layer, enabled):
    """``layer`` with spectral normalisation of its weight (Miyato et al., 2018) when enabled."""
    return _spectral_norm(layer) if enabled else layer


class BlurDownsample(nn.Module):
    """Anti-aliased x2 downsampling (Zhang, ICML 2019): a fixed [1, 2, 1] x [1, 2, 1] / 16 blur
    per channel, then every second pixel. A conv with stride 2 aliases: it sees a pattern with
    a 2- or 4-pixel period at one phase only, so a discriminator can key on (and a generator
    learn) texture locked to the output grid; blurring first removes that frequency."""

    def __init__(self, channels):
        super().__init__()
        kernel = torch.tensor([1.0, 2.0, 1.0])
        kernel = (kernel[:, None] * kernel[None, :]) / 16.0
        self.register_buffer("kernel", kernel.expand(channels, 1, 3, 3).clone())

    def forward(self, x):
        x = F.pad(x, (1, 1, 1, 1), mode="reflect")
        return F.conv2d(x, self.kernel.to(x.dtype), stride=2, groups=x.shape[1])


def _down_conv(in_channels, out_channels, stride, antialias, spectral_norm, kernel_size=3):
    """A conv with the given stride; with ``antialias``, stride 1 then :class:`BlurDownsample`."""
    pad = (kernel_size - 1) // 2
    if stride == 1 or not antialias:
        return [_sn(nn.Conv2d(in_channels, out_channels, kernel_size, stride, pad), spectral_norm)]
    return [_sn(nn.Conv2d(in_channels, out_channels, kernel_size, 1, pad), spectral_norm),
            BlurDownsample(out_channels)]


class Discriminator(nn.Module):
    """The SRGAN discriminator: one logit per image (the sigmoid lives in the loss).

    Eight 3x3 convs with ``channels * (1, 1, 2, 2, 4, 4, 8, 8)`` channels and strides
    1, 2, 1, 2, 1, 2, 1, 2, BN after every conv but the first, LeakyReLU 0.2; Dense(1024),
    LeakyReLU 0.2, Dense(1). The convs leave (N, 512, H/16, W/16); an adaptive average pooling
    to ``pool_size`` x ``pool_size`` (6 x 6) before the dense layers lets any input size in (for
    the paper's 96x96 patches it is the identity), so the parameter count does not depend on
    the patch size: 23,565,505 with the defaults.

    Args:
        channels (int): channels of the first conv (64).
        n_convs (int): conv layers, even (8).
        fc_size (int): width of the hidden dense layer (1024).
        pool_size (int): side of the feature map fed to the dense layers (6 = 96 / 16).
        batch_norm (bool): the paper's BN layers (True).
        spectral_norm (bool): spectral normalisation of every conv and dense layer (False):
            D becomes 1-Lipschitz per layer, so it cannot win the game by sharpening its
            decision boundary without limit.
        antialias (bool): blurred downsampling (:class:`BlurDownsample`) in place of the
            stride-2 convs (False).

    Shapes: (N, 3, H, W) in [-1, 1] -> (N,) logits. Receptive field: the whole patch.
    """

    def __init__(self, channels=64, n_convs=8, fc_size=1024, pool_size=6, batch_norm=True,
                 spectral_norm=False, antialias=False):
        super().__init__()
        if n_convs < 2 or n_convs % 2:
            raise ValueError(f"n_convs must be even and >= 2, got {n_convs}")
        layers, in_channels = [], 3
        for k in range(n_convs):
            out_channels = channels * 2 ** (k // 2)
            layers += _down_conv(in_channels, out_channels, 1 + k % 2, antialias, spectral_norm)
            if k > 0 and batch_norm:
                layers.append(nn.BatchNorm2d(out_channels))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            in_channels = out_channels
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(pool_size)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            _sn(nn.Linear(in_channels * pool_size ** 2, fc_size), spectral_norm),
            nn.LeakyReLU(0.2, inplace=True),
            _sn(nn.Linear(fc_size, 1), spectral_norm),
        )

    def forward(self, hr_imgs):
        features = self.pool(self.features(hr_imgs))  # (N, 512, 6, 6)
        return self.classifier(features).squeeze(1)  # (N,) logits


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


DISCRIMINATORS = {"srgan": Discriminator, "patch": PatchDiscriminator, "unet": UNetDiscriminator}


def build_discriminator(arch="srgan", **kwargs):
    """A discriminator of ``DISCRIMINATORS`` (``config.discriminator``: its ``arch`` and kwargs)."""
    if arch not in DISCRIMINATORS:
        raise ValueError(f"discriminator arch must be one of {sorted(DISCRIMINATORS)}, got {arch!r}")
    return DISCRIMINATORS[arch](**kwargs)


class TruncatedVGG19(nn.Module):
    """phi_{i,j}: VGG19's feature map after the j-th conv (and its ReLU) before the i-th max-pool.

    ``i=5, j=4`` is the paper's VGG54, ``i=2, j=2`` its VGG22. Input images in [-1, 1] are mapped
    to [0, 1] and ImageNet-normalised inside (the statistics are buffers). The network is frozen
    and always in eval mode.

    Args:
        i (int): max-pooling index, 1..5.
        j (int): conv index within that block (1..2 for blocks 1-2, 1..4 for blocks 3-5).
        weights: ``"IMAGENET1K_V1"`` (default: torchvision's ImageNet weights, downloaded into
            torchvision's cache on first use), a path to a ``.pth`` state dict of
            ``torchvision.models.vgg19``, or ``None`` for random weights (tests only).
        before_activation (bool): take the conv output before its ReLU.

    Shapes: (N, 3, H, W) in [-1, 1] -> (N, C, H / 2**(i-1), W / 2**(i-1)).

    Raises:
        FileNotFoundError: when the weights are neither in a given file nor downloadable; the
            message names the file, where to put it, and that the MSE content loss needs no VGG.
    """

    BLOCK_CONVS = (2, 2, 4, 4, 4)  # convs per block of VGG19

    def __init__(self, i=5, j=4, weights="IMAGENET1K_V1", before_activation=False):
        super().__init__()
        if not 1 <= i <= 5 or not 1 <= j <= self.BLOCK_CONVS[i - 1]:
            raise ValueError(f"VGG19 has no phi_{{{i},{j}}}: block {i} has "
                             f"{self.BLOCK_CONVS[min(max(i, 1), 5) - 1]} convs (i in 1..5)")
        # Only the convolutional part is used: build the classifier (120 M parameters) on the
        # meta device, where it costs nothing, and materialise the features alone.
        with torch.device("meta"):
            features = torchvision.models.vgg19(weights=None).features
        features = features.to_empty(device="cpu")
        if weights is None:
            for layer in features:
                if isinstance(layer, nn.Conv2d):  # torchvision's VGG initialisation
                    nn.init.kaiming_normal_(layer.weight, mode="fan_out", nonlinearity="relu")
                    nn.init.zeros_(layer.bias)
        else:
            state = load_vgg19_state_dict(weights)
            load_weights(features, {k[len("features."):]: v for k, v in state.items()
                                    if k.startswith("features.")}, what=f"VGG19 weights {weights}")
        # Index of the wanted conv in the features: count convs and pools up to block i, conv j.
        pools = convs = 0
        for index, layer in enumerate(features):
            if isinstance(layer, nn.MaxPool2d):
                pools, convs = pools + 1, 0
            elif isinstance(layer, nn.Conv2d):
                convs += 1
                if pools == i - 1 and convs == j:
                    break
        end = index + (1 if before_activation else 2)  # include the ReLU after the conv
        self.features = features[:end]
        for layer in self.features:
            if isinstance(layer, nn.ReLU):
                layer.inplace = False  # before_activation=False on a later ReLU must not clobber
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        self.requires_grad_(False)
        self.eval()

    def train(self, mode=True):
        """Stay in eval mode whatever the caller asks (the feature extractor is frozen)."""
        return super().train(False)

    def forward(self, hr_imgs):
        x = unit_to_imagenet(signed_to_unit(hr_imgs), self.mean, self.std)  # ImageNet-normalised
        return self.features(x)


def load_weights(module, state_dict, what="model"):
    """``module.load_state_dict`` with a readable error listing mismatched keys and shapes.

    Raises:
        ValueError: naming ``what`` and up to 10 missing keys, unexpected keys and shape
            mismatches.
    """
    own = module.state_dict()
    missing = sorted(set(own) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(own))
    shapes = [f"{k}: checkpoint {tuple(state_dict[k].shape)} vs model {tuple(own[k].shape)}"
              for k in own if k in state_dict and state_dict[k].shape != own[k].shape]
    if missing or unexpected or shapes:
        lines = ([f"missing: {', '.join(missing[:10])}"] if missing else []) + \
                ([f"unexpected: {', '.join(unexpected[:10])}"] if unexpected else []) + shapes[:10]
        raise ValueError(f"{what} does not match the model:\n  " + "\n  ".join(lines))
    module.load_state_dict(state_dict)


def load_vgg19_state_dict(weights):
    """The VGG19 state dict named by ``weights`` (see :class:`TruncatedVGG19`).

    Raises:
        FileNotFoundError: with the file to provide and where to put it.
    """
    if str(weights) != "IMAGENET1K_V1":  # a file in torchvision's state-dict format
        path = Path(weights)
        if not path.is_file():
            raise FileNotFoundError(
                f"VGG19 weights file {path} not found. Download {VGG19_URL} (torchvision's "
                f"VGG19_Weights.IMAGENET1K_V1) and save it as {path}. The pixel-MSE content loss "
                f"(content_loss='mse') needs no VGG.")
        return torch.load(path, map_location="cpu", weights_only=True)
    cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(VGG19_URL).name
    try:
        return torchvision.models.VGG19_Weights.IMAGENET1K_V1.get_state_dict(
            progress=False, check_hash=False)
    except Exception as err:  # offline: URLError, socket errors, ...
        raise FileNotFoundError(
            f"VGG19 ImageNet weights are not in torchvision's cache ({cached}) and could not be "
            f"downloaded ({type(err).__name__}: {err}). On a machine with internet, download "
            f"{VGG19_URL} and put it at {cached}, or pass its path as the VGG weights "
            f"(config.vgg_weights). The pixel-MSE content loss (content_loss='mse') needs no "
            f"VGG.") from None
