"""The notebooks' figures: training curves (``train.ipynb``), the perception-distortion plane and
the network-interpolation curves (``test.ipynb``). Each function draws one figure from the run's
files or results, saves it and returns it."""
import csv
import math
from pathlib import Path

import matplotlib.pyplot as plt


def read_csv(path):
    """A CSV log of ``solver`` (``<stage>_iterations.csv``, ``_history.csv``) as a list of
    {column: float}; [] when the file does not exist (a stage not trained)."""
    if not Path(path).exists():
        return []
    with open(path, newline="") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def training_curves(out_dir, pre_name, gan_name, path):
    """Five panels: the pretraining loss, the GAN stage's generator losses, the adversarial game
    (D's losses and mean outputs), the validation PSNR of both stages, the GAN stage's NIQE."""
    out = Path(out_dir)
    pre_it, pre_ep = read_csv(out / f"{pre_name}_iterations.csv"), read_csv(out / f"{pre_name}_history.csv")
    gan_it, gan_ep = read_csv(out / f"{gan_name}_iterations.csv"), read_csv(out / f"{gan_name}_history.csv")
    offset = pre_it[-1]["iteration"] if pre_it else 0

    def plot(ax, rows, key, *args, x_offset=0, **kwargs):
        ax.plot([x_offset + r["iteration"] for r in rows], [r.get(key, math.nan) for r in rows],
                *args, **kwargs)

    fig, axes = plt.subplots(1, 5, figsize=(25, 4))
    plot(axes[0], pre_it, "content_loss")
    axes[0].set(title=f"{pre_name} pixel loss (in [-1, 1])", xlabel="iteration", yscale="log")
    for key in ("content_loss", "g_loss"):
        plot(axes[1], gan_it, key, label=key)
    axes[1].set(title=f"{gan_name} generator losses", xlabel=f"{gan_name} iteration", yscale="log")
    for key in ("adversarial_loss", "d_loss_real", "d_loss_fake", "pixel_loss"):
        if gan_it and key in gan_it[0]:
            plot(axes[2], gan_it, key, label=key)
    for key, label in (("d_real", "mean D(HR)"), ("d_fake", "mean D(G(LR))")):
        plot(axes[2], gan_it, key, "--", label=label)
    axes[2].set(title="adversarial game", xlabel=f"{gan_name} iteration")
    plot(axes[3], pre_ep, "val_psnr", "o-", label=pre_name)
    plot(axes[3], gan_ep, "val_psnr", "o-", label=gan_name, x_offset=offset)
    axes[3].set(title="validation PSNR (Y, dB)", xlabel=f"iteration ({gan_name} after {pre_name})")
    plot(axes[4], gan_ep, "val_niqe", "o-", color="C1")
    axes[4].set(title=f"{gan_name} validation NIQE (lower: more natural)", xlabel=f"{gan_name} iteration")
    for ax in axes[1:4]:
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return fig


def perception_distortion(results, path):
    """One panel per test set, one point per method: PSNR against NIQE (Blau and Michaeli,
    CVPR 2018); HR, of infinite PSNR, drawn at the top edge."""
    fig, axes = plt.subplots(1, len(results), figsize=(5 * len(results), 4), squeeze=False)
    for ax, (set_name, by_method) in zip(axes[0], results.items()):
        top = max(r["psnr"] for r in by_method.values() if math.isfinite(r["psnr"])) + 1.0
        for method, r in by_method.items():
            y = r["psnr"] if math.isfinite(r["psnr"]) else top
            ax.scatter(r["niqe"], y, s=50, marker="*" if method == "HR" else "o")
            ax.annotate(method + ("" if math.isfinite(r["psnr"]) else " (PSNR inf)"), (r["niqe"], y),
                        textcoords="offset points", xytext=(5, 4))
        _plane_axes(ax, set_name)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return fig


def interpolation_plane(sweeps, results, alphas, pairs, path):
    """One panel per test set: each network-interpolation sweep as a curve on the
    perception-distortion plane, its points labelled by alpha, HR's NIQE as a line."""
    sets = list(next(iter(sweeps.values())))
    fig, axes = plt.subplots(1, len(sets), figsize=(5 * len(sets), 4), squeeze=False)
    for ax, set_name in zip(axes[0], sets):
        for label, by_set in sweeps.items():
            scores = by_set[set_name]
            ax.plot([s["niqe"] for s in scores], [s["psnr"] for s in scores], "o-",
                    label=f"{pairs[label][0]} -> {label}")
            for alpha, s in zip(alphas, scores):
                ax.annotate(f"{alpha:g}", (s["niqe"], s["psnr"]), textcoords="offset points",
                            xytext=(4, 4), fontsize=8)
        ax.axvline(results[set_name]["HR"]["niqe"], color="gray", ls=":", label="HR NIQE")
        _plane_axes(ax, f"{set_name}: network interpolation")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return fig


def _plane_axes(ax, title):
    ax.set(title=title, xlabel="NIQE (lower: more natural)", ylabel="PSNR (dB, Y)")
    ax.invert_xaxis()  # better to the right on both axes
    ax.grid(alpha=0.3)
