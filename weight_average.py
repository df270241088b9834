"""An exponential moving average of a network's weights, as the GAN stage keeps of its generator
(``stage.ema_decay``): ``solver`` updates it after every step, validates and saves it
(``<stage>_ema.pth``), and ``inference.load_generator`` loads it by default."""
import copy

import torch
import torch.nn as nn


class WeightAverage(nn.Module):
    """An exponential moving average of a network's weights (and float buffers):
    ``avg <- decay * avg + (1 - decay) * weights`` after every step (Polyak averaging; ESRGAN's
    and Real-ESRGAN's ``params_ema`` with decay 0.999).

    A copy of the network on its device, updated with one fused kernel per step and no host
    synchronisation. Its state dict is ``torch.optim.swa_utils.AveragedModel``'s: ``module.``
    + the network's keys, and ``n_averaged`` (the updates so far).

    Args:
        module (nn.Module): the trained network; its weights now are the average's start.
        decay (float): in (0, 1); the time constant is 1 / (1 - decay) steps.
    """

    def __init__(self, module, decay):
        super().__init__()
        self.module = copy.deepcopy(module).requires_grad_(False)
        self.decay = decay
        device = next(module.parameters()).device
        self.register_buffer("n_averaged", torch.zeros((), dtype=torch.long, device=device))

    def _tensors(self, module):
        return [t for t in (*module.parameters(), *module.buffers()) if t.is_floating_point()]

    @torch.no_grad()
    def reset(self, module):
        """Start the average again from ``module``'s weights (a stage initialised from another)."""
        for mine, theirs in zip(self._tensors(self.module), self._tensors(module)):
            mine.copy_(theirs)
        self.n_averaged.zero_()

    @torch.no_grad()
    def update(self, module):
        """One step of the average towards ``module``'s current weights."""
        torch._foreach_lerp_(self._tensors(self.module), self._tensors(module), 1.0 - self.decay)
        self.n_averaged += 1

    def forward(self, *args):
        return self.module(*args)
