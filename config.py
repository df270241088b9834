"""Every config of the project, in one place: training (defaults and presets) and testing.

``train.ipynb``'s first cell and ``train.py`` call :func:`from_env` for :func:`training_config`,
``test.ipynb`` and ``super_resolution.ipynb`` for :func:`evaluation_config`; report scripts, the
benchmarks and the tests call those two directly. A preset is a dict of the values it changes.
Pick one without editing anything with the ``SRGAN_PRESET`` environment variable, and override
any value with ``SRGAN_CONFIG`` (JSON or a JSON file, deep-merged; the same one serves the three
notebooks). A key that the defaults do not have is an error naming it
(a typo is never silently ignored); only ``generator`` and ``discriminator`` are open, their
keys being the networks' keyword arguments (checked when the networks are built). An override
that names another ``arch`` replaces the network's kwargs instead of merging them, and one that
names another ``type`` replaces a loss term's parameters (``utils.merge_config``).

Three model families, each a dict below merged into a data preset:

| model | generator (``archs``) | stage ``pretrain`` | stage ``gan`` |
|---|---|---|---|
| SRGAN (the defaults) | ``srresnet`` | ``srresnet``: pixel MSE | ``srgan``: VGG54 + 1e-3 adversarial |
| ``ESRGAN`` | ``rrdbnet`` | ``rrdbnet``: pixel L1 | ``esrgan``: VGG54 before ReLU (L1) + L1 + RaGAN |
| ``SRCNN`` | ``srcnn`` | ``srcnn``: pixel MSE | none |

| preset | data | schedule |
|---|---|---|
| ``sample``, ``sample_srcnn``, ``sample_esrgan`` | scikit-image's photos (no download) | minutes on 2 CPU cores |
| ``shared``, ``shared_srcnn``, ``shared_esrgan`` | ``../shared/data``: T91 + BSD200; Set5 validates | CPU budgets |
| ``paper``, ``srcnn``, ``esrgan`` | DIV2K lists in ``data/lists/`` | the papers', on a GPU |

A stage's ``name`` prefixes its files, so every family of one data preset shares its
``out_dir`` (``runs/sample``, ``runs/shared``, ``runs/paper``), where ``test.ipynb`` finds them.
"""
import copy
import json
import os
from pathlib import Path

from utils import merge_config

# Where the "shared" data source lives: ../shared/data beside the repository (README there)
SHARED_ROOT = Path(__file__).resolve().parent.parent / "shared" / "data"
DATA_SOURCES = ("lists", "sample", "shared")

# The paper's SRGAN (Ledig et al., 2017) with its schedule; the presets change what they name.
DEFAULTS = dict(
    preset="paper",
    # where the data lists come from: "lists" (made by create_data_lists.py, e.g. DIV2K),
    # "sample" (the embedded photographs; made by train.make_lists) or "shared" (SHARED_ROOT:
    # T91 + BSD200 to train, Set5/Set14/B100 to test; made by train.make_lists and evaluate)
    data="lists",
    seed=0,
    device="auto",                      # 'auto': CUDA if available, else CPU
    scale=4,                            # one of utils.SCALES
    # data: CSV lists written by create_data_lists.py
    train_list="data/lists/DIV2K_train.csv",
    val_list="data/lists/Set5.csv",
    hr_patch=96,                        # HR patch side; LR patches are hr_patch / scale
    patches_per_image=100,              # random patches per image per epoch
    batch_size=16,
    num_workers=0,                      # DataLoader workers; 0 is the fastest (report/performance.md)
    # networks: archs.build_generator / build_discriminator ("arch" + its kwargs)
    generator=dict(arch="srresnet", n_blocks=16, channels=64),
    discriminator=dict(arch="srgan", channels=64, fc_size=1024),
    vgg_weights="IMAGENET1K_V1",        # or the path of a vgg19-dcbb9e9d.pth file
    betas=(0.9, 0.999),
    # speed (report/performance.md): amp on CUDA ("bf16" becomes fp16 with loss scaling on a
    # GPU without native bf16); amp_cpu = bf16 autocast on the CPU: True, False, or "auto": on
    # where the CPU has native bf16 (AVX-512 BF16 or AMX), off elsewhere; channels_last on CPU
    # and CUDA; compile = torch.compile the training steps (a minute or more of compilation)
    amp="bf16",
    amp_cpu="auto",
    channels_last=True,
    compile=False,
    cuda_graphs=True,                   # CUDA: each whole training step captured in a CUDA graph (step_graph.py)
    # CUDA: the training images cached on the GPU and the patches cut there (datasets.DevicePatches):
    # "auto" where they take at most a quarter of its free memory, True, or False (DataLoader)
    gpu_patches="auto",
    tile=None,                          # LR tile side for validation on large images
    val_max_images=None,
    log_every=10,
    # validation and checkpoints every eval_every iterations or eval_every_s seconds, whichever
    # comes first; both None: after every pass over the training patches (an epoch: 5000
    # iterations of DIV2K's 800 images x 100 patches at batch 16)
    eval_every=5000,
    eval_every_s=None,
    tensorboard=False,                  # also log to <out_dir>/tensorboard (needs `tensorboard`)
    sync_bn=False,                      # under torchrun on CUDA: synchronised BatchNorm
    out_dir="runs/paper",
    # the SRCNN baseline that train.ipynb's last section trains (preset None: none), on this
    # run's data, device and out_dir (srcnn_config); iterations: that preset's, or this many
    srcnn=dict(preset=None, iterations=None),
    # Each stage's loss (losses.py): one entry per term, None when unused; a term is a dict of
    # its type (content: "mse" | "l1" | "vgg" with losses.VGGContent's parameters, default
    # SRGAN's VGG54; pixel: "mse" | "l1"; adversarial: "vanilla" | "relativistic"), its weight
    # and its parameters. An override that names another type replaces the term's dict.
    stages=dict(
        # stage 1, PSNR-oriented: the generator alone on a pixel loss
        pretrain=dict(name="srresnet", mode="pretrain", iterations=10**6, epochs=None, lr_g=1e-4,
                      milestones=[], gamma=0.1,
                      loss=dict(content=dict(type="mse", weight=1.0), pixel=None, adversarial=None,
                                grid=None, feature_matching=None, artifacts=None, gradient=None,
                                flat=None),
                      ema_decay=None, init_from=None, time_budget=None, max_bad_steps=10),
        # stage 2, adversarial: initialised from stage 1 (iterations=0: no GAN stage); init_from
        # is a stage name of out_dir, or a generator file (.pth; a published release too)
        gan=dict(name="srgan", mode="gan", init_from="srresnet", iterations=2 * 10**5,
                 epochs=None, lr_g=1e-4, lr_d=1e-4, milestones=[10**5], gamma=0.1,
                 loss=dict(content=dict(type="vgg", weight=1.0), pixel=None,
                           adversarial=dict(type="vanilla", weight=1e-3),
                           grid=None,              # losses.grid_loss: the 4x4-grid-locked part
                           feature_matching=None,  # losses.feature_matching_loss, D's features
                           artifacts=None,         # losses.artifact_loss: LDL, needs ema_decay
                           gradient=None,          # losses.gradient_loss: SPSR's gradient map
                           flat=None),             # MSE on the flat regions, needs d_regions
                 d_input="rgb",               # or "gray": D's gradient leaves the colour alone
                 d_regions=None,              # or dict(): D sees textured regions only (Beby-GAN)
                 ema_decay=None,              # e.g. 0.999: moving average of G's weights
                 time_budget=None, max_bad_steps=10),
    ),
)

# ESRGAN (Wang et al., ECCVW 2018), the paper's recipe: RRDBNet pretrained with L1 (lr 2e-4,
# halved every 2 x 10^5 iterations), then L_percep + 5e-3 L_Ra + 1e-2 L1 with lr 1e-4 halved at
# 50k, 100k, 200k, 300k of 400k iterations, 128x128 HR patches, batch 16. ESRGAN's L1 is on
# [0, 1] images; this project's HR range is [-1, 1], where the same term is twice as large, so
# its weight is 5e-3 here.
ESRGAN = dict(
    hr_patch=128,
    generator=dict(arch="rrdbnet", n_blocks=23, channels=64, growth=32),
    discriminator=dict(arch="vgg", channels=64, input_size=128),
    stages=dict(
        pretrain=dict(name="rrdbnet", iterations=10**6, lr_g=2e-4,
                      milestones=[2 * 10**5, 4 * 10**5, 6 * 10**5, 8 * 10**5], gamma=0.5,
                      loss=dict(content=dict(type="l1", weight=1.0))),
        gan=dict(name="esrgan", init_from="rrdbnet", iterations=4 * 10**5, lr_g=1e-4, lr_d=1e-4,
                 milestones=[5 * 10**4, 10**5, 2 * 10**5, 3 * 10**5], gamma=0.5,
                 loss=dict(content=dict(type="vgg", weight=1.0, scale=1.0, distance="l1",
                                        before_activation=True),
                           pixel=dict(type="l1", weight=5e-3),
                           adversarial=dict(type="relativistic", weight=5e-3)))),
)

# ESRGAN's GAN stage without ImageNet VGG weights (offline): L1 as the content term, the
# relativistic adversarial loss at 5e-3, no second pixel term.
ESRGAN_OFFLINE = dict(loss=dict(content=dict(type="l1", weight=1.0), pixel=None))

# SRCNN (Dong et al., 2014): 9-1-5 with 64 and 32 channels, pixel MSE; no GAN stage. The paper
# trains with SGD at 1e-4 for hundreds of millions of backpropagations; Adam at 1e-3 (later works' choice)
# gets there far sooner.
SRCNN = dict(
    generator=dict(arch="srcnn"),
    stages=dict(pretrain=dict(name="srcnn", iterations=2 * 10**5, lr_g=1e-3,
                              milestones=[10**5], gamma=0.1),
                gan=dict(name="srcnn_gan", iterations=0)),
)

# Minutes on a CPU: a small BN-free generator with resize-convolution upsampling on the embedded
# images, capped by iterations (a busy machine gets the same result, later); the GAN stage with
# CPU_GAN. Why each choice, and what it measured: report/README.md, "Attempts and improvements",
# and report/notes/README.md. Against colour speckle and misplaced detail (notes: speckle,
# placement): D sees the mean of
# the channels, whose gradient moves luma only, and fine detail only where the LR image has
# texture (Beby-GAN's regions, at its threshold of 0.025 on [0, 1] luma); where it is flat, G pays a pixel MSE
# (weight 10) besides its content loss; G matches D's features of HR (pix2pixHD)
# and pays LDL's artifact term where it is worse than its own moving average (needs ema_decay;
# the sample preset's SRGAN weighs it 100: notes, iris-rim).
DETAIL = dict(loss=dict(feature_matching=dict(weight=0.3), artifacts=dict(weight=30.0), flat=dict(weight=10.0)),
              d_input="gray", d_regions=dict(threshold=0.025))
# The sample and shared presets' GAN stage: the pixel-MSE content loss (no ImageNet VGG) at weight
# 3, so that G follows D less far (notes, iris-rim: at weight 1 the 64-channel SRGAN fell
# 1.9 dB and drew a grid, and the small one drew an iris rim as two dark lines), the grid loss
# (notes, grid), a moving average of G (notes, moving-average), and DETAIL.
CPU_GAN = merge_config(DETAIL, dict(loss=dict(content=dict(type="mse", weight=3.0), grid=dict(weight=1e2)),
                                    ema_decay=0.99))
# ... and their ESRGAN stage: the grid loss and the moving average as well (notes: esrgan),
# SPSR's gradient-map loss at its ratio to the pixel loss, 1:1 (against a doubled contour), and
# more of the image flat than for SRGAN, with a heavier flat term: ESRGAN draws more texture
# (notes: placement, esrgan)
CPU_ESRGAN = dict(loss=dict(grid=dict(weight=1e2), gradient=dict(weight=1.0), flat=dict(weight=60.0)),
                  d_regions=dict(threshold=0.06), ema_decay=0.99)
SAMPLE_DATA = dict(data="sample", train_list="data/sample/sample_train.csv",
                   val_list="data/sample/sample_test.csv", hr_patch=48, patches_per_image=100,
                   eval_every=None, out_dir="runs/sample")
# ../shared/data on a CPU: the papers' networks, a wall-time budget per stage.
SHARED_DATA = dict(data="shared", train_list="runs/shared/lists/train.csv",
                   val_list="runs/shared/lists/Set5.csv",
                   patches_per_image=10, eval_every=None, out_dir="runs/shared")

PRESETS = {
    # 8 residual blocks of 32 channels: with 4, the GAN drew a dark rim as two lines with a light
    # one between on every run (report/notes/README.md, iris-rim); 3600 pretraining
    # iterations: after 2400 the SRResNet drew that rim redder than HR, and the GAN, whose gray
    # adversary cannot move colour, kept the red on two runs of six; LDL's artifact term at
    # 100, not 30: at 30 one run in fp32 split that rim again
    "sample": dict(
        SAMPLE_DATA, srcnn=dict(preset="sample_srcnn"),
        generator=dict(n_blocks=8, channels=32, batch_norm=False, upsampler="resize"),
        discriminator=dict(channels=16, fc_size=256),
        stages=dict(pretrain=dict(iterations=3600, lr_g=1.5e-3, milestones=[1200], gamma=0.2),
                    gan=merge_config(CPU_GAN, dict(loss=dict(artifacts=dict(weight=100.0)), iterations=2000,
                                                   lr_g=1e-4, lr_d=1e-4, milestones=[])))),
    "sample_srcnn": merge_config(SRCNN, SAMPLE_DATA, dict(
        stages=dict(pretrain=dict(iterations=1000, lr_g=1e-3, milestones=[])))),
    # a small ESRGAN (6 RRDBs of 64 channels, growth 32: Real-ESRGAN's "6B" size) for half an
    # hour of a CPU. Offline there is no ImageNet VGG: the GAN stage's content term is ESRGAN's
    # L1 pixel loss, with the relativistic adversarial loss at ESRGAN's 5e-3. The GAN stage is
    # scored and saved as the moving average of G (decay 0.99, as the sample preset's SRGAN;
    # notes, moving-average). With 32 channels it drew an iris rim as two
    # thin dark lines on every run; with 64 and the flat term at 60 it placed detail below its
    # RRDBNet on one seed of three, with the flat term at 120 above it on every seed, in bf16
    # and fp32 (report/notes/README.md, esrgan). The GAN stage's L1 weighs 5 (3 in "shared_esrgan"): at 1
    # four runs of six left a trace at that rim's end, at 3 two of nine drew that end badly (a
    # red line, a partial split), at 5 the seed that split it draws one band
    "sample_esrgan": merge_config(ESRGAN, SAMPLE_DATA, dict(
        generator=dict(n_blocks=6, channels=64, growth=32),
        discriminator=dict(channels=16, input_size=64), hr_patch=64,
        stages=dict(pretrain=dict(iterations=2400, lr_g=1e-3, milestones=[1200]),
                    gan=merge_config(ESRGAN_OFFLINE, DETAIL, CPU_ESRGAN, dict(
                        loss=dict(content=dict(weight=5.0), flat=dict(weight=120.0)),
                        iterations=1000, milestones=[]))))),
    "shared": dict(
        SHARED_DATA, srcnn=dict(preset="shared_srcnn"), generator=dict(upsampler="resize"),
        stages=dict(pretrain=dict(time_budget=3600), gan=dict(CPU_GAN, milestones=[], time_budget=1800))),
    "shared_srcnn": merge_config(SRCNN, SHARED_DATA, dict(
        stages=dict(pretrain=dict(time_budget=600, milestones=[])))),
    # ESRGAN at a CPU's budget: 6 RRDBs (23 in the paper; Real-ESRGAN's "6B" size) on 64x64
    # HR patches, about the step time of the shared SRResNet; offline content loss as above, at
    # weight 3 as in "shared"
    "shared_esrgan": merge_config(ESRGAN, SHARED_DATA, dict(
        generator=dict(n_blocks=6), discriminator=dict(input_size=64), hr_patch=64,
        stages=dict(pretrain=dict(time_budget=3600, milestones=[]),
                    gan=merge_config(ESRGAN_OFFLINE, DETAIL, CPU_ESRGAN, dict(
                        loss=dict(content=dict(weight=3.0)), time_budget=1800, milestones=[]))))),
    # The papers on DIV2K with a GPU: SRGAN's 10^6 SRResNet iterations, then 10^5 + 10^5
    # SRGAN ones; ESRGAN's; SRCNN.
    "paper": dict(device="cuda", srcnn=dict(preset="srcnn")),
    "esrgan": merge_config(ESRGAN, dict(device="cuda", out_dir="runs/paper")),
    "srcnn": merge_config(SRCNN, dict(device="cuda", out_dir="runs/paper")),
}

# dicts whose keys are checked where they are used: the networks' kwargs (by their constructors)
# and the loss terms' parameters (losses.check_spec)
OPEN_KEYS = ("generator", "discriminator", "content", "pixel", "adversarial", "grid", "feature_matching",
             "artifacts", "gradient", "flat")


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
        EasyDict: the config, with ``preset`` set.

    Raises:
        ValueError: for an unknown preset.
        KeyError: for a key that the defaults do not have, naming it.
    """
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {preset!r}")
    config = merge_config(copy.deepcopy(DEFAULTS), dict(preset=preset))
    for override in (PRESETS[preset], *overrides):
        check_keys(override)
        config = merge_config(config, override)
    if config.data not in DATA_SOURCES:
        raise ValueError(f"config.data must be one of {', '.join(DATA_SOURCES)}, got {config.data!r}")
    return config


# What the SRCNN baseline takes from the run that trains it (train.ipynb's last section).
RUN_KEYS = ("seed", "device", "scale", "data", "train_list", "val_list", "hr_patch",
            "patches_per_image", "batch_size", "num_workers", "amp", "amp_cpu", "channels_last",
            "compile", "cuda_graphs", "gpu_patches", "tile", "val_max_images", "log_every",
            "eval_every", "eval_every_s", "tensorboard", "out_dir")


def srcnn_config(config):
    """The config of ``config``'s SRCNN baseline: preset ``config.srcnn.preset`` on the data,
    device and ``out_dir`` of ``config``; None when the run has no baseline."""
    if not config.srcnn.preset:
        return None
    iterations = config.srcnn.iterations
    return training_config(config.srcnn.preset, {key: config[key] for key in RUN_KEYS},
                           {"stages": {"pretrain": {"iterations": iterations}}} if iterations else {})


# ----------------------------------------------------------------------------------------------
# Testing: test.ipynb and super_resolution.ipynb
# ----------------------------------------------------------------------------------------------
# The methods that the test tables score, in order, by their checkpoint in a run folder (those
# missing are skipped): the GAN stages by their last weights (PSNR does not rank GAN outputs;
# a stage trained with ema_decay is scored with its moving average).
METHODS = {"SRCNN": "srcnn_best.pth", "SRResNet": "srresnet_best.pth", "SRGAN": "srgan_last.pth",
           "RRDBNet": "rrdbnet_best.pth", "ESRGAN": "esrgan_last.pth"}
# Network interpolation (ESRGAN, section 3.4): {label: (PSNR-oriented method, GAN method)}.
INTERPOLATIONS = {"SRGAN": ("SRResNet", "SRGAN"), "ESRGAN": ("RRDBNet", "ESRGAN")}
BENCHMARKS = ("Set5", "Set14", "B100", "Urban100", "DIV2K_valid")

TEST_DEFAULTS = dict(
    preset="sample",
    data="sample",                      # the training preset's data source (TEST_DATA)
    device="auto",
    scale=4,
    out_dir="runs/sample",              # the run folder: the preset's (config.training_config)
    checkpoints=None,                   # {method: path}; default METHODS in out_dir
    published=None,                     # {label: generator file}: published models scored beside
                                        # the run's, as "<label> (published)" (a release file or
                                        # another run's checkpoint; inference.read_generator)
    test_lists=None,                    # {set name: CSV list}; sets whose list is missing skip
    tile=None,                          # LR tile side; None: whole images (tiles on out-of-memory)
    lpips_net="alex",                   # LPIPS backbone, or None to skip LPIPS
    alphas=[0.0, 0.2, 0.4, 0.6, 0.8, 1.0],  # network interpolation sweep
    rating_list="data/lists/Set5.csv",  # the images generated for human rating
    image_index=0,                      # which image of rating_list to show
    lr_image=None,                      # or any LR image file to super-resolve (no HR needed)
    crop=(0.35, 0.35, 0.25),            # zoomed crop: top, left, size (fractions of the image)
    rating_seed=0,
    scores_glob="scores_*.csv",         # collected CSVs, in the rating kit's folder
    # PULSE (super_resolution.ipynb's last section): the authors' weight files in `weights`;
    # `image`: an aligned face crop (None: the face of scikit-image's astronaut photograph),
    # downscaled to lr_size x lr_size (32: x32, 16: x64) with MATLAB's bicubic
    pulse=dict(weights="weights/pulse", image=None, lr_size=32, restarts=4, steps=100),
)
TEST_DATA = {  # the test sets of each data source
    "sample": dict(test_lists={"Sample": "data/sample/sample_test.csv"},
                   rating_list="data/sample/sample_test.csv"),
    "shared": dict(test_lists={name: f"runs/shared/lists/{name}.csv"
                               for name in ("Set5", "Set14", "B100", "Urban100")},
                   rating_list="runs/shared/lists/Set5.csv"),
    "lists": dict(test_lists={name: f"data/lists/{name}.csv" for name in BENCHMARKS}),
}


def evaluation_config(preset="sample", *overrides):
    """The config of ``test.ipynb`` and ``super_resolution.ipynb`` for a training preset: its
    run folder, that folder's test sets, and the checkpoints of every method in it.

    An override may hold training keys too (one ``SRGAN_CONFIG`` serves the three notebooks):
    they are checked against the training config, whose ``out_dir`` and ``scale`` they may
    change; keys of ``TEST_DEFAULTS`` set the test config.

    Raises:
        ValueError: for an unknown preset.
        KeyError: for a key of neither config, naming it (``checkpoints``, ``test_lists`` and
            ``published`` are open dicts).
    """
    for override in overrides:
        for key in override or {}:
            if key not in TEST_DEFAULTS and key not in DEFAULTS:
                raise KeyError(f"config.{key} is not a config key; known keys of the test config: "
                               f"{', '.join(sorted(TEST_DEFAULTS))}; of the training config: "
                               f"{', '.join(sorted(DEFAULTS))}")
    training = training_config(preset, *[{k: v for k, v in (o or {}).items() if k in DEFAULTS}
                                         for o in overrides])
    config = merge_config(copy.deepcopy(TEST_DEFAULTS),
                          dict(preset=preset, data=training.data, out_dir=training.out_dir,
                               scale=training.scale), TEST_DATA[training.data])
    for override in overrides:
        config = merge_config(config, {k: v for k, v in (override or {}).items() if k in TEST_DEFAULTS})
    if config.checkpoints is None:
        config.checkpoints = {method: f"{config.out_dir}/{name}" for method, name in METHODS.items()}
    return config


# ----------------------------------------------------------------------------------------------
# The one override path: SRGAN_PRESET and SRGAN_CONFIG (or train.py's --preset and --config)
# ----------------------------------------------------------------------------------------------
def read_overrides(text):
    """``SRGAN_CONFIG`` / ``--config``: a JSON object, or the path of a file holding one ({} if
    empty).

    Raises:
        ValueError: naming what is wrong with the text or the file.
    """
    if not text:
        return {}
    if not text.lstrip().startswith("{") and Path(text).is_file():
        text = Path(text).read_text()
    try:
        overrides = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"--config / SRGAN_CONFIG must be a JSON object or a JSON file: {err}") from None
    if not isinstance(overrides, dict):
        raise ValueError(f"--config / SRGAN_CONFIG must be a JSON object, got {type(overrides).__name__}")
    return overrides


def from_env(kind="training", preset=None, overrides=None, environ=None):
    """The config of an entry point, from ``SRGAN_PRESET`` and ``SRGAN_CONFIG`` (the notebooks,
    ``train.py``, the benchmarks), unless given.

    Args:
        kind (str): ``"training"`` (:func:`training_config`: ``train.ipynb``, ``train.py``) or
            ``"evaluation"`` (:func:`evaluation_config`: ``test.ipynb``,
            ``super_resolution.ipynb``).
        preset (str): default ``$SRGAN_PRESET``, else ``"sample"``.
        overrides (str): JSON or a JSON file (:func:`read_overrides`); default ``$SRGAN_CONFIG``.
        environ (dict): the environment (default ``os.environ``).
    """
    environ = os.environ if environ is None else environ
    preset = preset or environ.get("SRGAN_PRESET", "sample")
    values = read_overrides(environ.get("SRGAN_CONFIG", "") if overrides is None else overrides)
    if kind not in ("training", "evaluation"):
        raise ValueError(f"kind must be 'training' or 'evaluation', got {kind!r}")
    return (training_config if kind == "training" else evaluation_config)(preset, values)
