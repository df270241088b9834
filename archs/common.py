"""What the network families share: loading a state dict with a readable error, and the
[1, 2, 1] low-pass filter (resize-convolution's blur, anti-aliased downsampling, StyleGAN's)."""
import torch
import torch.nn as nn
import torch.nn.functional as F


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


class Blur121(nn.Module):
    """Depthwise [1, 2, 1] x [1, 2, 1] / 16 low-pass filter: zero response at the Nyquist
    frequency (a checkerboard of period 2 becomes flat). With ``stride=2``, anti-aliased x2
    downsampling (Zhang, ICML 2019): a conv with stride 2 sees a pattern of period 2 or 4 at
    one phase only, so a discriminator could key on texture locked to the output grid.

    Args:
        padding (str): the border: ``"zeros"`` (StyleGAN's), ``"replicate"`` or ``"reflect"``.
        stride (int): 1, or 2 to downsample.

    Its buffer ``kernel`` is (1, 1, 3, 3), the layout of StyleGAN's weight files.
    """

    def __init__(self, padding="zeros", stride=1):
        super().__init__()
        if padding not in ("zeros", "replicate", "reflect"):
            raise ValueError(f"padding must be 'zeros', 'replicate' or 'reflect', got {padding!r}")
        self.padding, self.stride = padding, stride
        kernel = torch.tensor([1.0, 2.0, 1.0])
        self.register_buffer("kernel", (kernel[:, None] * kernel[None, :] / 16)[None, None])

    def forward(self, x):
        kernel = self.kernel.to(x.dtype).expand(x.shape[1], 1, 3, 3)
        if self.padding != "zeros":
            x = F.pad(x, (1, 1, 1, 1), mode=self.padding)
        return F.conv2d(x, kernel, stride=self.stride, padding=1 if self.padding == "zeros" else 0,
                        groups=x.shape[1])
