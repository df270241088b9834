"""Benchmark: training-step throughput (images/s), pretrain and full GAN steps, memory layouts.

Batch 16 of 96x96 HR / 24x24 LR patches with the paper's networks. The GAN step is the full
SRGAN step: discriminator update, then generator update with the VGG54 content loss (random VGG
weights: the speed is the same). Baseline: fp32, contiguous (NCHW) tensors, eager; compared in
the same run with channels_last, with ``torch.compile`` (config.compile; its compilation is
timed separately, in the warm-up steps) and with bf16 autocast (+ channels_last): config.amp on
CUDA, config.amp_cpu on the CPU, where it pays only on CPUs with AVX-512 BF16 instructions.

    python -m benchmarks.bench_training [--device cpu|cuda] [--steps 3] [--repeat 3] [--no-compile]

Each step's FLOPs (:func:`step_flops`) are printed with it; ``benchmarks/gpu_check.py`` turns
them into model FLOPs utilisation.

``--batch``, ``--patch`` and ``--small`` (tiny networks) are for a quick check that it runs.
"""
import argparse
import time

import torch

import solver
from benchmarks.common import median_time
from config import training_config

SMALL = dict(generator=dict(n_blocks=1, channels=8), discriminator=dict(channels=8, fc_size=16))


def step_time(mode, device, bf16, channels_last, compile, steps, repeat, batch=16, patch=96,
              small=False):
    """Seconds per step (median), and seconds of the first (warm-up) steps that compile.

    The ``paper`` preset's networks and stages (config.py; random VGG weights, the paper's
    VGG54 content loss in the GAN step), or tiny ones with ``small``."""
    config = training_config("paper", SMALL if small else {}, dict(
        amp="bf16" if bf16 else None, amp_cpu=bf16, channels_last=channels_last, compile=compile,
        vgg_weights=None, log_every=10 ** 9, out_dir="/tmp/bench_training"))
    stage = config.stages.pretrain if mode == "pretrain" else config.stages.gan
    torch.manual_seed(0)
    training = solver.build_training(config, stage, device)
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    lr_imgs = torch.rand(batch, 3, patch // 4, patch // 4, device=device).contiguous(
        memory_format=memory_format)  # (N, 3, 24, 24) in [0, 1]
    hr_imgs = (torch.rand(batch, 3, patch, patch, device=device) * 2 - 1).contiguous(
        memory_format=memory_format)  # (N, 3, 96, 96) in [-1, 1]

    def run(steps=steps):
        for _ in range(steps):
            if mode == "pretrain":
                solver._pretrain_step(training, lr_imgs, hr_imgs)
            else:
                solver._gan_step(training, lr_imgs, hr_imgs, stage)
        if device.type == "cuda":
            torch.cuda.synchronize()

    start = time.perf_counter()
    run(2)  # warm-up: the compiled variants compile here (the D step and the frozen-D G step)
    warmup = time.perf_counter() - start
    return median_time(run, repeat=repeat, warmup=0) / steps, warmup


def step_flops(mode, device, batch=16, patch=96, small=False):
    """FLOPs of one training step (forward and backward of every network it runs, counted by
    ``torch.utils.flop_counter``; the same in every precision): the numerator of the model
    FLOPs utilisation."""
    from torch.utils.flop_counter import FlopCounterMode

    config = training_config("paper", SMALL if small else {}, dict(
        amp=None, amp_cpu=False, channels_last=False, compile=False, vgg_weights=None,
        log_every=10 ** 9, out_dir="/tmp/bench_training"))
    stage = config.stages.pretrain if mode == "pretrain" else config.stages.gan
    torch.manual_seed(0)
    training = solver.build_training(config, stage, device)
    lr_imgs = torch.rand(batch, 3, patch // 4, patch // 4, device=device)  # (N, 3, 24, 24) in [0, 1]
    hr_imgs = torch.rand(batch, 3, patch, patch, device=device) * 2 - 1  # (N, 3, 96, 96) in [-1, 1]
    with FlopCounterMode(display=False) as counter:
        if mode == "pretrain":
            solver._pretrain_step(training, lr_imgs, hr_imgs)
        else:
            solver._gan_step(training, lr_imgs, hr_imgs, stage)
    return counter.get_total_flops()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--steps", type=int, default=3, help="steps per timed repetition")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile rows")
    parser.add_argument("--modes", default="pretrain,gan")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--patch", type=int, default=96, help="HR patch side (a multiple of 16)")
    parser.add_argument("--small", action="store_true", help="tiny networks (a quick check)")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    # (label, bf16 autocast, channels_last, torch.compile)
    variants = [("fp32, contiguous", False, False, False), ("fp32, channels_last", False, True, False),
                ("bf16 autocast, contiguous", True, False, False),
                ("bf16 autocast, channels_last", True, True, False)]
    if not args.no_compile:
        variants += [("fp32, contiguous, compiled", False, False, True),
                     ("fp32, channels_last, compiled", False, True, True),
                     ("bf16 autocast, channels_last, compiled", True, True, True)]
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    flops = {mode: step_flops(mode, device, args.batch, args.patch, args.small)
             for mode in args.modes.split(",")}
    print(f"torch {torch.__version__} on {name}; batch {args.batch}, {args.patch}x{args.patch} HR"
          f"{', tiny networks' if args.small else ''}; median of {args.repeat} x {args.steps} steps")
    for mode in args.modes.split(","):
        print(f"\n{mode} step ({'G + D + VGG54' if mode == 'gan' else 'SRResNet, pixel MSE'}): "
              f"{flops[mode] / 1e9:.1f} GFLOP")
        print(f"  {'variant':<40} {'s/step':>8} {'images/s':>9} {'speed-up':>9} {'warm-up (2 steps)':>18}")
        base = None
        for label, bf16, cl, compile in variants:
            sec, warmup = step_time(mode, device, bf16, cl, compile, args.steps, args.repeat,
                                    args.batch, args.patch, args.small)
            base = base or sec
            print(f"  {label:<40} {sec:>8.3f} {args.batch / sec:>9.1f} {base / sec:>8.2f}x "
                  f"{warmup:>16.1f} s", flush=True)


if __name__ == "__main__":
    main()
