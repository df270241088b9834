"""Upscale image files with a trained generator or a published one, from the command line.

    .venv/bin/python upscale.py -m runs/sample/srgan -o upscaled photo.jpg photos/ 'shots/*.png'
    .venv/bin/python upscale.py -m RealESRGAN_x4plus.pth -o upscaled -s 2 --suffix _x2 -t 256 photos/

The command line of ``inference``: :func:`plan` checks every option and names every output
before the model is loaded (an output that would replace an input, or a file this run did not
write, is refused); :func:`read_picture` reads any common kind of image (8- and 16-bit, gray,
alpha, palette, CMYK, EXIF-rotated) as float RGB in [0, 1] with its alpha and metadata;
:func:`upscale_picture` runs the network (and the alpha's upscaler, and ``--outscale``'s
resize); :func:`write_picture` writes it back as the same kind of image, atomically. The
notebooks do not use it; ``README.md`` shows it, and ``benchmarks/bench_upscale.py`` measures
its precisions.
"""
import argparse
import glob
import math
import os
import re
import struct
import sys
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageCms

import inference
from create_data_lists import IMAGE_EXTENSIONS
from imresize import imresize
from utils import ImageReadError, progress_bar, read_image

EXIT_OK, EXIT_FAILED_INPUTS, EXIT_ERROR = 0, 1, 2
STAGE_FILES = ("_ema.pth", "_best.pth", "_last.pth")  # the generator to use, first found
WRITERS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".bmp": "BMP",
           ".tif": "TIFF", ".tiff": "TIFF"}  # what --ext auto keeps; other inputs become PNG
EXTENSIONS = ("auto", "png", "jpg", "webp")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
ALPHA_METHODS = ("network", "bicubic")
EXIF_ORIENTATION = 0x0112


class UsageError(ValueError):
    """An option or an output path that the command refuses before it loads the model."""


# ----------------------------------------------------------------------------------------------
# Reading: any common image as float RGB in [0, 1], its alpha and its metadata
# ----------------------------------------------------------------------------------------------
@dataclass
class Picture:
    """An image as the network takes it, and what its output must be written as."""
    rgb: np.ndarray                 # (H, W, 3) float32 in [0, 1]; gray images in all three
    alpha: np.ndarray = None        # (H, W) float32 in [0, 1], or None
    gray: bool = False              # written back as one channel
    bits: int = 8                   # 8 or 16 per channel, written back as read
    icc: bytes = None               # ICC profile, carried to the output
    exif: bytes = None              # EXIF, orientation removed once applied
    format: str = "PNG"             # PIL's name of the input's format
    notes: list = field(default_factory=list)  # conversions done, said in the per-image line


def orient(img, orientation):
    """``img`` (H, W, ...) as EXIF ``orientation`` (1-8) says to show it (PIL's exif_transpose)."""
    ops = {1: lambda a: a, 2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
           5: lambda a: a.swapaxes(0, 1), 6: lambda a: a[::-1].swapaxes(0, 1),
           7: lambda a: a[::-1, ::-1].swapaxes(0, 1), 8: lambda a: a[:, ::-1].swapaxes(0, 1)}
    return np.ascontiguousarray(ops.get(orientation, ops[1])(img))


def _sixteen_bit_colour(img):
    """Whether PIL opened a 16-bit-per-channel colour file, which it can only read as 8-bit."""
    return img.mode in ("RGB", "RGBA") and any(";16" in str(t.args) for t in img.tile)


def _read_with_opencv(path):
    """A 16-bit colour file as uint16 RGB(A) (OpenCV reads every bit; PIL keeps the high byte)."""
    import cv2
    data = cv2.imread(str(path), cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION)
    if data is None or data.dtype != np.uint16:
        raise ImageReadError(path, "a 16-bit colour image that OpenCV cannot decode")
    return data[..., [2, 1, 0, 3][:data.shape[2]]]


def read_picture(path):
    """An input file as a :class:`Picture`.

    8-bit RGB, gray (``L``, ``1``), gray or RGB with alpha, palette (with or without
    transparency), CMYK (converted to sRGB through its ICC profile where it has one), 16-bit
    gray and RGB(A); EXIF orientation applied.

    Raises:
        ImageReadError: naming the file and the reason (not an image, truncated, a float image).
    """
    read_image(path)  # not an image, empty, truncated: its own reason
    with Image.open(path) as img:
        info, fmt, mode = dict(img.info), img.format or "PNG", img.mode
        sixteen_bit_colour = _sixteen_bit_colour(img)  # before getexif(), which decodes
        orientation = img.getexif().get(EXIF_ORIENTATION, 1)
        exif = img.getexif()
        exif.pop(EXIF_ORIENTATION, None)
        picture = Picture(rgb=None, icc=info.get("icc_profile"), exif=exif.tobytes() if len(exif) else None,
                          format=fmt)
        if sixteen_bit_colour:
            data = _read_with_opencv(path).astype(np.float32) / 65535
            picture.rgb, picture.bits = data[..., :3], 16
            picture.alpha = data[..., 3] if data.shape[2] == 4 else None
        elif mode in ("I;16", "I;16B", "I;16L", "I"):
            values = np.asarray(img, dtype=np.float32)
            if values.max(initial=0) > 65535 or values.min(initial=0) < 0:
                raise ImageReadError(path, f"a 32-bit integer image (mode {mode}) outside 0..65535")
            picture.rgb, picture.gray, picture.bits = np.repeat(values[..., None] / 65535, 3, 2), True, 16
        elif mode == "F":
            raise ImageReadError(path, "a 32-bit float image (mode F): convert it to 8 or 16 bits first")
        else:
            if mode == "CMYK":
                picture.notes.append("CMYK converted to sRGB" + (" through its ICC profile" if picture.icc else ""))
                img = _cmyk_to_srgb(img, picture.icc)
                picture.icc = None  # the CMYK profile does not describe the RGB output
            elif mode == "P":
                img = img.convert("RGBA" if "transparency" in info else "RGB")
            elif mode == "PA":
                img = img.convert("RGBA")
            elif mode == "1":
                img = img.convert("L")
            elif mode not in ("RGB", "RGBA", "L", "LA"):
                picture.notes.append(f"mode {mode} converted to RGB")
                img = img.convert("RGB")
            data = np.asarray(img, dtype=np.float32) / 255
            picture.gray = img.mode in ("L", "LA")
            if picture.gray:
                data = np.stack([data] * 3 if data.ndim == 2 else [data[..., 0]] * 3 + [data[..., 1]], axis=2)
            picture.rgb = data[..., :3]
            picture.alpha = data[..., 3] if data.shape[2] == 4 else None
    if picture.alpha is not None and picture.alpha.min() == 1.0:
        picture.alpha = None  # an alpha channel that is opaque everywhere: an RGB image
    if orientation != 1:
        picture.notes.append(f"EXIF orientation {orientation} applied")
        picture.rgb = orient(picture.rgb, orientation)
        picture.alpha = None if picture.alpha is None else orient(picture.alpha, orientation)
    return picture


def _cmyk_to_srgb(img, icc):
    """A CMYK PIL image in sRGB: through its own ICC profile where it has one, else PIL's
    naive conversion."""
    if icc:
        try:
            import io
            return ImageCms.profileToProfile(img, ImageCms.ImageCmsProfile(io.BytesIO(icc)),
                                             ImageCms.createProfile("sRGB"), outputMode="RGB")
        except (ImageCms.PyCMSError, OSError):
            pass
    return img.convert("RGB")


# ----------------------------------------------------------------------------------------------
# Upscaling
# ----------------------------------------------------------------------------------------------
def autocast_dtype(name, device):
    """``--precision`` as an autocast dtype (None: fp32). ``auto``: fp16 on CUDA, fp32 on the
    CPU, the fastest settings that keep the output within one uint8 level of fp32's
    (report/README.md, "Inference with published generators").

    Raises:
        ValueError: for fp16 off CUDA, or an unknown name.
    """
    if name == "auto":
        return torch.float16 if device.type == "cuda" else None
    if name == "fp16" and device.type != "cuda":
        raise ValueError(f"--precision fp16 needs a CUDA device, not {device}")
    dtypes = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
    if name not in dtypes:
        raise ValueError(f"--precision must be one of {', '.join(PRECISIONS)}, got {name!r}")
    return dtypes[name]


def _network(generator, rgb, device, tile, margin, dtype):
    """(H, W, 3) float in [0, 1] -> (sH, sW, 3) float32 in [0, 1] through the generator."""
    lr = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1))).unsqueeze(0).to(device)
    lr = lr.contiguous(memory_format=torch.channels_last)  # (1, 3, h, w) in [0, 1]
    with torch.inference_mode():
        sr = inference.super_resolve(generator, lr, tile, margin, dtype)  # (1, 3, H, W) in [-1, 1]
    return ((sr[0].clamp(-1, 1) + 1) / 2).permute(1, 2, 0).cpu().numpy()  # (H, W, 3) in [0, 1]


def upscale_picture(generator, picture, device, outscale=None, tile=None, margin=None, dtype=None,
                    alpha_method="network"):
    """The upscaled :class:`Picture`: colour through the network, alpha through the network
    (as gray) or MATLAB's bicubic, then a MATLAB-bicubic resize of both to ``outscale`` times
    the input where it differs from the network's scale."""
    h, w = picture.rgb.shape[:2]
    rgb = _network(generator, picture.rgb, device, tile, margin, dtype)
    alpha = picture.alpha
    if alpha is not None:
        alpha = (_network(generator, np.repeat(alpha[..., None], 3, 2), device, tile, margin, dtype).mean(2)
                 if alpha_method == "network" else imresize(alpha.astype(np.float64), generator.scale))
    if outscale is not None and outscale != generator.scale:
        size = (max(1, round(h * outscale)), max(1, round(w * outscale)))
        rgb = imresize(rgb.astype(np.float64), output_shape=size)
        alpha = None if alpha is None else imresize(alpha.astype(np.float64), output_shape=size)
    rgb = np.clip(rgb, 0, 1)
    alpha = None if alpha is None else np.clip(alpha, 0, 1)
    return Picture(rgb=rgb, alpha=alpha, gray=picture.gray, bits=picture.bits, icc=picture.icc,
                   exif=picture.exif, format=picture.format, notes=picture.notes)


# ----------------------------------------------------------------------------------------------
# Writing: the same kind of image, never half a file
# ----------------------------------------------------------------------------------------------
def output_kind(picture_format, has_alpha, bits, ext):
    """(file extension, PIL format) of the output: ``--ext``, else the input's own format where
    PIL writes it; PNG for alpha and for 16-bit data (JPEG and WebP have no 16 bits)."""
    if ext == "auto":
        fmt = "JPEG" if picture_format == "MPO" else picture_format  # MPO: a phone's JPEG
        fmt = fmt if fmt in WRITERS.values() else "PNG"
    else:
        fmt = {"png": "PNG", "jpg": "JPEG", "webp": "WEBP"}[ext]
    if (has_alpha and fmt not in ("PNG", "WEBP", "TIFF")) or (bits == 16 and fmt != "PNG"):
        fmt = "PNG"
    return {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp", "BMP": ".bmp", "TIFF": ".tif"}[fmt], fmt


def _quantise(values, bits):
    top = 2 ** bits - 1
    return np.floor(values * top + 0.5).astype(np.uint16 if bits == 16 else np.uint8)


def _png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _sixteen_bit_png(channels, icc, exif):
    """A 16-bit PNG (uint16 (H, W) or (H, W, 3|4)) with its ICC profile and EXIF, as bytes."""
    import cv2
    if channels.ndim == 3:
        channels = channels[..., [2, 1, 0, 3][:channels.shape[2]]]  # OpenCV writes BGR(A)
    ok, encoded = cv2.imencode(".png", channels)
    if not ok:
        raise OSError("OpenCV could not encode a 16-bit PNG")
    data = encoded.tobytes()
    extra = b""
    if icc:
        extra += _png_chunk(b"iCCP", b"ICC profile\0\0" + zlib.compress(icc))
    if exif:
        extra += _png_chunk(b"eXIf", exif[6:] if exif.startswith(b"Exif\0\0") else exif)
    end_of_ihdr = 8 + 8 + 13 + 4  # signature, IHDR's length and type, its 13 bytes, its CRC
    return data[:end_of_ihdr] + extra + data[end_of_ihdr:]


def write_picture(picture, path, fmt):
    """Write ``picture`` to ``path`` in ``fmt`` through a temporary file in the same folder."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    rgb = picture.rgb.mean(2) if picture.gray else picture.rgb
    bits = picture.bits if fmt == "PNG" else 8
    channels = _quantise(rgb, bits)
    if picture.alpha is not None:
        alpha = _quantise(picture.alpha, bits)
        channels = np.dstack([channels] * 3 + [alpha] if picture.gray else [channels, alpha])
    try:
        if bits == 16:
            tmp.write_bytes(_sixteen_bit_png(channels, picture.icc, picture.exif))
        else:
            options = {"icc_profile": picture.icc} if picture.icc and fmt != "BMP" else {}
            if picture.exif and fmt in ("PNG", "JPEG", "WEBP", "TIFF"):
                options["exif"] = picture.exif
            if fmt == "JPEG":
                options["quality"] = 95
            if fmt == "WEBP":
                options["lossless"] = True
            Image.fromarray(channels).save(tmp, format=fmt, **options)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# ----------------------------------------------------------------------------------------------
# The plan: every option checked and every output named before the model is loaded
# ----------------------------------------------------------------------------------------------
def resolve_model(text):
    """The generator file that ``--model`` names: the file itself, or a run folder's stage.

    Raises:
        UsageError: naming what was looked for.
    """
    path = Path(text)
    if path.is_file():
        return path
    candidates = [path.with_name(path.name + suffix) for suffix in STAGE_FILES]
    found = next((c for c in candidates if c.is_file()), None)
    if found is None:
        raise UsageError(f"--model {text}: no such file, nor {', '.join(map(str, candidates))}")
    return found


def collect_inputs(patterns, log):
    """The image files that INPUT arguments name (files, folders, globs), in order, once each.

    Returns:
        tuple: (paths, number of arguments that named nothing, each logged).
    """
    paths, missing = [], 0
    for pattern in patterns:
        path = Path(pattern)
        if path.is_dir():
            matches = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
        elif path.exists():
            matches = [path]
        else:
            matches = sorted(Path(p) for p in glob.glob(pattern) if Path(p).is_file())
        if not matches:
            log(f"{pattern}: no such file, or no image in that folder or pattern")
            missing += 1
        paths += [p for p in matches if p not in paths]
    return paths, missing


def _header(path):
    """(PIL format, has alpha, bits) from the file's header; (None, False, 8) if unreadable."""
    try:
        with Image.open(path) as img:
            alpha = img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)
            bits = 16 if img.mode.startswith("I") or _sixteen_bit_colour(img) else 8
            return img.format, alpha, bits
    except (OSError, ValueError, SyntaxError):
        return None, False, 8


@dataclass
class Plan:
    """What a run will do: the model file, the device and precision, each input's output."""
    model: Path
    device: torch.device
    dtype: torch.dtype
    outputs: dict             # {input path: (output path, PIL format)}
    missing: int              # INPUT arguments that named nothing
    output_dir: Path


def plan(args, log):
    """Check the options and name every output; nothing is loaded or written.

    Raises:
        UsageError: for a bad option, an output folder that is a file, or outputs that would
            replace an input, another input's output or (without ``--overwrite``) a file
            this run did not write: each named.
    """
    if args.tile < 0:
        raise UsageError(f"--tile {args.tile}: a tile side must be 0 (whole images) or positive")
    if isinstance(args.margin, int) and args.margin < 0:
        raise UsageError(f"--margin {args.margin}: a margin must be 'exact' or 0 or more LR pixels")
    if args.outscale is not None and not (0 < args.outscale <= 64 and math.isfinite(args.outscale)):
        raise UsageError(f"--outscale {args.outscale}: a factor must be above 0 and at most 64")
    if not re.fullmatch(r"auto|cpu|cuda(:\d+)?", args.device):
        raise UsageError(f"--device {args.device!r}: auto, cpu, cuda or cuda:N")
    if "/" in args.suffix or "\\" in args.suffix:
        raise UsageError(f"--suffix {args.suffix!r}: a suffix cannot hold a path separator")
    try:
        device = inference.resolve_device(args.device)
        if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
            raise UsageError(f"--device {args.device}: this machine has {torch.cuda.device_count()} CUDA GPU(s)")
        dtype = autocast_dtype(args.precision, device)
    except (RuntimeError, ValueError) as err:
        raise UsageError(str(err)) from None
    model = resolve_model(args.model)
    output = Path(args.output)
    if output.exists() and not output.is_dir():
        raise UsageError(f"--output {output}: a file, not a folder")
    paths, missing = collect_inputs(args.inputs, log)
    inputs = {p.resolve() for p in paths}
    outputs, taken, conflicts = {}, {}, []
    for path in paths:
        fmt, alpha, bits = _header(path)
        ext, fmt = output_kind(fmt, alpha, bits, args.ext)
        target = output / f"{path.stem}{args.suffix}{ext}"
        resolved = target.resolve()
        if resolved in inputs:
            conflicts.append(f"{target} would replace an input")
        elif resolved in taken:
            conflicts.append(f"{target} would be written for both {taken[resolved]} and {path}")
        elif target.exists() and not args.overwrite:
            conflicts.append(f"{target} exists (--overwrite to replace it)")
        taken[resolved] = path
        outputs[path] = (target, fmt)
    if conflicts:
        shown = conflicts[:10] + ([f"... and {len(conflicts) - 10} more"] if len(conflicts) > 10 else [])
        raise UsageError("refused, nothing written: " + "; ".join(shown) +
                         ". Choose another --output or a --suffix")
    return Plan(model, device, dtype, outputs, missing, output)


# ----------------------------------------------------------------------------------------------
# The command
# ----------------------------------------------------------------------------------------------
def run(args, log=print, warn=None):
    """Upscale what ``args`` names. Returns the exit status (0, 1: some inputs not written)."""
    warn = warn or (lambda message: print(message, file=sys.stderr))
    the_plan = plan(args, warn)
    if not the_plan.outputs:
        warn("no image to upscale")
        return EXIT_FAILED_INPUTS
    generator = inference.load_generator(the_plan.model, device=the_plan.device)
    generator = generator.eval().to(memory_format=torch.channels_last)
    tile = args.tile or None
    precision_name = "fp32" if the_plan.dtype is None else str(the_plan.dtype).split(".")[-1]
    outscale = args.outscale or generator.scale
    log(f"{the_plan.model}: x{generator.scale} network, {sum(p.numel() for p in generator.parameters()):,} "
        f"parameters; {len(the_plan.outputs)} images on {the_plan.device} in {precision_name}, output x{outscale:g}"
        + ("" if outscale == generator.scale else " (MATLAB-bicubic resize of the network's output)"))
    created = not the_plan.output_dir.exists()
    written, failed, started, megapixels = [], the_plan.missing, time.perf_counter(), 0.0
    try:
        for src, (dst, fmt) in progress_bar(the_plan.outputs.items(), desc="upscaling", unit="image",
                                            dynamic_ncols=True):
            begun = time.perf_counter()
            try:
                picture = read_picture(src)
            except ImageReadError as err:
                warn(f"skipped {err}")
                failed += 1
                continue
            out = upscale_picture(generator, picture, the_plan.device, outscale, tile, args.margin,
                                  the_plan.dtype, args.alpha)
            dst.parent.mkdir(parents=True, exist_ok=True)
            write_picture(out, dst, fmt)
            written.append(dst)
            h, w = picture.rgb.shape[:2]
            oh, ow = out.rgb.shape[:2]
            megapixels += oh * ow / 1e6
            kind = (("gray" if picture.gray else "RGB") + ("A" if picture.alpha is not None else "")
                    + f" {picture.bits}-bit")
            log(f"{src}: {w}x{h} -> {ow}x{oh} {kind}, {time.perf_counter() - begun:.2f} s -> {dst}"
                + "".join(f"; {note}" for note in picture.notes)
                + (f"; alpha by {args.alpha}" if picture.alpha is not None else ""))
    finally:
        if created and the_plan.output_dir.exists() and not any(the_plan.output_dir.iterdir()):
            the_plan.output_dir.rmdir()  # a run that wrote nothing leaves no folder
    seconds = time.perf_counter() - started
    log(f"{len(written)} written to {the_plan.output_dir}, {failed} failed; "
        f"{len(written) / seconds:.2f} images/s, {megapixels / seconds:.2f} output Mpix/s")
    return EXIT_FAILED_INPUTS if failed else EXIT_OK


def margin_arg(text):
    """``--margin``: a number of LR pixels, or ``exact``."""
    if text == "exact":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is neither 'exact' nor a number of LR pixels") from None


HELP = """\
inputs: image files, folders (their images, not their subfolders) and glob patterns. Any
  common kind: 8- and 16-bit RGB, gray, gray or RGB with alpha, palette images (with
  transparency too), CMYK (converted to sRGB, through its ICC profile where it has one);
  EXIF orientation is applied.
outputs: <output>/<name><suffix>.<ext>, the same kind as the input: gray stays gray, 16-bit
  stays 16-bit (PNG), alpha is upscaled (--alpha) and written as PNG; ICC profile and EXIF are
  carried where the format holds them. Every output is named before the model loads: one that
  would replace an input, another input's output, or an existing file (without --overwrite)
  stops the run with nothing written. Files are written whole or not at all.
precision: auto is fp16 autocast on CUDA and fp32 on the CPU, which keep the output within
  one level of fp32's; bf16 is faster on CPUs with native bf16 but moves a few percent of the
  values by two or more levels (report/README.md, "Inference with published generators").
exit status: 0 every input written; 1 some inputs could not be read (each named on stderr,
  the others written); 2 a bad option, a refused output, a missing model or another error
  (nothing more written).
"""


def parser():
    p = argparse.ArgumentParser(prog="upscale.py", description=__doc__.split("\n\n")[0], epilog=HELP,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, folders or globs")
    p.add_argument("-m", "--model", required=True,
                   help="a generator file (a checkpoint, or an ESRGAN / Real-ESRGAN release .pth), "
                        "or <run folder>/<stage> for its _ema, _best or _last checkpoint")
    p.add_argument("-o", "--output", required=True, help="the folder for the outputs (made if needed)")
    p.add_argument("-s", "--outscale", type=float, default=None,
                   help="output size / input size (default: the network's scale); other factors "
                        "resize the network's output with MATLAB's bicubic")
    p.add_argument("--suffix", default="", help="added to each output's name (default: none)")
    p.add_argument("--ext", choices=EXTENSIONS, default="auto",
                   help="output format; auto: the input's own where it can hold the result, else PNG")
    p.add_argument("-t", "--tile", type=int, default=0,
                   help="LR tile side, 0 for whole images (default; tiles after an out-of-memory error)")
    p.add_argument("--margin", type=margin_arg, default=None,
                   help="LR context per tile, or 'exact' (the receptive radius); default: the "
                        "network's measured margin where measured, else exact")
    p.add_argument("-d", "--device", default="auto", help="auto (default), cpu, cuda or cuda:N")
    p.add_argument("-p", "--precision", default="auto", choices=PRECISIONS,
                   help="auto (default): fp16 on CUDA, fp32 on the CPU")
    p.add_argument("--alpha", default="network", choices=ALPHA_METHODS,
                   help="how an alpha channel is upscaled: through the network as gray (default) "
                        "or by MATLAB's bicubic")
    p.add_argument("--overwrite", action="store_true", help="replace existing files (never an input)")
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        return run(args)
    except UsageError as err:
        print(f"upscale.py: {err}", file=sys.stderr)
    except Exception as err:  # noqa: BLE001 - every error is a message and exit status 2
        print(f"upscale.py: error: {type(err).__name__}: {err}", file=sys.stderr)
    return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
