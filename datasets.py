"""PyTorch datasets: random training patches (DIV2K protocol) and whole test images.

``train.ipynb`` wraps :class:`SRTrainDataset` in a DataLoader; ``inference.validate`` and
``test.ipynb`` iterate :class:`SRTestDataset` directly, one whole image at a time.

Tensor conventions (the paper's, converted only by the named functions of ``utils.py``):

- LR tensors are float32 RGB in [0, 1], (3, h, w): the generator's input;
- HR training tensors are float32 RGB in [-1, 1], (3, H, W): the range of the generator's tanh;
- HR test images stay uint8 numpy arrays (H, W, 3), or (H, W) for a gray ground truth, since
  the metrics are computed on uint8 images.

Every image is read as uint8 RGB (gray, RGBA, palette, CMYK and 16-bit files are converted) and
mod-cropped so that its sides are multiples of the scale; an LR image not given in the list is
made from that crop with MATLAB's bicubic (``imresize``).
"""
import warnings
from pathlib import Path

import torch
from torch.utils.data import Dataset

from create_data_lists import read_list
from imresize import imresize
from utils import (check_scale, gray_to_rgb, mod_crop, progress_bar, read_image, uint8_to_chw,
                   uint8_to_unit)


def as_pairs(data_list):
    """A CSV path (str or Path) -> its ``(hr, lr or None)`` pairs; a list of pairs as it is."""
    if isinstance(data_list, (str, Path)):
        return read_list(data_list)
    return [(Path(hr), None if lr is None else Path(lr)) for hr, lr in data_list]


def load_pair(hr_path, lr_path, scale, keep_gray=False):
    """Read an HR image and its LR image, checked against each other.

    Args:
        hr_path (Path): HR image file.
        lr_path (Path or None): LR image file; None makes it from the HR by ``imresize``.
        scale (int): the SR factor.
        keep_gray (bool): return a single-channel HR as (H, W) (for scoring).

    Returns:
        tuple: ``(hr, lr)``: uint8 HR mod-cropped, (H, W, 3) (or (H, W) if gray and
        ``keep_gray``); uint8 RGB LR, (H / scale, W / scale, 3).

    Raises:
        ImageReadError: if a file cannot be read.
        ValueError: if the LR size is not the HR size / scale, naming both files.
    """
    hr = mod_crop(read_image(hr_path, keep_gray=keep_gray), scale)
    if lr_path is None:
        lr = imresize(hr, 1.0 / scale)
    else:
        lr = read_image(lr_path)
        if lr.shape[:2] != (hr.shape[0] // scale, hr.shape[1] // scale):
            raise ValueError(f"{lr_path}: LR is {lr.shape[1]}x{lr.shape[0]} px, expected "
                             f"{hr.shape[1] // scale}x{hr.shape[0] // scale} (HR {hr_path} / {scale})")
    return hr, gray_to_rgb(lr)


class SRTrainDataset(Dataset):
    """Random aligned LR/HR patches, ``patches_per_image`` per image per epoch.

    Index ``i`` draws a fresh random patch of image ``i // patches_per_image`` (position, flips
    and 90-degree rotation from torch's RNG, so DataLoader workers draw different patches).

    Decoded images are cached: with ``cache=True`` every pair is decoded once, in the
    constructor, so an epoch costs a crop per patch rather than a PNG decode (the speed-up:
    report/performance.md, section 2); DataLoader workers forked afterwards share that memory.
    The cache holds the uint8 images (DIV2K's 800 training images: 800 x 2040 x ~1400 x 3
    bytes); under torchrun each rank holds only its share (``train.make_data``).

    Args:
        data_list (str or Path or list): a CSV written by ``create_data_lists.py``, or a list of
            ``(hr_path, lr_path or None)`` pairs.
        scale (int): SR factor, one of ``utils.SCALES`` (2, 4 or 8).
        hr_patch (int): HR patch side; the LR patch side is ``hr_patch // scale``.
        patches_per_image (int): patches drawn from each image per epoch.
        augment (bool): random horizontal flip, vertical flip and transposition (together, the
            8 symmetries of the square).
        cache (bool): decode every image once, up front; False decodes per patch (slow, no
            memory; the baseline of ``benchmarks/bench_datasets.py``).
        log (callable): where warnings about skipped images go (default: ``warnings.warn``).

    Items: ``(lr, hr)``: uint8 (3, hr_patch / scale, hr_patch / scale) and uint8
    (3, hr_patch, hr_patch). The training loop maps them to the network's ranges on its device
    (``utils.batch_to_unit``, ``utils.batch_to_signed``): uint8 patches cost a quarter of the
    bytes between DataLoader workers and on the way to a GPU.
    """

    def __init__(self, data_list, scale=4, hr_patch=96, patches_per_image=100, augment=True,
                 cache=True, log=None):
        check_scale(scale)
        if hr_patch % scale:
            raise ValueError(f"hr_patch must be a multiple of scale {scale}, got {hr_patch}")
        if patches_per_image < 1:
            raise ValueError(f"patches_per_image must be >= 1, got {patches_per_image}")
        self.scale, self.hr_patch, self.lr_patch = scale, hr_patch, hr_patch // scale
        self.patches_per_image, self.augment, self.cache = patches_per_image, augment, cache
        log = log or (lambda msg: warnings.warn(msg, stacklevel=3))
        pairs = as_pairs(data_list)

        self.pairs, self.images, self.skipped = [], [], []
        for hr_path, lr_path in progress_bar(pairs, desc="reading training images", disable=not cache,
                                     leave=False):
            try:
                if cache:
                    hr, lr = load_pair(hr_path, lr_path, scale)
                    size = hr.shape[:2]
                else:
                    hr = lr = None
                    size = mod_crop(read_image(hr_path), scale).shape[:2]
            except ValueError as err:  # ImageReadError too: named file and reason
                self.skipped.append((hr_path, str(err)))
                log(f"skipping {err}")
                continue
            if min(size) < hr_patch:
                reason = f"{size[1]}x{size[0]} px is smaller than a {hr_patch} px patch"
                self.skipped.append((hr_path, reason))
                log(f"skipping {hr_path}: {reason}")
                continue
            self.pairs.append((hr_path, lr_path))
            if cache:
                self.images.append((hr, lr))
        if not self.pairs:
            raise ValueError(f"no usable training image in {data_list!s:.200} "
                             f"({len(self.skipped)} skipped)")

    def __len__(self):
        return len(self.pairs) * self.patches_per_image

    def _images(self, index):
        if self.cache:
            return self.images[index]
        return load_pair(*self.pairs[index], self.scale)

    def __getitem__(self, i):
        hr, lr = self._images(i // self.patches_per_image)
        # Draw the LR corner; the HR corner is scale times it, so the patches stay aligned.
        y = int(torch.randint(lr.shape[0] - self.lr_patch + 1, ()))
        x = int(torch.randint(lr.shape[1] - self.lr_patch + 1, ()))
        lr = lr[y:y + self.lr_patch, x:x + self.lr_patch]  # (24, 24, 3) uint8
        s = self.scale
        hr = hr[y * s:(y + self.lr_patch) * s, x * s:(x + self.lr_patch) * s]  # (96, 96, 3) uint8
        if self.augment:
            flip_h, flip_v, transpose = torch.randint(2, (3,)).tolist()
            if flip_h:
                lr, hr = lr[:, ::-1], hr[:, ::-1]
            if flip_v:
                lr, hr = lr[::-1], hr[::-1]
            if transpose:  # with the flips: all 8 rotations and reflections
                lr, hr = lr.transpose(1, 0, 2), hr.transpose(1, 0, 2)
        return uint8_to_chw(lr), uint8_to_chw(hr)  # (3, 24, 24) and (3, 96, 96) uint8


class SRTestDataset(Dataset):
    """Whole test images: the LR input as a tensor, the HR ground truth as uint8.

    Args:
        data_list (str or Path or list): a CSV written by ``create_data_lists.py``, or a list of
            ``(hr_path, lr_path or None)`` pairs.
        scale (int): SR factor.

    Items: dicts with ``lr`` (float32 (3, h, w) in [0, 1]), ``hr`` (uint8 (H, W, 3), or (H, W)
    for a gray ground truth, mod-cropped: H = h * scale, W = w * scale), ``lr_uint8`` (uint8
    (h, w, 3): the LR as read, for bicubic baselines) and ``name`` (the HR file's stem).
    Files are read when indexed; an unreadable file raises an error naming it.
    """

    def __init__(self, data_list, scale=4):
        check_scale(scale)
        self.scale = scale
        self.pairs = as_pairs(data_list)

    def __len__(self):
        return len(self.pairs)

    def __getitem__(self, i):
        hr_path, lr_path = self.pairs[i]
        hr, lr = load_pair(hr_path, lr_path, self.scale, keep_gray=True)
        return {"lr": uint8_to_unit(lr), "hr": hr, "lr_uint8": lr, "name": hr_path.stem}
