"""The detail measures (``report/detail_measures.py``) with PSNR / SSIM / NIQE / grid of
generator checkpoints on the sample test images: the table of report/README.md, section 10.

Each ``NAME=PATH`` is scored as ``test.ipynb`` scores it (whole images, 4-px border); HR's own
measures are the first row. Writes the rows to ``--results`` (JSON) and prints a markdown table.

    .venv/bin/python -m report.detail_table --results report/detail_s8.json \
        --checkpoints SRResNet=runs/gan_ablation/sample_srresnet_resize_s0/srresnet_best.pth \
        recipe=runs/gan_ablation/sample_s8_recipe_s0/srgan_last.pth
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

import inference
from datasets import SRTestDataset
from metrics import grid_pattern, niqe, psnr_ssim
from report.detail_measures import KEYS, detail_measures
from utils import signed_to_uint8

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = ("psnr", "ssim", "niqe", "grid", *KEYS)


def measures(outputs, dataset):
    """Mean PSNR, SSIM, NIQE, grid and detail measures of uint8 ``outputs`` against ``dataset``."""
    rows = []
    for sr, item in zip(outputs, dataset):
        psnr, ssim = psnr_ssim(sr, item["hr"], 4) if sr is not item["hr"] else (np.inf, 1.0)
        rows.append({"psnr": psnr, "ssim": ssim, "niqe": niqe(sr, 4), "grid": grid_pattern(sr, 4, 4),
                     **detail_measures(sr, item["hr"])})
    return {key: float(np.mean([row[key] for row in rows])) for key in COLUMNS}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoints", nargs="+", required=True, metavar="NAME=PATH")
    parser.add_argument("--list", default=str(ROOT / "data" / "sample" / "sample_test.csv"))
    parser.add_argument("--results", type=Path, required=True)
    args = parser.parse_args()
    pairs = [item.split("=", 1) for item in args.checkpoints]
    if any(len(pair) != 2 for pair in pairs):
        sys.exit(f"--checkpoints takes NAME=PATH, got {args.checkpoints}")
    dataset = [item for item in SRTestDataset(args.list, 4)]
    results = {"HR": measures([item["hr"] for item in dataset], dataset)}
    for name, path in pairs:
        generator = inference.load_generator(path)
        outputs = [signed_to_uint8(inference.super_resolve(generator, item["lr"].unsqueeze(0))[0])
                   for item in dataset]
        results[name] = measures(outputs, dataset)
    print("| model | " + " | ".join(COLUMNS) + " |\n|---|" + "---|" * len(COLUMNS))
    for name, row in results.items():
        print(f"| {name} | " + " | ".join(f"{row[k]:.4f}" if k == "ssim" else f"{row[k]:.3f}" if k in KEYS
                                         else f"{row[k]:.2f}" for k in COLUMNS) + " |")
    args.results.write_text(json.dumps({"list": args.list, "checkpoints": dict(pairs), "results": results,
                                        "command": "report/detail_table.py " + " ".join(sys.argv[1:])},
                                       indent=1) + "\n")


if __name__ == "__main__":
    main()
