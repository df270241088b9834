"""Inference and evaluation: super-resolve (tiled), score, load a generator, blend two of them.

``test.ipynb`` scores every method with :func:`validate`, :func:`validate_bicubic` and
:func:`validate_hr`; ``super_resolution.ipynb`` runs :func:`super_resolve` on single images and
sweeps :func:`interpolate_generators` (ESRGAN's network interpolation); ``solver.fit`` validates
each epoch with :func:`validate`. Nothing here trains.
"""
import copy
import math
import warnings
from pathlib import Path

import torch

from archs import build_generator, full_kwargs, load_weights
from checkpoints import load_checkpoint
from metrics import lpips_distance, niqe, psnr_ssim
from utils import signed_to_uint8

OOM_TILE = 128  # LR tile side used when a whole image does not fit in memory


def nvidia_gpu_present():
    """Whether the machine has an NVIDIA GPU and driver, whatever torch makes of them."""
    return Path("/proc/driver/nvidia/version").exists() or Path("/dev/nvidia0").exists()


def unusable_gpu_message():
    """None when torch can use the GPU or there is none; else why it cannot, loudly, with the
    fix (an NVIDIA GPU and driver are present, but this torch build cannot use them)."""
    if torch.cuda.is_available() or not nvidia_gpu_present():
        return None
    if torch.version.cuda is None:
        reason = f"torch {torch.__version__} is a CPU-only build"
    else:
        try:
            torch.cuda.init()
            reason = "torch gives no reason"
        except Exception as err:  # e.g. "The NVIDIA driver on your system is too old"
            reason = f"{type(err).__name__}: {err}"
    driver = Path("/proc/driver/nvidia/version")
    driver = driver.read_text().splitlines()[0] if driver.exists() else "version unknown"
    return (f"AN NVIDIA GPU IS PRESENT BUT TORCH CANNOT USE IT: training and inference run on the "
            f"CPU. torch {torch.__version__} (CUDA {torch.version.cuda}), driver: {driver}. "
            f"Reason: {reason}. Install the torch 2.13.0 build for your driver's CUDA "
            f"(README, 'Installing for your GPU'), or set config.device = 'cpu' to silence this.")


def resolve_device(name="auto"):
    """'auto' -> CUDA if available else CPU (with a loud warning when an NVIDIA GPU is there but
    torch cannot use it); 'cuda' without a usable GPU is a clear error."""
    if name == "auto":
        message = unusable_gpu_message()
        if message:
            warnings.warn(message, stacklevel=2)
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(unusable_gpu_message() or
                           f"device {name!r} asked for, but torch {torch.__version__} sees no "
                           f"CUDA GPU; set config.device = 'cpu' (or 'auto')")
    return device


def load_generator(path, device="cpu", weights="auto", **generator_kwargs):
    """A generator in eval mode from a generator file (:func:`read_generator`): a checkpoint of
    ``solver.fit``, of whatever family, or a release file of ESRGAN or Real-ESRGAN. The file's
    own description rebuilds the network, unless ``generator_kwargs`` are given.

    Args:
        path (str or Path): a ``_last``, ``_best`` or ``_ema`` checkpoint, or a release file.
        device: where to put the network.
        weights (str): ``"auto"``: the moving average of the weights when the file has one (a GAN
            stage with ``ema_decay``; a release's ``params_ema``), else the trained weights;
            ``"ema"`` or ``"trained"`` to choose.
    """
    kwargs, state, what = read_generator(path, weights)
    if not (generator_kwargs or kwargs):
        raise ValueError(f"{path}: its config names no generator arch (a checkpoint of this project "
                         f"before its model families); pass the network's arguments to "
                         f"load_generator, e.g. arch='srresnet', n_blocks=16")
    generator = build_generator(**(generator_kwargs or kwargs))
    load_weights(generator, state, what=what)
    return generator.to(device).eval()


RRDBNET_KEYS = ("conv_first.weight", "body.0.rdb1.conv1.weight", "conv_body.weight",
                "conv_up1.weight", "conv_hr.weight", "conv_last.weight")


def read_generator(path, weights="auto"):
    """What a generator file holds: the network's ``build_generator`` arguments (None for a
    checkpoint whose config names no ``arch``), its state dict (on the CPU) and a description
    for messages.

    Two kinds of files: this project's checkpoints (``solver.fit``; the config's ``generator``
    and ``scale`` describe the network), and the release files of ESRGAN and Real-ESRGAN
    (BasicSR's format: a dict whose ``params_ema`` and/or ``params`` key holds the state dict of
    an RRDBNet; ``RealESRGAN_x4plus``, ``RealESRGAN_x4plus_anime_6B``, ``RealESRGAN_x2plus``,
    BasicSR's ``ESRGAN_SRx4_DF2KOST_official``), or such a state dict alone. A release file's
    network (blocks, channels, growth, scale) is read from its keys and shapes.

    Raises:
        ValueError: naming the file and what it holds, when it is neither kind, or for a
            ``weights`` choice it does not have.
    """
    if weights not in ("auto", "ema", "trained"):
        raise ValueError(f"weights must be 'auto', 'ema' or 'trained', got {weights!r}")
    checkpoint = load_checkpoint(path)  # to the CPU
    if not isinstance(checkpoint, dict):
        raise ValueError(f"{path} holds a {type(checkpoint).__name__}, not a generator's weights")
    if "generator" in checkpoint:  # this project's
        config = checkpoint.get("config", {})
        generator = config.get("generator", {})  # no arch: a checkpoint from before the families
        kwargs = dict(generator, scale=config.get("scale", 4)) if "arch" in generator else None
        ema = checkpoint.get("generator_ema")
        if weights == "ema" and ema is None:
            raise ValueError(f"{path} holds no moving average of the generator (train the GAN "
                             f"stage with stage.ema_decay, e.g. 0.999)")
        if ema is not None and weights != "trained":  # AveragedModel's keys: "module." + the net's
            state = {k[len("module."):]: v for k, v in ema.items() if k.startswith("module.")}
            return kwargs, state, f"moving-average generator of {path}"
        return kwargs, checkpoint["generator"], f"generator of {path}"
    keys = {"ema": ["params_ema"], "trained": ["params"], "auto": ["params_ema", "params"]}[weights]
    found = [key for key in keys if isinstance(checkpoint.get(key), dict)]
    if found:
        state, what = checkpoint[found[0]], f"{path} ({found[0]})"
    elif any(key in checkpoint for key in ("params", "params_ema")):
        held = sorted(k for k in checkpoint if k.startswith("params"))
        raise ValueError(f"{path} is a release file with {held}, not {' or '.join(keys)} "
                         f"(weights={weights!r})")
    else:
        state, what = checkpoint, str(path)  # a bare state dict
    if not all(key in state for key in RRDBNET_KEYS):
        listed = ", ".join(sorted(map(str, checkpoint))[:8])
        raise ValueError(f"{path} is neither a checkpoint of this project (no 'generator' key) nor "
                         f"an ESRGAN/Real-ESRGAN release file ('params_ema' or 'params' holding an "
                         f"RRDBNet state dict); its top-level keys: {listed}")
    return _rrdbnet_kwargs(state, path), state, f"RRDBNet of {what}"


def initial_weights(config, init_from):
    """The file and generator weights a stage starts from: ``<out_dir>/<init_from>_best.pth``
    (else ``_last.pth``) for a stage name; for a ``.pth`` path, that generator file, a release
    file of ESRGAN or Real-ESRGAN too (fine-tuning a published model; its moving average).

    Raises:
        ValueError: when the file's network is not this run's ``config.generator`` at
            ``config.scale``, naming both.
    """
    if str(init_from).endswith(".pth"):
        path, weights = Path(init_from), "auto"
    else:
        path = Path(config.out_dir) / f"{init_from}_best.pth"
        path, weights = (path if path.exists() else path.with_name(f"{init_from}_last.pth")), "trained"
    kwargs, state, _ = read_generator(path, weights)
    saved = dict(kwargs or {"scale": None})
    scale = saved.pop("scale")
    if full_kwargs("generator", saved) != full_kwargs("generator", config.generator) or scale != config.scale:
        raise ValueError(
            f"{path} holds generator={saved} at x{scale}, but this run's config has "
            f"generator={dict(config.generator)} at x{config.scale}: set config.generator (and "
            f"scale) to the file's, or initialise from another file.")
    return path, state


def _rrdbnet_kwargs(state, path):
    """BasicSR's RRDBNet arguments, read from a state dict's keys and shapes."""
    in_channels = state["conv_first.weight"].shape[1]
    unshuffle = {3: 1, 12: 2}.get(in_channels)
    if unshuffle is None:
        raise ValueError(f"{path}: an RRDBNet whose first conv takes {in_channels} channels (BasicSR's "
                         f"x1 layout takes 48); this project builds x2, x4 and x8 (3 or 12)")
    ups = sum(1 for key in state if key.startswith("conv_up") and key.endswith(".weight"))
    return dict(arch="rrdbnet", scale=2 ** ups // unshuffle, channels=state["conv_first.weight"].shape[0],
                growth=state["body.0.rdb1.conv1.weight"].shape[0],
                n_blocks=1 + max(int(key.split(".")[1]) for key in state if key.startswith("body.")))


@torch.inference_mode()
def super_resolve(generator, lr_imgs, tile=None, margin=None, dtype=None):
    """Super-resolve LR images, whole or in overlapping tiles.

    With ``tile``, the LR image is cut into ``tile`` x ``tile`` blocks, each run with ``margin``
    extra LR pixels of context on every side; only the block's own output is kept, and memory is
    bounded by one (tile + 2 margin)^2 input. The default margin is the generator's
    ``tile_margin``: its measured effective radius (99.99 % of the values within one uint8 level
    of the whole image's) where it was measured, else its ``receptive_radius``; with
    ``margin="exact"`` (the receptive radius: 40 LR pixels for the default SRResNet, 349 for
    ESRGAN's RRDBNet) tiles equal the whole-image output up to float rounding. Tiles whose context covers the
    whole image run it whole. A whole-image pass that runs out of memory falls back to tiles
    (as large as the free GPU memory allows, else ``OOM_TILE``) with a warning. Inputs whose
    sides are not multiples of ``generator.input_multiple`` are padded by reflection, and the
    padding's output cropped.

    Args:
        generator (nn.Module): a generator of ``archs.GENERATORS``, in eval mode.
        lr_imgs (Tensor): (N, 3, h, w) in [0, 1], on the generator's device.
        tile (int): LR tile side, or None for the whole image at once.
        margin (int or str): LR context pixels around each tile; default
            ``generator.tile_margin``; ``"exact"``: ``generator.receptive_radius``.
        dtype: autocast dtype (``torch.bfloat16``, ``torch.float16``), or None for fp32.

    Returns:
        Tensor: (N, 3, h * scale, w * scale) in [-1, 1], float32.
    """
    h, w = lr_imgs.shape[-2:]
    multiple = generator.input_multiple
    pad_h, pad_w = -h % multiple, -w % multiple
    if pad_h or pad_w:  # BasicSR's x2 networks: reflect-pad to even sides, crop the output
        padded = torch.nn.functional.pad(lr_imgs, (0, pad_w, 0, pad_h), mode="reflect")
        s = generator.scale
        return super_resolve(generator, padded, tile, margin, dtype)[..., :h * s, :w * s]
    if margin is None or margin == "exact":
        margin = generator.tile_margin if margin is None else generator.receptive_radius
    margin = -(-margin // multiple) * multiple  # tiles start on the network's input grid

    def run(x):
        with torch.autocast(x.device.type, dtype=dtype, enabled=dtype is not None):
            return generator(x).float()

    if tile is None or _covers(tile, margin, h, w):
        try:
            return run(lr_imgs)
        except torch.OutOfMemoryError:
            tile = oom_tile(lr_imgs, generator, margin)
            if _covers(tile, margin, h, w):
                raise
            warnings.warn(f"out of memory on a {h}x{w} LR image: falling back to tiles of "
                          f"{tile} LR pixels (set config.tile to choose)", stacklevel=2)
    tile = -(-tile // multiple) * multiple
    s = generator.scale
    sr_imgs = lr_imgs.new_empty(lr_imgs.shape[0], 3, h * s, w * s, dtype=torch.float32)
    for y0 in range(0, h, tile):
        for x0 in range(0, w, tile):
            y1, x1 = min(y0 + tile, h), min(x0 + tile, w)
            ya, xa = max(y0 - margin, 0), max(x0 - margin, 0)
            yb, xb = min(y1 + margin, h), min(x1 + margin, w)
            out = run(lr_imgs[..., ya:yb, xa:xb])  # tile plus context, (N, 3, ., .)
            sr_imgs[..., y0 * s:y1 * s, x0 * s:x1 * s] = \
                out[..., (y0 - ya) * s:(y1 - ya) * s, (x0 - xa) * s:(x1 - xa) * s]
    return sr_imgs


def _covers(tile, margin, h, w):
    """Whether every tile's input (the tile and its margins) is the whole h x w image."""
    return all(margin >= (side - 1) // tile * tile and tile + margin >= side for side in (h, w))


def oom_tile(lr_imgs, generator, margin):
    """The tile side to fall back to after an out-of-memory error: on a GPU, the largest whose
    input with margins takes a quarter of the free memory at the whole pass's cost per pixel
    (at least 32), elsewhere ``OOM_TILE``."""
    if not lr_imgs.is_cuda:
        return OOM_TILE
    torch.cuda.empty_cache()
    free, _ = torch.cuda.mem_get_info(lr_imgs.device)
    h, w = lr_imgs.shape[-2:]
    # activations scale with the input's pixels: the whole pass needed more than `free`
    pixels = free / 4 / max(_bytes_per_pixel(generator), 1)
    return max(32, int(math.sqrt(pixels)) - 2 * margin)


def _bytes_per_pixel(generator):
    """A rough peak of activation bytes per LR pixel in a forward pass: the widest layer's
    channels at the output's resolution, float32, a few alive at once."""
    widest = max((m.out_channels for m in generator.modules() if hasattr(m, "out_channels")),
                 default=64)
    return 4 * widest * generator.scale ** 2 * 4


def validate(generator, dataset, device, crop_border=None, max_images=None, tile=None,
             with_niqe=False, lpips_model=None):
    """PSNR/SSIM (and NIQE) of the generator on whole test images (benchmark protocol of
    ``metrics.psnr_ssim``; NIQE with the same border crop).

    Args:
        generator (nn.Module): the model (put in eval mode here, restored afterwards).
        dataset (SRTestDataset): test images.
        device (torch.device): where to run.
        crop_border (int): border crop of the metrics; default the scale.
        max_images (int): score only the first images (quick checks during training).
        tile (int): LR tile side for :func:`super_resolve` (bounded memory).
        with_niqe (bool): also NIQE (about 0.1 s per 512x512 image); images too small for it
            (fewer than two 96x96 blocks) get None and stay out of the mean.
        lpips_model: a ``metrics.lpips_model`` to also score LPIPS, or None.

    Returns:
        dict: ``psnr``, ``ssim`` (and ``niqe``: NaN if no image could be scored, ``lpips``)
        means, ``images`` count and ``per_image`` list of ``{"name", "psnr", "ssim", ...}``.
    """
    def output(item):
        lr_imgs = item["lr"].unsqueeze(0).to(device)  # (1, 3, h, w) in [0, 1]
        return signed_to_uint8(super_resolve(generator, lr_imgs, tile)[0])  # (H, W, 3) uint8

    was_training = generator.training
    generator.eval()
    try:
        return _score(dataset, output, generator.scale if crop_border is None else crop_border,
                      with_niqe, lpips_model, max_images)
    finally:
        generator.train(was_training)


def validate_bicubic(dataset, crop_border=None, with_niqe=False, lpips_model=None):
    """:func:`validate`'s scores of MATLAB-bicubic upsampling (``imresize``) of the LR test
    images: the baseline."""
    from imresize import imresize

    return _score(dataset, lambda item: imresize(item["lr_uint8"], dataset.scale),  # uint8 (H, W, 3)
                  dataset.scale if crop_border is None else crop_border, with_niqe, lpips_model)


def validate_hr(dataset, crop_border=None, with_niqe=True, lpips_model=None):
    """:func:`validate`'s scores of the ground truth itself: the reference row of the test
    tables (PSNR inf, SSIM 1, LPIPS 0; its NIQE is the naturalness the outputs aim at)."""
    return _score(dataset, lambda item: item["hr"], dataset.scale if crop_border is None else crop_border,
                  with_niqe, lpips_model)


def _score(dataset, output, crop_border, with_niqe, lpips_model, max_images=None):
    """Each image's output (``output(item)``: uint8) scored against its HR, and the means."""
    per_image = []
    for index in range(len(dataset) if max_images is None else min(max_images, len(dataset))):
        item = dataset[index]  # decoded once
        sr, hr = output(item), item["hr"]
        psnr, ssim = psnr_ssim(sr, hr, crop_border)
        scores = {"name": item["name"], "psnr": psnr, "ssim": ssim}
        if lpips_model is not None:
            scores["lpips"] = lpips_distance(lpips_model, sr, hr, crop_border)
        if with_niqe:
            try:
                scores["niqe"] = niqe(sr, crop_border)
            except ValueError:  # too small for NIQE's 96x96 blocks, or flat
                scores["niqe"] = None
        per_image.append(scores)
    summary = {"images": len(per_image), "per_image": per_image}
    for key in ("psnr", "ssim", "niqe", "lpips"):
        values = [r[key] for r in per_image if r.get(key) is not None]
        if per_image and key in per_image[0]:
            summary[key] = sum(values) / len(values) if values else math.nan
    return summary


# ----------------------------------------------------------------------------------------------
# Network interpolation (ESRGAN, section 3.4)
# ----------------------------------------------------------------------------------------------
def interpolate_state_dicts(psnr_state, gan_state, alpha):
    """``(1 - alpha) * theta_PSNR + alpha * theta_GAN`` for every floating-point tensor.

    Written as that sum (not ``lerp``) so that alpha = 0 and alpha = 1 give the two models
    bit for bit. Integer buffers (BatchNorm's ``num_batches_tracked``) are taken from the
    model that alpha is closer to.

    Args:
        psnr_state, gan_state (dict): state dicts of the same architecture.
        alpha (float): in [0, 1].

    Raises:
        ValueError: for alpha outside [0, 1] or state dicts with other keys or shapes.
    """
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    if psnr_state.keys() != gan_state.keys():
        raise ValueError(f"the two networks differ: keys only in one of them: "
                         f"{sorted(set(psnr_state) ^ set(gan_state))[:10]}")
    blended = {}
    for key, a in psnr_state.items():
        b = gan_state[key]
        if a.shape != b.shape:
            raise ValueError(f"the two networks differ at {key}: {tuple(a.shape)} vs {tuple(b.shape)}")
        if a.is_floating_point():
            blended[key] = (1 - alpha) * a + alpha * b
        else:
            blended[key] = (b if alpha >= 0.5 else a).clone()
    return blended


def interpolate_generators(psnr_generator, gan_generator, alpha):
    """A copy of ``psnr_generator`` with the interpolated weights (see
    :func:`interpolate_state_dicts`), in eval mode: alpha = 0 is the PSNR-oriented model,
    alpha = 1 the GAN one, and between them a continuous trade of PSNR for texture."""
    blended = copy.deepcopy(psnr_generator)
    blended.load_state_dict(interpolate_state_dicts(psnr_generator.state_dict(),
                                                    gan_generator.state_dict(), alpha))
    return blended.eval()
