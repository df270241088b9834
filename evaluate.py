"""Scoring every method of a run on its test sets, and the tables and files of the results.

``test.ipynb`` calls these in order: :func:`test_sets` (the data source's lists, made once),
:func:`load_methods` (the run's checkpoints and any published generator), :func:`score` (every
method, bicubic and HR on every set), :func:`results_table` and :func:`write_results`
(``test_results.{json,csv,md}``), then :func:`interpolation_sweeps`,
:func:`interpolation_table` and :func:`write_interpolation` for ESRGAN's network
interpolation. The report's scripts read the same files with :func:`results_table`.
"""
import csv
import json
import math
from pathlib import Path

import create_data_lists as cdl
import inference
from config import INTERPOLATIONS, SHARED_ROOT
from datasets import SRTestDataset

FORMATS = {"psnr": "{:.2f}", "ssim": "{:.4f}", "niqe": "{:.2f}", "lpips": "{:.4f}"}


def test_sets(config, log=print):
    """{set name: ``SRTestDataset``} of ``config.test_lists`` that exist; the ``shared`` data
    source's lists are made first, once, from the sets that ``../shared/data`` holds."""
    if config.data == "shared":
        missing = [name for name, path in config.test_lists.items()
                   if not Path(path).exists() and (SHARED_ROOT / name / "HR").is_dir()]
        for name in missing:  # where config.test_lists expects it
            cdl.create_benchmark_lists([SHARED_ROOT / name], Path(config.test_lists[name]).parent,
                                       config.scale, log=log)
    sets = {name: SRTestDataset(path, config.scale)
            for name, path in config.test_lists.items() if Path(path).exists()}
    log(f"test sets: {({name: len(data) for name, data in sets.items()})} | missing: "
        f"{[name for name in config.test_lists if name not in sets]}")
    return sets


def load_methods(config, device, log=print):
    """{method: generator} of the run's checkpoints that exist (``config.checkpoints``), then
    ``config.published``'s files as ``"<label> (published)"``.

    Raises:
        ValueError: for a published generator of another scale than the test sets'.
    """
    generators = {name: inference.load_generator(path, device)
                  for name, path in config.checkpoints.items() if Path(path).exists()}
    for label, path in (config.published or {}).items():
        generator = inference.load_generator(path, device)
        if generator.scale != config.scale:
            raise ValueError(f"published {label}: {path} is a x{generator.scale} model; the test "
                             f"sets are x{config.scale}")
        generators[f"{label} (published)"] = generator
    log(f"models: {list(generators)} | missing: {[n for n in config.checkpoints if n not in generators]}")
    return generators


def score(sets, generators, device, tile=None, lpips_model=None):
    """{set: {method: ``inference.validate``'s dict}}: bicubic, every generator, HR (the
    reference row), with NIQE and, with ``lpips_model``, LPIPS."""
    results = {}
    for set_name, dataset in sets.items():
        results[set_name] = {"bicubic": inference.validate_bicubic(dataset, with_niqe=True,
                                                                   lpips_model=lpips_model)}
        for method, generator in generators.items():
            results[set_name][method] = inference.validate(generator, dataset, device, tile=tile,
                                                           with_niqe=True, lpips_model=lpips_model)
        results[set_name]["HR"] = inference.validate_hr(dataset, lpips_model=lpips_model)
    return results


def measures_of(results):
    """The measures the results hold, in table order."""
    first = next(iter(next(iter(results.values())).values()))
    return [m for m in FORMATS if m in first]


def _cell(value, measure):
    return "-" if value is None or not math.isfinite(value) else FORMATS[measure].format(value)


def results_table(results, wide=False):
    """Markdown: one row per set and method (``wide``: one row per set, a column per method),
    each cell "PSNR / SSIM / NIQE (/ LPIPS)"; infinite or missing values as "-"."""
    measures = measures_of(results)
    cells = {s: {m: " / ".join(_cell(r.get(k), k) for k in measures) for m, r in by_method.items()}
             for s, by_method in results.items()}
    if wide:
        methods = list(next(iter(results.values())))
        lines = ["| set (images) | " + " | ".join(methods) + " |", "|---|" + "---|" * len(methods)]
        lines += [f"| {s} ({results[s][methods[0]]['images']}) | "
                  + " | ".join(row[m] for m in methods) + " |" for s, row in cells.items()]
    else:
        lines = [f"| set | method | {' / '.join(m.upper() for m in measures)} |", "|---|---|---|"]
        lines += [f"| {s} ({results[s][m]['images']}) | {m} | {cell} |"
                  for s, row in cells.items() for m, cell in row.items()]
    return "\n".join(lines) + ("\n\nPSNR/SSIM: higher is better; NIQE, LPIPS: lower is better. "
                               "HR's PSNR is infinite (shown as -).")


def write_results(results, out_dir):
    """``test_results.json`` (means; JSON has no infinity: HR's PSNR is null), ``.csv`` and
    ``.md`` in ``out_dir``. Returns the paths."""
    out, measures = Path(out_dir), measures_of(results)
    out.mkdir(parents=True, exist_ok=True)
    summary = {s: {m: {**{k: _finite(r[k]) for k in measures}, "images": r["images"]}
                   for m, r in by_method.items()} for s, by_method in results.items()}
    paths = [out / f"test_results.{ext}" for ext in ("json", "csv", "md")]
    paths[0].write_text(json.dumps(summary, indent=2) + "\n")
    with open(paths[1], "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["set", "method", *measures, "images"])
        for s, by_method in summary.items():
            for m, r in by_method.items():
                values = ("" if r[k] is None else f"{r[k]:.5f}" for k in measures)
                writer.writerow([s, m, *values, r["images"]])
    paths[2].write_text(results_table(results) + "\n")
    return paths


def _finite(value):
    return value if value is not None and math.isfinite(value) else None


def interpolation_sweeps(generators, sets, device, alphas, tile=None):
    """ESRGAN's network interpolation for every PSNR/GAN pair of ``config.INTERPOLATIONS``
    present: {label: {set: [``inference.validate`` dict per alpha]}}."""
    sweeps = {}
    for label, (psnr_name, gan_name) in INTERPOLATIONS.items():
        if psnr_name in generators and gan_name in generators:
            for set_name, dataset in sets.items():
                sweeps.setdefault(label, {})[set_name] = [
                    inference.validate(inference.interpolate_generators(
                        generators[psnr_name], generators[gan_name], alpha), dataset, device,
                        tile=tile, with_niqe=True)
                    for alpha in alphas]
    return sweeps


def interpolation_table(sweeps, alphas):
    """Markdown: a row per pair and set, a column per alpha, each cell PSNR / SSIM / NIQE."""
    lines = ["| pair | set | " + " | ".join(f"alpha {a:g}" for a in alphas) + " |",
             "|---|---|" + "---|" * len(alphas)]
    for label, by_set in sweeps.items():
        for set_name, scores in by_set.items():
            lines.append(f"| {INTERPOLATIONS[label][0]} -> {label} | {set_name} | " + " | ".join(
                f"{s['psnr']:.2f} / {s['ssim']:.4f} / {s['niqe']:.2f}" for s in scores) + " |")
    return "\n".join(lines) + "\n\nEach cell: PSNR / SSIM / NIQE."


def write_interpolation(sweeps, alphas, out_dir):
    """``interpolation.md`` and ``interpolation.json`` in ``out_dir``."""
    out = Path(out_dir)
    (out / "interpolation.md").write_text(interpolation_table(sweeps, alphas) + "\n")
    (out / "interpolation.json").write_text(json.dumps(
        {label: {s: [{"alpha": a, **{k: r[k] for k in ("psnr", "ssim", "niqe")}}
                     for a, r in zip(alphas, scores)] for s, scores in by_set.items()}
         for label, by_set in sweeps.items()}, indent=2) + "\n")
