"""Score a run's models and published generators on the benchmark sets, into one result file.

    .venv/bin/python -m report.experiments.score_benchmarks --preset shared \
        --out report/results/benchmarks_shared.json
    .venv/bin/python -m report.experiments.score_benchmarks --preset shared --run runs/published \
        --published "Real-ESRGAN x4plus=../shared/weights/RealESRGAN_x4plus.pth" \
        --out report/results/benchmarks_published.json

What ``test.ipynb`` scores (``evaluate.test_sets``, ``load_methods``, ``score``: bicubic, every
checkpoint of the run folder, the published files, HR; PSNR/SSIM on Y with a 4-px border, NIQE,
LPIPS where AlexNet's weights are present), without the interpolation sweep, written as
``evaluate.write_results``' JSON (means per set and method) plus the command, the machine and
each checkpoint's training iterations.
``report/build.py`` makes the report's results table from these files.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import torch

import evaluate
import inference
import metrics
from benchmarks.common import machine
from config import evaluation_config


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="shared", help="the training preset whose test sets are used")
    parser.add_argument("--run", default=None, help="the run folder (default: the preset's out_dir)")
    parser.add_argument("--published", nargs="*", default=[], metavar="LABEL=FILE",
                        help="published generator files, scored as '<LABEL> (published)'")
    parser.add_argument("--sets", nargs="*", default=None, help="only these test sets")
    parser.add_argument("--out", type=Path, required=True, help="the JSON result file")
    args = parser.parse_args(argv)
    override = {"published": dict(item.split("=", 1) for item in args.published) or None}
    if args.run:
        override["out_dir"] = args.run
    config = evaluation_config(args.preset, override)
    if args.sets:
        config.test_lists = {name: path for name, path in config.test_lists.items() if name in args.sets}
    device = inference.resolve_device(config.device)
    sets = evaluate.test_sets(config)
    generators = evaluate.load_methods(config, device)
    try:
        lpips_model = metrics.lpips_model(config.lpips_net, device) if config.lpips_net else None
    except (ImportError, FileNotFoundError) as err:
        print(f"LPIPS skipped: {err}")
        lpips_model = None
    started = time.time()
    results = evaluate.score(sets, generators, device, config.tile, lpips_model)
    print(evaluate.results_table(results))
    summary = json.loads((evaluate.write_results(results, Path(config.out_dir))[0]).read_text())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "command": "python -m report.experiments.score_benchmarks " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": {**machine(), "device": str(device)},
        "seconds": round(time.time() - started, 1),
        "iterations": {m: torch.load(p, map_location="cpu", weights_only=True).get("iteration")
                       for m, p in config.checkpoints.items() if Path(p).exists()},
        "results": summary}, indent=1) + "\n")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
