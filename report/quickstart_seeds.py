"""Is the quick start's SRGAN robust to the seed? The `sample` preset's two stages, end to end.

For each seed, ``train.run`` trains the `sample` preset as ``train.ipynb`` does (pretraining,
then the GAN stage; no SRCNN baseline) into ``runs/sample_seed<k>`` (seed 0: the quick start's
own ``runs/sample``), unless that folder already holds both checkpoints; then the SRResNet (``srresnet_best.pth``) and the SRGAN
(``srgan_last.pth``, its moving average) are scored on the 4 sample test images as
``test.ipynb`` scores them (``inference.validate``: PSNR / SSIM / NIQE, 4-px border), plus the
grid measure ``metrics.grid_pattern`` (period 4, 4-px border) of the report's ablation (also of
the HR images, the level of natural texture). One JSON
line per seed is appended to ``--results`` (``seconds``: the training time, 0 for a folder
that was only scored).

    OMP_NUM_THREADS=1 .venv/bin/python -m report.quickstart_seeds --seeds 1
    .venv/bin/python -m report.quickstart_seeds --seeds 0   # after the README's first command
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

import inference
import train
from config import training_config
from datasets import SRTestDataset
from report.grid_measure import grid_per_image

ROOT = Path(__file__).resolve().parents[1]


def score(path, dataset, device):
    """PSNR / SSIM / NIQE means (test.ipynb's) and the mean grid measure of one checkpoint."""
    generator = inference.load_generator(path, device)
    scores = inference.validate(generator, dataset, device, with_niqe=True)
    grid = float(np.mean(grid_per_image(generator, dataset, device)))
    return {k: float(scores[k]) for k in ("psnr", "ssim", "niqe")} | {"grid": grid}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--results", type=Path, default=ROOT / "report" / "quickstart_seeds.jsonl")
    args = parser.parse_args()
    for seed in args.seeds:
        out_dir = "runs/sample" if seed == 0 else f"runs/sample_seed{seed}"
        config = training_config("sample", {"seed": seed, "out_dir": out_dir, "srcnn": {"preset": None}})
        out_dir = Path(config.out_dir)
        started = time.perf_counter()
        if not ((out_dir / "srresnet_best.pth").exists() and (out_dir / "srgan_last.pth").exists()):
            train.run(config, log=lambda message: None)
        seconds = time.perf_counter() - started
        device = inference.resolve_device(config.device)
        dataset = SRTestDataset(config.val_list, config.scale)
        row = {"seed": seed, "seconds": round(seconds, 1),
               "SRResNet": score(out_dir / "srresnet_best.pth", dataset, device),
               "SRGAN": score(out_dir / "srgan_last.pth", dataset, device),
               "HR": {"grid": float(np.mean(grid_per_image(None, dataset, device)))},
               "config": {"gan": config.stages.gan, "generator": config.generator},
               "command": "report/quickstart_seeds.py " + " ".join(sys.argv[1:])}
        with open(args.results, "a") as f:
            f.write(json.dumps(row, default=str) + "\n")
        a, b = row["SRResNet"], row["SRGAN"]
        print(f"seed {seed}: SRResNet {a['psnr']:.2f} / {a['ssim']:.4f} / NIQE {a['niqe']:.2f} / grid {a['grid']:.2f}; "
              f"SRGAN {b['psnr']:.2f} / {b['ssim']:.4f} / NIQE {b['niqe']:.2f} / grid {b['grid']:.2f} "
              f"({b['psnr'] - a['psnr']:+.2f} dB), {seconds:.0f} s", flush=True)


if __name__ == "__main__":
    main()
