"""The report's CPU baseline run: SRResNet pretraining (pixel MSE) on T91 + BSD200 for a fixed
wall-time budget, then bicubic and the model evaluated on Set5, Set14 and B100.

    .venv/bin/python -m report.experiments.pretrain_cpu --data ../shared/data --minutes 60 --out runs/pretrain_cpu
    # faster on a CPU with AVX-512 BF16 instructions (report/performance.md):
    .venv/bin/python -m report.experiments.pretrain_cpu --minutes 60 --amp-cpu --channels-last --out runs/pretrain_bf16

Writes ``<out>/srresnet_*.pth`` (checkpoints, not committed), ``<out>/srresnet_history.csv``,
``<out>/srresnet_iterations.csv`` and ``report/results/pretrain_cpu_results.json`` (the table). Data
lists are made from the data folder with create_data_lists.py's functions.
"""
import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader

import inference
import solver
from config import training_config
from create_data_lists import create_benchmark_lists, create_list, read_list, write_list
from datasets import SRTestDataset, SRTrainDataset
from utils import seed_everything

ROOT = Path(__file__).resolve().parents[2]


def cpu_description():
    """The CPU's model name and its widest vector extensions, from /proc/cpuinfo (Linux)."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines()
                  if line.startswith("model name")), platform.machine())
    flags = set(next((line.split(":", 1)[1].split() for line in info.splitlines()
                      if line.startswith("flags")), []))
    wanted = [f for f in ("avx", "avx2", "avx512f", "avx512_bf16", "amx_bf16") if f in flags]
    return f"{model} ({', '.join(wanted) or 'no AVX'})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "pretrain_cpu")
    parser.add_argument("--results", type=Path, default=ROOT / "report" / "results" / "pretrain_cpu_results.json")
    parser.add_argument("--amp-cpu", action="store_true", help="bf16 autocast (config.amp_cpu)")
    parser.add_argument("--channels-last", action="store_true", help="config.channels_last")
    args = parser.parse_args()

    # the shared preset (config.py): its generator, so that train.ipynb's GAN stage can resume
    # it (runs A, A' and D used the paper's sub-pixel upsampling, the preset's default then)
    config = training_config("shared", dict(
        amp=None, amp_cpu=args.amp_cpu, channels_last=args.channels_last, vgg_weights=None,
        out_dir=str(args.out), stages=dict(pretrain=dict(time_budget=args.minutes * 60))))
    stage = config.stages.pretrain
    seed_everything(config.seed)

    lists = args.out / "lists"
    log = print
    train_pairs = [pair for name in ("T91", "BSD200")
                   for pair in read_list(create_list(args.data / name / "HR", None, name, lists, log=log))]
    write_list(train_pairs, lists / "train.csv")
    test_lists = create_benchmark_lists([args.data / s for s in ("Set5", "Set14", "B100")], lists, log=log)

    train_set = SRTrainDataset(lists / "train.csv", config.scale, config.hr_patch, config.patches_per_image)
    loader = DataLoader(train_set, batch_size=config.batch_size, shuffle=True, drop_last=True,
                        num_workers=config.num_workers)
    val_set = SRTestDataset(lists / "Set5.csv", config.scale)
    started = time.time()
    training = solver.fit(config, stage, loader, val_set)
    minutes = (time.time() - started) / 60

    generator = inference.load_generator(args.out / "srresnet_best.pth")
    results = {}
    for csv_path in test_lists:
        dataset = SRTestDataset(csv_path, config.scale)
        results[csv_path.stem] = {
            "bicubic": inference.validate_bicubic(dataset),
            "srresnet": inference.validate(generator, dataset, torch.device("cpu")),
        }
        for method, scores in results[csv_path.stem].items():
            print(f"{csv_path.stem:6s} {method:8s} PSNR {scores['psnr']:.2f} SSIM {scores['ssim']:.4f}")
    summary = {
        "command": " ".join(["report/experiments/pretrain_cpu.py"] + sys.argv[1:]),
        "machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, no GPU",
        "cpu": cpu_description(), "amp_cpu": args.amp_cpu, "channels_last": args.channels_last,
        "budget_minutes": args.minutes, "wall_minutes_this_invocation": round(minutes, 1),
        "iterations": training.iteration, "epochs": training.epoch, "batch_size": config.batch_size,
        "train_images": len(train_set.pairs), "skipped_train_images": len(train_set.skipped),
        "best_val_psnr_set5": training.best_psnr,
        "results": {s: {m: {"psnr": v["psnr"], "ssim": v["ssim"], "images": v["images"]}
                        for m, v in r.items()} for s, r in results.items()},
    }
    args.results.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
