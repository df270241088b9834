"""The training config: every default (the paper's SRGAN) and every preset, in one place.

``train.ipynb``'s first cell, the report's scripts and the tests call :func:`training_config`;
a preset is a dict of the values it changes. Pick one without editing anything with the
``SRGAN_PRESET`` environment variable, and override any value with ``SRGAN_CONFIG`` (JSON,
deep-merged). A key that the defaults do not have is an error naming it (a typo is never
silently ignored); only ``generator`` and ``discriminator`` are open, their keys being the
networks' keyword arguments (checked when the networks are built). An override that names
another ``discriminator.arch`` replaces the discriminator's kwargs instead of merging them.

| preset | data | schedule |
|---|---|---|
| ``sample`` | scikit-image's photographs (no download) | a small generator, minutes on 2 CPU cores |
| ``shared`` | ``../shared/data``: T91 + BSD200; Set5 to validate | the paper's networks, wall-time budgets |
| ``paper`` | DIV2K lists in ``data/lists/`` | the paper's: 10^6 + 2 x 10^5 iterations on a GPU |
"""
import copy

from utils import merge_config

# The paper's SRGAN (Ledig et al., 2017) with its schedule; the presets change what they name.
DEFAULTS = dict(
    preset="paper",
    seed=0,
    device="auto",                      # 'auto': CUDA if available, else CPU
    scale=4,
    # data: CSV lists written by create_data_lists.py
    train_list="data/lists/DIV2K_train.csv",
    val_list="data/lists/Set5.csv",
    hr_patch=96,                        # HR patch side; LR patches are hr_patch / scale
    patches_per_image=100,              # random patches per image per epoch
    batch_size=16,
    num_workers=0,
    # networks: models.SRResNet kwargs; models.build_discriminator kwargs ("arch" + kwargs)
    generator=dict(n_blocks=16, channels=64),
    discriminator=dict(arch="srgan", channels=64, fc_size=1024),
    vgg_weights="IMAGENET1K_V1",        # or the path of a vgg19-dcbb9e9d.pth file
    betas=(0.9, 0.999),
    # speed (report/performance.md): amp on CUDA; amp_cpu = bf16 autocast on the CPU (2-2.5x
    # faster on CPUs with AVX-512 BF16; measure on others); channels_last on CPU and CUDA;
    # compile = torch.compile the training steps (a minute or more of compilation first)
    amp="bf16",
    amp_cpu=False,
    channels_last=True,
    compile=False,
    tile=None,                          # LR tile side for validation on large images
    val_max_images=None,
    log_every=10,
    out_dir="runs/paper",
    stages=dict(
        srresnet=dict(name="srresnet", mode="pretrain", iterations=10**6, epochs=None, lr_g=1e-4,
                      milestones=[], gamma=0.1, content_loss="mse", content_weight=1.0,
                      ema_decay=None, init_from=None, time_budget=None, max_bad_steps=10),
        srgan=dict(name="srgan", mode="gan", init_from="srresnet", iterations=2 * 10**5,
                   epochs=None, lr_g=1e-4, lr_d=1e-4, milestones=[10**5], gamma=0.1,
                   content_loss="vgg",          # 'mse' | 'l1' | 'vgg' | 'lr_mse' (losses.py)
                   content_weight=1.0, vgg_i=5, vgg_j=4,
                   vgg_loss_scale=1 / 12.75,
                   adversarial_loss="vanilla",  # or "relativistic" (ESRGAN)
                   adversarial_weight=1e-3,
                   d_steps=1,                   # D updates per G update
                   label_smoothing=0.0,         # one-sided: real label 1 - this
                   d_translate=0,               # random +-px shift of every D input
                   ema_decay=None,              # e.g. 0.999: moving average of G's weights
                   time_budget=None, max_bad_steps=10),
    ),
)

PRESETS = {
    # Minutes on a CPU: a small generator on the embedded images. No ImageNet VGG is needed:
    # the GAN stage uses the pixel-MSE content loss (the paper's SRGAN-MSE).
    # BN-free generator (EDSR's change: validation does not wait for BN statistics to settle)
    # and a high learning rate, so that it passes bicubic within minutes. Capped by iterations,
    # not wall time, so that a busy machine gets the same result, only later.
    # Resize-convolution upsampling (nearest x2 + conv) instead of sub-pixel convolutions: the
    # one remedy that removed the grid pattern AND lowered NIQE below the SRResNet's in the
    # report's ablation (report/README.md, section 5); 1,000 GAN iterations instead of 500.
    "sample": dict(
        train_list="data/sample/sample_train.csv", val_list="data/sample/sample_test.csv",
        hr_patch=48, patches_per_image=100, device="auto",
        generator=dict(n_blocks=4, channels=32, batch_norm=False, upsampler="resize"),
        discriminator=dict(channels=16, fc_size=256),
        stages=dict(srresnet=dict(iterations=2400, lr_g=1.5e-3, milestones=[1200], gamma=0.2),
                    srgan=dict(iterations=1000, lr_g=1e-4, lr_d=1e-4, milestones=[],
                               content_loss="mse"))),
    # ../shared/data on a CPU: the paper's networks (with the sample preset's resize-
    # convolution upsampling), a wall-time budget per stage.
    "shared": dict(
        train_list="runs/shared/lists/train.csv", val_list="runs/shared/lists/Set5.csv",
        patches_per_image=10, generator=dict(upsampler="resize"),
        stages=dict(srresnet=dict(time_budget=3600),
                    srgan=dict(content_loss="mse", milestones=[], time_budget=1800))),
    # The paper on DIV2K with a GPU: 10^6 SRResNet iterations, then 10^5 + 10^5 SRGAN ones.
    "paper": dict(num_workers=8, device="cuda"),
}

OPEN_KEYS = ("generator", "discriminator")  # network kwargs: checked by the constructors


def check_keys(override, defaults=DEFAULTS, path="config"):
    """Raise ``KeyError`` naming the first key of ``override`` that ``defaults`` lacks."""
    for key, value in (override or {}).items():
        if key not in defaults:
            raise KeyError(f"{path}.{key} is not a config key; known keys of {path}: "
                           f"{', '.join(sorted(defaults))}")
        if isinstance(value, dict) and isinstance(defaults[key], dict) and key not in OPEN_KEYS:
            check_keys(value, defaults[key], f"{path}.{key}")


def training_config(preset="sample", *overrides):
    """The run's config: defaults, then the preset, then each override (e.g. ``SRGAN_CONFIG``).

    Args:
        preset (str): a key of ``PRESETS``.
        *overrides (dict): deep-merged in turn; nested dicts merge key by key.

    Returns:
        EasyDict: the config, with ``preset`` and ``out_dir`` (``runs/<preset>``) set.

    Raises:
        ValueError: for an unknown preset.
        KeyError: for a key that the defaults do not have, naming it.
    """
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {preset!r}")
    config = merge_config(copy.deepcopy(DEFAULTS), dict(preset=preset, out_dir=f"runs/{preset}"))
    for override in (PRESETS[preset], *overrides):
        check_keys(override)
        override = dict(override or {})
        for key in OPEN_KEYS:  # another architecture: its own kwargs, not the old one's
            if "arch" in override.get(key, {}) and override[key]["arch"] != config[key].get("arch"):
                config[key] = {}
        config = merge_config(config, override)
    return config
