"""The grid measure (``metrics.grid_pattern``, period 4, 4-px border) of checkpoints on a test list.

Super-resolves every image of ``--list`` with each checkpoint (tiled, as ``test.ipynb``) and
prints, per image and on average, the strength of the component locked to the 4x4 output grid
in gray levels, with HR's as the level of natural texture; writes the numbers to ``--results``.

    .venv/bin/python -m report.experiments.grid_measure --list runs/shared/lists/Set5.csv \
        --checkpoints SRResNet=runs/shared_s6/srresnet_best.pth SRGAN=runs/shared_s6/srgan_last.pth \
        --results report/results/grid_shared_s6.json
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

import inference
from datasets import SRTestDataset
from metrics import grid_pattern
from utils import signed_to_uint8

ROOT = Path(__file__).resolve().parents[2]


def grid_per_image(generator, dataset, device, tile=None):
    """``grid_pattern`` (period 4, 4-px border) of ``generator``'s output for each image of
    ``dataset``; with ``generator=None``, of the HR images."""
    scores = []
    for index in range(len(dataset)):
        item = dataset[index]
        if generator is None:
            img = item["hr"]
        else:
            sr = inference.super_resolve(generator, item["lr"].unsqueeze(0).to(device), tile)[0]
            img = signed_to_uint8(sr)
        scores.append(grid_pattern(img, 4, 4))
    return scores


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", required=True, help="a CSV test list (create_data_lists.py)")
    parser.add_argument("--checkpoints", nargs="+", required=True, metavar="NAME=PATH")
    parser.add_argument("--results", type=Path, required=True)
    parser.add_argument("--tile", type=int, default=128)
    args = parser.parse_args()
    pairs = [item.split("=", 1) for item in args.checkpoints]
    bad = [item for item, pair in zip(args.checkpoints, pairs) if len(pair) != 2]
    if bad:
        sys.exit(f"--checkpoints takes NAME=PATH, got {bad}")
    device = inference.resolve_device("auto")
    dataset = SRTestDataset(args.list, 4)
    generators = {"HR": None} | {name: inference.load_generator(path, device) for name, path in pairs}
    scores = {name: grid_per_image(generator, dataset, device, args.tile)
              for name, generator in generators.items()}
    per_image = [{"name": dataset[i]["name"]} | {name: scores[name][i] for name in generators}
                 for i in range(len(dataset))]
    for row in per_image:
        print(" ".join(f"{k} {v:.2f}" if isinstance(v, float) else str(v) for k, v in row.items()))
    means = {name: float(np.mean(scores[name])) for name in generators}
    print("mean:", " ".join(f"{k} {v:.2f}" for k, v in means.items()))
    args.results.write_text(json.dumps({"list": args.list, "checkpoints": dict(pairs), "mean": means,
                                        "per_image": per_image,
                                        "command": "report/experiments/grid_measure.py " + " ".join(sys.argv[1:])},
                                       indent=1) + "\n")


if __name__ == "__main__":
    main()
