"""The networks of the assignment: SRGAN's, ESRGAN's and SRCNN, re-exported from ``archs/``.

``train.ipynb`` builds the generator of ``config.generator`` with :func:`build_generator`
(``arch``: ``"srresnet"`` for SRGAN, ``"rrdbnet"`` for ESRGAN, ``"srcnn"``) and a
discriminator with :func:`build_discriminator`; :class:`TruncatedVGG19` computes the
perceptual (VGG) content loss. ``test.ipynb`` and ``super_resolution.ipynb`` load generators
from checkpoints (``inference.load_generator``), whatever their family.

Ranges: generators take LR images in [0, 1] and return HR images in [-1, 1]; discriminators
and the VGG take HR-range images in [-1, 1]. Each network's module (``archs/``) documents its
paper, defaults, parameter count and receptive radius.
"""
from archs import *  # noqa: F401,F403
from archs import __all__  # noqa: F401
