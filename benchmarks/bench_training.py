"""Benchmark: training-step throughput (images/s), pretrain and full GAN steps, memory layouts.

Batch 16 of 96x96 HR / 24x24 LR patches with the paper's networks. The GAN step is the full
SRGAN step: discriminator update, then generator update with the VGG54 content loss (random VGG
weights: the speed is the same). Baseline: fp32, contiguous (NCHW) tensors, eager; compared in
the same run with channels_last, with ``torch.compile`` (config.compile; its compilation is
timed separately, in the warm-up steps) and with bf16 autocast (+ channels_last): config.amp on
CUDA, config.amp_cpu on the CPU, where it pays only on CPUs with AVX-512 BF16 instructions.

    python -m benchmarks.bench_training [--device cpu|cuda] [--steps 3] [--repeat 3] [--no-compile] [--no-bf16]
                                        [--out F.json]

``--no-bf16`` leaves the bf16 rows out: on a CPU without native bf16 they are emulated, 10-15x
slower than fp32, and ``amp_cpu="auto"`` keeps fp32 there.

On CUDA it adds the whole step captured in a CUDA graph (``step_graph.py``), eager-compiled
networks inside it or not.

Each step's FLOPs (:func:`step_flops`) are printed with it; ``benchmarks/gpu_check.py`` turns
them into model FLOPs utilisation.

``--batch``, ``--patch`` and ``--small`` (tiny networks) are for a quick check that it runs.
"""
import argparse
import time
from pathlib import Path

import torch

import solver
from benchmarks.common import command, machine, median_time, write_json
from config import training_config

SMALL = dict(generator=dict(n_blocks=1, channels=8), discriminator=dict(channels=8, fc_size=16))


def step_time(mode, device, bf16, channels_last, compile, steps, repeat, batch=16, patch=96,
              small=False, captured=False):
    """Seconds per step (median), and seconds of the warm-up steps (compilation, and with
    ``captured`` the CUDA graph's capture, included).

    The whole step as ``solver.train_epoch`` runs it (``solver.step_runner``: uint8 batches to
    the networks' ranges, the step, eager or replayed from a CUDA graph with ``captured``) with
    the ``paper`` preset's networks and stages (config.py; random VGG weights, the paper's
    VGG54 content loss in the GAN step), or tiny ones with ``small``."""
    config = training_config("paper", SMALL if small else {}, dict(
        amp="bf16" if bf16 else None, amp_cpu=bf16, channels_last=channels_last, compile=compile,
        cuda_graphs=captured, vgg_weights=None, log_every=10 ** 9, out_dir="/tmp/bench_training"))
    stage = config.stages.pretrain if mode == "pretrain" else config.stages.gan
    torch.manual_seed(0)
    training = solver.build_training(config, stage, device)
    runner = solver.step_runner(training, config, stage, log=lambda line: None)
    lr_imgs = torch.randint(256, (batch, 3, patch // 4, patch // 4), dtype=torch.uint8, device=device)
    hr_imgs = torch.randint(256, (batch, 3, patch, patch), dtype=torch.uint8, device=device)

    def run(steps=steps):
        for _ in range(steps):
            runner(lr_imgs, hr_imgs)
        if device.type == "cuda":
            torch.cuda.synchronize()

    start = time.perf_counter()
    # warm-up: the compiled variants compile here (the D step and the frozen-D G step), the
    # captured ones run their eager steps and capture
    run(runner.warmup + 2 if captured else 2)
    warmup = time.perf_counter() - start
    return median_time(run, repeat=repeat, warmup=0) / steps, warmup


def step_flops(mode, device, batch=16, patch=96, small=False, preset="paper"):
    """FLOPs of one training step of ``preset``'s networks (forward and backward of every
    network it runs, counted by ``torch.utils.flop_counter``; the same in every precision): the
    numerator of the model FLOPs utilisation."""
    from torch.utils.flop_counter import FlopCounterMode

    small_nets = dict(SMALL, discriminator=dict(channels=8, input_size=patch)) if preset == "esrgan" else SMALL
    config = training_config(preset, small_nets if small else {}, dict(
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


def variants(device, compile=True, bf16=True):
    """(label, bf16 autocast, channels_last, torch.compile, CUDA graph) of the table's rows."""
    rows = [("fp32, contiguous", False, False, False, False), ("fp32, channels_last", False, True, False, False),
            ("bf16 autocast, contiguous", True, False, False, False),
            ("bf16 autocast, channels_last", True, True, False, False)]
    if compile:
        rows += [("fp32, contiguous, compiled", False, False, True, False),
                 ("bf16 autocast, channels_last, compiled", True, True, True, False)]
    if device.type == "cuda":
        rows += [("bf16 autocast, channels_last, captured", True, True, False, True)]
        if compile:
            rows += [("bf16 autocast, channels_last, compiled + captured", True, True, True, True)]
    return [row for row in rows if bf16 or not row[1]]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--steps", type=int, default=3, help="steps per timed repetition")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile rows")
    parser.add_argument("--no-bf16", action="store_true", help="skip the bf16 autocast rows")
    parser.add_argument("--modes", default="pretrain,gan")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--patch", type=int, default=96, help="HR patch side (a multiple of 16)")
    parser.add_argument("--small", action="store_true", help="tiny networks (a quick check)")
    parser.add_argument("--out", type=Path, help="also write the table as JSON here")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    flops = {mode: step_flops(mode, device, args.batch, args.patch, args.small)
             for mode in args.modes.split(",")}
    print(f"torch {torch.__version__} on {name}; batch {args.batch}, {args.patch}x{args.patch} HR"
          f"{', tiny networks' if args.small else ''}; median of {args.repeat} x {args.steps} steps")
    rows = []
    for mode in args.modes.split(","):
        print(f"\n{mode} step ({'G + D + VGG54' if mode == 'gan' else 'SRResNet, pixel MSE'}): "
              f"{flops[mode] / 1e9:.1f} GFLOP")
        print(f"  {'variant':<40} {'s/step':>8} {'images/s':>9} {'speed-up':>9} {'warm-up (2 steps)':>18}")
        base = None
        for label, bf16, cl, compile, captured in variants(device, not args.no_compile, not args.no_bf16):
            sec, warmup = step_time(mode, device, bf16, cl, compile, args.steps, args.repeat,
                                    args.batch, args.patch, args.small, captured)
            base = base or sec
            print(f"  {label:<40} {sec:>8.3f} {args.batch / sec:>9.1f} {base / sec:>8.2f}x "
                  f"{warmup:>16.1f} s", flush=True)
            rows.append(dict(step=mode, variant=label, s_per_step=sec, images_per_s=args.batch / sec,
                             speedup=base / sec, warmup_s=warmup, gflop_per_step=flops[mode] / 1e9))
            if args.out:
                write_json(args.out, dict(machine=machine(), command=command(), batch=args.batch,
                                          hr_patch=args.patch, small=args.small, rows=rows))


if __name__ == "__main__":
    main()
