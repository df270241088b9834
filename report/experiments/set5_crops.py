"""The report's Set5 figure: one crop of every Set5 image, upscaled by each model.

    .venv/bin/python -m report.experiments.set5_crops --run runs/shared \
        --published "Real-ESRGAN x4plus=../shared/weights/RealESRGAN_x4plus.pth" \
        --figure report/figures/set5_outputs.png

One row per image of ``<run>/lists/Set5.csv``, one column per method: bicubic, every checkpoint
of the run folder (``config.METHODS``), the published files, HR. Each crop is ``--size`` HR
pixels square (at most 256: the benchmark data's rule for report figures, ../shared/data/README.md)
around the image's ``CROPS`` centre, shown 2x with nearest-neighbour. The whole images are what
``super_resolution.ipynb`` writes to ``<run>/set5_outputs/``; they are never committed.
"""
import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

import inference  # noqa: E402
from config import METHODS  # noqa: E402
from datasets import SRTestDataset  # noqa: E402
from imresize import imresize  # noqa: E402
from utils import signed_to_uint8  # noqa: E402

# centre of each crop as (row, column) fractions of the HR image: where the detail is
CROPS = {"baby": (0.30, 0.50), "bird": (0.35, 0.45), "butterfly": (0.50, 0.50),
         "head": (0.45, 0.50), "woman": (0.25, 0.50)}


def crop(img, centre, size):
    """A ``size`` x ``size`` window of ``img`` (H, W, ...) around ``centre`` (fractions)."""
    h, w = img.shape[:2]
    top = int(np.clip(centre[0] * h - size / 2, 0, h - size))
    left = int(np.clip(centre[1] * w - size / 2, 0, w - size))
    return img[top:top + size, left:left + size]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, required=True, help="the run folder")
    parser.add_argument("--published", nargs="*", default=[], metavar="LABEL=FILE")
    parser.add_argument("--size", type=int, default=96, help="crop side in HR pixels (at most 256)")
    parser.add_argument("--figure", type=Path, required=True)
    args = parser.parse_args(argv)
    if not 0 < args.size <= 256:
        raise SystemExit(f"--size {args.size}: report figures show crops of at most 256 px a side")
    dataset = SRTestDataset(args.run / "lists" / "Set5.csv", 4)
    models = {m: args.run / f for m, f in METHODS.items() if (args.run / f).exists()}
    models.update(dict(item.split("=", 1) for item in args.published))
    generators = {m: inference.load_generator(p) for m, p in models.items()}
    columns = ["bicubic", *generators, "HR"]
    fig, axes = plt.subplots(len(dataset), len(columns), figsize=(2.2 * len(columns), 2.3 * len(dataset)),
                             squeeze=False)
    for row, item in enumerate(dataset[i] for i in range(len(dataset))):
        hr = item["hr"] if item["hr"].ndim == 3 else np.repeat(item["hr"][..., None], 3, 2)
        outputs = {"bicubic": imresize(item["lr_uint8"], 4), "HR": hr}
        with torch.no_grad():
            for m, g in generators.items():
                outputs[m] = signed_to_uint8(inference.super_resolve(g.eval(), item["lr"].unsqueeze(0))[0])
        for col, method in enumerate(columns):
            ax = axes[row][col]
            ax.imshow(crop(outputs[method], CROPS.get(item["name"], (0.5, 0.5)), args.size),
                      interpolation="nearest")
            ax.set_xticks([]), ax.set_yticks([])
            if row == 0:
                ax.set_title(method, fontsize=9)
            if col == 0:
                ax.set_ylabel(item["name"], fontsize=9)
    fig.suptitle(f"Set5, x4 ({args.size}-px crops of the outputs and of HR)", fontsize=10)
    fig.tight_layout()
    args.figure.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.figure, dpi=80)
    print("wrote", args.figure)


if __name__ == "__main__":
    main()
