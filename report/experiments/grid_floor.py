"""Is a grid_pattern score a grid, or the noise floor of texture? (report/notes/README.md, grid)

``metrics.grid_pattern`` averages the high-passed Y channel over the pixels of each phase of the
4x4 output grid. Texture that is not locked to the grid leaves about (its standard deviation) /
sqrt(pixels per phase) in those means; this script prints, for HR and for the outputs of
``report/experiments/gan_ablation.py``'s checkpoints on the sample test images, the score, that floor and
their ratio (mean over the images). A ratio near 2-3 is texture; far above, a pattern.

    .venv/bin/python -m report.experiments.grid_floor HR \
        pretrain_batch_norm-False_channels-32_n_blocks-4_upsampler-resize/srresnet_best.pth \
        sample_resize_conv_s0 sample_resize_conv_s1 sample_resize_bilinear_s0 sample_resize_blur_s0 \
        sample_baseline_s0 sample_resize_grid_1e2_s0
"""
import sys
from pathlib import Path

import numpy as np
import scipy.ndimage
import torch

import inference
from datasets import SRTestDataset
from utils import rgb_to_y, signed_to_uint8

ROOT = Path(__file__).resolve().parents[2]


def grid_and_floor(img, period=4, crop_border=4):
    """(grid_pattern's score, its noise floor) of a uint8 image, in gray levels."""
    gray = rgb_to_y(img) if img.ndim == 3 else img.astype(np.float64)
    gray = gray[crop_border:-crop_border, crop_border:-crop_border]
    h, w = (gray.shape[0] // period) * period, (gray.shape[1] // period) * period
    residual = (gray - scipy.ndimage.uniform_filter(gray, size=period, mode="reflect"))[:h, :w]
    means = residual.reshape(h // period, period, w // period, period).mean(axis=(0, 2))
    return np.sqrt(np.mean(means ** 2)), residual.std() / np.sqrt((h // period) * (w // period))


def main(runs):
    torch.set_num_threads(1)
    dataset = SRTestDataset(ROOT / "data" / "sample" / "sample_test.csv", 4)
    for run in runs:
        if run == "HR":
            outputs = [dataset[i]["hr"] for i in range(len(dataset))]
        else:
            path = ROOT / "runs" / "gan_ablation" / run
            generator = inference.load_generator(path if path.suffix == ".pth" else path / "srgan_last.pth")
            outputs = [signed_to_uint8(inference.super_resolve(generator, dataset[i]["lr"][None])[0])
                       for i in range(len(dataset))]
        scores = np.array([grid_and_floor(img) for img in outputs])
        print(f"{run}: grid {scores[:, 0].mean():.3f}, floor {scores[:, 1].mean():.3f}, "
              f"ratio {np.mean(scores[:, 0] / scores[:, 1]):.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
