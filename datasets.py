"""PyTorch datasets: random training patches (DIV2K protocol) and whole test images.

``train.ipynb`` wraps :class:`SRTrainDataset` in a DataLoader, or on a GPU in
:class:`DevicePatches` (the same patches, cut on the GPU); ``inference.validate`` and
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
        flips = torch.randint(2, (3,)).tolist() if self.augment else (0, 0, 0)
        return self.crop(hr, lr, y, x, flips)

    def crop(self, hr, lr, y, x, flips):
        """The aligned patches at LR corner ``(y, x)`` with ``flips`` = (horizontal, vertical,
        transpose), applied in that order (with the flips: all 8 rotations and reflections).

        Returns:
            tuple: uint8 (3, lr_patch, lr_patch) and (3, hr_patch, hr_patch) tensors.
        """
        lr = lr[y:y + self.lr_patch, x:x + self.lr_patch]  # (24, 24, 3) uint8
        s = self.scale
        hr = hr[y * s:(y + self.lr_patch) * s, x * s:(x + self.lr_patch) * s]  # (96, 96, 3) uint8
        flip_h, flip_v, transpose = flips
        if flip_h:
            lr, hr = lr[:, ::-1], hr[:, ::-1]
        if flip_v:
            lr, hr = lr[::-1], hr[::-1]
        if transpose:
            lr, hr = lr.transpose(1, 0, 2), hr.transpose(1, 0, 2)
        return uint8_to_chw(lr), uint8_to_chw(hr)  # (3, 24, 24) and (3, 96, 96) uint8


class DevicePatches:
    """:class:`SRTrainDataset`'s random patches, cut on the training device from its images
    cached there as uint8: no CPU work and no host-to-device copy per step.

    The same distribution as a DataLoader over the dataset (shuffled, ``drop_last``): each
    pass draws every image ``patches_per_image`` times in a random order (``num_samples`` of
    them under torchrun), each patch at a uniform LR corner with each of the three flips of
    :meth:`SRTrainDataset.crop` at probability 1/2, from the device's RNG (which the
    checkpoints save). A batch is cut by two gathers (HR and LR) whose indices encode the
    corners and flips: a few dozen small kernels, no host synchronisation.

    Args:
        dataset (SRTrainDataset): with its decoded images (``cache=True``).
        batch_size (int): patches per batch.
        device (torch.device): where the images go and the patches are cut.
        num_samples (int): patches per pass (default: the dataset's length).

    Items (iterating): ``(lr, hr)`` uint8 batches (N, 3, p, p) and (N, 3, P, P) on ``device``.
    """

    def __init__(self, dataset, batch_size, device, num_samples=None):
        if not dataset.cache:
            raise ValueError("DevicePatches needs the dataset's decoded images (cache=True)")
        self.dataset, self.batch_size, self.device = dataset, batch_size, torch.device(device)
        self.num_samples = len(dataset) if num_samples is None else num_samples
        self.scale, self.augment = dataset.scale, dataset.augment
        self.hr, self.hr_meta = self._flat([hr for hr, _ in dataset.images])
        self.lr, self.lr_meta = self._flat([lr for _, lr in dataset.images])

    @staticmethod
    def bytes_needed(dataset):
        """Device bytes the cache of ``dataset``'s images takes (HR and LR, uint8)."""
        return sum(hr.nbytes + lr.nbytes for hr, lr in dataset.images)

    def _flat(self, images):
        """The images as one flat uint8 buffer on the device, with each one's (offset, H, W)."""
        sizes = [img.shape[:2] for img in images]
        offsets = [0]
        for h, w in sizes[:-1]:
            offsets.append(offsets[-1] + h * w * 3)
        flat = torch.cat([torch.from_numpy(img).reshape(-1) for img in images]).to(self.device)
        meta = torch.tensor([(o, h, w) for o, (h, w) in zip(offsets, sizes)], dtype=torch.int64,
                            device=self.device)  # (n_images, 3)
        return flat, meta

    def __len__(self):
        return self.num_samples // self.batch_size

    def __iter__(self):
        order = torch.randperm(len(self.dataset), device=self.device)[:self.num_samples]
        images = order // self.dataset.patches_per_image  # (num_samples,)
        for b in range(len(self)):
            yield self.cut(*self.draw(images[b * self.batch_size:(b + 1) * self.batch_size]))

    def draw(self, images):
        """Uniform LR corners and the flips for the patches of ``images`` (indices, (N,)).

        Returns:
            tuple: ``(images, y, x, flips)``, int64 (N,), (N,), (N,) and (N, 3) on the device.
        """
        p = self.dataset.lr_patch
        _, h, w = self.lr_meta[images].unbind(1)
        u = torch.rand(2, len(images), device=self.device, dtype=torch.float64)
        y = (u[0] * (h - p + 1)).long().clamp_max(h - p)  # uniform in [0, h - p]
        x = (u[1] * (w - p + 1)).long().clamp_max(w - p)
        flips = (torch.randint(2, (len(images), 3), device=self.device) if self.augment
                 else torch.zeros(len(images), 3, dtype=torch.int64, device=self.device))
        return images, y, x, flips

    def cut(self, images, y, x, flips):
        """The patches of ``images`` at LR corners ``(y, x)`` with ``flips`` (N, 3): exactly
        :meth:`SRTrainDataset.crop`'s, as batches (N, 3, p, p) and (N, 3, P, P) uint8."""
        p = self.dataset.lr_patch
        lr = self._gather(self.lr, self.lr_meta[images], y, x, p, flips)
        hr = self._gather(self.hr, self.hr_meta[images], y * self.scale, x * self.scale, p * self.scale, flips)
        return lr, hr

    def _gather(self, flat, meta, y, x, size, flips):
        offset, _, width = meta.unbind(1)  # (N,) each
        i = torch.arange(size, device=self.device)
        rows, cols = i.view(1, size, 1), i.view(1, 1, size)  # the output's row and column
        flip_h, flip_v, transpose = (f.view(-1, 1, 1).bool() for f in flips.unbind(1))
        # output (r, c) of transpose(flip_v(flip_h(crop))) is crop (a, b): undo them in reverse
        a, b = torch.where(transpose, cols, rows), torch.where(transpose, rows, cols)  # (N, P, P)
        a, b = torch.where(flip_v, size - 1 - a, a), torch.where(flip_h, size - 1 - b, b)
        pixel = offset.view(-1, 1, 1) + ((y.view(-1, 1, 1) + a) * width.view(-1, 1, 1) + x.view(-1, 1, 1) + b) * 3
        index = pixel.unsqueeze(1) + torch.arange(3, device=self.device).view(1, 3, 1, 1)  # (N, 3, P, P)
        return flat[index]


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
