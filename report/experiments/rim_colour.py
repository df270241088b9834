"""The colour of the dark band under the cat's iris (the first sample test image), per model:
the mean RGB, gray level and chroma of the pixels that are HR's darkest fifth of a crop, in the
output of each checkpoint (report/notes/README.md, iris-rim: where a GAN's red-brown band comes
from).

Chroma is the RMS of (R, G, B) minus their mean, in gray levels. The adversary of the sample
presets sees that mean (``d_input="gray"``): its gradient moves the three channels alike and
leaves this chroma as the generator had it.

    .venv/bin/python -m report.experiments.rim_colour --results report/results/rim_colour_s15.json \
        --checkpoints SRResNet=runs/sample/srresnet_best.pth SRGAN=runs/sample/srgan_last.pth
"""
import argparse
import json
import shlex
import sys
from pathlib import Path

import numpy as np

import inference
from datasets import SRTestDataset
from report.experiments.detail_table import shown
from report.experiments.quickstart_seeds import crop
from utils import signed_to_uint8

ROOT = Path(__file__).resolve().parents[2]
RIM = (0.45, 0.348, 0.1)  # top, left, side as fractions of the image: the lower rim of the iris


def band_colour(img, band):
    """Mean R, G, B, gray and chroma RMS (gray levels) of ``img``'s (H, W, 3) uint8 pixels in ``band``."""
    rgb = img.astype(np.float64)[band]  # (P, 3) in [0, 255]
    gray = rgb.mean(axis=1, keepdims=True)  # (P, 1)
    return {"rgb": rgb.mean(axis=0).round(2).tolist(), "gray": float(gray.mean()),
            "chroma": float(np.sqrt(((rgb - gray) ** 2).mean()))}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoints", nargs="+", required=True, metavar="NAME=PATH")
    parser.add_argument("--list", default=str(ROOT / "data" / "sample" / "sample_test.csv"))
    parser.add_argument("--box", type=float, nargs=3, default=RIM, metavar=("TOP", "LEFT", "SIDE"))
    parser.add_argument("--darkest", type=float, default=20.0, help="the band: HR's darkest percent of the box")
    parser.add_argument("--results", type=Path, required=True)
    args = parser.parse_args()
    pairs = [item.split("=", 1) for item in args.checkpoints]
    if any(len(pair) != 2 for pair in pairs):
        sys.exit(f"--checkpoints takes NAME=PATH, got {args.checkpoints}")
    item = SRTestDataset(args.list, 4)[0]
    hr = crop(item["hr"], args.box)  # (S, S, 3) uint8
    hr_gray = hr.astype(np.float64).mean(axis=2)
    band = hr_gray <= np.percentile(hr_gray, args.darkest)  # (S, S) bool
    rows = {"HR": band_colour(hr, band)}
    for name, path in pairs:
        generator = inference.load_generator(path)
        sr = signed_to_uint8(inference.super_resolve(generator, item["lr"].unsqueeze(0))[0])  # (H, W, 3) uint8
        rows[name] = band_colour(crop(sr, args.box), band)
    print("| model | R | G | B | gray | chroma |\n|---|---|---|---|---|---|")
    for name, row in rows.items():
        print(f"| {name} | " + " | ".join(f"{v:.1f}" for v in (*row["rgb"], row["gray"], row["chroma"])) + " |")
    args.results.write_text(json.dumps({"image": item["name"], "box": args.box, "darkest": args.darkest,
                                        "pixels": int(band.sum()),
                                        "checkpoints": {name: shown(path) for name, path in pairs},
                                        "results": rows,
                                        "command": shlex.join(["report/experiments/rim_colour.py", *sys.argv[1:]])},
                                       indent=1) + "\n")


if __name__ == "__main__":
    main()
