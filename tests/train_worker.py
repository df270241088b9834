"""A tiny training run in its own process, for the interruption tests (SIGKILL, SIGINT).

    python -m tests.train_worker OUT_DIR ITERATIONS [DEVICE]     # from the repository root

DEVICE: ``cpu`` (default) or ``cuda`` (tests/test_cuda.py), in fp32.
"""
import sys

import torch
from easydict import EasyDict
from torch.utils.data import DataLoader, TensorDataset

import solver

torch.set_num_threads(1)
torch.manual_seed(0)
device = sys.argv[3] if len(sys.argv) > 3 else "cpu"
config = EasyDict(seed=0, device=device, scale=4, amp=None, amp_cpu=False, channels_last=False,
                  betas=(0.9, 0.999), generator=dict(n_blocks=2, channels=8), discriminator=dict(channels=4, fc_size=16),
                  vgg_weights=None, out_dir=sys.argv[1], log_every=1, val_max_images=None, tile=None)
stage = EasyDict(name="srgan", mode="gan", iterations=int(sys.argv[2]), lr_g=1e-4, lr_d=1e-4,
                 milestones=[], gamma=0.1, content_loss="mse", adversarial_weight=1e-3, d_steps=1,
                 label_smoothing=0.0, max_bad_steps=10)
lr_imgs = torch.randint(0, 256, (64, 3, 8, 8), dtype=torch.uint8)  # uint8, as SRTrainDataset's
data = TensorDataset(lr_imgs, torch.nn.functional.interpolate(lr_imgs.float(), scale_factor=4).to(torch.uint8))
loader = DataLoader(data, batch_size=8, shuffle=True)
print("started", flush=True)
training = solver.fit(config, stage, loader, log=lambda m: print(m, flush=True))
print(f"finished at iteration {training.iteration}", flush=True)
