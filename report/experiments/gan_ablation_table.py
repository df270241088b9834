"""The report's table and crop figure of ``report/experiments/gan_ablation.py``'s results.

Reads ``report/results/gan_ablation_sample.jsonl`` (one line per run), prints a markdown table (the mean over
seeds of each variant, with the number of seeds, and per-seed PSNR / NIQE / grid; D outputs in
parentheses are sigmoid(C(x)) of runs made before the relativistic ones logged D_Ra), and writes
``report/figures/gan_ablation_crops.png``: the zoomed crop of each variant (first seed), 3x
nearest-neighbour, labelled (``--all-seeds``: a row per variant, a crop per seed), and
``report/figures/gan_ablation_plane.png`` (the figure's name with "plane" for "crops"): PSNR against NIQE
of every variant, with bicubic and HR on the same images. The crops come from scikit-image's ``chelsea`` photograph (the
sample preset's first validation image), which the project may show.

    .venv/bin/python -m report.experiments.gan_ablation_table --preset sample
"""
import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

import inference
from config import training_config
from datasets import SRTestDataset

ROOT = Path(__file__).resolve().parents[2]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="sample")
    parser.add_argument("--results", type=Path, default=ROOT / "report" / "results" / "gan_ablation_sample.jsonl")
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "gan_ablation")
    parser.add_argument("--figure", type=Path, default=ROOT / "report" / "figures" / "gan_ablation_crops.png")
    parser.add_argument("--variants", nargs="*", help="order and subset of the figure's crops")
    parser.add_argument("--only", action="store_true",
                        help="the table and the plane too hold only --variants (else every variant)")
    parser.add_argument("--all-seeds", action="store_true",
                        help="one row of crops per variant, one crop per seed (else the first seed's)")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.results.read_text().splitlines() if line.strip()]
    by_variant = defaultdict(list)
    for row in rows:
        if row["preset"] == args.preset:
            by_variant[row["variant"]].append(row)

    print("| variant | seeds | PSNR | SSIM | NIQE | grid | D(HR) | D(G(LR)) | per seed: PSNR / NIQE / grid |")
    print("|---|---|---|---|---|---|---|---|---|")
    order = [n for n in (args.variants or []) if n in by_variant]
    if not args.only:
        order += [n for n in by_variant if n not in order]
    for name in order:
        runs = sorted(by_variant[name], key=lambda r: r["seed"])
        mean = {k: float(np.mean([r[k] for r in runs])) for k in ("psnr", "ssim", "niqe", "grid", "d_real", "d_fake")}
        seeds = "; ".join(f"s{r['seed']}: {r['psnr']:.2f} / {r['niqe']:.2f} / {r['grid']:.2f}" for r in runs)
        d = "- | -" if np.isnan(mean["d_real"]) else f"{mean['d_real']:.2f} | {mean['d_fake']:.2f}"
        if "relativistic" in json.dumps(runs[0]["override"]) and not runs[0].get("d_relativistic"):
            d = " | ".join(f"({v})" for v in d.split(" | "))  # logged as sigmoid(C(x)), not D_Ra
        print(f"| {name} | {len(runs)} | {mean['psnr']:.2f} | {mean['ssim']:.4f} | {mean['niqe']:.2f} | "
              f"{mean['grid']:.2f} | {d} | {seeds} |")

    names = args.variants or list(by_variant)
    crops = []  # (title, image or None for an empty cell)
    columns = max(len(by_variant[name]) for name in names) if args.all_seeds else None
    for name in names:
        runs = sorted(by_variant[name], key=lambda r: r["seed"]) if args.all_seeds else by_variant[name][:1]
        for run in runs:
            path = args.runs / f"{args.preset}_{name}_s{run['seed']}" / "crop.png"
            if path.exists():
                title = f"{name} s{run['seed']}" if args.all_seeds else name
                crops.append((title, np.asarray(Image.open(path))))
        if args.all_seeds:  # pad the row: one variant per row
            crops += [("", None)] * ((-len(crops)) % columns)
    if not any(crop is not None for _, crop in crops):
        sys.exit(f"no crops under {args.runs}")
    columns = columns or min(5, len(crops))
    rows_n = (len(crops) + columns - 1) // columns
    fig, axes = plt.subplots(rows_n, columns, figsize=(3 * columns, 3.3 * rows_n), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, (name, crop) in zip(axes.ravel(), crops):
        if crop is not None:
            ax.imshow(crop, interpolation="nearest")
            ax.set_title(name, fontsize=10)
    fig.tight_layout()
    args.figure.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.figure, dpi=80)
    print(f"\nwrote {args.figure}")
    plane(by_variant, order, args)


def plane(by_variant, order, args):
    """The perception-distortion plane of the variants (means over seeds), with bicubic and HR
    computed here on the same validation images (``report/figures/gan_ablation_plane.png``)."""

    dataset = SRTestDataset(training_config(args.preset).val_list, 4)
    bicubic, hr = inference.validate_bicubic(dataset, with_niqe=True), inference.validate_hr(dataset)
    fig, ax = plt.subplots(figsize=(8, 6))
    for name in order:
        runs = by_variant[name]
        x, y = np.mean([r["niqe"] for r in runs]), np.mean([r["psnr"] for r in runs])
        reference = name.startswith("srresnet")
        ax.scatter(x, y, s=60 if reference else 30, marker="s" if reference else "o",
                   color="C1" if reference else ("C2" if name == "resize_conv" else "C0"))
        ax.annotate(name, (x, y), textcoords="offset points", xytext=(4, 3), fontsize=8)
    ax.scatter(bicubic["niqe"], bicubic["psnr"], marker="^", color="k")
    ax.annotate("bicubic", (bicubic["niqe"], bicubic["psnr"]), textcoords="offset points", xytext=(4, 3))
    ax.axvline(hr["niqe"], color="C3", linestyle="--")
    ax.annotate(f"HR (NIQE {hr['niqe']:.2f}, PSNR inf)", (hr["niqe"], ax.get_ylim()[1]),
                textcoords="offset points", xytext=(4, -12), color="C3")
    ax.set(xlabel="NIQE (lower: more natural)", ylabel="PSNR (dB, Y, 4-px border)",
           title=f"{args.preset} preset, GAN variants: perception-distortion plane")
    ax.invert_xaxis()  # better to the right on both axes
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = args.figure.with_name(args.figure.name.replace("crops", "plane"))
    fig.savefig(path, dpi=90)
    print(f"wrote {path}; bicubic PSNR {bicubic['psnr']:.2f} NIQE {bicubic['niqe']:.2f}, HR NIQE {hr['niqe']:.2f}")


if __name__ == "__main__":
    main()
