"""One rank of a DistributedDataParallel check, started by ``torchrun`` (tests/test_distributed.py).

    torchrun --standalone --nproc_per_node=2 -m tests.ddp_worker MODE OUT_DIR     # from the repository root

MODE ``gan``: tiny networks, 3 pretraining then 3 GAN steps on each rank's own random batch;
each rank saves its generator and discriminator (the test checks that the ranks agree).
MODE ``match``: a BN-free generator, 3 pretraining steps on rank r's 8 images of a fixed
16-image batch; rank 0 saves the generator (the test compares one process on all 16).
"""
import sys
from pathlib import Path

import torch

import distributed
import solver
from config import training_config
from utils import merge_config

torch.set_num_threads(1)


def tiny_config(out_dir, batch_norm):
    return training_config("paper", dict(
        device="cpu", amp=None, amp_cpu=False, channels_last=False, vgg_weights=None,
        generator=dict(n_blocks=1, channels=8, batch_norm=batch_norm),
        discriminator=dict(channels=4, fc_size=16), out_dir=out_dir, log_every=1))


def stage(mode):
    overrides = dict(name=mode, iterations=100, lr_g=1e-3, milestones=[],
                     loss=dict(content=dict(type="mse", weight=1.0)))
    if mode == "gan":
        overrides.update(lr_d=1e-3, init_from=None)
    return merge_config(training_config("paper").stages[mode], overrides)


def fixed_batch(n=16, seed=0):
    """(LR in [0, 1], HR in [-1, 1]) of n 4x4 / 16x16 images, the same on every rank."""
    g = torch.Generator().manual_seed(seed)
    lr_imgs = torch.rand(n, 3, 4, 4, generator=g)
    return lr_imgs, torch.nn.functional.interpolate(lr_imgs, scale_factor=4, mode="bilinear") * 2 - 1


def steps(training, st, lr_imgs, hr_imgs, n=3):
    for _ in range(n):
        if st.mode == "pretrain":
            losses = solver._pretrain_step(training, lr_imgs, hr_imgs)
        else:
            losses = solver._gan_step(training, lr_imgs, hr_imgs, st)
        assert all(torch.isfinite(value) for value in losses.values())


def main(mode, out_dir):
    device = distributed.setup("cpu") or torch.device("cpu")
    rank = distributed.rank()
    torch.manual_seed(100 + rank)  # different initial weights: DDP must make them rank 0's
    if mode == "gan":
        config = tiny_config(out_dir, batch_norm=True)
        lr_imgs, hr_imgs = fixed_batch(4, seed=10 + rank)  # each rank its own images
        pretrain = solver.build_training(config, stage("pretrain"), device)
        steps(pretrain, stage("pretrain"), lr_imgs, hr_imgs)
        gan = solver.build_training(config, stage("gan"), device)
        gan.generator.load_state_dict(pretrain.generator.state_dict())
        steps(gan, stage("gan"), lr_imgs, hr_imgs)
        torch.save({"generator": gan.generator.state_dict(),
                    "discriminator": gan.discriminator.state_dict()}, Path(out_dir) / f"rank{rank}.pt")
    elif mode == "match":
        config = tiny_config(out_dir, batch_norm=False)
        lr_imgs, hr_imgs = fixed_batch(16)
        if distributed.world_size() > 1:  # rank r: images 8r .. 8r + 7
            share = 16 // distributed.world_size()
            lr_imgs, hr_imgs = lr_imgs[rank * share:(rank + 1) * share], hr_imgs[rank * share:(rank + 1) * share]
        torch.manual_seed(100)  # rank 0's initial weights, as the single-process run's
        training = solver.build_training(config, stage("pretrain"), device)
        steps(training, stage("pretrain"), lr_imgs, hr_imgs)
        if distributed.is_main():
            torch.save(training.generator.state_dict(), Path(out_dir) / f"match_world{distributed.world_size()}.pt")
    distributed.cleanup()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
