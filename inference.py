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

from archs import build_generator, load_weights
from metrics import lpips_distance, niqe, psnr_ssim
from utils import load_checkpoint, signed_to_uint8

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
    """A generator in eval mode from a checkpoint of ``solver.fit``, of whatever family: its
    config's ``generator`` (``arch`` + kwargs; no ``arch``: SRResNet) and ``scale`` rebuild it,
    unless ``generator_kwargs`` are given.

    Args:
        path (str or Path): a ``_last``, ``_best`` or ``_ema`` checkpoint.
        device: where to put the network.
        weights (str): ``"auto"``: the moving average of the weights when the checkpoint has
            one (a GAN stage with ``ema_decay``), else the trained weights; ``"ema"`` or
            ``"trained"`` to choose.
    """
    checkpoint = load_checkpoint(path)  # to the CPU
    config = checkpoint.get("config", {})
    kwargs = generator_kwargs or dict(config.get("generator", {}), scale=config.get("scale", 4))
    generator = build_generator(**kwargs)
    ema = checkpoint.get("generator_ema")
    if weights not in ("auto", "ema", "trained"):
        raise ValueError(f"weights must be 'auto', 'ema' or 'trained', got {weights!r}")
    if weights == "ema" and ema is None:
        raise ValueError(f"{path} holds no moving average of the generator (train the GAN stage "
                         f"with stage.ema_decay, e.g. 0.999)")
    if ema is not None and weights != "trained":  # AveragedModel's keys: "module." + the net's
        state = {k[len("module."):]: v for k, v in ema.items() if k.startswith("module.")}
        load_weights(generator, state, what=f"moving-average generator of {path}")
    else:
        load_weights(generator, checkpoint["generator"], what=f"generator of {path}")
    return generator.to(device).eval()




@torch.inference_mode()
def super_resolve(generator, lr_imgs, tile=None, margin=None):
    """Super-resolve LR images, whole or in overlapping tiles.

    With ``tile``, the LR image is cut into ``tile`` x ``tile`` blocks, each run with ``margin``
    extra LR pixels of context on every side; only the block's own output is kept. With the
    default margin, the generator's ``receptive_radius`` (40 LR pixels for the default SRResNet,
    349 for ESRGAN's RRDBNet), the result equals the whole-image output up to float rounding,
    while memory is bounded by one (tile + 2 margin)^2 input. A whole-image pass that runs out of memory falls back to
    tiles of ``OOM_TILE`` with a warning.

    Args:
        generator (nn.Module): a generator of ``archs.GENERATORS``, in eval mode.
        lr_imgs (Tensor): (N, 3, h, w) in [0, 1], on the generator's device.
        tile (int): LR tile side, or None for the whole image at once.
        margin (int): LR context pixels around each tile; default ``generator.receptive_radius``
            (exact). A smaller one bounds memory for deep networks at the cost of exactness.

    Returns:
        Tensor: (N, 3, h * scale, w * scale) in [-1, 1].
    """
    if margin is None:
        margin = generator.receptive_radius
    h, w = lr_imgs.shape[-2:]
    if tile is None or (h <= tile and w <= tile):
        try:
            return generator(lr_imgs)
        except torch.OutOfMemoryError:
            if min(h, w) <= 2 * margin:
                raise
            warnings.warn(f"out of memory on a {h}x{w} LR image: falling back to tiles of "
                          f"{OOM_TILE} LR pixels (set config.tile to choose)", stacklevel=2)
            if lr_imgs.is_cuda:
                torch.cuda.empty_cache()
            tile = OOM_TILE
    s = generator.scale
    sr_imgs = lr_imgs.new_empty(lr_imgs.shape[0], 3, h * s, w * s)
    for y0 in range(0, h, tile):
        for x0 in range(0, w, tile):
            y1, x1 = min(y0 + tile, h), min(x0 + tile, w)
            ya, xa = max(y0 - margin, 0), max(x0 - margin, 0)
            yb, xb = min(y1 + margin, h), min(x1 + margin, w)
            out = generator(lr_imgs[..., ya:yb, xa:xb])  # tile plus context, (N, 3, ., .)
            sr_imgs[..., y0 * s:y1 * s, x0 * s:x1 * s] = \
                out[..., (y0 - ya) * s:(y1 - ya) * s, (x0 - xa) * s:(x1 - xa) * s]
    return sr_imgs


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
    was_training = generator.training
    generator.eval()
    crop_border = generator.scale if crop_border is None else crop_border
    per_image = []
    try:
        for index in range(len(dataset) if max_images is None else min(max_images, len(dataset))):
            item = dataset[index]
            lr_imgs = item["lr"].unsqueeze(0).to(device)  # (1, 3, h, w) in [0, 1]
            sr = signed_to_uint8(super_resolve(generator, lr_imgs, tile)[0])  # (H, W, 3) uint8
            per_image.append({"name": item["name"],
                              **_scores(sr, item["hr"], crop_border, with_niqe, lpips_model)})
    finally:
        generator.train(was_training)
    return _summary(per_image)


def _scores(sr, hr, crop_border, with_niqe, lpips_model=None):
    """The per-image scores of :func:`validate`, :func:`validate_bicubic` and :func:`validate_hr`."""
    psnr, ssim = psnr_ssim(sr, hr, crop_border)
    scores = {"psnr": psnr, "ssim": ssim}
    if lpips_model is not None:
        scores["lpips"] = lpips_distance(lpips_model, sr, hr, crop_border)
    if with_niqe:
        try:
            scores["niqe"] = niqe(sr, crop_border)
        except ValueError:  # too small for NIQE's 96x96 blocks, or flat
            scores["niqe"] = None
    return scores


def _summary(per_image):
    """Means over the images of each score (None values left out), with the per-image list."""
    summary = {"images": len(per_image), "per_image": per_image}
    for key in ("psnr", "ssim", "niqe", "lpips"):
        values = [r[key] for r in per_image if r.get(key) is not None]
        if key in per_image[0]:
            summary[key] = sum(values) / len(values) if values else math.nan
    return summary


def validate_bicubic(dataset, crop_border=None, with_niqe=False, lpips_model=None):
    """PSNR/SSIM (and NIQE) of MATLAB-bicubic upsampling (``imresize``) of the LR test images:
    the baseline.

    Returns:
        dict: as :func:`validate`.
    """
    from imresize import imresize

    crop_border = dataset.scale if crop_border is None else crop_border
    per_image = []
    for index in range(len(dataset)):
        item = dataset[index]
        sr = imresize(item["lr_uint8"], dataset.scale)  # uint8 (H, W, 3)
        per_image.append({"name": item["name"],
                          **_scores(sr, item["hr"], crop_border, with_niqe, lpips_model)})
    return _summary(per_image)


def validate_hr(dataset, crop_border=None, with_niqe=True, lpips_model=None):
    """The ground truth scored as a method: the reference row of the test tables (PSNR inf,
    SSIM 1, LPIPS 0; its NIQE is the naturalness that the outputs aim at).

    Returns:
        dict: as :func:`validate`.
    """
    crop_border = dataset.scale if crop_border is None else crop_border
    per_image = [{"name": dataset[i]["name"],
                  **_scores(dataset[i]["hr"], dataset[i]["hr"], crop_border, with_niqe, lpips_model)}
                 for i in range(len(dataset))]
    return _summary(per_image)


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
