"""The report's tables of the three model families (section 7) from test.ipynb's files.

Copies ``runs/shared/test_results.json`` and ``runs/shared/interpolation.json`` (written by
``test.ipynb`` after ``report/experiments/run_families.sh``) to ``report/results/families_results.json`` and
``report/results/families_interpolation.json``, with the training iterations of each checkpoint, and
prints the markdown tables of section 7.

    .venv/bin/python -m report.experiments.families_table
"""
import json
from pathlib import Path

import torch

from config import METHODS
from evaluate import results_table

ROOT = Path(__file__).resolve().parents[2]


def main(run=ROOT / "runs" / "shared"):
    results = json.loads((run / "test_results.json").read_text())
    sweep = json.loads((run / "interpolation.json").read_text())
    iterations = {}
    for method, name in METHODS.items():
        path = run / name
        if path.exists():
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
            iterations[method] = {"iteration": checkpoint["iteration"],
                                  "generator": checkpoint["config"]["generator"]}
    (ROOT / "report" / "results" / "families_results.json").write_text(
        json.dumps({"results": results, "checkpoints": iterations}, indent=2) + "\n")
    (ROOT / "report" / "results" / "families_interpolation.json").write_text(json.dumps(sweep, indent=2) + "\n")

    print(results_table(results, wide=True))
    print("\niterations:", {m: v["iteration"] for m, v in iterations.items()})
    for label, by_set in sweep.items():
        print(f"\n{label}: " + "; ".join(
            f"{s}: " + ", ".join(f"{r['alpha']:g}: {r['psnr']:.2f}/{r['niqe']:.2f}" for r in rows)
            for s, rows in by_set.items()))


if __name__ == "__main__":
    main()
