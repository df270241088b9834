"""Image conversions, benchmark metrics and small helpers shared by every module and notebook.

Conventions of the whole project (Ledig et al., 2017):

- images on disk and in metrics are uint8 RGB numpy arrays, (H, W, 3), or (H, W) for gray;
- the generator takes LR tensors in [0, 1] and produces HR tensors in [-1, 1], (N, 3, H, W);
- the VGG19 of the content loss takes ImageNet-normalised tensors.

Every change of range or colour space is one named function below; nothing else converts.
The metrics built on them (``psnr_ssim``, ``niqe``, ...) are in ``metrics.py``.
"""
import os
import random
import warnings

import numpy as np
import torch
from easydict import EasyDict
from PIL import Image, UnidentifiedImageError
from tqdm.auto import tqdm

SCALES = (2, 4, 8)  # the SR factors of every network, dataset and list (x2 upsampling blocks)
IMAGENET_MEAN = (0.485, 0.456, 0.406)  # RGB, of images in [0, 1]
IMAGENET_STD = (0.229, 0.224, 0.225)
GRAY_MODES = ("1", "L", "LA", "I;16", "I;16B", "I;16L", "I", "F")


class ImageReadError(ValueError):
    """An image file that cannot be used; the message is ``"<path>: <reason>"``.

    Attributes:
        path (str): the file.
        reason (str): why it cannot be used.
    """

    def __init__(self, path, reason):
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = str(path), reason


# ----------------------------------------------------------------------------------------------
# Reading images
# ----------------------------------------------------------------------------------------------
def gray_to_rgb(img):
    """uint8 image (H, W) or (H, W, 3) -> RGB (H, W, 3): a gray one's value in all three channels."""
    return np.repeat(img[:, :, None], 3, axis=2) if img.ndim == 2 else img


def pil_to_rgb_uint8(img):
    """Convert any PIL image to a uint8 RGB array.

    Gray, gray + alpha, palette, RGBA (alpha dropped, no blending), CMYK and YCbCr images
    become RGB; 16-bit and 32-bit integer images (modes ``I;16``, ``I``) are scaled from
    their 0..65535 range to 0..255; float images (mode ``F``) are read as 0..1.

    Args:
        img (PIL.Image.Image): any mode.

    Returns:
        ndarray: uint8 RGB, (H, W, 3).
    """
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        values = np.asarray(img, dtype=np.float64)
        if img.mode == "F":
            values = values * 255.0
        elif img.mode != "I" or values.max(initial=0) > 255:  # 16-bit data
            values = values / 257.0
        return gray_to_rgb(np.clip(np.floor(values + 0.5), 0, 255).astype(np.uint8))
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()


def read_image(path, keep_gray=False):
    """Read an image file as uint8 RGB.

    Args:
        path (str or Path): any format PIL reads.
        keep_gray (bool): return single-channel images as (H, W) instead of RGB (ground truths
            are scored on their gray values).

    Returns:
        ndarray: uint8 RGB, (H, W, 3); or (H, W) for a gray image with ``keep_gray``.

    Raises:
        ImageReadError: naming ``path`` and the reason (missing, empty, not an image,
            truncated or otherwise undecodable).
    """
    try:
        with warnings.catch_warnings(record=True) as caught, Image.open(path) as img:
            warnings.simplefilter("always")
            img.load()
            if any("truncated" in str(w.message).lower() for w in caught):  # TIFF: only a warning
                raise ImageReadError(path, "truncated file")
            rgb = pil_to_rgb_uint8(img)
            if keep_gray and img.mode in GRAY_MODES:
                return rgb[:, :, 0].copy()
            return rgb
    except ImageReadError:
        raise
    except FileNotFoundError:
        raise ImageReadError(path, "file not found") from None
    except UnidentifiedImageError:
        reason = "empty file" if _is_empty(path) else "not an image PIL can read"
        raise ImageReadError(path, reason) from None
    except (OSError, ValueError, SyntaxError) as err:  # truncated data, bad headers
        raise ImageReadError(path, f"cannot decode image ({err})") from None


def _is_empty(path):
    try:
        with open(path, "rb") as f:
            return not f.read(1)
    except OSError:
        return False


def image_mode(path):
    """PIL's mode of an image file ("RGB", "L", "P", "CMYK", "I;16", ...), from its header.

    Raises:
        ImageReadError: if the file is not a readable image.
    """
    try:
        with Image.open(path) as img:
            return img.mode
    except (OSError, ValueError, SyntaxError) as err:
        raise ImageReadError(path, f"cannot read image header ({err})") from None


def progress_bar(iterable, **kwargs):
    """A tqdm bar (a widget in Jupyter, text in a terminal), off when ``TQDM_DISABLE=1``.

    tqdm's own ``TQDM_DISABLE`` does not reach its notebook widgets; headless notebook runs
    (``TQDM_DISABLE=1 jupyter nbconvert --execute ...``) would otherwise store a widget per bar.
    """
    if os.environ.get("TQDM_DISABLE", "").lower() in ("1", "true"):
        kwargs["disable"] = True
    return tqdm(iterable, **kwargs)


def mod_crop(img, scale):
    """Crop the bottom and right edges so that H and W are multiples of ``scale``.

    Args:
        img (ndarray): (H, W) or (H, W, C).
        scale (int): the SR factor.

    Returns:
        ndarray: a view, (H - H % scale, W - W % scale[, C]).
    """
    h, w = img.shape[:2]
    return img[: h - h % scale, : w - w % scale]


# ----------------------------------------------------------------------------------------------
# Range conversions: uint8 numpy <-> tensors in [0, 1], [-1, 1], ImageNet-normalised
# ----------------------------------------------------------------------------------------------
def uint8_to_chw(img):
    """uint8 RGB (H, W, 3) ndarray -> uint8 tensor (3, H, W), values unchanged (training patches
    travel as uint8: a quarter of float32's bytes between processes and to the GPU)."""
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))


def uint8_to_unit(img):
    """uint8 RGB (H, W, 3) ndarray -> float32 tensor (3, H, W) in [0, 1] (the LR convention)."""
    return uint8_to_chw(img).float().div_(255.0)


def batch_to_unit(x):
    """uint8 tensor (N, 3, H, W) (a training batch, on its device) -> float32 in [0, 1]."""
    return x.float().div_(255.0)


def batch_to_signed(x):
    """uint8 tensor (N, 3, H, W) (a training batch, on its device) -> float32 in [-1, 1]."""
    return x.float().div_(127.5).sub_(1.0)


def uint8_to_signed(img):
    """uint8 RGB (H, W, 3) ndarray -> float32 tensor (3, H, W) in [-1, 1] (the HR convention)."""
    return unit_to_signed(uint8_to_unit(img))


def unit_to_signed(x):
    """Tensor in [0, 1] -> the same values mapped to [-1, 1]."""
    return x * 2.0 - 1.0


def signed_to_unit(x):
    """Tensor in [-1, 1] -> the same values mapped to [0, 1]."""
    return (x + 1.0) / 2.0


def unit_to_imagenet(x, mean=None, std=None):
    """RGB tensor (N, 3, H, W) in [0, 1] -> ImageNet-normalised (the input of torchvision's VGG).

    ``mean`` and ``std`` (tensors broadcastable to x, e.g. a module's buffers) default to
    ``IMAGENET_MEAN`` and ``IMAGENET_STD``.
    """
    mean = x.new_tensor(IMAGENET_MEAN).view(1, 3, 1, 1) if mean is None else mean
    std = x.new_tensor(IMAGENET_STD).view(1, 3, 1, 1) if std is None else std
    return (x - mean) / std


def unit_to_uint8(x):
    """RGB tensor (3, H, W) in [0, 1] -> uint8 RGB ndarray (H, W, 3), clipped and rounded."""
    x = x.detach().float().clamp(0.0, 1.0).mul(255.0).round()
    return x.to(torch.uint8).permute(1, 2, 0).cpu().numpy()


def signed_to_uint8(x):
    """RGB tensor (3, H, W) in [-1, 1] (a generator output) -> uint8 RGB ndarray (H, W, 3)."""
    return unit_to_uint8(signed_to_unit(x))


# ----------------------------------------------------------------------------------------------
# Colour: MATLAB's rgb2ycbcr (ITU-R BT.601, studio swing)
# ----------------------------------------------------------------------------------------------
def rgb_to_y(img):
    """Luma Y of MATLAB's ``rgb2ycbcr`` on an RGB image, unrounded.

    Args:
        img (ndarray): uint8 RGB, (H, W, 3).

    Returns:
        ndarray: float64 (H, W), in [16, 235].
    """
    rgb = img.astype(np.float64)
    return 16.0 + (65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255.0


def rgb_to_gray(img):
    """Gray value of an RGB image (BT.601 luma weights, full range, as PIL's mode "L").

    Used to score a 3-channel output against a single-channel ground truth: for an image whose
    three channels are equal, it returns that channel exactly.

    Args:
        img (ndarray): uint8 RGB, (H, W, 3).

    Returns:
        ndarray: float64 (H, W), in [0, 255].
    """
    rgb = img.astype(np.float64)
    # Integer weights in per mille: exact for equal channels.
    return (299.0 * rgb[..., 0] + 587.0 * rgb[..., 1] + 114.0 * rgb[..., 2]) / 1000.0


def check_scale(scale):
    """Raise ``ValueError`` unless ``scale`` is one of ``SCALES``."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(map(str, SCALES))}, got {scale!r}")
    return scale


# ----------------------------------------------------------------------------------------------
# Configuration, reproducibility and checkpoints
# ----------------------------------------------------------------------------------------------
def merge_config(base, *overrides):
    """A deep-merged EasyDict copy of ``base`` with each override dict applied in turn.

    Nested dicts merge key by key, unless the new one names another ``arch`` or ``type`` than
    the old one (another network, another loss: its own parameters, not the old one's); any
    other value (lists included) replaces the old one. The notebooks use it for presets and for
    the JSON of the ``SRGAN_CONFIG`` environment variable, e.g.
    ``SRGAN_CONFIG='{"stages": {"pretrain": {"iterations": 50}}}'``.
    """
    merged = EasyDict(base)
    for override in overrides:
        for key, value in (override or {}).items():
            old = merged.get(key)
            if isinstance(value, dict) and isinstance(old, dict) and not any(
                    name in value and name in old and value[name] != old[name] for name in ("arch", "type")):
                merged[key] = merge_config(merged[key], value)
            else:
                merged[key] = value
    return EasyDict(merged)


def seed_everything(seed):
    """Seed Python's, numpy's and torch's (CPU and CUDA) random generators."""
    random.seed(seed)
    np.random.seed(seed % 2 ** 32)
    torch.manual_seed(seed)


def to_plain(obj):
    """EasyDicts, tuples and Paths -> plain dicts, lists and strings (safe for weights_only)."""
    if isinstance(obj, dict):
        return {str(k): to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_plain(v) for v in obj]
    if isinstance(obj, (str, int, float, bool)) or obj is None or torch.is_tensor(obj):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    return str(obj)
