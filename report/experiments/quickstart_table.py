"""The tables of ``report/experiments/quickstart_seeds.py``'s runs: one row per run against the
bars of the sample table, and the means over the runs (report/README.md, "The sample images, over seeds").

The runs are the lines of ``--results`` whose ``command`` contains one of ``--commands``. Each
GAN is held against its own PSNR-oriented model (the bars of the report's sample table):
``chroma`` not above HR's beyond the PSNR model's; ``placement`` at least the PSNR model's; the
fall in ``missing`` larger than the rise in ``false``; NIQE below; PSNR within 1.5 dB; the grid
at most 0.05 above HR's (a visible pattern measures 0.4-1.6, section 5c).

    .venv/bin/python -m report.experiments.quickstart_table --commands runs/b8_bf16.jsonl runs/b8_fp32.jsonl
"""
import argparse
import json
from pathlib import Path

import numpy as np

from report.experiments.quickstart_seeds import PAIRS, ROOT

MEANS = ("psnr", "niqe", "grid", "chroma", "chroma_error", "missing", "false", "placement", "spectral",
         "colour_shift")


def misses(base, gan, hr):
    """The names of the bars that ``gan`` misses against ``base`` (both rows of measures)."""
    bars = {"chroma": gan["chroma"] - hr["chroma"] <= max(base["chroma"] - hr["chroma"], 0.0),
            "placement": gan["placement"] >= base["placement"],
            "blur": base["missing"] - gan["missing"] > gan["false"] - base["false"],
            "NIQE": gan["niqe"] < base["niqe"],
            "PSNR": base["psnr"] - gan["psnr"] <= 1.5,
            "grid": gan["grid"] <= hr["grid"] + 0.05}
    return [name for name, met in bars.items() if not met]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=ROOT / "report" / "results" / "sample_seeds.jsonl")
    parser.add_argument("--commands", nargs="+", required=True,
                        help="the runs whose command contains any of these strings")
    args = parser.parse_args()
    runs = [json.loads(line) for line in args.results.read_text().splitlines() if line.strip()]
    runs = [run for run in runs if any(text in run["command"] for text in args.commands)]
    if not runs:
        raise SystemExit(f"no run in {args.results} has a command containing any of {args.commands}")
    base_name, gan_name = PAIRS[runs[0].get("preset", "sample")]
    print(f"| seed, precision | PSNR {base_name} / {gan_name} (cost) | NIQE | chroma (HR) | missing | false "
          f"| placement | grid (HR) | colour shift | bars | s |\n|" + "---|" * 11)
    for run in runs:
        base, gan, hr = run[base_name], run[gan_name], run["HR"]
        missed = misses(base, gan, hr)
        precision = "fp32" if run["amp_cpu"] is False else "bf16"
        cells = [f"{run['seed']}, {precision}",
                 f"{base['psnr']:.2f} / {gan['psnr']:.2f} ({base['psnr'] - gan['psnr']:.2f} dB)",
                 f"{base['niqe']:.2f} / {gan['niqe']:.2f}",
                 f"{base['chroma']:.3f} / {gan['chroma']:.3f} ({hr['chroma']:.3f})",
                 *(f"{base[key]:.3f} / {gan[key]:.3f}" for key in ("missing", "false", "placement")),
                 f"{base['grid']:.2f} / {gan['grid']:.2f} ({hr['grid']:.2f})",
                 f"{base['colour_shift']:.2f} / {gan['colour_shift']:.2f}",
                 "all" if not missed else "not " + ", ".join(missed), f"{run['seconds']:.0f}"]
        print("| " + " | ".join(cells) + " |")
    print(f"\n| model | {' | '.join(MEANS)} |\n|---|" + "---|" * len(MEANS))
    for name in (base_name, gan_name):
        means = [np.mean([run[name][key] for run in runs]) for key in MEANS]
        print(f"| {name} ({len(runs)} runs) | " + " | ".join(f"{value:.3f}" for value in means) + " |")


if __name__ == "__main__":
    main()
