"""GPU acceptance check: run it on a new GPU machine before a day-long run.

    .venv/bin/python -m benchmarks.gpu_check                  # a CUDA GPU: meant to take under 7 minutes
    .venv/bin/python -m benchmarks.gpu_check --device cpu     # the same parts, shrunk (CI)

Six parts, each in a process of its own with a time box, in this order; each writes
``<out>/<part>.json`` (as it goes) and ``<out>/<part>.log``, and ``<out>/summary.md`` and
``summary.json`` are rewritten after every part, so a check cut short still says what it found:

- ``tests``: ``tests/test_cuda.py`` (the ``cuda``-marked tests: bf16 and fp16 training steps
  with their scalers, channels_last, ``torch.compile``, the moving average, no host sync in a
  step, tiled against whole inference, the torch ``imresize`` against the numpy one, resuming
  from checkpoints written on the CPU and on the GPU, a run killed mid-stage and resumed);
- ``bench``: the paper's pretrain and GAN steps at batch 16 (``bench_training.py``): s/step,
  images/s, iterations/s and model FLOPs utilisation (the step's FLOPs / its time / the GPU's
  dense bf16 peak from its datasheet, and / a bf16 matmul's rate measured here), eager,
  captured in a CUDA graph, and compiled and captured;
- ``data``: the training data path's patches/s (96x96 patches of the embedded images, batch
  16), in one process and with worker processes, against what the GPU's pretrain step consumes;
- ``sample``: the ``sample`` preset trained on the device (both stages and the SRCNN baseline),
  then scored (PSNR/SSIM/NIQE) against bicubic;
- ``torchrun``: ``train.py`` under torchrun on every visible GPU (NCCL; on the CPU 2 processes
  on gloo); on one GPU it passes when train.py finishes, and says DDP was not exercised;
- ``paper``: the ``paper`` (SRGAN) and ``esrgan`` presets through train.py's functions on the
  sample images (random VGG weights, 2000 + 1000 and 600 + 300 iterations): each stage's
  iterations/s, images/s and MFU in the real loop (CUDA graphs, patches cut on the GPU), and
  the projected wall time of the paper's schedule at that pace.

Needs no internet and only the embedded sample data (scikit-image's photographs). Everything
goes to ``--out`` (default ``runs/gpu_check``).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# seconds per part: on a GPU meant to be under 7 minutes in all, on the CPU (shrunk) about 3.
# On one H200, with eager steps, the CUDA tests took 74 s and the sample preset's stages 52 +
# about 60 s before SRCNN and the scores; the captured steps, their tests and the paper part
# are sized from the probe's paces (208-302 it/s pretraining, 97 it/s GAN) and compilation
# (about 90 s), not yet measured in this check
BOXES = {"cuda": {"tests": 240, "bench": 180, "data": 30, "sample": 180, "torchrun": 60, "paper": 240},
         "cpu": {"tests": 120, "bench": 90, "data": 30, "sample": 90, "torchrun": 90, "paper": 120}}
# dense bf16 tensor-core peaks from the vendors' datasheets, TFLOP/s (sparsity not counted)
BF16_PEAKS = {"H200": 989.4, "H100 SXM": 989.4, "H100 80GB HBM3": 989.4, "H100 NVL": 835.0,
              "H100 PCIe": 756.0, "GH200": 989.4, "A100": 312.0, "L40S": 362.1, "L4": 121.0,
              "A10G": 70.0, "RTX 4090": 165.2, "RTX 3090": 71.0}


# ----------------------------------------------------------------------------------------------
# The parts (each runs in its own process: ``gpu_check.py --part NAME``)
# ----------------------------------------------------------------------------------------------
class Results:
    """A part's results, rewritten to ``<out>/<part>.json`` at every :meth:`add`."""

    def __init__(self, path):
        self.path, self.values = Path(path), {}

    def add(self, **values):
        self.values.update(values)
        self.path.write_text(json.dumps(self.values, indent=1, default=str) + "\n")
        print(json.dumps(values, default=str), flush=True)


def part_tests(args, results):
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_cuda.py"]
    # shrunk on the CPU: two of the file's CPU tests (the test suite runs the whole file)
    command += ["-m", "cuda"] if args.device == "cuda" else ["-k", "tiled_inference or imresize_torch"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    print(done.stdout[-6000:], done.stderr[-3000:], flush=True)
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "no output"
    results.add(command=" ".join(command[1:]), summary=summary, returncode=done.returncode)
    if done.returncode != 0:
        raise SystemExit(f"tests failed: {summary}")


def measured_matmul_tflops(device, size):
    """The rate of a bf16 matmul (size x size) on ``device``, TFLOP/s: the achievable ceiling."""
    import torch

    from benchmarks.common import median_time

    a = torch.randn(size, size, device=device, dtype=torch.bfloat16)
    b = torch.randn(size, size, device=device, dtype=torch.bfloat16)

    def run():
        for _ in range(5):
            a @ b
        if device.type == "cuda":
            torch.cuda.synchronize()

    return 5 * 2 * size ** 3 / median_time(run, repeat=3, warmup=1) / 1e12


def datasheet_peak(name):
    """The dense bf16 peak (TFLOP/s) of a GPU named ``name``, or None when not in BF16_PEAKS."""
    return next((peak for key, peak in BF16_PEAKS.items() if key in name), None)


def part_bench(args, results):
    import torch

    from benchmarks.bench_training import step_flops, step_time

    device = torch.device(args.device)
    small = args.device == "cpu"  # shrunk: tiny networks, small patches
    batch, patch, steps, repeat = (16, 96, 10, 3) if not small else (4, 32, 1, 1)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    peak = datasheet_peak(name)
    matmul = measured_matmul_tflops(device, 8192 if device.type == "cuda" else 512)
    results.add(device=name, batch=batch, hr_patch=patch, datasheet_bf16_tflops=peak,
                measured_bf16_matmul_tflops=round(matmul, 2))
    # (step, label, bf16, channels_last, compile, captured in a CUDA graph)
    variants = [("pretrain", "fp32, contiguous, eager", False, False, False, False),
                ("pretrain", "bf16, channels_last, eager", True, True, False, False),
                ("gan", "bf16, channels_last, eager", True, True, False, False)]
    if device.type == "cuda":  # compilation takes a while: last, so the other rows are in first
        variants += [("pretrain", "bf16, channels_last, captured", True, True, False, True),
                     ("gan", "bf16, channels_last, captured", True, True, False, True),
                     ("pretrain", "bf16, channels_last, compiled + captured", True, True, True, True),
                     ("gan", "bf16, channels_last, compiled + captured", True, True, True, True)]
    flops = {mode: step_flops(mode, device, batch, patch, small) for mode in ("pretrain", "gan")}
    rows = []
    for mode, label, bf16, channels_last, compile, captured in variants:
        seconds, warmup = step_time(mode, device, bf16, channels_last, compile, steps, repeat,
                                    batch, patch, small, captured)
        rows.append(dict(step=mode, variant=label, s_per_step=seconds,
                         iterations_per_s=1 / seconds, images_per_s=batch / seconds,
                         gflop_per_step=flops[mode] / 1e9, warmup_s=warmup,
                         mfu=None if peak is None else flops[mode] / seconds / (peak * 1e12),
                         of_measured_matmul=flops[mode] / seconds / (matmul * 1e12)))
        results.add(rows=rows)


def part_data(args, results):
    import torch
    from torch.utils.data import DataLoader, RandomSampler

    import create_data_lists as cdl
    from datasets import SRTrainDataset

    train_csv, _ = cdl.build_sample_dataset(Path(args.out) / "data", log=lambda *a: None)
    dataset = SRTrainDataset(train_csv, hr_patch=96, log=lambda *a: None)
    count = 16 * (200 if args.device == "cuda" else 20)
    workers = [0, min(8, os.cpu_count() or 1)] if args.device == "cuda" else [0, 2]
    rates = {}
    for n in workers:
        loader = DataLoader(dataset, batch_size=16, num_workers=n, pin_memory=args.device == "cuda",
                            sampler=RandomSampler(dataset, replacement=True, num_samples=count))
        start = time.perf_counter()
        seen = sum(lr.shape[0] for lr, _ in loader)  # worker start-up included
        rates[n] = seen / (time.perf_counter() - start)
        results.add(patches_per_s={f"{k} workers": round(v) for k, v in rates.items()},
                    cpu_cores=os.cpu_count(), torch_threads=torch.get_num_threads())


def part_sample(args, results):
    import torch

    import inference
    import precision
    import train
    from config import training_config
    from utils import seed_everything

    out = Path(args.out)
    overrides = {"device": args.device, "out_dir": str(out / "sample_run"),
                 "train_list": str(out / "data" / "sample_train.csv"),
                 "val_list": str(out / "data" / "sample_test.csv")}
    if args.device == "cpu":  # shrunk
        overrides.update(stages={"pretrain": {"iterations": 20}, "gan": {"iterations": 10}},
                         srcnn={"iterations": 10}, log_every=5)
    config = training_config("sample", overrides)
    device = torch.device(args.device)
    seed_everything(config.seed)
    train.prepare(config)
    data = train.make_data(config, device)
    stages = {}
    for key in ("pretrain", "gan", "srcnn"):
        started = time.perf_counter()
        training = (train.run_baseline(config, data) if key == "srcnn"
                    else train.run_stage(config, key, data))
        stages[key] = dict(iterations=training.iteration, seconds=round(time.perf_counter() - started, 1))
        results.add(stages=stages, precision=precision.note(config, device))
    scores = {"bicubic": inference.validate_bicubic(data.val_set, with_niqe=True)}
    for method, name in (("SRCNN", "srcnn_best.pth"), ("SRResNet", "srresnet_best.pth"),
                         ("SRGAN", "srgan_last.pth")):
        generator = inference.load_generator(Path(config.out_dir) / name, device=device)
        scores[method] = inference.validate(generator, data.val_set, device, with_niqe=True)
    results.add(scores={m: {k: round(s[k], 4) for k in ("psnr", "ssim", "niqe")}
                        for m, s in scores.items()}, images=len(data.val_set))


def part_torchrun(args, results):
    import torch

    gpus = torch.cuda.device_count() if args.device == "cuda" else 0
    processes = gpus or 2
    pretrain, gan = (40, 20) if gpus else (10, 5)  # shrunk on the CPU
    out = Path(args.out)
    overrides = {"device": args.device, "out_dir": str(out / "torchrun_run"), "log_every": 5,
                 "train_list": str(out / "data" / "sample_train.csv"),
                 "val_list": str(out / "data" / "sample_test.csv"), "srcnn": {"preset": None},
                 "batch_size": 8 * processes,
                 "stages": {"pretrain": {"iterations": pretrain}, "gan": {"iterations": gan}}}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               f"--nproc_per_node={processes}", "train.py", "--preset", "sample",
               "--config", json.dumps(overrides)]
    env = dict(os.environ, OMP_NUM_THREADS="1", TQDM_DISABLE="1")
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
    print(done.stdout[-6000:], done.stderr[-6000:], flush=True)
    # one process does not wrap DDP (nothing to average): then the part checks that train.py
    # runs under torchrun, and says that DDP across GPUs was not exercised
    ddp = f"{processes} processes (DDP)" in done.stdout
    finished = f"srgan: {gan} iterations" in done.stdout
    results.add(processes=processes, backend="nccl" if gpus else "gloo",
                returncode=done.returncode, ddp_logged=ddp, finished=finished,
                ddp_exercised=processes > 1,
                **({} if processes > 1 else {"note": "one GPU: train.py ran under torchrun, DDP across GPUs "
                                                     "was not exercised"}))
    if done.returncode != 0 or not finished or (processes > 1 and not ddp):
        raise SystemExit(f"torchrun failed (exit {done.returncode})")


def part_paper(args, results):
    """The paper's recipes through train.py's functions on the sample images (VGG with random
    weights, a few thousand iterations per stage): each stage's pace in the real loop (the
    median of its log windows after the first two: warm-up and capture), its model FLOPs
    utilisation, and the projected wall time of the paper's whole schedule."""
    import statistics

    import torch

    import create_data_lists as cdl
    import plots
    import train
    from benchmarks.bench_training import SMALL, step_flops
    from config import training_config

    out, device = Path(args.out), torch.device(args.device)
    small = args.device == "cpu"  # shrunk: tiny networks, a few iterations
    train_csv, val_csv = cdl.build_sample_dataset(out / "data", log=lambda *a: None)
    runs = {"paper": (2000, 1000), "esrgan": (600, 300)} if not small else {"paper": (6, 4), "esrgan": (4, 2)}
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    peak = datasheet_peak(name)
    report = {}
    for preset, (pretrain, gan) in runs.items():
        schedule = {key: stage.iterations for key, stage in training_config(preset).stages.items()}
        overrides = dict(device=args.device, out_dir=str(out / f"paper_{preset}"), data="lists",
                         train_list=str(train_csv), val_list=str(val_csv), vgg_weights=None,
                         srcnn={"preset": None}, log_every=2 if small else 50, eval_every=pretrain,
                         stages={"pretrain": {"iterations": pretrain}, "gan": {"iterations": gan}})
        if small:
            overrides.update(SMALL, hr_patch=32, batch_size=4, patches_per_image=4)
            if preset == "esrgan":
                overrides.update(discriminator=dict(channels=8, input_size=32))
        shutil.rmtree(overrides["out_dir"], ignore_errors=True)  # a fresh run, not a resumed one
        config = training_config(preset, overrides)
        lines = []
        data = train.make_data(config, device, log=lines.append)
        stages = {}
        for key in ("pretrain", "gan"):
            started = time.perf_counter()
            training = train.run_stage(config, key, data, log=lines.append)
            stage = config.stages[key]
            rows = plots.read_csv(Path(config.out_dir) / f"{stage.name}_iterations.csv")
            rates = [row["images_per_s"] for row in (rows[2:] or rows)]
            iterations_per_s = statistics.median(rates) / config.batch_size
            flops = step_flops(key, device, config.batch_size, config.hr_patch, small, preset)
            stages[stage.name] = dict(
                iterations=training.iteration, seconds=round(time.perf_counter() - started, 1),
                iterations_per_s=round(iterations_per_s, 1),
                images_per_s=round(iterations_per_s * config.batch_size),
                gflop_per_step=round(flops / 1e9, 1),
                mfu=None if peak is None else flops * iterations_per_s / (peak * 1e12),
                captured=training.runner.captured, patches=type(data.train_loader).__name__,
                schedule_iterations=schedule[key], projected_hours=schedule[key] / iterations_per_s / 3600)
            report[preset] = dict(stages=stages, projected_hours=sum(s["projected_hours"] for s in stages.values()),
                                  log=[line for line in lines if "CUDA graph" in line or "patches" in line
                                       or "eager steps" in line])
            results.add(device=name, batch=config.batch_size, presets=report)


PARTS = {"tests": part_tests, "bench": part_bench, "data": part_data, "sample": part_sample,
         "torchrun": part_torchrun, "paper": part_paper}


# ----------------------------------------------------------------------------------------------
# The check: every part in turn, time-boxed, then the summary
# ----------------------------------------------------------------------------------------------
def run_part(name, args, box):
    """Run one part in its own process for at most ``box`` seconds; its status and results."""
    out = Path(args.out)
    (out / f"{name}.json").unlink(missing_ok=True)
    command = [sys.executable, "-m", "benchmarks.gpu_check", "--part", name,
               "--device", args.device, "--out", str(out)]
    env = dict(os.environ, PYTHONUNBUFFERED="1", TQDM_DISABLE="1")
    started = time.perf_counter()
    with open(out / f"{name}.log", "w") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                   env=env, start_new_session=True)
        try:
            status = "passed" if process.wait(timeout=box) == 0 else "failed"
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)  # the part and whatever it started
            process.wait()
            status = f"timed out after {box} s"
    path = out / f"{name}.json"
    return {"status": status, "seconds": round(time.perf_counter() - started, 1),
            "results": json.loads(path.read_text()) if path.exists() else {}}


def percent(fraction):
    return "-" if fraction is None else f"{100 * fraction:.1f} %"


def write_summary(out, summary):
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str) + "\n")
    lines = [f"# GPU check: {summary['device']}", "",
             f"torch {summary['torch']}, CUDA {summary['cuda']}, `{summary['command']}`", "",
             "| part | status | seconds |", "|---|---|---|"]
    lines += [f"| {name} | {part['status']} | {part['seconds']} |"
              for name, part in summary["parts"].items()]
    bench = summary["parts"].get("bench", {}).get("results", {})
    if bench.get("rows"):
        lines += ["", f"Training steps, batch {bench['batch']}, {bench['hr_patch']}x{bench['hr_patch']} "
                  f"HR (bf16 peak: datasheet {bench['datasheet_bf16_tflops']} TFLOP/s, measured "
                  f"matmul {bench['measured_bf16_matmul_tflops']} TFLOP/s):", "",
                  "| step | variant | it/s | images/s | GFLOP/step | MFU (datasheet) | of matmul |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| {r['step']} | {r['variant']} | {r['iterations_per_s']:.1f} | "
                  f"{r['images_per_s']:.0f} | {r['gflop_per_step']:.1f} | {percent(r['mfu'])} | "
                  f"{percent(r['of_measured_matmul'])} |" for r in bench["rows"]]
    data = summary["parts"].get("data", {}).get("results", {})
    if data.get("patches_per_s"):
        lines += ["", "Data path, 96x96 patches/s: " + ", ".join(
            f"{rate} with {workers}" for workers, rate in data["patches_per_s"].items())]
    sample = summary["parts"].get("sample", {}).get("results", {})
    if sample.get("scores"):
        lines += ["", f"Sample preset on the device ({sample.get('precision')}): " + ", ".join(
            f"{name} {s['iterations']} it in {s['seconds']} s" for name, s in sample["stages"].items()),
            "", "| method | PSNR | SSIM | NIQE |", "|---|---|---|---|"]
        lines += [f"| {m} | {s['psnr']:.2f} | {s['ssim']:.4f} | {s['niqe']:.2f} |"
                  for m, s in sample["scores"].items()]
    paper = summary["parts"].get("paper", {}).get("results", {})
    if paper.get("presets"):
        lines += ["", f"The paper's recipes in train.py's loop (sample images, random VGG weights, batch "
                  f"{paper['batch']}), and the paper's schedule at that pace:", "",
                  "| preset | stage | iterations | it/s | images/s | GFLOP/step | MFU (datasheet) | captured "
                  "| patches | schedule | projected |", "|---|---|---|---|---|---|---|---|---|---|---|"]
        for preset, run in paper["presets"].items():
            lines += [f"| {preset} | {stage} | {s['iterations']} | {s['iterations_per_s']} | {s['images_per_s']} | "
                      f"{s['gflop_per_step']} | {percent(s['mfu'])} | {s['captured']} | {s['patches']} | "
                      f"{s['schedule_iterations']:,} | {s['projected_hours']:.2f} h |"
                      for stage, s in run["stages"].items()]
            lines += [f"| {preset} | whole schedule | | | | | | | | | {run['projected_hours']:.2f} h |"]
    (out / "summary.md").write_text("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", choices=("cuda", "cpu"), default=None,
                        help="default: cuda when torch sees a GPU, else cpu (shrunk)")
    parser.add_argument("--out", default=str(ROOT / "runs" / "gpu_check"))
    parser.add_argument("--parts", default=",".join(PARTS), help="a comma-separated subset")
    parser.add_argument("--part", help=argparse.SUPPRESS)  # one part, in its own process
    args = parser.parse_args()
    import torch

    args.device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit(f"--device cuda, but torch {torch.__version__} sees no CUDA GPU")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.part:
        PARTS[args.part](args, Results(out / f"{args.part}.json"))
        return 0
    unknown = set(args.parts.split(",")) - set(PARTS)
    if unknown:
        raise SystemExit(f"--parts: unknown {sorted(unknown)}; known: {', '.join(PARTS)}")
    summary = {"device": torch.cuda.get_device_name() if args.device == "cuda" else "CPU (shrunk)",
               "torch": torch.__version__, "cuda": torch.version.cuda,
               "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]), "parts": {}}
    for name in PARTS:
        if name in args.parts.split(","):
            summary["parts"][name] = run_part(name, args, BOXES[args.device][name])
            print(f"{name}: {summary['parts'][name]['status']} ({summary['parts'][name]['seconds']} s)",
                  flush=True)
            write_summary(out, summary)
    print((out / "summary.md").read_text())
    return 0 if all(p["status"] == "passed" for p in summary["parts"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
