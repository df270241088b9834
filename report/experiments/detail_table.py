"""The detail measures (``report/experiments/detail_measures.py``) with PSNR / SSIM / NIQE / grid of
generator checkpoints on the sample test images: the result files of report/README.md's attempts table.

Each ``NAME=PATH`` is scored as ``test.ipynb`` scores it (whole images, 4-px border); HR's own
measures are the first row. Writes the rows (means, and each image's under ``per_image``) to
``--results`` (JSON) and prints a markdown table of the means;
``--figure`` draws the zoomed crop of the first image (``test.ipynb``'s crop) of HR and of each
``--crops`` name (default: every checkpoint), nearest-neighbour (``--box``: another crop).

    .venv/bin/python -m report.experiments.detail_table --results report/results/detail_s8.json \
        --checkpoints SRResNet=runs/gan_ablation/sample_srresnet_resize_s0/srresnet_best.pth \
        recipe=runs/gan_ablation/sample_s8_recipe_s0/srgan_last.pth
"""
import argparse
import json
import shlex
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import inference
from datasets import SRTestDataset
from metrics import grid_pattern, niqe, psnr_ssim
from report.experiments.detail_measures import KEYS, detail_measures
from report.experiments.quickstart_seeds import crop
from utils import signed_to_uint8

ROOT = Path(__file__).resolve().parents[2]
COLUMNS = ("psnr", "ssim", "niqe", "grid", *KEYS)


def shown(path):
    """``path`` relative to the repository when it lies inside it (no machine paths in results)."""
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def measures(outputs, dataset):
    """PSNR, SSIM, NIQE, grid and detail measures of uint8 ``outputs`` against ``dataset``.

    Returns:
        tuple: (their means, {image name: its row}).
    """
    rows = {}
    for sr, item in zip(outputs, dataset):
        psnr, ssim = psnr_ssim(sr, item["hr"], 4) if sr is not item["hr"] else (np.inf, 1.0)
        rows[item["name"]] = {"psnr": float(psnr), "ssim": float(ssim), "niqe": float(niqe(sr, 4)),
                              "grid": float(grid_pattern(sr, 4, 4)), **detail_measures(sr, item["hr"])}
    return {key: float(np.mean([row[key] for row in rows.values()])) for key in COLUMNS}, rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoints", nargs="+", required=True, metavar="NAME=PATH")
    parser.add_argument("--list", default=str(ROOT / "data" / "sample" / "sample_test.csv"))
    parser.add_argument("--results", type=Path, required=True)
    parser.add_argument("--figure", type=Path, help="the crops of the first image, one per checkpoint")
    parser.add_argument("--crops", nargs="*", help="the names in the figure (default: all)")
    parser.add_argument("--columns", type=int, default=5)
    parser.add_argument("--box", type=float, nargs=3, metavar=("TOP", "LEFT", "SIDE"),
                        help="the crop as fractions of the image (default: test.ipynb's)")
    args = parser.parse_args()
    pairs = [item.split("=", 1) for item in args.checkpoints]
    if any(len(pair) != 2 for pair in pairs):
        sys.exit(f"--checkpoints takes NAME=PATH, got {args.checkpoints}")
    dataset = [item for item in SRTestDataset(args.list, 4)]
    results, per_image = {}, {}
    results["HR"], per_image["HR"] = measures([item["hr"] for item in dataset], dataset)
    first = {"HR": dataset[0]["hr"]}
    for name, path in pairs:
        generator = inference.load_generator(path)
        outputs = [signed_to_uint8(inference.super_resolve(generator, item["lr"].unsqueeze(0))[0])
                   for item in dataset]
        (results[name], per_image[name]), first[name] = measures(outputs, dataset), outputs[0]
    print("| model | " + " | ".join(COLUMNS) + " |\n|---|" + "---|" * len(COLUMNS))
    for name, row in results.items():
        print(f"| {name} | " + " | ".join(f"{row[k]:.4f}" if k == "ssim" else f"{row[k]:.3f}" if k in KEYS
                                         else f"{row[k]:.2f}" for k in COLUMNS) + " |")
    if args.figure:
        names = ["HR"] + (args.crops or [name for name, _ in pairs])
        rows = (len(names) + args.columns - 1) // args.columns
        fig, axes = plt.subplots(rows, args.columns, figsize=(3 * args.columns, 3.3 * rows), squeeze=False)
        for ax in axes.ravel():
            ax.axis("off")
        for ax, name in zip(axes.ravel(), names):
            ax.imshow(crop(first[name], *([args.box] if args.box else [])), interpolation="nearest")
            ax.set_title(name, fontsize=9)
        fig.tight_layout()
        fig.savefig(args.figure, dpi=80)
        print(f"wrote {args.figure}")
    args.results.write_text(json.dumps({"list": shown(args.list),
                                        "checkpoints": {name: shown(path) for name, path in pairs},
                                        "results": results, "per_image": per_image,
                                        "command": shlex.join(["report/experiments/detail_table.py", *sys.argv[1:]])},
                                       indent=1) + "\n")


if __name__ == "__main__":
    main()
