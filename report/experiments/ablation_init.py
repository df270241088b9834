"""Ablation for the report: adversarial training from scratch vs from a pretrained SRResNet.

The assignment's base mode alternates generator and discriminator updates from random
initialisation; SRGAN starts the generator from the MSE-pretrained SRResNet. Both variants run
the same number of GAN iterations (pixel-MSE content loss + 1e-3 adversarial, batch 16, 48x48
HR patches) on the embedded sample data with the sample preset's small networks; the
pretrained generator is the BN-free one of ``report/experiments/ablation_bn.py`` (run that first).
Writes ``report/results/ablation_init.json``.

    .venv/bin/python -m report.experiments.ablation_init --iterations 300
"""
import argparse
import json
import shutil
import sys
from pathlib import Path

from torch.utils.data import DataLoader

import inference
import solver
from config import training_config
from datasets import SRTestDataset, SRTrainDataset
from report.experiments.gan_ablation import BASE
from utils import seed_everything

ROOT = Path(__file__).resolve().parents[2]


def gan_config(out_dir, iterations, init):
    """The sample preset's networks and GAN stage as they were then (``gan_ablation.BASE``: 4
    blocks, sub-pixel upsampling, pixel MSE + 1e-3 adversarial), from the pretrained SRResNet
    in ``out_dir`` with ``init``, else from scratch."""
    return training_config("sample", BASE, dict(
        device="cpu", channels_last=False, log_every=50, out_dir=str(out_dir),
        stages=dict(gan=dict(iterations=iterations, init_from="srresnet" if init else None))))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "ablation_bn")
    args = parser.parse_args()
    data = args.runs / "data"
    pretrained = args.runs / "no_bn" / "srresnet_last.pth"
    val_set = SRTestDataset(data / "sample_test.csv")
    results = {"command": "report/experiments/ablation_init.py " + " ".join(sys.argv[1:]),
               "pretrained_from": str(pretrained.relative_to(ROOT)),
               "pretrained_psnr": inference.validate(inference.load_generator(pretrained), val_set, "cpu")["psnr"],
               "bicubic_psnr": inference.validate_bicubic(val_set)["psnr"], "variants": {}}
    for label, init in (("from scratch (assignment's base mode)", False), ("from pretrained SRResNet", True)):
        seed_everything(0)
        out_dir = args.runs / ("gan_pretrained" if init else "gan_scratch")
        shutil.rmtree(out_dir, ignore_errors=True)
        if init:  # fit() starts a stage with init_from from <out_dir>/<init_from>_last.pth
            out_dir.mkdir(parents=True)
            shutil.copyfile(pretrained, out_dir / "srresnet_last.pth")
        config = gan_config(out_dir, args.iterations, init)
        stage = config.stages.gan
        train_set = SRTrainDataset(data / "sample_train.csv", hr_patch=48, patches_per_image=100)
        loader = DataLoader(train_set, batch_size=16, shuffle=True, drop_last=True)
        training = solver.fit(config, stage, loader, val_set)
        last = training.history[-1]
        results["variants"][label] = {"iterations": training.iteration, "val_psnr": last["val_psnr"],
                                      "val_ssim": last["val_ssim"], "d_real": last["d_real"],
                                      "d_fake": last["d_fake"]}
        print(f"{label}: PSNR {last['val_psnr']:.2f} dB, SSIM {last['val_ssim']:.4f}")
    (ROOT / "report" / "results" / "ablation_init.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
