"""Bicubic and HR on Set5, Set14 and B100 of ../shared/data with every measure of test.ipynb.

PSNR / SSIM (Y, 4-px border), NIQE (4-px crop) and the grid measure for MATLAB-bicubic
upsampling of the MATLAB-made LR files, and NIQE for the HR images themselves (the reference
of the perception-distortion plane). Writes ``report/results/measures_shared.json``.

    .venv/bin/python -m report.experiments.measures_shared
"""
import json
from pathlib import Path

import inference
from create_data_lists import create_benchmark_lists
from datasets import SRTestDataset

ROOT = Path(__file__).resolve().parents[2]

SHARED = ROOT.parent / "shared" / "data"


def main():
    lists = ROOT / "runs" / "measures_shared" / "lists"
    create_benchmark_lists([SHARED / name for name in ("Set5", "Set14", "B100")], lists, 4)
    results = {"command": "report/experiments/measures_shared.py"}
    for name in ("Set5", "Set14", "B100"):
        dataset = SRTestDataset(lists / f"{name}.csv", 4)
        rows = {"bicubic": inference.validate_bicubic(dataset, with_niqe=True),
                "HR": inference.validate_hr(dataset)}
        results[name] = {m: {k: r[k] for k in ("psnr", "ssim", "niqe", "images")} for m, r in rows.items()}
        results[name]["HR"]["psnr"] = None  # infinite
        print(name, json.dumps(results[name]))
    (ROOT / "report" / "results" / "measures_shared.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
