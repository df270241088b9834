"""Benchmark: training patches per second, decode-per-patch (naive) against the cached dataset.

The naive way (``SRTrainDataset(cache=False)``) decodes the image file for every patch; the
project's way decodes each image once and then only crops, and its items are uint8 (mapped to
the networks' ranges on the training device); the cached dataset with float32 items (the data
path before that change) is measured too. All are measured in the same run,
single process and through a DataLoader with worker processes, on:

- T91 + BSD200 from ``--data-dir`` (the ``../shared/data`` layout), when present;
- synthetic 2040x1404 PNGs (DIV2K-size), written to a temporary folder.

    python -m benchmarks.bench_datasets [--data-dir ../shared/data] [--workers 2] [--out F.json]

``--synthetic-size``, ``--patches`` and ``--naive-patches`` shrink it to a quick check that it runs;
``--out`` also writes the rows as JSON, with the machine and the command.
"""
import argparse
import tempfile
import time
from pathlib import Path

from benchmarks.common import ROOT, command, machine, single_core, write_json

single_core()

import numpy as np  # noqa: E402 (after single_core)
import torch  # noqa: E402 (after single_core)
from PIL import Image  # noqa: E402 (after single_core)
from torch.utils.data import DataLoader  # noqa: E402 (after single_core)

from create_data_lists import find_images  # noqa: E402 (after single_core)
from datasets import SRTrainDataset  # noqa: E402 (after single_core)


def synthetic_images(folder, count, size=(1404, 2040)):
    """Write ``count`` smooth random RGB PNGs of DIV2K size (photo-like, so PNG decodes slowly)."""
    rng = np.random.default_rng(0)
    paths = []
    for i in range(count):
        coarse = rng.integers(0, 256, (size[0] // 8 + 1, size[1] // 8 + 1, 3), dtype=np.uint8)
        img = Image.fromarray(coarse).resize((size[1], size[0]), Image.BICUBIC)
        noise = rng.integers(-8, 9, (size[0], size[1], 3))
        img = Image.fromarray(np.clip(np.asarray(img) + noise, 0, 255).astype(np.uint8))
        paths.append(Path(folder) / f"{i:04d}.png")
        img.save(paths[-1])
    return paths


def patches_per_second(dataset, count, workers, batch_size=16):
    """Patches/s drawing ``count`` patches in random order (single process if workers == 0)."""
    sampler = torch.utils.data.RandomSampler(dataset, replacement=True, num_samples=count)
    loader = DataLoader(dataset, batch_size=batch_size, sampler=sampler, num_workers=workers,
                        persistent_workers=False)
    start = time.perf_counter()
    seen = sum(lr.shape[0] for lr, _ in loader)
    return seen / (time.perf_counter() - start)


class Float32Items(torch.utils.data.Dataset):
    """The cached dataset's items as float32 in the networks' ranges, made in the loader (the
    data path before items became uint8, converted on the training device)."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, i):
        lr, hr = self.dataset[i]
        return lr.float() / 255, hr.float() / 127.5 - 1  # (3, 24, 24) in [0, 1], (3, 96, 96) in [-1, 1]


def run(title, pairs, naive_count, cached_count, workers, patch=96):
    """Print the case's table; return its rows (dicts: patches/s per dataset and workers)."""
    print(f"\n{title}: {len(pairs)} images")
    start = time.perf_counter()
    cached = SRTrainDataset(pairs, hr_patch=patch, log=lambda m: None)
    cache_s = time.perf_counter() - start
    cache_mib = sum(hr.nbytes + lr.nbytes for hr, lr in cached.images) / 2**20
    print(f"  cache built in {cache_s:.1f} s ({cache_mib:.0f} MiB)")
    naive = SRTrainDataset(pairs, hr_patch=patch, cache=False, log=lambda m: None)
    print(f"  {'dataset':<34} {'workers':>7} {'patches/s':>10} {'ratio':>7}")
    rows = []
    for w in sorted({0, workers}):
        base = patches_per_second(naive, naive_count, w)
        ours = patches_per_second(cached, cached_count, w)
        floats = patches_per_second(Float32Items(cached), cached_count, w)
        print(f"  {'naive: decode per patch':<34} {w:>7} {base:>10.1f} {1.0:>6.2f}x")
        print(f"  {'cached, float32 items':<34} {w:>7} {floats:>10.1f} {floats / base:>6.2f}x")
        print(f"  {'SRTrainDataset (cached, uint8)':<34} {w:>7} {ours:>10.1f} {ours / base:>6.2f}x")
        rows.append(dict(data=title, images=len(pairs), workers=w, naive=base, cached_float32=floats,
                         cached_uint8=ours, cache_s=cache_s, cache_mib=cache_mib))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--synthetic", type=int, default=6, help="number of synthetic PNGs")
    parser.add_argument("--synthetic-size", default="2040x1404", help="their W x H")
    parser.add_argument("--patches", type=int, default=20000, help="patches drawn from the cache")
    parser.add_argument("--naive-patches", type=int, default=None,
                        help="patches drawn decoding each (default 800 for T91, 64 for synthetic)")
    parser.add_argument("--out", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    width, height = map(int, args.synthetic_size.lower().split("x"))
    torch.set_num_threads(1)
    print("single process: 1 thread; patches are 96x96 HR / 24x24 LR, batch 16")
    rows = []

    if (args.data_dir / "T91").is_dir():
        pairs = [(p, None) for sub in ("T91", "BSD200") for p in find_images(args.data_dir / sub / "HR")]
        rows += run("T91 + BSD200", pairs, naive_count=args.naive_patches or 800,
                    cached_count=args.patches, workers=args.workers)
    else:
        print(f"\n{args.data_dir}: no T91 here, skipping the T91 + BSD200 case")
    with tempfile.TemporaryDirectory() as tmp:
        pairs = [(p, None) for p in synthetic_images(tmp, args.synthetic, (height, width))]
        rows += run(f"synthetic {width}x{height} PNGs", pairs, naive_count=args.naive_patches or 64,
                    cached_count=args.patches, workers=args.workers)
    if args.out:
        write_json(args.out, dict(machine=machine(), command=command(), rows=rows))


if __name__ == "__main__":
    main()
