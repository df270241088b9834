"""Benchmark: SRResNet inference on a 510x351 LR image (-> 2040x1404), whole image vs tiled.

Each variant runs in its own subprocess, so its peak resident memory (ru_maxrss) is its own;
the baseline is the whole-image pass. Also checks that tiled and whole outputs agree (1e-5).

    python -m benchmarks.bench_inference [--tile 128] [--repeat 3] [--lr-size 510x351] [--out F.json]

``--out`` also writes both variants and the difference as JSON, with the machine and the command.
"""
import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common import ROOT, command, machine, write_json

CHILD = r"""
import json, resource, time
import torch
import inference
from models import SRResNet
torch.manual_seed(0)
generator = SRResNet().eval()
lr_imgs = torch.rand(1, 3, {height}, {width})
tile = {tile}
times = []
for _ in range({repeat}):
    start = time.perf_counter()
    sr = inference.super_resolve(generator, lr_imgs, tile=tile)
    times.append(time.perf_counter() - start)
torch.save(sr, {out!r})
times.sort()
print(json.dumps({{"seconds": times[len(times) // 2],
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def run(tile, repeat, out, width, height):
    code = CHILD.format(tile=tile, repeat=repeat, out=str(out), width=width, height=height)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=ROOT)  # the repository on the child's path
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tile", type=int, default=128, help="LR tile side")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--lr-size", default="510x351", help="LR image W x H")
    parser.add_argument("--out", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    width, height = map(int, args.lr_size.lower().split("x"))
    import torch

    with tempfile.TemporaryDirectory() as tmp:
        whole = run(None, args.repeat, Path(tmp) / "whole.pt", width, height)
        tiled = run(args.tile, args.repeat, Path(tmp) / "tiled.pt", width, height)
        diff = (torch.load(Path(tmp) / "whole.pt") - torch.load(Path(tmp) / "tiled.pt")).abs().max().item()
    print(f"SRResNet (paper defaults), {width}x{height} LR -> {4 * width}x{4 * height}, CPU "
          f"({torch.get_num_threads()} threads), median of {args.repeat}; peak RSS of the whole process")
    print(f"  {'variant':<28} {'time':>9} {'peak RSS':>10} {'time ratio':>11} {'RSS ratio':>10}")
    for label, r in (("whole image (baseline)", whole), (f"tiles of {args.tile} (+40 context)", tiled)):
        print(f"  {label:<28} {r['seconds']:>7.2f} s {r['peak_rss_mib']:>6.0f} MiB "
              f"{r['seconds'] / whole['seconds']:>10.2f}x {r['peak_rss_mib'] / whole['peak_rss_mib']:>9.2f}x")
    print(f"  max |tiled - whole| = {diff:.2e} (must be <= 1e-5)")
    if args.out:
        write_json(args.out, dict(machine=machine(), command=command(), lr_size=[width, height], tile=args.tile,
                                  max_difference=diff, rows=[dict(variant="whole", **whole),
                                                             dict(variant=f"tiles of {args.tile}", **tiled)]))


if __name__ == "__main__":
    main()
