"""Keep a run folder's scores as result files of the report, with the machine they came from.

    .venv/bin/python -m report.experiments.keep_run_results --run runs/sample --name sample \
        --command "the README's first command"

Copies what ``test.ipynb`` wrote into the run folder (``test_results.json``, and
``interpolation.json`` where the run has a PSNR/GAN pair) to
``report/results/<name>_quickstart.json`` and ``<name>_interpolation.json``, each wrapped with
the command that made the run and the machine (CPU, threads, torch), for ``report/build.py``.
"""
import argparse
import json
from pathlib import Path

from benchmarks.common import machine

ROOT = Path(__file__).resolve().parents[2]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, required=True, help="the run folder")
    parser.add_argument("--name", required=True, help="the result files' prefix")
    parser.add_argument("--command", required=True, help="the command that made the run")
    args = parser.parse_args(argv)
    out = ROOT / "report" / "results"
    for source, suffix in (("test_results.json", "quickstart"), ("interpolation.json", "interpolation")):
        path = args.run / source
        if not path.exists():
            print(f"{path}: not there, skipped")
            continue
        target = out / f"{args.name}_{suffix}.json"
        target.write_text(json.dumps({"command": args.command, "machine": machine(),
                                      "results": json.loads(path.read_text())}, indent=1) + "\n")
        print("wrote", target)


if __name__ == "__main__":
    main()
