"""The tables of ``report/performance.md``, made from the benchmark scripts' result files.

Each benchmark of ``benchmarks/`` writes its rows with ``--out report/results/speed_*.json``
(the machine and the command inside); :data:`TABLES` turns each file into the page's table,
headed by the command that wrote it and the machine it ran on. ``report/build.py`` renders them
into the page between ``<!-- table: NAME -->`` markers, as it does the report's own tables, and
``tests/test_report.py`` fails when the page differs from them.
"""
import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"

# NVIDIA's dense bf16 tensor-core peak of an H100 SXM (the H200 has the same), TFLOP/s
GPU_PEAK_TFLOPS = 989
# the paces that the paper's 10^6 pretraining iterations need for 1 hour, and a faster one
PACES = (280, 1000)


def read(name):
    path = RESULTS / name
    if not path.exists():
        raise FileNotFoundError(f"{path}: a result file of report/performance.md is missing; its "
                                f"benchmark writes it (the command is in the page, above the table)")
    return json.loads(path.read_text())


def machine(result):
    """'AMD EPYC (AVX2, no native bf16), 2 threads, torch 2.13.0' of a result's machine."""
    m = result["machine"]
    vector = (m.get("vector") or "no AVX").upper().replace("AVX512F", "AVX-512")
    bf16 = "native bf16" if m["native_bf16"] else "no native bf16"
    threads = f"{m['threads']} thread{'s' if m['threads'] != 1 else ''}"
    return f"{m['cpu']} ({vector}, {bf16}), {threads}, torch {m['torch']}"


def caption(name, result):
    return (f"`{result['command']}` on {machine(result)} ([{name}](results/{name})):\n")


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def ms(seconds):
    return f"{seconds * 1000:,.1f} ms"


def ratio(value):
    return f"{value:,.0f}x" if value >= 100 else f"{value:.2f}x"


def imresize_table():
    name = "speed_imresize.json"
    result = read(name)
    rows = [[r["case"], ms(r["baseline_s"]), ms(r["imresize_s"]), ratio(r["baseline_s"] / r["imresize_s"]),
             ms(r["torch_s"]), ratio(r["baseline_s"] / r["torch_s"]),
             f"{ms(r['torch_batch_s'])} ({ratio(r['imresize_s'] * r['torch_batch'] / r['torch_batch_s'])})"]
            for r in result["rows"]]
    batch = result["rows"][0]["torch_batch"]
    return caption(name, result) + "\n" + table(
        ["case", "baseline", "`imresize` (numpy)", "speed-up", "`imresize_torch` (float32, CPU)", "speed-up",
         f"`imresize_torch`, batch of {batch} (against {batch} numpy calls)"], rows)


def datasets_table():
    name = "speed_datasets.json"
    result = read(name)
    rows = [[f"{r['data']} ({r['images']} images)", str(r["workers"]), f"{r['naive']:,.1f}",
             f"{r['cached_float32']:,.1f}", f"{r['cached_uint8']:,.1f}", ratio(r["cached_uint8"] / r["naive"]),
             ratio(r["cached_uint8"] / r["cached_float32"]), f"{r['cache_s']:.1f} s, {r['cache_mib']:,.0f} MiB"]
            for r in result["rows"]]
    return caption(name, result) + "\n" + table(
        ["data", "DataLoader workers", "naive patches/s", "cached, float32 items", "cached, uint8 items (used)",
         "uint8 / naive", "uint8 / float32", "cache built in"], rows)


def training_table():
    name = "speed_training.json"
    result = read(name)
    rows, last = [], None
    for r in result["rows"]:
        step = {"pretrain": "pretrain (SRResNet, pixel MSE)", "gan": "GAN (G + D + VGG54)"}[r["step"]]
        rows.append([step if step != last else "", r["variant"] + (" (baseline)" if r["speedup"] == 1 else ""),
                     f"{r['s_per_step']:.3f}", f"{r['images_per_s']:.1f}", ratio(r["speedup"]),
                     f"{r['warmup_s']:.1f} s"])
        last = step
    return caption(name, result) + "\n" + table(
        ["step", "variant", "s/step", "images/s", "speed-up", "warm-up (2 steps)"], rows)


def flops_table():
    name = "speed_training.json"
    result = read(name)
    flops = {r["step"]: r["gflop_per_step"] for r in result["rows"]}
    label = {"pretrain": "pretrain (SRResNet, 16 blocks, pixel MSE)", "gan": "GAN (G, D and VGG54, D and G updates)"}
    rows = []
    for step, gflop in flops.items():
        at = [f"{gflop * pace / 1000:,.0f} TFLOP/s ({100 * gflop * pace / 1000 / GPU_PEAK_TFLOPS:.1f} %)"
              for pace in PACES]
        rows.append([label[step], f"{gflop:,.1f}", *at])
    return caption(name, result) + "\n" + table(
        ["step", "GFLOP per step", *[f"at {pace:,} it/s (of {GPU_PEAK_TFLOPS} TFLOP/s)" for pace in PACES]], rows)


def gan_recipe_table():
    name = "speed_gan_recipe.json"
    result = read(name)
    rows = [[r["stage"], f"{r['s_per_step']:.4f}", ratio(r["vs_first"])] for r in result["rows"]]
    precision = "bf16 autocast" if result["bf16"] else "fp32"
    return caption(name, result) + "\n" + table(["GAN stage", f"s/step ({precision})", "against the first row"],
                                                rows)


def inference_table():
    name = "speed_inference.json"
    result = read(name)
    base = result["rows"][0]
    rows = [[r["variant"] + (" (baseline)" if r is base else " (+40 px context)"), f"{r['seconds']:.2f} s",
             f"{r['peak_rss_mib']:,.0f} MiB", ratio(r["seconds"] / base["seconds"]),
             ratio(r["peak_rss_mib"] / base["peak_rss_mib"])] for r in result["rows"]]
    width, height = result["lr_size"]
    return (caption(name, result) + f"\nLR {width}x{height} -> {4 * width}x{4 * height}; max |tiled - whole| = "
            f"{result['max_difference']:.2e}.\n\n" + table(
                ["variant", "time", "peak RSS", "time ratio", "RSS ratio"], rows))


def eval_table():
    name = "speed_eval.json"
    result = read(name)
    rows = [[f"{r['set']} ({r['images']})", f"{r['bicubic_s']:.1f} s", f"{r['naive_s']:.1f} s",
             f"{r['validate_s']:.1f} s", ratio(r["naive_s"] / r["validate_s"])] for r in result["rows"]]
    total = {key: sum(r[key] for r in result["rows"]) for key in ("images", "bicubic_s", "naive_s", "validate_s")}
    rows.append([f"all ({total['images']})", f"{total['bicubic_s']:.1f} s", f"{total['naive_s']:.1f} s",
                 f"{total['validate_s']:.1f} s", ratio(total["naive_s"] / total["validate_s"])])
    return caption(name, result) + "\n" + table(
        ["set (images)", "bicubic (MATLAB `imresize`)", "SRResNet, naive loop", "SRResNet, `inference.validate`",
         "speed-up"], rows)


def upscale_table():
    name = "speed_upscale.json"
    result = read(name)
    base = result["rows"][0]["seconds"]
    rows = [[r["variant"] + (" (baseline)" if i == 0 else ""), ms(r["seconds"]), ratio(base / r["seconds"]),
             "0" if r["max_difference"] == 0 else f"{r['max_difference']:.1e}"] for i, r in enumerate(result["rows"])]
    size = result["lr_size"]
    return (caption(name, result) + f"\nA {size}x{size} LR crop of Set14's `{Path(result['image']).stem}` -> "
            f"{4 * size}x{4 * size}.\n\n" + table(
                ["variant", "time", "speed-up", "max \\|out - fp32 baseline\\| ([0, 1] scale)"], rows))


TABLES = {"speed_imresize": imresize_table, "speed_datasets": datasets_table, "speed_training": training_table,
          "step_flops": flops_table, "speed_gan_recipe": gan_recipe_table, "speed_inference": inference_table,
          "speed_eval": eval_table, "speed_upscale": upscale_table}
