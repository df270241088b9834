"""Full-reference measures that tell added detail from noise, and their calibration.

NIQE, and any measure of "more high-frequency energy", reward a generator that adds noise. The
measures here compare an output's fine-scale energy with HR's, window by window, in luma and in
chroma separately (report/notes/README.md, speckle):

- the fine band of a channel is the channel minus its Gaussian blur (sigma 2 HR pixels: about
  the frequencies above the x4 LR image's Nyquist limit, the detail a x4 model must add);
- its energy is taken per 16x16 window (4x4 LR pixels), in gray levels squared, on the
  full-range BT.601 luma and on the chroma (Cb^2 + Cr^2; a gray HR image has none);
- HR's windows are ranked by their luma energy: the top third are "textured", the bottom third
  "flat".

:func:`detail_measures` returns, for one output against its HR image:

| key | what | HR's value | blur | noise |
|---|---|---|---|---|
| ``luma`` | fine luma energy / HR's | 1 | < 1 | > 1 |
| ``chroma`` | fine chroma energy / HR's fine luma energy | HR's own | lower | higher (chroma noise) |
| ``chroma_error`` | fine chroma energy of output - HR / HR's fine luma energy | 0 | up | up |
| ``missing`` | HR's energy the output lacks in textured windows / their energy | 0 | up | down |
| ``false`` | energy the output adds in flat windows / the textured windows' energy | 0 | 0 | up |
| ``placement`` | share of the output's fine luma energy in HR's textured windows | HR's own | ~HR's | down |
| ``spectral`` | mean per-window energy mismatch, abs(10 log10 ratio), dB | 0 | up | up |
| ``colour_shift`` | RMS of the coarse (sigma 4) Cb and Cr differences from HR, gray levels | 0 | ~0 | ~0 |

``spectral`` punishes blur and noise alike and ranks HR best; ``missing`` and ``false`` say
which of the two an output has; ``chroma`` and ``chroma_error`` are the colour speckle;
``placement`` says whether detail is where HR has it (a blur scales every window alike and
keeps it; noise spreads energy into the flat windows and lowers it). A first version of
``placement``, the correlation of log energies, moved with additions far below visibility in
HR's flattest windows (0.5 gray levels RMS doubles a log energy there) and was replaced. None of them is a training
loss (a measure that a generator is trained on stops measuring it).

Calibration (this module's ``main``): controlled degradations of the HR images (blur, bicubic
down- and upscaling, luma noise, chroma noise, unsharp masking, a pattern locked to the 4x4
grid), scored on the sample test images and, when ``../shared/data`` is there, Set5:

    .venv/bin/python -m report.experiments.detail_measures --results report/results/detail_calibration.json
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np
import scipy.ndimage

import inference
from config import SHARED_ROOT
from datasets import SRTestDataset
from imresize import imresize
from utils import signed_to_uint8

ROOT = Path(__file__).resolve().parents[2]
SIGMA = 2.0  # Gaussian of the fine band, HR pixels
WINDOW = 16  # window side, HR pixels
EPS = 1.0  # gray levels^2 added to every window energy before a logarithm (quantisation ~ 1/12)
KEYS = ("luma", "chroma", "chroma_error", "missing", "false", "placement", "spectral", "colour_shift")
COARSE = 4.0  # Gaussian of the coarse scale (colour shift), HR pixels


def ycbcr(img):
    """Full-range BT.601 (JPEG's) Y, Cb, Cr of a uint8 image, float64 (H, W, 3); a gray image
    (H, W) has Cb = Cr = 0 (centred)."""
    if img.ndim == 2:
        y = img.astype(np.float64)
        return np.stack([y, np.zeros_like(y), np.zeros_like(y)], axis=-1)
    r, g, b = np.moveaxis(img.astype(np.float64), -1, 0)
    return np.stack([0.299 * r + 0.587 * g + 0.114 * b,
                     -0.168736 * r - 0.331264 * g + 0.5 * b,
                     0.5 * r - 0.418688 * g - 0.081312 * b], axis=-1)


def window_energies(img, crop_border=4, sigma=SIGMA, window=WINDOW, minus=None):
    """Fine-band energy per window of the luma and of the chroma of a uint8 image (of the
    image minus ``minus``, another uint8 image of its size, when given).

    Returns:
        tuple: two float64 arrays (H // window, W // window), gray levels^2 (after cropping
        ``crop_border`` pixels from each side).
    """
    channels = ycbcr(img) - (0 if minus is None else ycbcr(minus))
    if crop_border:
        channels = channels[crop_border:-crop_border, crop_border:-crop_border]
    fine = channels - scipy.ndimage.gaussian_filter(channels, (sigma, sigma, 0), mode="reflect")
    h, w = (fine.shape[0] // window) * window, (fine.shape[1] // window) * window
    power = (fine[:h, :w] ** 2).reshape(h // window, window, w // window, window, 3).mean(axis=(1, 3))
    return power[..., 0], power[..., 1] + power[..., 2]


def detail_measures(sr, hr, crop_border=4):
    """The measures of the module docstring for one output ``sr`` against ``hr``.

    Args:
        sr (ndarray): uint8 (H, W, 3) or (H, W).
        hr (ndarray): uint8 (H, W, 3) or (H, W), the same H and W.
        crop_border (int): pixels removed from each side first (the scale, 4).

    Returns:
        dict: ``KEYS`` -> float.
    """
    if sr.shape[:2] != hr.shape[:2]:
        raise ValueError(f"sr and hr differ in size: {sr.shape[:2]} and {hr.shape[:2]}")
    luma_x, chroma_x = window_energies(sr, crop_border)
    luma_h, _ = window_energies(hr, crop_border)
    _, chroma_error = window_energies(sr, crop_border, minus=hr)
    textured = luma_h >= np.quantile(luma_h, 2 / 3)
    flat = luma_h <= np.quantile(luma_h, 1 / 3)
    norm = luma_h[textured].mean()
    log_x, log_h = np.log10(luma_x + EPS), np.log10(luma_h + EPS)
    chroma_diff = (ycbcr(sr) - ycbcr(hr))[..., 1:]
    if crop_border:
        chroma_diff = chroma_diff[crop_border:-crop_border, crop_border:-crop_border]
    coarse = scipy.ndimage.gaussian_filter(chroma_diff, (COARSE, COARSE, 0), mode="reflect")
    return {"luma": float(luma_x.mean() / luma_h.mean()),
            "chroma": float(chroma_x.mean() / luma_h.mean()),
            "chroma_error": float(chroma_error.mean() / luma_h.mean()),
            "missing": float(np.maximum(luma_h - luma_x, 0)[textured].mean() / norm),
            "false": float(np.maximum(luma_x - luma_h, 0)[flat].mean() / norm),
            "placement": float(luma_x[textured].sum() / luma_x.sum()),
            "spectral": float(np.mean(np.abs(10 * (log_x - log_h)))),
            "colour_shift": float(np.sqrt(np.mean(coarse ** 2)))}


def mean_measures(pairs):
    """The mean of :func:`detail_measures` over ``(sr, hr)`` pairs."""
    rows = [detail_measures(sr, hr) for sr, hr in pairs]
    return {key: float(np.mean([row[key] for row in rows])) for key in KEYS}


def generator_measures(generator, dataset, device="cpu"):
    """The mean measures of ``generator``'s outputs on a test dataset (``SRTestDataset``)."""
    def pairs():
        for item in dataset:
            sr = inference.super_resolve(generator, item["lr"].unsqueeze(0).to(device))[0]  # (3, H, W) in [-1, 1]
            yield signed_to_uint8(sr), item["hr"]
    return mean_measures(pairs())


# ----------------------------------------------------------------------------------------------
# Calibration: controlled degradations of HR
# ----------------------------------------------------------------------------------------------
def _to_uint8(x):
    return np.clip(np.round(x), 0, 255).astype(np.uint8)


def _rgb(img):
    return np.repeat(img[..., None], 3, axis=-1) if img.ndim == 2 else img


def _from_ycbcr(ycc):
    y, cb, cr = np.moveaxis(ycc, -1, 0)
    return _to_uint8(np.stack([y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb], -1))


def _blur(img, sigma):
    return _to_uint8(scipy.ndimage.gaussian_filter(_rgb(img).astype(np.float64), (sigma, sigma, 0)))


def _bicubic(img, scale=4):
    h, w = (img.shape[0] // scale) * scale, (img.shape[1] // scale) * scale
    lr = imresize(_rgb(img)[:h, :w], 1 / scale)
    out = _rgb(img).copy()
    out[:h, :w] = imresize(lr, scale)
    return out


def _noise(img, sigma, channels, rng):
    ycc = ycbcr(_rgb(img))
    ycc[..., channels] += rng.normal(0, sigma, ycc[..., channels].shape)
    return _from_ycbcr(ycc)


def _unsharp(img, amount, sigma=1.0):
    x = _rgb(img).astype(np.float64)
    return _to_uint8(x + amount * (x - scipy.ndimage.gaussian_filter(x, (sigma, sigma, 0))))


def _grid(img, amplitude, period=4, seed=0):
    pattern = np.random.default_rng(seed).normal(0, 1, (period, period))
    pattern *= amplitude / pattern.std()
    h, w = img.shape[:2]
    tiled = np.tile(pattern, (h // period + 1, w // period + 1))[:h, :w]
    return _to_uint8(_rgb(img).astype(np.float64) + tiled[..., None])


def _cast(img, levels):
    ycc = ycbcr(_rgb(img))
    ycc[..., 1] += levels
    ycc[..., 2] -= levels
    return _from_ycbcr(ycc)


DEGRADATIONS = {  # name: (HR uint8, numpy Generator) -> uint8 RGB
    "HR": lambda img, rng: _rgb(img),
    "blur 0.7": lambda img, rng: _blur(img, 0.7),
    "blur 1.5": lambda img, rng: _blur(img, 1.5),
    "bicubic x4": lambda img, rng: _bicubic(img),
    "luma noise 2": lambda img, rng: _noise(img, 2.0, [0], rng),
    "luma noise 5": lambda img, rng: _noise(img, 5.0, [0], rng),
    "chroma noise 2": lambda img, rng: _noise(img, 2.0, [1, 2], rng),
    "chroma noise 5": lambda img, rng: _noise(img, 5.0, [1, 2], rng),
    "unsharp 0.5": lambda img, rng: _unsharp(img, 0.5),
    "unsharp 1.5": lambda img, rng: _unsharp(img, 1.5),
    "grid 4x4, 2 levels": lambda img, rng: _grid(img, 2.0),
    "colour cast 2": lambda img, rng: _cast(img, 2.0),
    "blur 1.5 + luma noise 5": lambda img, rng: _noise(_blur(img, 1.5), 5.0, [0], rng),
}


def calibrate(lists, seed=0):
    """Mean measures of every degradation on the HR images of each test list."""
    results = {}
    for name, path in lists.items():
        images = [item["hr"] for item in SRTestDataset(path, 4)]
        rng = np.random.default_rng(seed)
        results[name] = {label: mean_measures((degrade(hr, rng), hr) for hr in images)
                         for label, degrade in DEGRADATIONS.items()}
    return results


def table(results):
    """A markdown table: one row per (set, degradation)."""
    lines = ["| set | image | " + " | ".join(KEYS) + " |", "|---|---|" + "---|" * len(KEYS)]
    for set_name, rows in results.items():
        for label, row in rows.items():
            lines.append(f"| {set_name} | {label} | " + " | ".join(f"{row[k]:.3f}" for k in KEYS) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=ROOT / "report" / "results" / "detail_calibration.json")
    args = parser.parse_args()
    lists = {"Sample": ROOT / "data" / "sample" / "sample_test.csv"}
    if not lists["Sample"].exists():
        sys.exit(f"{lists['Sample']} is missing: run the README's first command (or "
                 f"train.make_lists) to make the sample data")
    set5 = SHARED_ROOT / "Set5"
    if set5.is_dir():  # HR only: the degradations are made here
        lists["Set5"] = [(path, None) for path in sorted((set5 / "HR").glob("*.png"))]
    results = calibrate(lists)
    print(table(results))
    args.results.write_text(json.dumps({"results": results, "command": "report/experiments/detail_measures.py "
                                        + " ".join(sys.argv[1:])}, indent=1) + "\n")


if __name__ == "__main__":
    main()
