"""Benchmark: what each part of the CPU presets' detail recipe (``config.DETAIL``) costs per GAN step.

The ``sample`` preset's GAN step (its networks, batch and HR patch), first without
``config.DETAIL`` (the grid loss and the moving average only), then adding one part at a time,
as report/notes/README.md (speckle, placement) added them: D's gray view, feature matching 0.3
(a second pass of D over HR), LDL's artifact term 30 (a pass of the moving average), the
textured regions (a bicubic upscale, a local variance and a blur per batch) and the flat term.
Seconds per step (median), and the ratio to the first row, in the same run:

    OMP_NUM_THREADS=2 .venv/bin/python -m benchmarks.bench_gan_recipe [--steps 5] [--repeat 3] [--bf16] [--out F.json]

``--out`` also writes the rows as JSON, with the machine and the command.
"""
import argparse
import time
from pathlib import Path

import torch

import solver
from benchmarks.common import command, machine, median_time, write_json
from config import training_config

# (label, the GAN stage's override, cumulative)
STEPS = [
    ("grid loss + moving average (no DETAIL)", dict(d_input="rgb", d_regions=None, loss=dict(
        feature_matching=None, artifacts=None, flat=None))),
    ("+ gray view of D", dict(d_input="gray")),
    ("+ feature matching 0.3", dict(loss=dict(feature_matching=dict(weight=0.3)))),
    ("+ LDL artifact term 30", dict(loss=dict(artifacts=dict(weight=30.0)))),
    ("+ textured regions 0.025", dict(d_regions=dict(threshold=0.025))),
    ("+ flat term 10 (= config.DETAIL)", dict(loss=dict(flat=dict(weight=10.0)))),
]


def step_seconds(overrides, bf16, steps, repeat):
    """Median seconds of one ``sample`` GAN step with the GAN stage's ``overrides`` applied in turn."""
    config = training_config("sample", dict(amp_cpu=bf16, device="cpu", out_dir="/tmp/bench_gan_recipe"),
                             *[dict(stages=dict(gan=o)) for o in overrides])
    stage = config.stages.gan
    torch.manual_seed(0)
    training = solver.build_training(config, stage, torch.device("cpu"))
    n, side = config.batch_size, config.hr_patch
    lr_imgs = torch.rand(n, 3, side // 4, side // 4)  # (N, 3, 12, 12) in [0, 1]
    hr_imgs = torch.rand(n, 3, side, side) * 2 - 1  # (N, 3, 48, 48) in [-1, 1]

    def run():
        for _ in range(steps):
            solver._gan_step(training, lr_imgs, hr_imgs, stage)

    run()  # warm-up
    return median_time(run, repeat=repeat, warmup=0) / steps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=5, help="steps per timed repetition")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--bf16", action="store_true", help="bf16 autocast (default: fp32)")
    parser.add_argument("--out", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    print(f"torch {torch.__version__}, CPU, {torch.get_num_threads()} threads, "
          f"{'bf16' if args.bf16 else 'fp32'}; the sample preset's GAN step; median of "
          f"{args.repeat} x {args.steps} steps")
    print(f"  {'GAN stage':<42} {'s/step':>8} {'vs first':>9}")
    base, overrides, rows = None, [], []
    for label, override in STEPS:
        overrides.append(override)
        start = time.perf_counter()
        sec = step_seconds(overrides, args.bf16, args.steps, args.repeat)
        base = base or sec
        print(f"  {label:<42} {sec:>8.4f} {sec / base:>8.2f}x   ({time.perf_counter() - start:.0f} s)",
              flush=True)
        rows.append(dict(stage=label, s_per_step=sec, vs_first=sec / base))
    if args.out:
        write_json(args.out, dict(machine=machine(), command=command(), bf16=args.bf16, rows=rows))


if __name__ == "__main__":
    main()
