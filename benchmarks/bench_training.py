"""Benchmark: training-step throughput (images/s), pretrain and full GAN steps, memory layouts.

Batch 16 of 96x96 HR / 24x24 LR patches with the paper's networks. The GAN step is the full
SRGAN step: discriminator update, then generator update with the VGG54 content loss (random VGG
weights: the speed is the same). Baseline: fp32, contiguous (NCHW) tensors, eager; compared in
the same run with channels_last, with ``torch.compile`` (config.compile; its compilation is
timed separately, in the warm-up steps) and on CUDA with bf16 autocast (+ channels_last).

    python benchmarks/bench_training.py [--device cpu|cuda] [--steps 3] [--repeat 3] [--no-compile]
"""
import argparse
import time

from common import median_time

import torch  # noqa: E402
from easydict import EasyDict  # noqa: E402

import solver  # noqa: E402


def step_time(mode, device, amp, channels_last, compile, steps, repeat, batch=16):
    """Seconds per step (median), and seconds of the first (warm-up) steps that compile."""
    config = EasyDict(scale=4, amp=amp, channels_last=channels_last, compile=compile,
                      betas=(0.9, 0.999),
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

    def run(steps=steps):
        for _ in range(steps):
            if mode == "pretrain":
                solver._pretrain_step(training, lr_imgs, hr_imgs, amp_dtype)
            else:
                solver._gan_step(training, lr_imgs, hr_imgs, stage, amp_dtype)
        if device.type == "cuda":
            torch.cuda.synchronize()

    start = time.perf_counter()
    run(2)  # warm-up: the compiled variants compile here (the D step and the frozen-D G step)
    warmup = time.perf_counter() - start
    return median_time(run, repeat=repeat, warmup=0) / steps, warmup


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--steps", type=int, default=3, help="steps per timed repetition")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile rows")
    parser.add_argument("--modes", default="pretrain,gan")
    args = parser.parse_args()
    device = torch.device(args.device)
    variants = [("fp32, contiguous", None, False, False), ("fp32, channels_last", None, True, False)]
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        variants += [("bf16 autocast, contiguous", "bf16", False, False),
                     ("bf16 autocast, channels_last", "bf16", True, False)]
    if not args.no_compile:
        variants += [("fp32, contiguous, compiled", None, False, True),
                     ("fp32, channels_last, compiled", None, True, True)]
        if device.type == "cuda":
            variants += [("bf16 autocast, channels_last, compiled", "bf16", True, True)]
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"torch {torch.__version__} on {name}; batch 16, 96x96 HR; median of {args.repeat} x {args.steps} steps")
    for mode in args.modes.split(","):
        print(f"\n{mode} step ({'G + D + VGG54' if mode == 'gan' else 'SRResNet, pixel MSE'})")
        print(f"  {'variant':<40} {'s/step':>8} {'images/s':>9} {'speed-up':>9} {'warm-up (2 steps)':>18}")
        base = None
        for label, amp, cl, compile in variants:
            sec, warmup = step_time(mode, device, amp, cl, compile, args.steps, args.repeat)
            base = base or sec
            print(f"  {label:<40} {sec:>8.3f} {16 / sec:>9.1f} {base / sec:>8.2f}x {warmup:>16.1f} s",
                  flush=True)


if __name__ == "__main__":
    main()
