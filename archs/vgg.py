"""VGG19 feature maps phi_{i,j} for the content (perceptual) losses of SRGAN and ESRGAN.

``losses.GeneratorLoss`` calls :class:`TruncatedVGG19` when a stage's content loss is
``"vgg"`` (``stage.loss.content.type``): SRGAN's VGG54 after its ReLU, ESRGAN's before it
(``before_activation``).
"""
from pathlib import Path

import torch
import torch.nn as nn
import torchvision

from archs.common import load_weights
from utils import IMAGENET_MEAN, IMAGENET_STD, signed_to_unit, unit_to_imagenet

VGG19_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"


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


def fetch_vgg19_weights(weights):
    """The file of the VGG19 weights named by ``weights`` (see :class:`TruncatedVGG19`),
    downloaded into torchvision's cache first when it is ``"IMAGENET1K_V1"`` and not there yet.

    Raises:
        FileNotFoundError: with the file to provide and where to put it.
    """
    if str(weights) != "IMAGENET1K_V1":  # a file in torchvision's state-dict format
        path = Path(weights)
        if not path.is_file():
            raise FileNotFoundError(
                f"VGG19 weights file {path} not found. Download {VGG19_URL} (torchvision's "
                f"VGG19_Weights.IMAGENET1K_V1) and save it as {path}. A pixel content loss "
                f"(stage.loss.content.type 'mse' or 'l1') needs no VGG.")
        return path
    cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(VGG19_URL).name
    if cached.is_file():
        return cached
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        torch.hub.download_url_to_file(VGG19_URL, str(cached), progress=False)
    except Exception as err:  # offline: URLError, socket errors, ...
        raise FileNotFoundError(
            f"VGG19 ImageNet weights are not in torchvision's cache ({cached}) and could not be "
            f"downloaded ({type(err).__name__}: {err}). On a machine with internet, download "
            f"{VGG19_URL} and put it at {cached}, or pass its path as the VGG weights "
            f"(config.vgg_weights). A pixel content loss (stage.loss.content.type "
            f"'mse' or 'l1') needs no VGG.") from None
    return cached


def load_vgg19_state_dict(weights):
    """The VGG19 state dict named by ``weights`` (:func:`fetch_vgg19_weights`), on the CPU."""
    return torch.load(fetch_vgg19_weights(weights), map_location="cpu", weights_only=True)
