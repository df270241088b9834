"""Benchmark: training-step throughput (images/s), pretrain and full GAN steps, memory layouts.

Batch 16 of 96x96 HR / 24x24 LR patches with the paper's networks. The GAN step is the full
SRGAN step: discriminator update, then generator update with the VGG54 content loss (random VGG
weights: the speed is the same). Baseline: fp32, contiguous (NCHW) tensors; compared in the same
run with channels_last, and on CUDA with bf16 autocast (+ channels_last).

    python benchmarks/bench_training.py [--device cpu|cuda] [--steps 3] [--repeat 3]
"""
import argparse

from common import median_time

import torch  # noqa: E402
from easydict import EasyDict  # noqa: E402

import solver  # noqa: E402


def step_time(mode, device, amp, channels_last, steps, repeat, batch=16):
    config = EasyDict(scale=4, amp=amp, channels_last=channels_last, betas=(0.9, 0.999),
                      generator=dict(), discriminator=dict(), vgg_weights=None, log_every=10 ** 9,
                      out_dir="/tmp/bench_training")
    stage = EasyDict(name=mode, mode=mode, iterations=10 ** 9, lr_g=1e-4, lr_d=1e-4, milestones=[],
                     gamma=0.1, content_loss="vgg" if mode == "gan" else "mse", vgg_i=5, vgg_j=4,
                     adversarial_weight=1e-3, d_steps=1, label_smoothing=0.0)
    torch.manual_seed(0)
    training = solver.build_training(config, stage, device)
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    lr_imgs = torch.rand(batch, 3, 24, 24, device=device).contiguous(memory_format=memory_format)
    hr_imgs = (torch.rand(batch, 3, 96, 96, device=device) * 2 - 1).contiguous(memory_format=memory_format)
    amp_dtype = solver._amp_dtype(config, device)

    def run():
        for _ in range(steps):
            if mode == "pretrain":
                solver._pretrain_step(training, lr_imgs, hr_imgs, amp_dtype)
            else:
                solver._gan_step(training, lr_imgs, hr_imgs, stage, amp_dtype)
        if device.type == "cuda":
            torch.cuda.synchronize()

    return median_time(run, repeat=repeat, warmup=1) / steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--steps", type=int, default=3, help="steps per timed repetition")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        variants = [("fp32, contiguous", None, False), ("fp32, channels_last", None, True),
                    ("bf16 autocast, contiguous", "bf16", False),
                    ("bf16 autocast, channels_last", "bf16", True)]
    else:
        variants = [("fp32, contiguous", None, False), ("fp32, channels_last", None, True)]
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"torch {torch.__version__} on {name}; batch 16, 96x96 HR; median of {args.repeat} x {args.steps} steps")
    for mode in ("pretrain", "gan"):
        rows = [(label, step_time(mode, device, amp, cl, args.steps, args.repeat))
                for label, amp, cl in variants]
        base = rows[0][1]
        print(f"\n{mode} step ({'G + D + VGG54' if mode == 'gan' else 'SRResNet, pixel MSE'})")
        print(f"  {'variant':<32} {'s/step':>8} {'images/s':>9} {'speed-up':>9}")
        for label, sec in rows:
            print(f"  {label:<32} {sec:>8.3f} {16 / sec:>9.1f} {base / sec:>8.2f}x")


if __name__ == "__main__":
    main()
