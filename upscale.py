"""Upscale images with a trained generator or a published one, from the command line.

    .venv/bin/python upscale.py --model runs/sample/srgan_ema.pth --output upscaled photo.png
    .venv/bin/python upscale.py --model runs/sample/srgan --output upscaled photos/ 'shots/*.jpg'
    .venv/bin/python upscale.py --model RealESRGAN_x4plus.pth --output upscaled --tile 256 photos/

``--model``: a checkpoint of this project (``<run folder>/<stage>_ema.pth``, ``_best.pth`` or
``_last.pth``; ``<run folder>/<stage>`` takes the first of those that exists), or a release file
of ESRGAN or Real-ESRGAN (``inference.read_generator``). INPUT: image files, folders (the images
in them, not in their subfolders) or glob patterns. Each input becomes ``<output>/<its
name>.png``, 8-bit RGB, ``scale`` times larger.

Inputs must be 8-bit RGB (or palette) images: a file that is not an image, is truncated, or is
16-bit, gray or has an alpha channel gets a message naming it and the reason and is skipped;
the others are still written. The exit status is 0 when every input was written, 1 otherwise.

``--precision auto`` runs bf16 autocast where the device computes bf16 natively (CPUs with
AVX-512 BF16 or AMX, GPUs from sm_80 on), else fp32; report/README.md states what bf16 costs
against fp32 on real images. Networks run channels_last (the same outputs, faster). Whole
images by default; after an out-of-memory error, or with ``--tile``, in overlapping tiles with
the network's ``tile_margin`` (measured: within one level of the whole image's output on 99.99 %
of values; ``--margin exact`` for the receptive radius, bit-exact up to float rounding).
"""
import argparse
import glob
import os
import sys
from pathlib import Path

import torch
from PIL import Image

import inference
import precision
from create_data_lists import IMAGE_EXTENSIONS
from utils import (ImageReadError, image_mode, progress_bar, read_image, signed_to_uint8,
                   uint8_to_unit)

STAGE_FILES = ("_ema.pth", "_best.pth", "_last.pth")  # the generator to use, first found
NOT_RGB8 = {"I;16": "a 16-bit image", "I;16B": "a 16-bit image", "I;16L": "a 16-bit image",
            "I": "a 32-bit integer image", "F": "a 32-bit float image", "L": "a gray image",
            "1": "a 1-bit image", "LA": "a gray image with alpha", "PA": "a palette image with alpha",
            "RGBA": "an image with an alpha channel", "CMYK": "a CMYK image"}


def resolve_model(text):
    """The generator file that ``--model`` names: the file itself, or a run folder's stage.

    Raises:
        FileNotFoundError: naming what was looked for.
    """
    path = Path(text)
    if path.is_file():
        return path
    candidates = [path.with_name(path.name + suffix) for suffix in STAGE_FILES]
    found = next((c for c in candidates if c.is_file()), None)
    if found is None:
        raise FileNotFoundError(f"--model {text}: no such file, nor {', '.join(map(str, candidates))}")
    return found


def collect_inputs(patterns, log=print):
    """The image files that INPUT arguments name (files, folders, globs), in order, once each.

    Returns:
        tuple: (paths, number of arguments that named nothing, each logged).
    """
    paths, missing = [], 0
    for pattern in patterns:
        path = Path(pattern)
        if path.is_dir():
            matches = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
        elif path.exists():
            matches = [path]
        else:
            matches = sorted(Path(p) for p in glob.glob(pattern) if Path(p).is_file())
        if not matches:
            log(f"{pattern}: no such file, or no image in that folder or pattern")
            missing += 1
        paths += [p for p in matches if p not in paths]
    return paths, missing


def read_rgb8(path):
    """An input image as uint8 RGB (H, W, 3).

    Raises:
        ImageReadError: naming the file and why it is not upscaled (not an image, truncated,
            16-bit, gray, with alpha, ...).
    """
    rgb = read_image(path)  # not an image, empty, truncated: its own reason
    mode = image_mode(path)
    if mode in NOT_RGB8:
        raise ImageReadError(path, f"{NOT_RGB8[mode]} (mode {mode}); this command upscales 8-bit "
                                   f"RGB images: convert it first")
    with Image.open(path) as opened:
        if opened.mode == "P" and "transparency" in opened.info:
            raise ImageReadError(path, "a palette image with transparency; this command upscales "
                                       "8-bit RGB images: convert it first")
    return rgb


def autocast_dtype(name, device):
    """``--precision`` as an autocast dtype (None: fp32).

    Raises:
        ValueError: for fp16 off CUDA, or an unknown name.
    """
    if name == "auto":
        native = (precision.cuda_has_native_bf16() if device.type == "cuda"
                  else precision.cpu_has_native_bf16())
        return torch.bfloat16 if native else None
    if name == "fp16" and device.type != "cuda":
        raise ValueError(f"--precision fp16 needs a CUDA device, not {device}")
    dtypes = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
    if name not in dtypes:
        raise ValueError(f"--precision must be auto, fp32, bf16 or fp16, got {name!r}")
    return dtypes[name]


def write_png(img, path):
    """Write uint8 RGB ``img`` to ``path`` through a temporary file (never a half-written PNG)."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        Image.fromarray(img).save(tmp, format="PNG")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def upscale(model, inputs, output, tile=None, margin=None, device="auto", precision_name="auto",
            log=print):
    """Upscale every input image into ``output``. Returns the number of inputs not written."""
    device = inference.resolve_device(device)
    dtype = autocast_dtype(precision_name, device)
    path = resolve_model(model)
    generator = inference.load_generator(path, device=device).to(memory_format=torch.channels_last)
    paths, failed = collect_inputs(inputs, log)
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    log(f"{path}: x{generator.scale}, {sum(p.numel() for p in generator.parameters()):,} parameters; "
        f"{len(paths)} images on {device} in {'fp32' if dtype is None else str(dtype).split('.')[-1]}")
    written = {}
    for src in progress_bar(paths, desc="upscaling", unit="image", dynamic_ncols=True):
        dst = output / f"{src.stem}.png"
        try:
            if dst in written:
                raise ImageReadError(src, f"its output {dst} would overwrite that of {written[dst]}")
            lr = uint8_to_unit(read_rgb8(src)).unsqueeze(0).to(device).contiguous(
                memory_format=torch.channels_last)  # (1, 3, h, w) in [0, 1]
            sr = inference.super_resolve(generator, lr, tile, margin, dtype)  # (1, 3, H, W) in [-1, 1]
            write_png(signed_to_uint8(sr[0]), dst)
            written[dst] = src
        except ImageReadError as err:
            log(f"skipped {err}")
            failed += 1
    log(f"{len(written)} written to {output}, {failed} failed")
    return failed


def margin_arg(text):
    """``--margin``: a number of LR pixels, or ``exact``."""
    return text if text == "exact" else int(text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, folders or globs")
    parser.add_argument("--model", required=True, help="a generator file, or <run folder>/<stage>")
    parser.add_argument("--output", required=True, help="the folder for the PNGs")
    parser.add_argument("--tile", type=int, default=None, help="LR tile side (default: whole images)")
    parser.add_argument("--margin", type=margin_arg, default=None,
                        help="LR context per tile, or 'exact' (the receptive radius); default: the "
                             "network's measured margin where measured, else exact")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16", "fp16"))
    args = parser.parse_args(argv)
    try:
        failed = upscale(args.model, args.inputs, args.output, args.tile, args.margin, args.device,
                         args.precision)
    except (FileNotFoundError, ValueError, RuntimeError) as err:
        print(f"upscale.py: {err}", file=sys.stderr)
        return 2
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
