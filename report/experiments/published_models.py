"""Published generators on the benchmark sets, and what bf16 inference costs them.

    .venv/bin/python -m report.experiments.published_models [--weights ../shared/weights] [--data ../shared/data]

For each release file (``RealESRGAN_x4plus.pth``, ``RealESRGAN_x4plus_anime_6B.pth``), loaded
through ``inference.load_generator``: PSNR/SSIM (Y, 4-px border) and NIQE on Set5, Set14 and
B100 with whole images, twice: fp32 (the reference) and bf16 autocast with channels_last (what
``upscale.py --precision auto`` runs on a CPU with native bf16). Also the PSNR of the bf16
outputs against the fp32 ones (uint8 RGB, whole image), the share of their values that differ
by more than one level, and the seconds of each pass. Writes
``report/results/published_bf16_cost.json``; ``report/build.py`` makes the report's table from it.
"""
import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch

import create_data_lists as cdl
import inference
from datasets import SRTestDataset
from metrics import niqe, psnr_ssim
from utils import signed_to_uint8

ROOT = Path(__file__).resolve().parents[2]
RELEASES = ("RealESRGAN_x4plus", "RealESRGAN_x4plus_anime_6B")
SETS = ("Set5", "Set14", "B100")


def rgb_psnr(a, b):
    """PSNR of uint8 image ``a`` against ``b`` over all RGB values (inf when equal)."""
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return math.inf if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


def score_set(generator, dataset, log):
    """fp32 and bf16 (channels_last) outputs of every image, scored; their agreement."""
    rows = []
    for index in range(len(dataset)):
        item = dataset[index]
        lr = item["lr"].unsqueeze(0)  # (1, 3, h, w) in [0, 1]
        started = time.perf_counter()
        fp32 = signed_to_uint8(inference.super_resolve(generator, lr)[0])
        fp32_s = time.perf_counter() - started
        generator.to(memory_format=torch.channels_last)
        started = time.perf_counter()
        bf16 = signed_to_uint8(inference.super_resolve(
            generator, lr.contiguous(memory_format=torch.channels_last), dtype=torch.bfloat16)[0])
        bf16_s = time.perf_counter() - started
        generator.to(memory_format=torch.contiguous_format)
        row = {"name": item["name"], "fp32_s": fp32_s, "bf16_s": bf16_s,
               "bf16_vs_fp32_psnr": rgb_psnr(bf16, fp32),
               "bf16_off_by_more_than_1": float(np.mean(np.abs(bf16.astype(int) - fp32.astype(int)) > 1))}
        for label, out in (("fp32", fp32), ("bf16", bf16)):
            psnr, ssim = psnr_ssim(out, item["hr"], 4)
            row.update({f"{label}_psnr": psnr, f"{label}_ssim": ssim, f"{label}_niqe": niqe(out, 4)})
        rows.append(row)
        log(f"  {item['name']}: fp32 {row['fp32_psnr']:.2f} dB in {fp32_s:.1f} s, bf16 "
            f"{row['bf16_psnr']:.2f} dB in {bf16_s:.1f} s, bf16 vs fp32 {row['bf16_vs_fp32_psnr']:.1f} dB")
    means = {key: float(np.mean([r[key] for r in rows])) for key in rows[0] if key != "name"}
    means["seconds"] = {"fp32": sum(r["fp32_s"] for r in rows), "bf16": sum(r["bf16_s"] for r in rows)}
    return {"images": len(rows), **means}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", type=Path, default=ROOT.parent / "shared" / "weights")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--lists", type=Path, default=ROOT / "runs" / "published" / "lists")
    parser.add_argument("--out", type=Path, default=ROOT / "report" / "results" / "published_bf16_cost.json")
    args = parser.parse_args()
    torch.manual_seed(0)
    sets = args.sets.split(",")
    cdl.create_benchmark_lists([args.data / name for name in sets], args.lists, 4, log=lambda *a: None)
    results = {"torch": torch.__version__, "threads": torch.get_num_threads(), "models": {}}
    for name in RELEASES:
        generator = inference.load_generator(args.weights / f"{name}.pth")
        results["models"][name] = {}
        for set_name in sets:
            print(f"{name} on {set_name}", flush=True)
            dataset = SRTestDataset(args.lists / f"{set_name}.csv", 4)
            results["models"][name][set_name] = score_set(generator, dataset, print)
            args.out.write_text(json.dumps(results, indent=1) + "\n")  # as it goes
    print(json.dumps({m: {s: {k: round(v, 4) for k, v in r.items() if isinstance(v, float)}
                          for s, r in by_set.items()} for m, by_set in results["models"].items()},
                     indent=1))


if __name__ == "__main__":
    main()
