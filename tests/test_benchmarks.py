"""The benchmark scripts run, shrunk to seconds, and their built-in equality checks hold.

No timing is asserted (report/performance.md holds the measured figures): these tests keep the
scripts working and check what they promise beside the timings, bit-identical MATLAB bicubic
and tiled inference equal to the whole-image pass.
"""
import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

from benchmarks.bench_gan_recipe import STEPS

ROOT = Path(__file__).resolve().parents[1]


def run_benchmark(name, *args):
    result = subprocess.run([sys.executable, "-m", f"benchmarks.{name.removesuffix('.py')}", *map(str, args)],
                            capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def result_file(path, module, keys):
    """The rows of a benchmark's --out file, after checking its machine, its command and the
    keys of each row."""
    result = json.loads(Path(path).read_text())
    assert result["command"].startswith(f"python -m benchmarks.{module} ") and "--out" in result["command"]
    assert {"cpu", "vector", "native_bf16", "threads", "torch"} <= set(result["machine"])
    assert result["rows"] and all(set(keys) <= set(row) for row in result["rows"])
    return result["rows"]


def test_bench_imresize_checks_bit_identical_outputs(tmp_path):
    out = run_benchmark("bench_imresize.py", "--repeat", 1, "--batch", 2, "--out", tmp_path / "r.json")
    assert out.count("uint8 output bit-identical to the baseline") == 2
    for case in ("x4 shrink, 2040x1404", "x4 enlarge, 510x351"):
        assert case in out
    assert len(re.findall(r"imresize \(numpy, sparse passes\)\s+[\d.]+ ms\s+[\d.]+x", out)) == 2
    assert out.count("batch 2):") == 2
    rows = result_file(tmp_path / "r.json", "bench_imresize", ("baseline_s", "imresize_s", "torch_s", "torch_batch_s"))
    assert [row["case"] for row in rows] == ["x4 shrink, 2040x1404 RGB", "x4 enlarge, 510x351 RGB"]


def test_bench_datasets_on_synthetic_images(tmp_path):
    out = run_benchmark("bench_datasets.py", "--data-dir", tmp_path, "--synthetic", 2,
                        "--synthetic-size", "200x150", "--patches", 160, "--naive-patches", 16,
                        "--workers", 0, "--out", tmp_path / "r.json")
    assert "no T91 here, skipping" in out and "synthetic 200x150 PNGs: 2 images" in out
    rows = re.findall(r"(naive: decode per patch|cached, float32 items|SRTrainDataset \(cached, uint8\))"
                      r"\s+0\s+([\d.]+)", out)
    assert [label for label, _ in rows] == ["naive: decode per patch", "cached, float32 items",
                                            "SRTrainDataset (cached, uint8)"]
    assert all(float(rate) > 0 for _, rate in rows)
    rows = result_file(tmp_path / "r.json", "bench_datasets", ("naive", "cached_float32", "cached_uint8", "cache_s"))
    assert [(row["data"], row["workers"]) for row in rows] == [("synthetic 200x150 PNGs", 0)]


def test_bench_training_small(tmp_path):
    out = run_benchmark("bench_training.py", "--small", "--batch", 2, "--patch", 32, "--steps", 1,
                        "--repeat", 1, "--no-compile", "--device", "cpu", "--out", tmp_path / "r.json")
    for mode in ("pretrain step", "gan step (G + D + VGG54)"):
        assert mode in out
    for variant in ("fp32, contiguous", "fp32, channels_last", "bf16 autocast, contiguous",
                    "bf16 autocast, channels_last"):
        assert len(re.findall(rf"{re.escape(variant)}\s+[\d.]+\s+[\d.]+\s+[\d.]+x", out)) == 2
    rows = result_file(tmp_path / "r.json", "bench_training", ("s_per_step", "speedup", "warmup_s", "gflop_per_step"))
    assert [row["step"] for row in rows] == ["pretrain"] * 4 + ["gan"] * 4


def test_bench_inference_tiles_equal_the_whole_image(tmp_path):
    out = run_benchmark("bench_inference.py", "--lr-size", "48x40", "--tile", 24, "--repeat", 1,
                        "--out", tmp_path / "r.json")
    assert "48x40 LR -> 192x160" in out
    diff = float(re.search(r"max \|tiled - whole\| = ([\d.e+-]+)", out).group(1))
    assert diff <= 1e-5
    assert re.search(r"tiles of 24 \(\+40 context\)\s+[\d.]+ s\s+\d+ MiB", out)
    rows = result_file(tmp_path / "r.json", "bench_inference", ("variant", "seconds", "peak_rss_mib"))
    assert [row["variant"] for row in rows] == ["whole", "tiles of 24"]
    assert json.loads((tmp_path / "r.json").read_text())["max_difference"] == diff


def test_bench_upscale_runs_the_release_weights(shared_weights, shared_data, tmp_path):
    out = run_benchmark("bench_upscale.py", "--size", 16, "--repeat", 1, "--no-ncnn", "--out", tmp_path / "r.json")
    rows = re.findall(r"this project, (.+?)\s+[\d.]+ ms\s+[\d.]+x\s+max \|out - fp32 baseline\| = ([\d.e+-]+)", out)
    assert [label.strip() for label, _ in rows] == ["fp32, contiguous", "fp32, channels_last",
                                                    "bf16 autocast, channels_last"]
    assert float(rows[0][1]) == 0 and float(rows[1][1]) < 1e-5 and float(rows[2][1]) < 0.1
    kept = result_file(tmp_path / "r.json", "bench_upscale", ("variant", "seconds", "max_difference"))
    assert [row["variant"] for row in kept] == [f"this project, {label.strip()}" for label, _ in rows]


def test_bench_eval_on_set5(shared_data, tmp_path):
    out = run_benchmark("bench_eval.py", "--data-dir", shared_data, "--sets", "Set5",
                        "--lists", tmp_path / "lists", "--out", tmp_path / "r.json")
    assert re.search(r"Set5\s+[\d.]+ s\s+[\d.]+ s\s+[\d.]+ s\s+[\d.]+x", out)
    rows = result_file(tmp_path / "r.json", "bench_eval", ("bicubic_s", "naive_s", "validate_s"))
    assert [(row["set"], row["images"]) for row in rows] == [("Set5", 5)]


def test_bench_eval_names_a_missing_data_folder(tmp_path):
    result = subprocess.run([sys.executable, "-m", "benchmarks.bench_eval",
                             "--data-dir", str(tmp_path), "--sets", "Set5"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 1
    assert f"no HR folder in {tmp_path / 'Set5'}" in result.stderr


def test_gpu_check_runs_every_part_on_the_cpu_and_summarises(tmp_path):
    """The GPU acceptance check, shrunk to the CPU (its --device cpu mode): every part passes
    and the summary holds their numbers."""
    result = subprocess.run([sys.executable, "-m", "benchmarks.gpu_check", "--device", "cpu",
                             "--out", str(tmp_path)], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert {name: part["status"] for name, part in summary["parts"].items()} == dict.fromkeys(
        ("tests", "bench", "data", "sample", "torchrun", "paper"), "passed")
    parts = {name: part["results"] for name, part in summary["parts"].items()}
    assert "passed" in parts["tests"]["summary"]
    assert [row["step"] for row in parts["bench"]["rows"]] == ["pretrain", "pretrain", "gan"]
    assert all(row["gflop_per_step"] > 0 and row["of_measured_matmul"] > 0 for row in parts["bench"]["rows"])
    assert set(parts["data"]["patches_per_s"]) == {"0 workers", "2 workers"}
    assert set(parts["sample"]["scores"]) == {"bicubic", "SRCNN", "SRResNet", "SRGAN"}
    assert parts["torchrun"] == dict(processes=2, backend="gloo", returncode=0, ddp_logged=True, finished=True,
                                 ddp_exercised=True)
    for preset, names in (("paper", ["srresnet", "srgan"]), ("esrgan", ["rrdbnet", "esrgan"])):
        stages = parts["paper"]["presets"][preset]["stages"]
        assert list(stages) == names and all(s["iterations_per_s"] > 0 and s["mfu"] is None for s in stages.values())
        assert all(not s["captured"] and s["patches"] == "DataLoader" for s in stages.values())  # the CPU's
    assert "| torchrun | passed |" in (tmp_path / "summary.md").read_text()
    assert "| esrgan | whole schedule |" in (tmp_path / "summary.md").read_text()


def test_gpu_check_names_a_part_that_ran_out_of_time(tmp_path):
    from benchmarks import gpu_check

    args = argparse.Namespace(device="cpu", out=str(tmp_path))
    result = gpu_check.run_part("torchrun", args, box=1)
    assert result["status"] == "timed out after 1 s" and result["seconds"] < 30


def test_bench_gan_recipe_runs_every_part_of_the_recipe(tmp_path):
    out = run_benchmark("bench_gan_recipe.py", "--steps", 1, "--repeat", 1, "--out", tmp_path / "r.json")
    rows = re.findall(r"^  (\S.*?)\s+([\d.]+)\s+([\d.]+)x", out, flags=re.M)
    assert [label for label, _, _ in rows] == [label for label, _ in STEPS]
    assert rows[0][2] == "1.00" and all(float(sec) > 0 for _, sec, _ in rows)
    kept = result_file(tmp_path / "r.json", "bench_gan_recipe", ("stage", "s_per_step", "vs_first"))
    assert [row["stage"] for row in kept] == [label for label, _ in STEPS]
