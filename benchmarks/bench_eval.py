"""Benchmark: wall time of an evaluation pass (bicubic + one SRResNet) on Set5, Set14 and B100.

The project's way (``inference.validate``: eval mode, ``torch.inference_mode``) against a naive
loop that runs the same forward passes with autograd recording (no inference mode), measured
in the same run on the same images. Bicubic (MATLAB-exact ``imresize``) is timed on its own.

    python -m benchmarks.bench_eval [--data-dir ../shared/data] [--sets Set5,Set14,B100]
                                    [--checkpoint runs/.../srresnet_best.pth] [--out F.json]

``--out`` also writes the rows (seconds) as JSON, with the machine and the command.
"""
import argparse
import sys
import time
from pathlib import Path

import torch

import inference
from benchmarks.common import ROOT, command, machine, write_json
from create_data_lists import create_benchmark_lists
from datasets import SRTestDataset
from metrics import psnr_ssim
from models import SRResNet
from utils import signed_to_uint8


def naive_validate(generator, dataset):
    """The same scores with autograd on: what a loop without inference_mode costs."""
    generator.eval()
    scores = []
    for index in range(len(dataset)):
        item = dataset[index]
        sr = generator(item["lr"].unsqueeze(0))
        scores.append(psnr_ssim(signed_to_uint8(sr[0]), item["hr"], 4)[0])
    return sum(scores) / len(scores)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--checkpoint", help="an SRResNet checkpoint (default: random weights)")
    parser.add_argument("--sets", default="Set5,Set14,B100")
    parser.add_argument("--lists", default="/tmp/bench_eval_lists")
    parser.add_argument("--out", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)

    set_dirs = [Path(args.data_dir) / name for name in args.sets.split(",")]
    missing = [str(d) for d in set_dirs if not (d / "HR").is_dir()]
    if missing:
        sys.exit(f"bench_eval: no HR folder in {', '.join(missing)}: give --data-dir, the folder "
                 f"holding <Set>/HR and <Set>/LR_bicubic/X4 (../shared/data on this project's "
                 f"machines)")
    lists = create_benchmark_lists(set_dirs, args.lists, log=lambda m: None)
    generator = inference.load_generator(args.checkpoint) if args.checkpoint else SRResNet().eval()
    print(f"CPU, {torch.get_num_threads()} threads; SRResNet "
          f"{'from ' + args.checkpoint if args.checkpoint else 'with random weights'}")
    print(f"  {'set':<6} {'bicubic':>9} {'naive model':>12} {'validate()':>11} {'speed-up':>9}")
    totals, rows = [0.0, 0.0, 0.0], []
    for csv_path in lists:
        dataset = SRTestDataset(csv_path)
        start = time.perf_counter()
        inference.validate_bicubic(dataset)
        bicubic = time.perf_counter() - start
        start = time.perf_counter()
        naive_validate(generator, dataset)
        naive = time.perf_counter() - start
        start = time.perf_counter()
        inference.validate(generator, dataset, torch.device("cpu"))
        ours = time.perf_counter() - start
        totals = [t + v for t, v in zip(totals, (bicubic, naive, ours))]
        print(f"  {csv_path.stem:<6} {bicubic:>7.1f} s {naive:>10.1f} s {ours:>9.1f} s {naive / ours:>8.2f}x")
        rows.append(dict(set=csv_path.stem, images=len(dataset), bicubic_s=bicubic, naive_s=naive, validate_s=ours))
    print(f"  {'all':<6} {totals[0]:>7.1f} s {totals[1]:>10.1f} s {totals[2]:>9.1f} s "
          f"{totals[1] / totals[2]:>8.2f}x")
    if args.out:
        write_json(args.out, dict(machine=machine(), command=command(), checkpoint=args.checkpoint, rows=rows))


if __name__ == "__main__":
    main()
