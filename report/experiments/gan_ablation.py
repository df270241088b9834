"""Ablation for the report: remedies of the adversarial stage, one change at a time.

Each variant is a config override of ``config.training_config(preset)`` with ``BASE`` (the
preset with the paper's sub-pixel generator and GAN stage), plus one change, or a combination.
Every variant starts from the same pretrained SRResNet of its generator architecture (trained
once by this script with the preset's pretraining stage, in ``<runs>/pretrain_<arch>``), runs
``--iterations`` GAN iterations with the given seed, and is scored on the preset's validation
images: PSNR and SSIM (benchmark protocol), NIQE (crop 4), the grid measure
``metrics.grid_pattern`` (crop 4), the mean D(HR) and D(G(LR)) of the last logged window, and a
zoomed crop of the first validation image saved to ``<runs>/<variant>_s<seed>/crop.png``. One
JSON line per run is appended to ``--results``.

    .venv/bin/python -m report.experiments.gan_ablation --variants baseline relativistic --seeds 0
"""
import argparse
import inspect
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader

import create_data_lists as cdl
import inference
import solver
from config import training_config
from datasets import SRTestDataset, SRTrainDataset
from metrics import grid_pattern, niqe, psnr_ssim
from models import SRResNet
from report.experiments import ablation_parts  # noqa: F401  (the variants' networks, views, loss)
from report.experiments.detail_measures import KEYS as DETAIL_KEYS
from report.experiments.detail_measures import detail_measures
from utils import merge_config, seed_everything, signed_to_uint8

ROOT = Path(__file__).resolve().parents[2]

# Every variant is relative to BASE: the preset with the paper's sub-pixel generator and GAN stage
# (the sample preset as it was before this ablation chose its remedies: 4 blocks, pixel MSE at
# weight 1 and the adversarial term, none of the later terms or views).
BASE = {"generator": {"upsampler": "subpixel", "n_blocks": 4},
        "stages": {"gan": {"loss": {"content": {"type": "mse", "weight": 1.0}, "grid": None,
                                    "feature_matching": None, "artifacts": None, "flat": None},
                           "ema_decay": None, "d_input": "rgb", "d_regions": None}}}
RESIZE = {"generator": {"upsampler": "resize"}}
BILINEAR = {"generator": {"upsampler": "resize_bilinear"}}
BLUR = {"generator": {"upsampler": "resize_blur"}}
SN_NO_BN = {"discriminator": {"spectral_norm": True, "batch_norm": False}}
# another arch starts from its own defaults: the sample preset's sizes are restated
ANTIALIAS = {"discriminator": {"arch": "srgan_antialias", "channels": 16, "fc_size": 256}}
UNET = {"discriminator": {"arch": "unet", "channels": 16}}
PATCH = {"discriminator": {"arch": "patch", "channels": 16, "spectral_norm": True, "batch_norm": False}}


def gan(loss=None, **values):
    """An override of the GAN stage: its loss terms (``loss``) and other keys."""
    return {"stages": {"gan": dict(values, **({"loss": loss} if loss else {}))}}


def adversarial(weight, kind="vanilla"):
    return {"adversarial": {"type": kind, "weight": weight}}


RELATIVISTIC_5E3 = adversarial(5e-3, "relativistic")
LR_MSE = {"content": {"type": "lr_mse", "weight": 1.0}}
L1 = {"content": {"type": "l1", "weight": 1.0}}
# the sample preset's GAN stage with the grid loss and the moving average (notes: grid, moving-average)
RECIPE = merge_config(RESIZE, gan({"grid": {"weight": 1e2}}, ema_decay=0.99))


# name: override of the preset (one change against "baseline", or a named combination)
VARIANTS = {
    "srresnet": {},  # names starting with "srresnet": the pretrained generator, no GAN stage
    "srresnet_resize": RESIZE,
    "baseline": {},
    "relativistic": gan(adversarial(1e-3, "relativistic")),
    "sn_d": SN_NO_BN,
    "sn_bn_d": {"discriminator": {"spectral_norm": True}},
    "lr_d_1e-5": gan(lr_d=1e-5),
    "antialias_d": ANTIALIAS,
    "translate_3": gan(d_input="translate_3"),
    "ema": gan(ema_decay=0.999),
    "patch_d": PATCH,
    "unet_d": UNET,
    "icnr": {"generator": {"upsampler": "subpixel_icnr"}},
    "resize_conv": RESIZE,
    "adv_7e-3": gan(adversarial(7e-3)),
    # the combined lead: resize-conv + SN D without BN + translation, adversarial weight 7e-3
    "lead": merge_config(RESIZE, SN_NO_BN, gan(adversarial(7e-3), d_input="translate_3")),
    "lead_ema": merge_config(RESIZE, SN_NO_BN, gan(adversarial(7e-3), d_input="translate_3",
                                                   ema_decay=0.999)),
    "unet_recipe": merge_config(RESIZE, UNET, gan(RELATIVISTIC_5E3, d_input="translate_3",
                                                  ema_decay=0.999)),
    "unet_recipe_l1": merge_config(RESIZE, UNET, gan({**RELATIVISTIC_5E3, **L1}, d_input="translate_3",
                                                     ema_decay=0.999)),
    "patch_recipe": merge_config(RESIZE, PATCH, gan(RELATIVISTIC_5E3, d_input="translate_3",
                                                    ema_decay=0.999)),
    # stronger adversarial weights, once the grid is kept away by resize-conv + translation + EMA
    "patch_recipe_adv2e-2": merge_config(RESIZE, PATCH, gan(adversarial(2e-2, "relativistic"),
                                                            d_input="translate_3", ema_decay=0.999)),
    "patch_recipe_adv5e-2": merge_config(RESIZE, PATCH, gan(adversarial(5e-2, "relativistic"),
                                                            d_input="translate_3", ema_decay=0.999)),
    "lead_ema_adv2e-2": merge_config(RESIZE, SN_NO_BN, gan(adversarial(2e-2), d_input="translate_3",
                                                           ema_decay=0.999)),
    # the content loss at LR resolution only (ablation_parts.lr_mse), with the grid remedies
    "lrc_lead_ema": merge_config(RESIZE, SN_NO_BN, gan({**adversarial(5e-3), **LR_MSE},
                                                       d_input="translate_3", ema_decay=0.999)),
    "lrc_lead_ema_adv2e-2": merge_config(RESIZE, SN_NO_BN, gan({**adversarial(2e-2), **LR_MSE},
                                                               d_input="translate_3", ema_decay=0.999)),
    "lrc_patch_recipe": merge_config(RESIZE, PATCH, gan({**RELATIVISTIC_5E3, **LR_MSE},
                                                        d_input="translate_3", ema_decay=0.999)),
    "resize_ema": merge_config(RESIZE, gan(ema_decay=0.999)),
    "resize_antialias": merge_config(RESIZE, ANTIALIAS),
    "resize_sn_bn_d": merge_config(RESIZE, {"discriminator": {"spectral_norm": True}}),
    "resize_patch_d": merge_config(RESIZE, PATCH),
    "resize_ema_translate": merge_config(RESIZE, gan(ema_decay=0.999, d_input="translate_3")),
    "resize_translate": merge_config(RESIZE, gan(d_input="translate_3")),
    # bilinear instead of nearest upsampling before each conv
    "srresnet_bilinear": BILINEAR,
    "resize_bilinear": BILINEAR,
    "bilinear_translate": merge_config(BILINEAR, gan(d_input="translate_3")),
    # nearest x2 + conv + [1, 2, 1] blur (StyleGAN's upsampling): nothing of period 2 passes
    "srresnet_blur": BLUR,
    "resize_blur": BLUR,
    # a loss on the grid-locked part itself (losses.grid_loss), on resize-convolution
    "resize_grid_1e2": merge_config(RESIZE, gan({"grid": {"weight": 1e2}})),
    "resize_grid_1e3": merge_config(RESIZE, gan({"grid": {"weight": 1e3}})),
    "resize_grid_1e4": merge_config(RESIZE, gan({"grid": {"weight": 1e4}})),
    # on top of the sample recipe (resize_grid_1e2): a moving average of G short
    # enough for a 1,000-step stage (0.999 averages back to the pretrained weights)
    "recipe_ema_0.99": RECIPE,
    "recipe_ema_0.995": merge_config(RECIPE, gan(ema_decay=0.995)),
    # the same, run with --iterations 2000 (its own name, so that its folder and crops differ)
    "recipe_ema_0.99_2k": RECIPE,
    # D judges luma only (DPED's texture discriminator): against the colour fringes
    "recipe_luma_d": merge_config(RECIPE, gan(d_input="luma", ema_decay=None)),
    "recipe_luma_d_ema_0.99": merge_config(RECIPE, gan(d_input="luma")),
    # each with --iterations 2000 on top of RECIPE: against colour
    # speckle and misplaced detail
    "s8_recipe": RECIPE,
    "s8_luma_d": merge_config(RECIPE, gan(d_input="luma")),
    "s8_gray_d": merge_config(RECIPE, gan(d_input="gray")),
    "s8_gray_highpass_d": merge_config(RECIPE, gan(d_input="gray_highpass")),
    "s8_fm_1e-2": merge_config(RECIPE, gan({"feature_matching": {"weight": 1e-2}})),
    "s8_fm_1e-1": merge_config(RECIPE, gan({"feature_matching": {"weight": 1e-1}})),
    "s8_gray_d_fm_1e-1": merge_config(RECIPE, gan({"feature_matching": {"weight": 1e-1}}, d_input="gray")),
    "s8_gray_highpass_d_fm_1e-1": merge_config(RECIPE, gan({"feature_matching": {"weight": 1e-1}},
                                                           d_input="gray_highpass")),
    # LDL's artifact term (losses.artifact_loss, weight 1 as in LDL)
    "s8_ldl": merge_config(RECIPE, gan({"artifacts": {"weight": 1.0}})),
    "s8_gray_d_fm_ldl": merge_config(RECIPE, gan({"feature_matching": {"weight": 1e-1},
                                                 "artifacts": {"weight": 1.0}}, d_input="gray")),
    "s8_gray_highpass_d_fm_ldl": merge_config(RECIPE, gan({"feature_matching": {"weight": 1e-1},
                                                          "artifacts": {"weight": 1.0}},
                                                         d_input="gray_highpass")),
    "s8_gray_d_fm_1": merge_config(RECIPE, gan({"feature_matching": {"weight": 1.0}}, d_input="gray")),
    "s8_gray_d_fm_ldl_30": merge_config(RECIPE, gan({"feature_matching": {"weight": 1e-1},
                                                    "artifacts": {"weight": 30.0}}, d_input="gray")),
    "s8_gray_d_fm_0.3_ldl_30": merge_config(RECIPE, gan({"feature_matching": {"weight": 0.3},
                                                        "artifacts": {"weight": 30.0}}, d_input="gray")),
    "s8_gray_d_fm_1_ldl_30": merge_config(RECIPE, gan({"feature_matching": {"weight": 1.0},
                                                      "artifacts": {"weight": 30.0}}, d_input="gray")),
}


def pretrained(config, runs, log):
    """The pretrained SRResNet checkpoint for ``config.generator`` (trained here once, in a folder
    named by the arguments that differ from SRResNet's defaults). Not safe for two processes
    that need the same new folder at once: run the ``srresnet*`` variants first."""
    defaults = {k: v.default for k, v in inspect.signature(SRResNet).parameters.items()}
    arch = "_".join(f"{k}-{v}" for k, v in sorted(config.generator.items())
                    if k != "arch" and defaults.get(k) != v)
    out_dir = runs / f"pretrain_{arch}"
    best = out_dir / "srresnet_best.pth"
    if not best.exists():
        seed_everything(config.seed)
        pre_config = merge_config(config, {"out_dir": str(out_dir)})
        solver.fit(pre_config, pre_config.stages.pretrain, loader(pre_config), val_set(pre_config), log=log)
    return best


def loader(config):
    train_set = SRTrainDataset(config.train_list, config.scale, config.hr_patch, config.patches_per_image)
    return DataLoader(train_set, batch_size=config.batch_size, shuffle=True, drop_last=True)


def val_set(config):
    return SRTestDataset(config.val_list, config.scale)


def evaluate(generator, dataset, crop):
    """Mean PSNR, SSIM, NIQE and grid measure of ``generator`` on ``dataset``; a zoomed crop
    (top, left, size as fractions) of the first image."""
    scores, crop_img = [], None
    generator.eval()
    for index in range(len(dataset)):
        item = dataset[index]
        sr = signed_to_uint8(inference.super_resolve(generator, item["lr"].unsqueeze(0))[0])
        psnr, ssim = psnr_ssim(sr, item["hr"], 4)
        scores.append((psnr, ssim, niqe(sr, 4), grid_pattern(sr, 4, 4),
                       *detail_measures(sr, item["hr"]).values()))
        if index == 0:
            h, w = sr.shape[:2]
            y0, x0, side = int(crop[0] * h), int(crop[1] * w), int(crop[2] * min(h, w))
            crop_img = sr[y0:y0 + side, x0:x0 + side]
    means = np.mean(scores, axis=0)
    return dict(zip(("psnr", "ssim", "niqe", "grid", *DETAIL_KEYS), map(float, means))), crop_img


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="sample")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--iterations", type=int, default=1500, help="GAN iterations")
    parser.add_argument("--config", default="{}", help="JSON override for every run")
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "gan_ablation")
    parser.add_argument("--results", type=Path, default=ROOT / "report" / "results" / "gan_ablation_sample.jsonl")
    parser.add_argument("--crop", type=float, nargs=3, default=(0.35, 0.35, 0.25))
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    def quiet(message):
        pass

    base = training_config(args.preset, {"device": "cpu", "log_every": 50}, json.loads(args.config))
    if args.preset == "sample" and not Path(base.train_list).exists():
        cdl.build_sample_dataset(Path(base.train_list).parent, base.scale)

    for seed in args.seeds:
        for name in args.variants:
            out_dir = args.runs / f"{args.preset}_{name}_s{seed}"
            config = training_config(args.preset, {"device": "cpu", "log_every": 50, "seed": seed},
                                     json.loads(args.config), BASE, VARIANTS[name],
                                     gan(iterations=args.iterations, time_budget=None),
                                     {"out_dir": str(out_dir)})
            source = pretrained(merge_config(config, {"seed": 0}), args.runs, quiet)
            shutil.rmtree(out_dir, ignore_errors=True)
            out_dir.mkdir(parents=True)
            shutil.copyfile(source, out_dir / "srresnet_best.pth")
            seed_everything(seed)
            started = time.perf_counter()
            if name.startswith("srresnet"):  # the reference: the pretrained generator itself
                generator, iterations = inference.load_generator(source), 0
                window = {"d_real": float("nan"), "d_fake": float("nan")}
            else:
                training = solver.fit(config, config.stages.gan, loader(config), val_set(config),
                                      log=quiet)
                generator, iterations = solver.inference_generator(training), training.iteration
                window = solver_last_window(out_dir / "srgan_iterations.csv")
            seconds = time.perf_counter() - started
            scores, crop = evaluate(generator, val_set(config), args.crop)
            Image.fromarray(crop).save(out_dir / "crop.png")
            row = {"preset": args.preset, "variant": name, "seed": seed, "iterations": iterations,
                   "seconds": round(seconds, 1), **scores, "d_real": window["d_real"],
                   "d_fake": window["d_fake"], "d_relativistic": True, "override": VARIANTS[name],
                   "command": "report/experiments/gan_ablation.py " + " ".join(sys.argv[1:])}
            with open(args.results, "a") as f:
                f.write(json.dumps(row) + "\n")
            print(f"{args.preset} {name} seed {seed}: PSNR {scores['psnr']:.2f}, SSIM {scores['ssim']:.4f}, "
                  f"NIQE {scores['niqe']:.2f}, grid {scores['grid']:.2f}, D(HR) {window['d_real']:.2f}, "
                  f"D(G(LR)) {window['d_fake']:.2f}, "
              + ", ".join(f"{k} {scores[k]:.3f}" for k in DETAIL_KEYS) + f", {seconds:.0f} s", flush=True)


def solver_last_window(path):
    """The last row of a ``<stage>_iterations.csv`` log, as floats."""
    import csv

    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {k: float(v) for k, v in rows[-1].items()}


if __name__ == "__main__":
    main()
