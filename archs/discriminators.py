"""The discriminators: SRGAN's and ESRGAN's VGG-style one.

``archs.build_discriminator(arch, ...)`` builds one from ``config.discriminator``; the solver's
GAN stage trains it against the generator. Both take HR-range images in [-1, 1] and return
logits (the sigmoid lives in the loss). SRGAN's has options whose defaults are the paper's
network: ``spectral_norm`` (Miyato et al. 2018) and ``batch_norm``. (``report/experiments/gan_ablation.py``
adds the PatchGAN, U-Net and anti-aliased discriminators it measured.) ``D_INPUTS`` are the
views of an image that D may be given (``stage.d_input``); :class:`TexturedRegions` limits
what D sees to the photograph's textured regions (``stage.d_regions``); :func:`conv_features`
collects D's features for feature matching.
"""
import contextlib
import dataclasses

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.transforms.functional as TF
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm


def _sn(layer, enabled):
    """``layer`` with spectral normalisation of its weight (Miyato et al., 2018) when enabled."""
    return _spectral_norm(layer) if enabled else layer


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

    Shapes: (N, 3, H, W) in [-1, 1] -> (N,) logits. Receptive field: the whole patch.
    """

    def __init__(self, channels=64, n_convs=8, fc_size=1024, pool_size=6, batch_norm=True,
                 spectral_norm=False):
        super().__init__()
        if n_convs < 2 or n_convs % 2:
            raise ValueError(f"n_convs must be even and >= 2, got {n_convs}")
        layers, in_channels = [], 3
        for k in range(n_convs):
            out_channels = channels * 2 ** (k // 2)
            layers += self.down_conv(in_channels, out_channels, 1 + k % 2, spectral_norm)
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

    @staticmethod
    def down_conv(in_channels, out_channels, stride, spectral_norm):
        """The layers of one 3x3 conv with the given stride (a subclass may downsample otherwise)."""
        return [_sn(nn.Conv2d(in_channels, out_channels, 3, stride, 1), spectral_norm)]

    def forward(self, hr_imgs):
        features = self.pool(self.features(hr_imgs))  # (N, 512, 6, 6)
        return self.classifier(features).squeeze(1)  # (N,) logits


class VGGStyleDiscriminator(nn.Module):
    """ESRGAN's discriminator (Wang et al., 2018): VGG-style, for 128x128 HR patches.

    A 3x3 conv (``channels``), then per stage a 3x3 conv and a 4x4 stride-2 conv, each with BN
    (``channels`` x 1, 2, 4, 8, 8, ... up to 8), LeakyReLU 0.2, until the map is 4x4; Dense(100),
    LeakyReLU 0.2, Dense(1). With ``input_size=128`` the ``state_dict`` keys and shapes are
    those of ESRGAN's release (BasicSR's ``VGGStyleDiscriminator``): 14,499,401 parameters with
    the defaults. Any power of two >= 8 is accepted (one stage per halving down to 4x4), so the
    CPU runs can train on smaller patches.

    Args:
        channels (int): channels of the first conv (64).
        input_size (int): the HR patch side the network is built for (128).

    Shapes: (N, 3, input_size, input_size) in [-1, 1] -> (N,) logits.
    """

    def __init__(self, channels=64, input_size=128):
        super().__init__()
        if input_size < 8 or input_size & (input_size - 1):
            raise ValueError(f"input_size must be a power of two >= 8, got {input_size}")
        self.input_size = input_size
        self.conv0_0 = nn.Conv2d(3, channels, 3, 1, 1)
        self.conv0_1 = nn.Conv2d(channels, channels, 4, 2, 1, bias=False)
        self.bn0_1 = nn.BatchNorm2d(channels)
        self.n_stages = input_size.bit_length() - 3  # halvings from input_size down to 4
        in_channels = channels
        for k in range(1, self.n_stages):
            out_channels = channels * min(2 ** k, 8)
            self.add_module(f"conv{k}_0", nn.Conv2d(in_channels, out_channels, 3, 1, 1, bias=False))
            self.add_module(f"bn{k}_0", nn.BatchNorm2d(out_channels))
            self.add_module(f"conv{k}_1", nn.Conv2d(out_channels, out_channels, 4, 2, 1, bias=False))
            self.add_module(f"bn{k}_1", nn.BatchNorm2d(out_channels))
            in_channels = out_channels
        self.linear1 = nn.Linear(in_channels * 4 * 4, 100)
        self.linear2 = nn.Linear(100, 1)

    def forward(self, hr_imgs):
        if tuple(hr_imgs.shape[-2:]) != (self.input_size,) * 2:
            raise ValueError(f"VGGStyleDiscriminator(input_size={self.input_size}) takes "
                             f"{self.input_size}x{self.input_size} patches, got "
                             f"{tuple(hr_imgs.shape[-2:])}; set hr_patch or input_size to match")
        x = F.leaky_relu(self.conv0_0(hr_imgs), 0.2)  # (N, c, S, S)
        x = F.leaky_relu(self.bn0_1(self.conv0_1(x)), 0.2)  # (N, c, S/2, S/2)
        for k in range(1, self.n_stages):
            x = F.leaky_relu(getattr(self, f"bn{k}_0")(getattr(self, f"conv{k}_0")(x)), 0.2)
            x = F.leaky_relu(getattr(self, f"bn{k}_1")(getattr(self, f"conv{k}_1")(x)), 0.2)
        x = F.leaky_relu(self.linear1(x.flatten(1)), 0.2)  # (N, 100) from (N, 8c, 4, 4)
        return self.linear2(x).squeeze(1)  # (N,) logits


def gray(imgs):
    """The mean of the three channels, repeated over them: what D sees with ``d_input="gray"``.

    Unlike the BT.601 luma, whose gradient (0.299, 0.587, 0.114) per pixel moves the chroma too
    (Cb by -0.19 per unit), the gradient of the mean is along (1, 1, 1), which changes Y alone:
    Cb's and Cr's weights sum to zero. The adversarial gradient at the output is then free of
    colour, and the output's colour is the content loss's alone.
    """
    return imgs.mean(dim=1, keepdim=True).expand_as(imgs)


# what the discriminator sees of an image (stage.d_input; report/experiments/ablation_parts.py adds the
# views the GAN ablation measured)
D_INPUTS = {"rgb": lambda imgs: imgs, "gray": gray}


@dataclasses.dataclass(frozen=True)
class TexturedRegions:
    """Beby-GAN's region-aware adversarial learning (Li et al., "Best-Buddy GANs for Highly
    Detailed Image Super-Resolution", AAAI 2022, Sec. 3.3): D sees the photograph's fine detail
    only where the photograph has texture, so the adversary does not ask for texture where it is
    flat (there the content loss alone rules).

    Texture is judged on the LR input, upscaled bicubically to HR's size: its BT.601 luma's
    standard deviation over ``window`` x ``window`` HR pixels is at least ``threshold`` (LR and
    luma in [0, 1]; Beby-GAN's 11 and 0.025, 6.4 gray levels). Beby-GAN shows D zeros in the flat
    regions; here D sees them blurred (a 9 x 9 Gaussian of ``sigma`` HR pixels: the frequencies
    of the x4 LR image), which keeps their brightness and colour in D's view: with zeros the
    brightness of flat regions drifted (report/notes/README.md, placement).
    """
    window: int = 11
    threshold: float = 0.025
    sigma: float = 2.0

    def mask(self, lr_imgs, size):
        """The textured pixels of each image.

        Args:
            lr_imgs (Tensor): (N, 3, h, w) in [0, 1], as the generator takes them.
            size (tuple): HR's (H, W).

        Returns:
            Tensor: (N, 1, H, W), 1 where textured and 0 where flat, float32, no gradient.
        """
        with torch.no_grad():
            up = F.interpolate(lr_imgs.float(), size=tuple(size), mode="bicubic", align_corners=False)
            luma = 0.299 * up[:, :1] + 0.587 * up[:, 1:2] + 0.114 * up[:, 2:]  # (N, 1, H, W) in ~[0, 1]
            pad = self.window // 2
            padded = F.pad(luma, (pad,) * 4, mode="reflect")
            mean = F.avg_pool2d(padded, self.window, stride=1)
            n = self.window ** 2
            var = (F.avg_pool2d(padded ** 2, self.window, stride=1) - mean ** 2).clamp_min(0) * n / (n - 1)
            return (var.sqrt() >= self.threshold).float()

    def view(self, imgs, mask):
        """What D sees of ``imgs`` (N, 3, H, W): the images where ``mask`` (N, 1, H, W) is 1,
        their Gaussian blur where it is 0; the gradient flows through both."""
        smooth = TF.gaussian_blur(imgs, [9, 9], [self.sigma, self.sigma])
        return smooth + (imgs - smooth) * mask.to(imgs.dtype)


@contextlib.contextmanager
def conv_features(module):
    """Within the block, the output of every ``nn.Conv2d`` of ``module``, in call order, is
    appended to the yielded list: D's intermediate features for feature matching."""
    maps = []
    handles = [m.register_forward_hook(lambda _m, _inputs, output: maps.append(output))
               for m in module.modules() if isinstance(m, nn.Conv2d)]
    try:
        yield maps
    finally:
        for handle in handles:
            handle.remove()


DISCRIMINATORS = {"srgan": Discriminator, "vgg": VGGStyleDiscriminator}


def build_discriminator(arch="srgan", **kwargs):
    """A discriminator of ``DISCRIMINATORS`` (``config.discriminator``: its ``arch`` and kwargs)."""
    if arch not in DISCRIMINATORS:
        raise ValueError(f"discriminator arch must be one of {sorted(DISCRIMINATORS)}, got {arch!r}")
    return DISCRIMINATORS[arch](**kwargs)
