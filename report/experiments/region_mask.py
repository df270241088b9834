"""Where the sample presets' adversary looks: the textured regions (``stage.d_regions``,
Beby-GAN's region-aware adversarial learning, ``archs.discriminators.TexturedRegions``) of a
test image at several thresholds, drawn over ``test.ipynb``'s crop (report/notes/README.md,
fur: why the GAN stage draws no hairs in the cat's fur).

Where the mask is 0 (black), D sees the blurred image and the ``flat`` term asks the generator
for the pixel MSE again, so the GAN stage is told to draw no texture there.

    .venv/bin/python -m report.experiments.region_mask --thresholds 0.025 0.06 \\
        --figure report/figures/d_regions_chelsea.png
"""
import argparse
import shlex
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from archs.discriminators import TexturedRegions
from datasets import SRTestDataset
from report.experiments.quickstart_seeds import crop

ROOT = Path(__file__).resolve().parents[2]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", default=str(ROOT / "data" / "sample" / "sample_test.csv"))
    parser.add_argument("--thresholds", type=float, nargs="+", required=True,
                        help="local standard deviations of the upscaled LR luma on [0, 1]")
    parser.add_argument("--figure", type=Path, required=True)
    args = parser.parse_args()

    item = SRTestDataset(args.list, 4)[0]
    hr = item["hr"]  # (H, W, 3) uint8
    lr = item["lr"].unsqueeze(0)  # (1, 3, h, w) in [0, 1]
    fig, axes = plt.subplots(1, 1 + len(args.thresholds), figsize=(3.2 * (1 + len(args.thresholds)), 3.6))
    axes[0].imshow(crop(hr), interpolation="nearest")
    axes[0].set_title("HR")
    for ax, threshold in zip(axes[1:], args.thresholds):
        mask = TexturedRegions(threshold=threshold).mask(lr, hr.shape[:2])[0, 0].numpy()  # (H, W) in {0, 1}
        shown = crop(hr).astype(np.float64) * (0.25 + 0.75 * crop(mask[..., None]))  # flat: dimmed
        ax.imshow(shown.astype(np.uint8), interpolation="nearest")
        ax.set_title(f"textured at {threshold}: {crop(mask).mean():.2f} of the crop", fontsize=9)
        print(f"threshold {threshold}: textured {mask.mean():.3f} of the image, {crop(mask).mean():.3f} of the crop")
    for ax in axes:
        ax.axis("off")
    fig.suptitle("report/experiments/region_mask.py " + shlex.join(sys.argv[1:]), fontsize=7)
    fig.tight_layout()
    args.figure.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.figure, dpi=120)
    print(f"wrote {args.figure}")


if __name__ == "__main__":
    main()
