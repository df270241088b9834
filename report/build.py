"""Every table and plot of the experiment report, made from the committed result files.

    .venv/bin/python -m report.build            # rewrites the tables of report/*.md, the plots
    .venv/bin/python -m report.build --check    # exit status 1 if a table there differs

``report/README.md`` holds each generated table between ``<!-- table: NAME -->`` and
``<!-- end table -->``; :func:`tables` makes them all from ``config.py`` and ``report/results/``
(what each file holds, and the command that wrote it, is in its own ``command`` field or in the
report next to the table). ``report/performance.md``'s come from the benchmarks' result files
(``report/performance_tables.py``). ``tests/test_report.py`` fails when a page's tables differ
from what this module makes. The plot (``report/figures/benchmarks_perception_distortion.png``)
comes from the same files; the image crops come from
checkpoints, which are never committed (``report/experiments/set5_crops.py``).
"""
import argparse
import json
import math
import re
import statistics
import sys
from pathlib import Path

from config import INTERPOLATIONS, PRESETS, training_config
from report import performance_tables

REPORT = Path(__file__).resolve().parent
RESULTS = REPORT / "results"
FIGURES = REPORT / "figures"
SETS = ("Set5", "Set14", "B100", "Urban100")
MARKER = re.compile(r"(<!-- table: (?P<name>[a-z0-9_]+) -->\n)(?P<body>.*?)(<!-- end table -->)", re.S)

# The bicubic scores published with the benchmark release (../shared/data/README.md: x4, Y of
# BT.601, 4-px border), and the papers' own x4 PSNR (SRCNN: Dong et al. 2016, Table; SRResNet
# and SRGAN: Ledig et al. 2017, Table 2; ESRGAN's RRDB PSNR model: Wang et al. 2018, Table).
PUBLISHED_BICUBIC = {"Set5": (28.42, 0.8104), "Set14": (26.00, 0.7027), "B100": (25.96, 0.6675),
                     "Urban100": (23.14, 0.6577)}
PAPERS_PSNR = {"SRCNN": (30.48, 27.49, 26.90), "SRResNet": (32.05, 28.49, 27.58),
               "SRGAN": (29.40, 26.02, 25.16), "RRDBNet (ESRGAN's PSNR model)": (32.73, 28.99, 27.85)}

# The results table: (row label, result file, method key in it, which run it is)
RESULT_ROWS = (
    ("bicubic", "{shared}", "bicubic"),
    ("SRCNN (`shared_srcnn`)", "{shared}", "SRCNN"),
    ("SRResNet (`shared`, stage 1)", "{shared}", "SRResNet"),
    ("SRGAN (`shared`, stage 2)", "{shared}", "SRGAN"),
    ("RRDBNet, 6 blocks (`shared_esrgan`, stage 1)", "shared_esrgan_flat120_{set}.json", "RRDBNet"),
    ("ESRGAN, 6 blocks (`shared_esrgan`, flat term 120)", "shared_esrgan_flat120_{set}.json",
     "ESRGAN, flat 120"),
    ("Real-ESRGAN x4plus (published weights)", "{published}", "RealESRGAN_x4plus"),
    ("Real-ESRGAN x4plus_anime_6B (published weights)", "{published}", "RealESRGAN_x4plus_anime_6B"),
    ("HR", "{shared}", "HR"),
)

# The sample images' table: the committed presets' runs in sample_seeds.jsonl (one line per
# run of report/experiments/quickstart_seeds.py), chosen by what their config records
SAMPLE_RECIPES = {
    "sample": lambda c: (c["generator"].get("n_blocks") == 8
                         and c["gan"]["loss"]["artifacts"]["weight"] == 100.0
                         and c["gan"]["loss"]["content"]["weight"] == 3.0),
    "sample_esrgan": lambda c: (c["generator"].get("channels") == 64
                                and c["gan"]["loss"]["content"]["weight"] == 5.0
                                and c["gan"]["loss"]["artifacts"]["weight"] == 30.0),
}
SAMPLE_MODELS = {"sample": ("SRResNet", "SRGAN"), "sample_esrgan": ("RRDBNet", "ESRGAN")}
SAMPLE_MEASURES = (("psnr", "PSNR", "{:.2f}"), ("ssim", "SSIM", "{:.4f}"), ("niqe", "NIQE", "{:.2f}"),
                   ("placement", "placement", "{:.3f}"), ("missing", "missing", "{:.3f}"),
                   ("chroma", "chroma", "{:.3f}"), ("grid", "grid", "{:.2f}"))


def read_json(name):
    path = RESULTS / name
    if not path.exists():
        raise FileNotFoundError(f"{path}: a result file of the report is missing")
    return json.loads(path.read_text())


def _number(value, fmt):
    return "-" if value is None or (isinstance(value, float) and not math.isfinite(value)) else fmt.format(value)


# ----------------------------------------------------------------------------------------------
# Method: the presets, from config.py
# ----------------------------------------------------------------------------------------------
def _generator(g):
    if g["arch"] == "srresnet":
        return (f"SRResNet, {g.get('n_blocks', 16)} blocks x {g.get('channels', 64)} ch"
                f"{'' if g.get('batch_norm', True) else ', no BN'}"
                f"{', resize-conv' if g.get('upsampler') == 'resize' else ''}")
    if g["arch"] == "rrdbnet":
        return f"RRDBNet, {g['n_blocks']} RRDBs x {g['channels']} ch"
    return "SRCNN 9-1-5"


def _schedule(stage):
    length = (f"{stage.iterations:,} it." if stage.time_budget is None
              else f"{stage.time_budget // 60} min")
    steps = f", x{stage.gamma:g} at {', '.join(f'{m:,}' for m in stage.milestones)}" if stage.milestones else ""
    return f"{length}, lr {stage.lr_g:g}{steps}"


def _loss(stage):
    terms = []
    for name, term in stage.loss.items():
        if term is None:
            continue
        kind = term.get("type")
        if name == "content" and kind == "vgg":
            kind = "VGG54" + (" before ReLU, L1" if term.get("before_activation") else "")
        label = {"content": kind, "pixel": f"pixel {kind}", "adversarial": kind,
                 "feature_matching": "feature matching", "artifacts": "LDL"}.get(name, name)
        terms.append(f"{term['weight']:g} {label}")
    extras = []
    if stage.get("d_input", "rgb") != "rgb":
        extras.append(f"D sees {stage.d_input}")
    if stage.get("d_regions"):
        extras.append(f"D regions at {stage.d_regions['threshold']:g}")
    if stage.get("ema_decay"):
        extras.append(f"EMA {stage.ema_decay:g}")
    return " + ".join(terms) + (f" ({'; '.join(extras)})" if extras else "")


def presets_table():
    lines = ["| preset | generator | HR patch, batch | stage 1: loss, length | stage 2: loss | stage 2: length |",
             "|---|---|---|---|---|---|"]
    for name in PRESETS:
        c = training_config(name)
        pre, gan = c.stages.pretrain, c.stages.gan
        has_gan = gan.iterations != 0
        lines.append(f"| `{name}` | {_generator(c.generator)} | {c.hr_patch}, {c.batch_size} | "
                     f"{_loss(pre)}; {_schedule(pre)} | {_loss(gan) if has_gan else 'none'} | "
                     f"{_schedule(gan) if has_gan else '-'} |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# Results: the benchmark sets
# ----------------------------------------------------------------------------------------------
def shared_file():
    """The `shared` run's scores on the four sets."""
    for name in ("benchmarks_shared.json",):
        if (RESULTS / name).exists():
            return name
    raise FileNotFoundError(f"{RESULTS}/benchmarks_shared.json: a result file of the report is missing")


def published_scores(model, set_name):
    """A release generator's fp32 scores on ``set_name``: from benchmarks_published.json where
    it was scored there, else from published_bf16_cost.json's fp32 pass (Set5, Set14, B100)."""
    if (RESULTS / "benchmarks_published.json").exists():
        label = model.replace("RealESRGAN_", "Real-ESRGAN ") + " (published)"
        return read_json("benchmarks_published.json")["results"].get(set_name, {}).get(label)
    r = read_json("published_bf16_cost.json")["models"][model].get(set_name)
    return None if r is None else {k: r[f"fp32_{k}"] for k in ("psnr", "ssim", "niqe")}


def benchmark_results():
    """{set: {row label: {"psnr", "ssim", "niqe"} or None}} of RESULT_ROWS (None: not scored)."""
    table = {s: {} for s in SETS}
    shared = read_json(shared_file())["results"]
    for label, file, method in RESULT_ROWS:
        for set_name in SETS:
            if file == "{shared}":
                scores = shared.get(set_name, {}).get(method)
            elif file == "{published}":
                scores = published_scores(method, set_name)
            else:
                name = file.format(set=set_name)
                scores = read_json(name)["results"].get(method) if (RESULTS / name).exists() else None
            table[set_name][label] = scores
    return table


def results_table():
    table = benchmark_results()
    counts = dict(zip(SETS, (100 if s == "Urban100" else 0 for s in SETS)))  # Urban100 when not scored
    counts.update({s: next(iter(by.values()))["images"] for s, by in read_json(shared_file())["results"].items()})
    lines = ["| model | " + " | ".join(f"{s} ({counts[s]})" for s in SETS) + " |",
             "|---|" + "---|" * len(SETS)]
    for label, _, _ in RESULT_ROWS:
        cells = []
        for s in SETS:
            r = table[s][label]
            cells.append("n.s." if r is None else " / ".join(
                _number(r.get(k), f) for k, f in (("psnr", "{:.2f}"), ("ssim", "{:.4f}"), ("niqe", "{:.2f}"))))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def bicubic_check_table():
    bicubic = read_json(shared_file())["results"]
    lines = ["| set | bicubic here, PSNR / SSIM | published | difference |", "|---|---|---|---|"]
    for s in (s for s in SETS if s in bicubic):
        r, (p, q) = bicubic[s]["bicubic"], PUBLISHED_BICUBIC[s]
        lines.append(f"| {s} | {r['psnr']:.2f} / {r['ssim']:.4f} | {p:.2f} / {q:.4f} | "
                     f"{r['psnr'] - p:+.2f} dB / {r['ssim'] - q:+.4f} |")
    return "\n".join(lines)


def papers_table():
    lines = ["| model (the paper's, trained on ImageNet or DIV2K) | Set5 | Set14 | B100 |", "|---|---|---|---|"]
    lines += [f"| {m} | " + " | ".join(f"{v:.2f}" for v in values) + " |" for m, values in PAPERS_PSNR.items()]
    return "\n".join(lines)


def runs_table():
    """What each result file's run was: the command and the machine that wrote it."""
    lines = ["| result file | command | machine | models' training iterations | seconds |",
             "|---|---|---|---|---|"]
    for name in (shared_file(), "benchmarks_published.json"):
        if not (RESULTS / name).exists():
            continue
        d = read_json(name)
        m = d["machine"]
        iterations = ", ".join(f"{k} {v:,}" for k, v in d.get("iterations", {}).items()) or "-"
        lines.append(f"| [{name}](results/{name}) | `{d['command']}` | {m['cpu']}, {m['threads']} "
                     f"thread(s), torch {m['torch']} | {iterations} | {d['seconds']:,.0f} |")
    if not (RESULTS / "benchmarks_published.json").exists():
        d = read_json("published_bf16_cost.json")
        seconds = sum(r["seconds"]["fp32"] for by in d["models"].values() for r in by.values())
        lines.append(f"| [published_bf16_cost.json](results/published_bf16_cost.json) (its fp32 pass) | "
                     f"`python -m report.experiments.published_models` | AMD EPYC with AVX-512 BF16, "
                     f"{d['threads']} thread(s), torch {d['torch']} | - | {seconds:,.0f} |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# Results: the sample images, over seeds
# ----------------------------------------------------------------------------------------------
def sample_runs(preset):
    """The lines of sample_seeds.jsonl that ran ``preset`` as it is committed."""
    lines = [json.loads(line) for line in (RESULTS / "sample_seeds.jsonl").read_text().splitlines() if line]
    return [d for d in lines if d.get("preset") == preset and SAMPLE_RECIPES[preset](d["config"])]


def sample_table():
    lines = ["| preset | model | runs | " + " | ".join(label for _, label, _ in SAMPLE_MEASURES) + " |",
             "|---|---|---|" + "---|" * len(SAMPLE_MEASURES)]
    for preset, models in SAMPLE_MODELS.items():
        runs = sample_runs(preset)
        for model in (*models, "HR"):
            cells = []
            for key, _, fmt in SAMPLE_MEASURES:
                values = [r[model][key] for r in runs if key in r[model] and r[model][key] is not None]
                if not values:
                    cells.append("-")
                elif len(set(values)) == 1 or model == "HR":
                    cells.append(fmt.format(values[0]))
                else:
                    cells.append(f"{fmt.format(statistics.mean(values))} "
                                 f"({fmt.format(min(values))}-{fmt.format(max(values))})")
            lines.append(f"| `{preset}` | {model} | {len(runs)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# Results: the README's first command, one run (keep_run_results.py)
# ----------------------------------------------------------------------------------------------
def quickstart_table():
    d = read_json("sample_quickstart.json")
    lines = [f"{d['command'][0].upper() + d['command'][1:]} on {performance_tables.machine(d)} "
             f"([sample_quickstart.json](results/sample_quickstart.json)):", "",
             "| set | method | PSNR | SSIM | NIQE |", "|---|---|---|---|---|"]
    for set_name, by_method in d["results"].items():
        for method, r in by_method.items():
            lines.append(f"| {set_name} ({r['images']}) | {method} | {_number(r['psnr'], '{:.2f}')} | "
                         f"{r['ssim']:.4f} | {r['niqe']:.2f} |")
    return "\n".join(lines)


def interpolation_table():
    d = read_json("sample_interpolation.json")
    (gan, by_set), = d["results"].items()
    set_name, sweep = next(iter(by_set.items()))
    lines = [f"| {set_name}, {gan} interpolated | " + " | ".join(f"alpha {s['alpha']:g}" for s in sweep) + " |",
             "|---|" + "---|" * len(sweep)]
    for key, label, fmt in (("psnr", "PSNR", "{:.2f}"), ("ssim", "SSIM", "{:.4f}"), ("niqe", "NIQE", "{:.2f}")):
        lines.append(f"| {label} | " + " | ".join(fmt.format(s[key]) for s in sweep) + " |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# Inference: what bf16 and tiles cost the published generators
# ----------------------------------------------------------------------------------------------
def bf16_cost_table():
    d = read_json("published_bf16_cost.json")
    lines = ["| model | set | PSNR vs HR, bf16 - fp32 | values off by more than one level | time fp32 / bf16 |",
             "|---|---|---|---|---|"]
    for model, by_set in d["models"].items():
        for s, r in by_set.items():
            t = r["seconds"]
            lines.append(f"| {model.replace('RealESRGAN_', '')} | {s} | {r['bf16_psnr'] - r['fp32_psnr']:+.3f} dB | "
                         f"{100 * r['bf16_off_by_more_than_1']:.2f} % | {t['fp32']:.1f} s / {t['bf16']:.1f} s "
                         f"({t['fp32'] / t['bf16']:.2f}x) |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# Attempts and improvements: one row per change tried, measured from its result file
# ----------------------------------------------------------------------------------------------
def _mean(values):
    values = [v for v in values if v is not None and math.isfinite(v)]
    return statistics.mean(values) if values else math.nan


def _compare(base, variant, keys):
    """ "PSNR a -> b, NIQE a -> b, ..." of two lists of score dicts (means over their runs)."""
    fmt = {"psnr": "{:.2f}", "niqe": "{:.2f}", "grid": "{:.2f}", "placement": "{:.3f}",
           "missing": "{:.3f}", "chroma": "{:.3f}", "ssim": "{:.4f}"}
    names = {"psnr": "PSNR", "niqe": "NIQE"}
    parts = [f"{names.get(k, k)} {fmt[k].format(_mean([b.get(k) for b in base]))} -> "
             f"{fmt[k].format(_mean([v.get(k) for v in variant]))}" for k in keys]
    runs = f"{len(variant)} run{'s' * (len(variant) > 1)}"
    return ", ".join(parts) + f" ({runs})"


def ablation(base, variant, keys=("psnr", "niqe", "grid")):
    """Variants of report/experiments/gan_ablation.py, from gan_ablation_sample.jsonl."""
    lines = [json.loads(line) for line in (RESULTS / "gan_ablation_sample.jsonl").read_text().splitlines() if line]
    pick = lambda name: [d for d in lines if d["variant"] == name]  # noqa: E731
    return _compare(pick(base), pick(variant), keys)


def detail(file, base, variant, keys=("psnr", "niqe", "placement")):
    """Checkpoints scored by report/experiments/detail_table.py: the keys (or key prefixes
    ending in '*') ``base`` and ``variant`` of ``file``'s results."""
    results = read_json(file)["results"]
    pick = lambda name: [r for k, r in results.items()  # noqa: E731
                         if (k.startswith(name[:-1]) if name.endswith("*") else k == name)]
    return _compare(pick(base), pick(variant), keys)


def seeds(preset, base, variant, keys=("psnr", "niqe", "placement")):
    """Whole runs of report/experiments/quickstart_seeds.py (sample_seeds.jsonl): the GAN of
    the lines that ``base`` and ``variant`` (predicates on a line) select."""
    lines = [json.loads(line) for line in (RESULTS / "sample_seeds.jsonl").read_text().splitlines() if line]
    model = SAMPLE_MODELS[preset][1]
    pick = lambda test: [d[model] for d in lines if d.get("preset", "sample") == preset and test(d)]  # noqa: E731
    return _compare(pick(base), pick(variant), keys)


def _cfg(d, blocks=None, channels=None, content=None, artifacts=None):
    c = d["config"]
    loss = c["gan"].get("loss") or {}
    return ((blocks is None or c["generator"].get("n_blocks") == blocks)
            and (channels is None or c["generator"].get("channels") == channels)
            and (content is None or (loss.get("content") or {}).get("weight") == content)
            and (artifacts is None or (loss.get("artifacts") or {}).get("weight") == artifacts))


def _cmd(*parts):
    return lambda d: any(p in d["command"] for p in parts)


# (change, what it was for, measured, kept, seen in the crops, note anchor)
ATTEMPTS = (
    ("No BatchNorm in the small generator", "stable validation at a high learning rate",
     lambda: "PSNR, mean of the last 3 epochs: {:.2f} -> {:.2f} (1 run each)".format(
         *[_mean([e["val_psnr"] for e in read_json("ablation_bn.json")["variants"][k][-3:]])
           for k in ("with BN (paper)", "without BN")]),
     "sample presets", "", "small-generator"),
    ("GAN stage started from the pretrained SRResNet", "a usable adversarial stage",
     lambda: "PSNR after 300 GAN iterations: {:.2f} from scratch -> {:.2f}".format(
         *[read_json("ablation_init.json")["variants"][k]["val_psnr"]
           for k in ("from scratch (assignment's base mode)", "from pretrained SRResNet")]),
     "every preset", "", "small-generator"),
    ("Resize-convolution instead of sub-pixel upsampling", "the 4x4 grid pattern",
     lambda: ablation("baseline", "resize_conv"), "`sample`, `shared`", "fur texture, no cross-hatch", "grid"),
    ("Relativistic adversarial loss (sub-pixel G)", "the grid", lambda: ablation("baseline", "relativistic"),
     "no (ESRGAN keeps its own)", "", "grid"),
    ("Spectral norm in D, BN removed", "the grid", lambda: ablation("baseline", "sn_d"), "no",
     "the SRResNet's image with a faint pattern", "grid"),
    ("PatchGAN D", "the grid", lambda: ablation("baseline", "patch_d"), "no", "", "grid"),
    ("Real-ESRGAN's U-Net D", "the grid", lambda: ablation("baseline", "unet_d"), "no", "", "grid"),
    ("Anti-aliased (blurred) strides in D", "the grid", lambda: ablation("baseline", "antialias_d"),
     "no", "", "grid"),
    ("Random translation of D's inputs", "the grid", lambda: ablation("resize_conv", "resize_translate"),
     "no", "", "grid"),
    ("ICNR initialisation", "the grid", lambda: ablation("baseline", "icnr"), "no", "", "grid"),
    ("Bilinear x2 + conv upsampling", "the grid left by resize-conv",
     lambda: ablation("resize_conv", "resize_bilinear"), "no", "", "grid"),
    ("Grid loss at 1e2", "the grid left by resize-conv", lambda: ablation("resize_conv", "resize_grid_1e2"),
     "`sample`, `shared`, ESRGAN CPU presets", "fur kept, no cross-hatch", "grid"),
    ("Grid loss at 1e3", "the grid", lambda: ablation("resize_conv", "resize_grid_1e3"), "no",
     "the GAN does less", "grid"),
    ("Moving average of G, decay 0.99", "epoch-to-epoch swings of the game",
     lambda: ablation("resize_grid_1e2", "recipe_ema_0.99"), "CPU presets", "", "moving-average"),
    ("Moving average, decay 0.999", "the same", lambda: ablation("resize_conv", "resize_ema"), "no",
     "back to the SRResNet", "moving-average"),
    ("2,000 GAN iterations instead of 1,000", "more detail",
     lambda: ablation("recipe_ema_0.99", "recipe_ema_0.99_2k"), "`sample`", "strands of fur", "moving-average"),
    ("D sees BT.601 luma", "colour speckle", lambda: ablation("resize_grid_1e2", "recipe_luma_d"),
     "no", "diagonal hatching; its gradient still moves colour", "speckle"),
    ("LR-consistency content loss", "leave high frequencies to D", lambda: ablation("lead_ema", "lrc_lead_ema"),
     "no", "", "grid"),
    ("D sees the mean of the channels (gray)", "colour speckle",
     lambda: detail("screening_gray_d.json", "recipe_s0", "gray_d_s0", ("psnr", "niqe", "chroma")),
     "CPU presets", "no red and green dots", "speckle"),
    ("Feature matching on D's features, 0.3", "detail without noise",
     lambda: detail("screening_gray_d.json", "gray_d_s0", "gray_d_fm_0.3_ldl_30_s*", ("psnr", "niqe", "chroma")),
     "CPU presets (with LDL 30)", "", "speckle"),
    ("D sees texture only where the LR has it (Beby-GAN's regions, 0.025)", "grain in flat regions",
     lambda: detail("screening_regions.json", "recipe (*", "regions 0.0125 (*"), "CPU presets",
     "", "placement"),
    ("Pixel MSE x10 on flat regions", "grain in flat regions",
     lambda: detail("screening_regions.json", "regions 0.0125 (*", "regions 0.0125, flat 10 (*"),
     "CPU presets", "", "placement"),
    ("SPSR's gradient-map loss for SRGAN, 0.3", "placement",
     lambda: detail("screening_regions.json", "recipe (2)", "gradient 0.3 (2)"), "no (ESRGAN: 1)", "",
     "placement"),
    ("8 residual blocks instead of 4", "the split iris rim",
     lambda: seeds("sample", lambda d: _cfg(d, blocks=4, artifacts=30.0), lambda d: _cfg(d, blocks=8, content=1.0)),
     "`sample`", "one band on 8 runs of 9 (4 blocks: every run split)", "iris-rim"),
    ("GAN stage's pixel term at 3", "PSNR loss, the rim",
     lambda: seeds("sample", lambda d: _cfg(d, blocks=8, content=1.0),
                   lambda d: _cfg(d, blocks=8, content=3.0) and _cmd("c3_")(d)),
     "`sample`, `shared`", "one band on every run", "iris-rim"),
    ("The same for `shared` (Set5)", "PSNR loss and a grid",
     lambda: detail("shared_gan_pixel_weight_Set5.json", "preset (*", "content 3*"), "`shared`", "",
     "iris-rim"),
    ("3,600 pretraining iterations instead of 2,400", "a red rim that the GAN kept",
     lambda: seeds("sample", _cmd("c3_"), _cmd("pt_")), "`sample`", "dark brown band, no red core", "iris-rim"),
    ("LDL's artifact term at 100 instead of 30", "a split rim (1 run of 11)",
     lambda: seeds("sample", lambda d: (_cfg(d, blocks=8, content=3.0, artifacts=30.0)
                                        and _cmd("pt_", "intel", "readme")(d)),
                   lambda d: _cfg(d, blocks=8, artifacts=100.0)), "`sample`", "one band on all 12 runs", "iris-rim"),
    ("Moving average 0.999 against the split rim", "the rim",
     lambda: detail("sample_ldl_ema_rim.json", "LDL_30", "ema_0.999"), "no", "one band, but the SRResNet's blur",
     "iris-rim"),
    ("ESRGAN with 64 channels instead of 32", "a rim drawn as two lines",
     lambda: seeds("sample_esrgan", lambda d: _cfg(d, channels=32), lambda d: _cfg(d, channels=64, content=1.0)),
     "`sample_esrgan`", "", "esrgan"),
    ("ESRGAN's L1 term at 3 instead of 1", "a trace at the rim's end",
     lambda: seeds("sample_esrgan", lambda d: _cfg(d, channels=64, content=1.0),
                   lambda d: _cfg(d, channels=64, content=3.0, artifacts=30.0)),
     "`shared_esrgan`", "", "esrgan"),
    ("ESRGAN's L1 term at 5 instead of 3 (paired restarts)", "the rim's end",
     lambda: detail_all("esrgan_l1_weight_seed{}.json", "L1 3", "L1 5"), "`sample_esrgan`",
     "a split end gone, a streak fainter", "esrgan"),
    ("ESRGAN's L1 term at 10", "the rim's end", lambda: detail_all("esrgan_l1_weight_seed{}.json", "L1 5", "L1 10"),
     "no", "cleaner rim, less blur removed", "esrgan"),
    ("Texture loss on random features (EnhanceNet)", "hairs in the fur",
     lambda: detail("fur_remedies.json", "SRGAN", "texture_1000"), "no", "grain, no hairs", "fur"),
    ("No LDL term", "hairs in the fur", lambda: detail("fur_remedies.json", "SRGAN", "no_LDL"), "no", "no hairs",
     "fur"),
    ("Adversarial weight 3e-3", "hairs in the fur", lambda: detail("fur_remedies.json", "SRGAN", "adversarial_3e-3"),
     "no", "no hairs", "fur"),
    ("6,000 GAN iterations", "hairs in the fur", lambda: detail("fur_remedies.json", "SRGAN", "6000_iterations"),
     "no", "no hairs", "fur"),
)


def detail_all(pattern, base, variant, keys=("psnr", "niqe", "missing")):
    """:func:`detail` over the three seeds' files of ``pattern``."""
    pick = lambda name: [read_json(pattern.format(k))["results"][name] for k in range(3)]  # noqa: E731
    return _compare(pick(base), pick(variant), keys)


def attempts_table():
    lines = ["| change | for | measured: before -> after (sample images unless named) | kept in | "
             "seen in the crops | notes |", "|---|---|---|---|---|---|"]
    lines += [f"| {change} | {aim} | {measured()} | {kept} | {eye or '-'} | [notes](notes/README.md#{anchor}) |"
              for change, aim, measured, kept, eye, anchor in ATTEMPTS]
    return "\n".join(lines)


TABLES = {"presets": presets_table, "results": results_table, "runs": runs_table,
          "bicubic_check": bicubic_check_table, "papers": papers_table, "sample": sample_table,
          "bf16_cost": bf16_cost_table, "attempts": attempts_table, "quickstart": quickstart_table,
          "interpolation": interpolation_table}


# each page of the report and the tables it holds
PAGES = {"README.md": TABLES, "performance.md": performance_tables.TABLES}


def tables(page="README.md"):
    """{name: markdown} of every generated table of ``page``."""
    return {name: make() for name, make in PAGES[page].items()}


def render(text, made):
    """``text`` (the report) with every marked table replaced by ``made``'s.

    Raises:
        KeyError: for a marker naming a table that this module does not make.
    """
    def replace(match):
        if match["name"] not in made:
            raise KeyError(f"the page marks a table {match['name']!r}; report/build.py makes "
                           f"{', '.join(made)} for it")
        return match[1] + made[match["name"]] + "\n" + match[4]
    return MARKER.sub(replace, text)


# ----------------------------------------------------------------------------------------------
# Plots
# ----------------------------------------------------------------------------------------------
def plots():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import plots as project_plots

    inf = lambda r: {k: (math.inf if k == "psnr" and v is None else v) for k, v in r.items()}  # noqa: E731
    table = benchmark_results()
    short = {label: label.split(" (")[0] for label, _, _ in RESULT_ROWS}
    results = {s: {short[label]: inf(r) for label, r in rows.items() if r is not None} for s, rows in table.items()}
    results = {s: by for s, by in results.items() if len(by) > 2}  # sets with more than bicubic and HR
    project_plots.perception_distortion(results, FIGURES / "benchmarks_perception_distortion.png")
    plt.close("all")
    sweeps = read_json("sample_interpolation.json")["results"]
    quickstart = read_json("sample_quickstart.json")["results"]
    alphas = [s["alpha"] for s in next(iter(next(iter(sweeps.values())).values()))]
    project_plots.interpolation_plane(sweeps, quickstart, alphas, INTERPOLATIONS, FIGURES / "sample_interpolation.png")
    plt.close("all")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 on a difference")
    args = parser.parse_args(argv)
    stale = []
    for page in PAGES:
        path = REPORT / page
        text = path.read_text()
        new = render(text, tables(page))
        if new != text:
            stale.append(path)
            if not args.check:
                path.write_text(new)
        print(f"{path}: {len(MARKER.findall(new))} tables, {'changed' if new != text else 'unchanged'}")
    if args.check:
        for path in stale:
            print(f"{path}: its tables differ from `python -m report.build`'s", file=sys.stderr)
        return 1 if stale else 0
    plots()
    print(f"wrote the plots in {FIGURES}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
