"""Is the quick start's SRGAN robust to the seed and to the CPU's precision? The `sample`
preset's two stages, end to end.

For each seed, ``train.run`` trains the `sample` preset as ``train.ipynb`` does (pretraining,
then the GAN stage; no SRCNN baseline) into ``runs/sample_seed<k>`` (seed 0: the quick start's
own ``runs/sample``; with ``--fp32``, ``runs/sample_seed<k>_fp32`` with ``amp_cpu=False``: what
a CPU without native bf16 computes), unless that folder already holds both checkpoints; then the
SRResNet (``srresnet_best.pth``) and the SRGAN (``srgan_last.pth``, its moving average) are
scored on the 4 sample test images as ``test.ipynb`` scores them (``inference.validate``: PSNR /
SSIM / NIQE, 4-px border), with the grid measure ``metrics.grid_pattern`` (period 4, 4-px
border) and the detail measures of ``report/detail_measures.py`` (HR's too: the level of
natural texture). One JSON line per seed is appended to ``--results`` (``seconds``: the
training time, 0 for a folder that was only scored). ``--figure`` draws the zoomed crop of the
first test image (HR, SRResNet, SRGAN) of every seed's folder, one row per seed.

    OMP_NUM_THREADS=1 .venv/bin/python -m report.quickstart_seeds --seeds 1
    .venv/bin/python -m report.quickstart_seeds --seeds 0   # after the README's first command
    .venv/bin/python -m report.quickstart_seeds --seeds 0 1 2 --fp32 --results /dev/null \
        --figure report/figures/quickstart_seeds_fp32.png   # scores the folders only
"""
import argparse
import json
import sys
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import inference
import train
from config import TEST_DEFAULTS, training_config
from datasets import SRTestDataset
from report.detail_measures import mean_measures
from report.grid_measure import grid_per_image
from utils import signed_to_uint8

ROOT = Path(__file__).resolve().parents[1]
MODELS = {"SRResNet": "srresnet_best.pth", "SRGAN": "srgan_last.pth"}


def outputs(generator, dataset, device):
    """The uint8 outputs of ``generator`` on every image of ``dataset`` (HR's with None)."""
    if generator is None:
        return [item["hr"] for item in dataset]
    return [signed_to_uint8(inference.super_resolve(generator, item["lr"].unsqueeze(0).to(device))[0])
            for item in dataset]


def score(path, dataset, device):
    """PSNR / SSIM / NIQE means (test.ipynb's), the grid and the detail measures of one checkpoint."""
    generator = inference.load_generator(path, device)
    scores = inference.validate(generator, dataset, device, with_niqe=True)
    grid = float(np.mean(grid_per_image(generator, dataset, device)))
    detail = mean_measures(zip(outputs(generator, dataset, device), (item["hr"] for item in dataset)))
    return {k: float(scores[k]) for k in ("psnr", "ssim", "niqe")} | {"grid": grid} | detail


def run_dir(seed, fp32):
    return Path("runs/sample" if seed == 0 and not fp32 else f"runs/sample_seed{seed}{'_fp32' * fp32}")


def crop(img, box=TEST_DEFAULTS["crop"]):
    h, w = img.shape[:2]
    y0, x0, side = int(box[0] * h), int(box[1] * w), int(box[2] * min(h, w))
    return img[y0:y0 + side, x0:x0 + side]


def figure(seeds, fp32, path):
    """One row per seed: the crop of the first test image, HR then each model of ``MODELS``."""
    config = training_config("sample")
    item = SRTestDataset(config.val_list, config.scale)[0]
    fig, axes = plt.subplots(len(seeds), 1 + len(MODELS), figsize=(3 * (1 + len(MODELS)), 3.2 * len(seeds)),
                             squeeze=False)
    for row, seed in zip(axes, seeds):
        images = {"HR": item["hr"]}
        for name, file in MODELS.items():
            generator = inference.load_generator(run_dir(seed, fp32) / file)
            images[name] = signed_to_uint8(inference.super_resolve(generator, item["lr"].unsqueeze(0))[0])
        for ax, (name, img) in zip(row, images.items()):
            ax.imshow(crop(img), interpolation="nearest")
            ax.set_title(f"{name}, seed {seed}" if name != "HR" else "HR", fontsize=10)
            ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    print(f"wrote {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--fp32", action="store_true", help="amp_cpu=False: train and score in fp32")
    parser.add_argument("--results", type=Path, default=ROOT / "report" / "quickstart_seeds.jsonl")
    parser.add_argument("--figure", type=Path, help="also draw the crops of every seed here")
    args = parser.parse_args()
    dataset = None
    for seed in args.seeds:
        config = training_config("sample", {"seed": seed, "out_dir": str(run_dir(seed, args.fp32)),
                                            "srcnn": {"preset": None}},
                                 {"amp_cpu": False} if args.fp32 else {})
        out_dir = Path(config.out_dir)
        started = time.perf_counter()
        if not all((out_dir / file).exists() for file in MODELS.values()):
            train.run(config, log=lambda message: None)
        seconds = time.perf_counter() - started
        device = inference.resolve_device(config.device)
        dataset = SRTestDataset(config.val_list, config.scale)
        row = {"seed": seed, "amp_cpu": config.amp_cpu, "seconds": round(seconds, 1),
               **{name: score(out_dir / file, dataset, device) for name, file in MODELS.items()},
               "HR": {"grid": float(np.mean(grid_per_image(None, dataset, device)))}
               | mean_measures((hr, hr) for hr in outputs(None, dataset, device)),
               "config": {"gan": config.stages.gan, "generator": config.generator},
               "command": "report/quickstart_seeds.py " + " ".join(sys.argv[1:])}
        with open(args.results, "a") as f:
            f.write(json.dumps(row, default=str) + "\n")
        a, b = row["SRResNet"], row["SRGAN"]
        print(f"seed {seed}: SRResNet {a['psnr']:.2f} / {a['ssim']:.4f} / NIQE {a['niqe']:.2f} / grid {a['grid']:.2f}; "
              f"SRGAN {b['psnr']:.2f} / {b['ssim']:.4f} / NIQE {b['niqe']:.2f} / grid {b['grid']:.2f} "
              f"({b['psnr'] - a['psnr']:+.2f} dB), {seconds:.0f} s", flush=True)
        for name in ("SRResNet", "SRGAN"):
            print(f"  {name}: " + ", ".join(f"{k} {row[name][k]:.3f}" for k in
                                            ("chroma", "chroma_error", "missing", "false", "placement", "spectral")))
    if args.figure:
        figure(args.seeds, args.fp32, args.figure)


if __name__ == "__main__":
    main()
