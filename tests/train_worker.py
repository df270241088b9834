"""A tiny training run in its own process, for the interruption tests (SIGKILL, SIGINT).

    python -m tests.train_worker OUT_DIR ITERATIONS [DEVICE]     # from the repository root

DEVICE: ``cpu`` (default) or ``cuda`` (tests/test_cuda.py), in fp32.
"""
import sys

import torch
from torch.utils.data import DataLoader, TensorDataset

import solver
from config import training_config
from utils import merge_config

torch.set_num_threads(1)
torch.manual_seed(0)
device = sys.argv[3] if len(sys.argv) > 3 else "cpu"
config = training_config("paper", dict(
    device=device, amp=None, amp_cpu=False, channels_last=False, vgg_weights=None,
    generator=dict(n_blocks=2, channels=8), discriminator=dict(channels=4, fc_size=16),
    out_dir=sys.argv[1], log_every=1, eval_every=None))  # a checkpoint per pass of the 8 batches
stage = merge_config(config.stages.gan, dict(iterations=int(sys.argv[2]), milestones=[],
                                             loss=dict(content=dict(type="mse", weight=1.0)),
                                             init_from=None))
lr_imgs = torch.randint(0, 256, (64, 3, 8, 8), dtype=torch.uint8)  # uint8, as SRTrainDataset's
data = TensorDataset(lr_imgs, torch.nn.functional.interpolate(lr_imgs.float(), scale_factor=4).to(torch.uint8))
loader = DataLoader(data, batch_size=8, shuffle=True)
print("started", flush=True)
training = solver.fit(config, stage, loader, log=lambda m: print(m, flush=True))
print(f"finished at iteration {training.iteration}", flush=True)
