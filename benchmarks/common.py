"""Helpers shared by the benchmark scripts: repeat-and-median timing, a ratio table, the
machine and command of a result, and its JSON file.

Every benchmark measures the project's way and a baseline in the same run and prints both and
their ratio: these machines are noisy, so medians of several repetitions and ratios, not
absolute times, are what to compare.
"""
import os
import platform
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def single_core():
    """Pin numpy's BLAS and torch to one thread (call before importing numpy or torch)."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"


def median_time(fn, repeat=5, warmup=1):
    """Median wall time of ``fn()`` in seconds over ``repeat`` runs, after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def print_table(title, rows, baseline_label):
    """Print ``rows`` of (label, seconds, unit_rate or None) with ratios to ``baseline_label``."""
    base = dict((label, sec) for label, sec, _ in rows)[baseline_label]
    print(f"\n{title}")
    print(f"  {'method':<46} {'median':>11} {'speed-up':>9}")
    for label, sec, rate in rows:
        extra = f"   {rate}" if rate else ""
        print(f"  {label:<46} {sec * 1000:>8.1f} ms {base / sec:>8.2f}x{extra}")


def machine():
    """The machine a result came from: the CPU's name, its widest vector instructions (from
    /proc/cpuinfo), whether it has native bf16 (what the training precision follows), torch's
    threads and version."""
    import torch  # here, not above: single_core() must run before torch is imported

    import precision

    name, flags = platform.processor() or platform.machine(), set()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        lines = cpuinfo.read_text().splitlines()
        name = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), name)
        flags = set(next((line.split(":", 1)[1].split() for line in lines if line.startswith("flags")), []))
    vector = next((isa for isa in ("avx512f", "avx2", "avx") if isa in flags), None)
    return {"cpu": name, "vector": vector, "native_bf16": precision.cpu_has_native_bf16(),
            "threads": torch.get_num_threads(), "torch": torch.__version__}


def command():
    """The command line that is running, as the report cites it (``python -m benchmarks.X ...``)."""
    import sys

    main = sys.modules["__main__"]
    module = getattr(main.__spec__, "name", None) if getattr(main, "__spec__", None) else None
    head = f"python -m {module}" if module else f"python {Path(sys.argv[0]).name}"
    return " ".join([head, *sys.argv[1:]])


def write_json(path, result):
    """Write a benchmark's result (a dict: its machine, command and rows) as JSON at ``path``."""
    import json

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1, default=str) + "\n")
