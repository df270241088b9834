"""SRCNN (Dong, Loy, He and Tang, ECCV 2014), the CNN pioneer of super-resolution: a baseline.

``archs.build_generator("srcnn", ...)`` builds it (the ``srcnn`` preset of ``config.py`` trains
it with pixel MSE; ``test.ipynb`` scores it beside bicubic). The paper's 9-1-5 network with 64
and 32 channels works on the MATLAB-bicubic-upsampled image; here the upsampling is inside the
network (``imresize.imresize_torch``, MATLAB-exact), so SRCNN takes the same LR input as every
other generator. Two choices differ from the paper and are stated: the three RGB channels
instead of the Y channel alone (the paper's section 5.4 trains RGB too), and zero-padded
"same" convolutions so that the output keeps the HR size (the paper's valid convolutions
shrink it by 12 pixels).
"""
import math

import torch.nn as nn
import torch.nn.functional as F

from imresize import imresize_torch
from utils import check_scale


class SRCNN(nn.Module):
    """Bicubic x ``scale``, then conv 9x9 (64) + ReLU, conv 1x1 (32) + ReLU, conv 5x5 (3).

    Args:
        channels (tuple): the two hidden widths (64, 32).
        kernels (tuple): the three kernel sizes (9, 1, 5).
        scale (int): 2, 4 or 8 (``utils.SCALES``).

    Shapes: (N, 3, h, w) in [0, 1] -> (N, 3, h * scale, w * scale), about [-1, 1] (linear).
    Receptive radius (``receptive_radius``): 4 LR pixels at x4 (bicubic 2 + (4 + 0 + 2) / 4,
    rounded up). 20,099 parameters with the defaults (8,129 on Y alone).
    """

    input_multiple = 1  # any LR size

    def __init__(self, channels=(64, 32), kernels=(9, 1, 5), scale=4):
        super().__init__()
        check_scale(scale)
        self.scale = scale
        widths = (3, *channels, 3)
        self.convs = nn.ModuleList([nn.Conv2d(widths[k], widths[k + 1], kernels[k],
                                              padding=kernels[k] // 2) for k in range(3)])
        self.receptive_radius = math.ceil(2 + sum(k // 2 for k in kernels) / scale)
        self.tile_margin = self.receptive_radius  # 4 LR pixels: nothing to save

    def forward(self, lr_imgs):
        x = imresize_torch(lr_imgs, self.scale)  # (N, 3, H, W), MATLAB bicubic, ~[0, 1]
        x = F.relu(self.convs[0](x))  # (N, 64, H, W): patch extraction
        x = F.relu(self.convs[1](x))  # (N, 32, H, W): non-linear mapping
        return 2 * self.convs[2](x) - 1  # (N, 3, H, W): reconstruction, ~[-1, 1]
