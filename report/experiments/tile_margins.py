"""The tile margin each generator needs in practice: its effective radius on real photographs.

    .venv/bin/python -m report.experiments.tile_margins [--tile 48] [--positions 1] [--run runs/sample]

A tile's output equals the whole image's exactly when the tile gets the network's theoretical
receptive radius as context (``receptive_radius``: 349 LR pixels for the 23-block RRDBNet); far
less context changes the output by less than a uint8 level almost everywhere. For each
generator (the Real-ESRGAN release files of ``../shared/weights``, and this project's trained
networks of ``--run`` where present) and each LR image of Set5, Set14 and B100: the whole-image
output (fp32), then, at ``--positions`` random positions of the tile grid (tiles of ``--tile`` LR
pixels), the tile's output with each margin of MARGINS (cut by the image's border as
``inference.super_resolve`` cuts it), both rounded to uint8; the share of values within one
level of the whole image's, over all tiles, and the largest difference. Adds its results to
``report/results/tile_margins.json`` (one entry per model and set list); report/README.md,
"Inference with published generators".
"""
import argparse
import json
import random
from pathlib import Path

import numpy as np
import torch

import create_data_lists as cdl
import inference
from datasets import SRTestDataset
from utils import read_image, signed_to_uint8, uint8_to_unit

ROOT = Path(__file__).resolve().parents[2]
MARGINS = (8, 16, 24, 32, 48, 64, 96)
SETS = ("Set5", "Set14", "B100")


def generators(weights, run):
    """{label: generator} of the release files and the run's trained networks that exist."""
    files = {"RealESRGAN_x4plus (RRDBNet, 23 blocks)": weights / "RealESRGAN_x4plus.pth",
             "RealESRGAN_x4plus_anime_6B (RRDBNet, 6 blocks)": weights / "RealESRGAN_x4plus_anime_6B.pth",
             "sample SRResNet (resize-conv)": run / "srresnet_best.pth",
             "sample SRGAN (its moving average)": run / "srgan_last.pth",
             "sample SRCNN": run / "srcnn_best.pth"}
    return {label: inference.load_generator(path) for label, path in files.items() if path.exists()}


@torch.inference_mode()
def measure(generator, images, tile, positions, rng, margins=MARGINS, interior=False):
    """Per margin: values within one level of the whole image's, values compared, largest diff.

    Args:
        images: LR images, each (3, h, w) in [0, 1].
        interior (bool): only tiles whose largest margin the border does not cut.
    """
    s, counts = generator.scale, {m: [0, 0, 0] for m in margins}
    for image in images:
        lr = image.unsqueeze(0)  # (1, 3, h, w) in [0, 1]
        h, w = lr.shape[-2:]
        whole = signed_to_uint8(generator(lr)[0]).astype(int)  # (H, W, 3)
        grid = [(y, x) for y in range(0, h, tile) for x in range(0, w, tile)
                if not interior or (min(y, x) >= max(margins) and y + tile + max(margins) <= h
                                    and x + tile + max(margins) <= w)]
        for y, x in rng.sample(grid, min(positions, len(grid))):
            y1, x1 = min(y + tile, h), min(x + tile, w)
            for m in margins:
                ya, xa = max(y - m, 0), max(x - m, 0)
                window = lr[..., ya:min(y1 + m, h), xa:min(x1 + m, w)]
                out = signed_to_uint8(generator(window)[0]).astype(int)
                out = out[(y - ya) * s:(y1 - ya) * s, (x - xa) * s:(x1 - xa) * s]
                diff = np.abs(out - whole[y * s:y1 * s, x * s:x1 * s])
                counts[m][0] += int((diff <= 1).sum())
                counts[m][1] += diff.size
                counts[m][2] = max(counts[m][2], int(diff.max()))
    return {m: {"within_one_level": a / max(n, 1), "values": n, "max_diff": d}
            for m, (a, n, d) in counts.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", type=Path, default=ROOT.parent / "shared" / "weights")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--run", type=Path, default=ROOT / "runs" / "sample")
    parser.add_argument("--tile", type=int, default=48)
    parser.add_argument("--positions", type=int, default=1, help="tiles measured per image")
    parser.add_argument("--lists", type=Path, default=ROOT / "runs" / "published" / "lists")
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--margins", default=",".join(map(str, MARGINS)))
    parser.add_argument("--models", default=None, help="a substring of the labels to measure")
    parser.add_argument("--inputs", type=Path, default=None,
                        help="a folder of photographs to use as LR inputs, instead of --sets "
                             "(larger images, for margins the benchmark sets are too small for); "
                             "only interior tiles are measured")
    parser.add_argument("--count", type=int, default=5, help="images of --inputs")
    parser.add_argument("--out", type=Path, default=ROOT / "report" / "results" / "tile_margins.json")
    args = parser.parse_args()
    margins = [int(m) for m in args.margins.split(",")]
    if args.inputs:
        images = [uint8_to_unit(read_image(path)) for path in cdl.find_images(args.inputs)[:args.count]]
        source = f"{args.count} images of {args.inputs.name} as inputs"
    else:
        sets = args.sets.split(",")
        cdl.create_benchmark_lists([args.data / name for name in sets], args.lists, 4, log=lambda *a: None)
        images = [data[i]["lr"] for data in (SRTestDataset(args.lists / f"{name}.csv", 4) for name in sets)
                  for i in range(len(data))]
        source = args.sets
    results = json.loads(args.out.read_text()) if args.out.exists() else {"margins": {}}
    for label, generator in generators(args.weights, args.run).items():
        if args.models and args.models not in label:
            continue
        by_margin = measure(generator, images, args.tile, args.positions, random.Random(0), margins,
                            interior=args.inputs is not None)
        enough = next((m for m in margins if by_margin[m]["within_one_level"] >= 0.9999), None)
        results["margins"][f"{label}, {source}"] = {
            "receptive_radius": generator.receptive_radius, "tile": args.tile,
            "positions_per_image": args.positions, "smallest_margin_99.99": enough,
            "by_margin": by_margin}
        print(f"{label}: receptive radius {generator.receptive_radius}, smallest margin with 99.99 % "
              f"of values within one level: {enough}; " + ", ".join(
                  f"{m}: {100 * r['within_one_level']:.3f} % (max {r['max_diff']})"
                  for m, r in by_margin.items()), flush=True)
        args.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
