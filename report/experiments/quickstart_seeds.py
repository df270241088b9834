"""Is the quick start's GAN robust to the seed and to the CPU's precision? A sample preset's two
stages (``--preset sample``: SRResNet then SRGAN; ``--preset sample_esrgan``: RRDBNet then
ESRGAN), end to end.

For each seed, ``train.run`` trains the preset as ``train.ipynb`` does (pretraining, then the
GAN stage; no SRCNN baseline) into ``runs/sample`` for seed 0 (the preset's own folder, which
the quick start fills for ``sample``) and ``runs/<preset>_seed<k>`` for the others; with
``--fp32``, ``runs/<preset>_seed<k>_fp32`` with ``amp_cpu=False`` (what a CPU without native
bf16 computes), unless that folder already holds both checkpoints. Then the PSNR-oriented model
(``srresnet_best.pth`` / ``rrdbnet_best.pth``) and the GAN (``srgan_last.pth`` /
``esrgan_last.pth``, its moving average) are scored on the 4 sample test images as
``test.ipynb`` scores them (``inference.validate``: PSNR / SSIM / NIQE, 4-px border), with the
grid measure ``metrics.grid_pattern`` (period 4, 4-px border) and the detail measures of
``report/experiments/detail_measures.py`` (HR's too: the level of natural texture). One JSON line per seed
is appended to ``--results`` (``seconds``: the training time, 0 for a folder that was only
scored). ``--figure`` draws the zoomed crop of the first test image (HR and the two models) of
every seed's folder, one row per seed.

    OMP_NUM_THREADS=1 .venv/bin/python -m report.experiments.quickstart_seeds --seeds 1
    .venv/bin/python -m report.experiments.quickstart_seeds --seeds 0   # after the README's first command
    .venv/bin/python -m report.experiments.quickstart_seeds --preset sample_esrgan --seeds 0 1 2 --fp32
    .venv/bin/python -m report.experiments.quickstart_seeds --seeds 0 1 2 --fp32 --results /dev/null \
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
from config import INTERPOLATIONS, METHODS, TEST_DEFAULTS, training_config
from datasets import SRTestDataset
from report.experiments.detail_measures import mean_measures
from report.experiments.grid_measure import grid_per_image
from utils import signed_to_uint8

ROOT = Path(__file__).resolve().parents[2]
# {preset: (PSNR-oriented model, GAN)}, named as in config.METHODS
PAIRS = {"sample": INTERPOLATIONS["SRGAN"], "sample_esrgan": INTERPOLATIONS["ESRGAN"]}


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


def run_dir(preset, seed, fp32):
    default = training_config(preset).out_dir
    return Path(default if seed == 0 and not fp32 else f"runs/{preset}_seed{seed}{'_fp32' * fp32}")


def crop(img, box=TEST_DEFAULTS["crop"]):
    h, w = img.shape[:2]
    y0, x0, side = int(box[0] * h), int(box[1] * w), int(box[2] * min(h, w))
    return img[y0:y0 + side, x0:x0 + side]


def figure(preset, seeds, fp32, path):
    """One row per seed: the crop of the first test image, HR then the preset's two models."""
    config = training_config(preset)
    item = SRTestDataset(config.val_list, config.scale)[0]
    names = PAIRS[preset]
    fig, axes = plt.subplots(len(seeds), 1 + len(names), figsize=(3 * (1 + len(names)), 3.2 * len(seeds)),
                             squeeze=False)
    for row, seed in zip(axes, seeds):
        images = {"HR": item["hr"]}
        for name in names:
            generator = inference.load_generator(run_dir(preset, seed, fp32) / METHODS[name])
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
    parser.add_argument("--preset", choices=sorted(PAIRS), default="sample")
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--fp32", action="store_true", help="amp_cpu=False: train and score in fp32")
    parser.add_argument("--results", type=Path, default=ROOT / "report" / "results" / "sample_seeds.jsonl")
    parser.add_argument("--figure", type=Path, help="also draw the crops of every seed here")
    args = parser.parse_args()
    models = {name: METHODS[name] for name in PAIRS[args.preset]}  # {name: checkpoint file}
    for seed in args.seeds:
        config = training_config(args.preset, {"seed": seed, "out_dir": str(run_dir(args.preset, seed, args.fp32)),
                                               "srcnn": {"preset": None}},
                                 {"amp_cpu": False} if args.fp32 else {})
        out_dir = Path(config.out_dir)
        started = time.perf_counter()
        if not all((out_dir / file).exists() for file in models.values()):
            train.run(config, log=lambda message: None)
        seconds = time.perf_counter() - started
        device = inference.resolve_device(config.device)
        dataset = SRTestDataset(config.val_list, config.scale)
        row = {"preset": args.preset, "seed": seed, "amp_cpu": config.amp_cpu, "seconds": round(seconds, 1),
               **{name: score(out_dir / file, dataset, device) for name, file in models.items()},
               "HR": {"grid": float(np.mean(grid_per_image(None, dataset, device)))}
               | mean_measures((hr, hr) for hr in outputs(None, dataset, device)),
               "config": {"gan": config.stages.gan, "generator": config.generator},
               "command": "report/experiments/quickstart_seeds.py " + " ".join(sys.argv[1:])}
        with open(args.results, "a") as f:
            f.write(json.dumps(row, default=str) + "\n")
        (na, a), (nb, b) = ((name, row[name]) for name in models)
        print(f"seed {seed}: {na} {a['psnr']:.2f} / {a['ssim']:.4f} / NIQE {a['niqe']:.2f} / grid {a['grid']:.2f}; "
              f"{nb} {b['psnr']:.2f} / {b['ssim']:.4f} / NIQE {b['niqe']:.2f} / grid {b['grid']:.2f} "
              f"({b['psnr'] - a['psnr']:+.2f} dB), {seconds:.0f} s", flush=True)
        for name in models:
            print(f"  {name}: " + ", ".join(f"{k} {row[name][k]:.3f}" for k in
                                            ("chroma", "chroma_error", "missing", "false", "placement", "spectral")))
    if args.figure:
        figure(args.preset, args.seeds, args.fp32, args.figure)


if __name__ == "__main__":
    main()
