"""The networks of SRGAN (Ledig et al., CVPR 2017): generator, discriminator, VGG19 feature extractor.

``train.ipynb`` builds :class:`SRResNet` (pretrained alone with pixel MSE, then the SRGAN
generator) and :class:`Discriminator`; :class:`TruncatedVGG19` computes the VGG content loss.
``test.ipynb`` and ``super_resolution.ipynb`` load SRResNet checkpoints for inference.

Ranges: the generator takes LR images in [0, 1] and returns HR images in [-1, 1] (tanh); the
discriminator and the VGG take HR-range images in [-1, 1].

PReLU choice: one learned slope per PReLU layer (``nn.PReLU()``, as the paper's Figure 4 draws
it); with the defaults SRResNet then has 1,549,462 parameters. ``prelu_per_channel=True`` gives
one slope per channel instead.
"""
import math
from pathlib import Path

import torch
import torch.nn as nn
import torchvision

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
    """3x3 conv to ``upscale**2`` times the channels, PixelShuffle(upscale), PReLU (x2 upsampling)."""

    def __init__(self, channels=64, upscale=2, kernel_size=3, prelu_per_channel=False):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels * upscale ** 2, kernel_size, padding=kernel_size // 2),
            nn.PixelShuffle(upscale),
            _prelu(channels, prelu_per_channel),
        )

    def forward(self, x):
        return self.body(x)


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

    Shapes: (N, 3, h, w) in [0, 1] -> (N, 3, h * scale, w * scale) in [-1, 1].
    """

    def __init__(self, n_blocks=16, channels=64, scale=4, large_kernel=9, small_kernel=3,
                 prelu_per_channel=False, batch_norm=True):
        super().__init__()
        if scale not in (2, 4, 8):
            raise ValueError(f"scale must be 2, 4 or 8, got {scale}")
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
            SubPixelBlock(channels, 2, small_kernel, prelu_per_channel)
            for _ in range(int(math.log2(scale)))])
        self.tail = nn.Conv2d(channels, 3, large_kernel, padding=large_kernel // 2)

    def forward(self, lr_imgs):
        features = self.head(lr_imgs)  # (N, 64, h, w)
        features = features + self.fuse(self.blocks(features))  # long skip connection
        return torch.tanh(self.tail(self.upsample(features)))  # (N, 3, h*s, w*s) in [-1, 1]


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

    Shapes: (N, 3, H, W) in [-1, 1] -> (N,) logits.
    """

    def __init__(self, channels=64, n_convs=8, fc_size=1024, pool_size=6):
        super().__init__()
        if n_convs < 2 or n_convs % 2:
            raise ValueError(f"n_convs must be even and >= 2, got {n_convs}")
        layers, in_channels = [], 3
        for k in range(n_convs):
            out_channels = channels * 2 ** (k // 2)
            layers.append(nn.Conv2d(in_channels, out_channels, 3, stride=1 + k % 2, padding=1))
            if k > 0:
                layers.append(nn.BatchNorm2d(out_channels))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            in_channels = out_channels
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(pool_size)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(in_channels * pool_size ** 2, fc_size),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(fc_size, 1),
        )

    def forward(self, hr_imgs):
        features = self.pool(self.features(hr_imgs))  # (N, 512, 6, 6)
        return self.classifier(features).squeeze(1)  # (N,) logits


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
