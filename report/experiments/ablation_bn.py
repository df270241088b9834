"""Ablation for the report: SRResNet pretraining with and without batch normalisation.

Both variants train the sample preset's generator as it was when this ran (4 residual blocks of
32 channels, sub-pixel upsampling; the preset has 8 blocks now) on the embedded sample data for
the same number of iterations, from the same seed, and are validated (PSNR, Y channel) on the 4
sample test images after every epoch. Writes
``report/results/ablation_bn.json`` and ``report/figures/ablation_bn.png``.

    .venv/bin/python -m report.experiments.ablation_bn --iterations 800
"""
import argparse
import json
import shutil
import sys
from pathlib import Path

import matplotlib.pyplot as plt
from torch.utils.data import DataLoader

import inference
import solver
from config import training_config
from create_data_lists import build_sample_dataset
from datasets import SRTestDataset, SRTrainDataset
from utils import seed_everything

ROOT = Path(__file__).resolve().parents[2]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=800)
    parser.add_argument("--lr", type=float, default=1.5e-3)
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "ablation_bn")
    args = parser.parse_args()
    data = args.out / "data"
    if not (data / "sample_train.csv").exists():
        build_sample_dataset(data)
    val_set = SRTestDataset(data / "sample_test.csv")
    results = {"command": "report/experiments/ablation_bn.py " + " ".join(sys.argv[1:]),
               "bicubic_psnr": inference.validate_bicubic(val_set)["psnr"], "variants": {}}
    for label, batch_norm in (("with BN (paper)", True), ("without BN", False)):
        seed_everything(0)
        # the sample preset's networks as they were then (4 blocks, sub-pixel upsampling), BN on or off
        config = training_config("sample", dict(
            device="cpu", channels_last=False, log_every=50,
            out_dir=str(args.out / ("bn" if batch_norm else "no_bn")),
            generator=dict(n_blocks=4, batch_norm=batch_norm, upsampler="subpixel"),
            stages=dict(pretrain=dict(iterations=args.iterations, lr_g=args.lr, milestones=[]))))
        shutil.rmtree(config.out_dir, ignore_errors=True)  # a fresh run, not a resumed one
        stage = config.stages.pretrain
        train_set = SRTrainDataset(data / "sample_train.csv", hr_patch=48, patches_per_image=100)
        loader = DataLoader(train_set, batch_size=16, shuffle=True, drop_last=True)
        training = solver.fit(config, stage, loader, val_set)
        results["variants"][label] = [{"iteration": r["iteration"], "val_psnr": r["val_psnr"]}
                                      for r in training.history]
    (ROOT / "report" / "results" / "ablation_bn.json").write_text(json.dumps(results, indent=2) + "\n")

    fig, ax = plt.subplots(figsize=(7, 4))
    for label, rows in results["variants"].items():
        ax.plot([r["iteration"] for r in rows], [r["val_psnr"] for r in rows], "o-", ms=3, label=label)
    ax.axhline(results["bicubic_psnr"], color="gray", ls="--", label="bicubic")
    ax.set(xlabel="iteration (batch 16, 48x48 HR patches)", ylabel="PSNR on sample test (dB)",
           title="SRResNet 4x32 pretraining, lr %.1e" % args.lr)
    ax.legend()
    fig.tight_layout()
    fig.savefig(ROOT / "report" / "figures" / "ablation_bn.png", dpi=100)
    for label, rows in results["variants"].items():
        last = rows[-3:]
        print(f"{label}: mean PSNR of the last 3 epochs {sum(r['val_psnr'] for r in last) / len(last):.2f} dB")
    print(f"bicubic {results['bicubic_psnr']:.2f} dB")


if __name__ == "__main__":
    main()
