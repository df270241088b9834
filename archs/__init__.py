"""The networks, one family per module; ``models.py`` re-exports them as the assignment's entry.

| module | networks | paper |
|---|---|---|
| ``archs/srresnet.py`` | ``SRResNet`` (the SRGAN generator) | Ledig et al., CVPR 2017 |
| ``archs/rrdbnet.py`` | ``RRDBNet`` (the ESRGAN generator) | Wang et al., ECCVW 2018 |
| ``archs/srcnn.py`` | ``SRCNN`` | Dong et al., ECCV 2014 |
| ``archs/discriminators.py`` | SRGAN's, ESRGAN's (``vgg``) | see each class |
| ``archs/vgg.py`` | ``TruncatedVGG19`` (perceptual loss) | Simonyan and Zisserman 2015 |

Every generator takes (N, 3, h, w) LR images in [0, 1], returns (N, 3, h * scale, w * scale)
in [-1, 1] (tanh, or about [-1, 1] for the linear ones), and has ``scale``,
``receptive_radius`` (LR pixels an output pixel depends on, each way: the margin that makes
tiled inference equal whole-image inference), ``tile_margin`` (the margin tiles get by default:
the measured effective radius where report/README.md ("Inference with published generators") measured the network, else
the receptive radius) and ``input_multiple`` (what h and w must be multiples of: 2 for the x2
RRDBNet, which pixel-unshuffles its input, else 1). Adding a family is adding a module and an entry
of ``GENERATORS``; ``config.generator`` names it with ``arch`` and holds its keyword arguments.
"""
import inspect

from archs.common import Blur121, load_weights
from archs.discriminators import DISCRIMINATORS, Discriminator, VGGStyleDiscriminator, build_discriminator
from archs.rrdbnet import RRDB, ResidualDenseBlock, RRDBNet
from archs.srcnn import SRCNN
from archs.srresnet import UPSAMPLERS, ResidualBlock, ResizeConvBlock, SRResNet, SubPixelBlock
from archs.vgg import VGG19_URL, TruncatedVGG19, fetch_vgg19_weights, load_vgg19_state_dict

GENERATORS = {"srresnet": SRResNet, "rrdbnet": RRDBNet, "srcnn": SRCNN}


def build_generator(arch, **kwargs):
    """A generator of ``GENERATORS`` from ``config.generator`` (its ``arch`` and kwargs, plus
    ``scale``)."""
    if arch not in GENERATORS:
        raise ValueError(f"generator arch must be one of {sorted(GENERATORS)}, got {arch!r}")
    return GENERATORS[arch](**kwargs)


def full_kwargs(kind, kwargs):
    """``config.generator`` or ``config.discriminator`` with ``arch`` and the constructor's
    defaults filled in: an argument written out at its default and one left out build the same
    network (used to compare a checkpoint's networks with a config's)."""
    table = GENERATORS if kind == "generator" else DISCRIMINATORS
    kwargs = dict(kwargs)
    if "arch" not in kwargs:
        raise ValueError(f"config.{kind} names no arch: {kwargs}")
    arch = kwargs.pop("arch")
    network = table.get(arch)
    if network is None:
        return {"arch": arch, **kwargs}
    defaults = {name: p.default for name, p in inspect.signature(network).parameters.items()
                if p.default is not inspect.Parameter.empty}
    return {"arch": arch, **defaults, **kwargs}


__all__ = ["GENERATORS", "DISCRIMINATORS", "build_generator", "build_discriminator", "full_kwargs",
           "load_weights", "SRResNet", "ResidualBlock", "SubPixelBlock", "ResizeConvBlock",
           "UPSAMPLERS", "RRDBNet", "RRDB", "ResidualDenseBlock", "SRCNN", "Discriminator",
           "VGGStyleDiscriminator", "Blur121",
           "TruncatedVGG19", "fetch_vgg19_weights", "load_vgg19_state_dict", "VGG19_URL"]
