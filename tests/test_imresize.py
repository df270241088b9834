"""imresize: MATLAB's files reproduced bit-exactly, and agreement with a plain reference."""
import math

import numpy as np
import pytest
import torch
from PIL import Image

from imresize import imresize, imresize_torch, output_size


def reference_resize_1d(signal, out_length, scale):
    """MATLAB's 1-D bicubic resize written out sample by sample (slow, obviously right)."""
    def cubic(t):
        t = abs(t)
        if t <= 1:
            return 1.5 * t ** 3 - 2.5 * t ** 2 + 1
        if t <= 2:
            return -0.5 * t ** 3 + 2.5 * t ** 2 - 4 * t + 2
        return 0.0

    width = 4.0 / scale if scale < 1 else 4.0
    stretch = scale if scale < 1 else 1.0
    n = len(signal)
    out = []
    for x in range(1, out_length + 1):
        u = x / scale + 0.5 * (1 - 1 / scale)
        left = math.floor(u - width / 2)
        taps = [(left + k, stretch * cubic(stretch * (u - left - k)))
                for k in range(int(math.ceil(width)) + 2)]
        total = sum(w for _, w in taps)
        out.append(sum(w / total * signal[min(max(i, 1), n) - 1] for i, w in taps))
    return np.array(out)


def reference_imresize(img, scale=None, output_shape=None):
    (out_h, out_w), (s_h, s_w) = output_size(img.shape[:2], scale, output_shape)
    is_uint8 = img.dtype == np.uint8
    x = img.astype(np.float64)
    if x.ndim == 2:
        x = x[:, :, None]
    passes = [(0, out_h, s_h), (1, out_w, s_w)]
    if s_w < s_h:
        passes.reverse()
    for axis, length, s in passes:
        x = np.apply_along_axis(reference_resize_1d, axis, x, length, s)
        if is_uint8:
            x = np.clip(np.floor(x + 0.5), 0, 255)
    x = x.reshape(x.shape[:2] + img.shape[2:])
    return x.astype(np.uint8) if is_uint8 else x


def test_reproduces_matlab_lr_files(shared_data):
    """All 119 LR files of Set5, Set14 and B100, made by MATLAB, reproduced bit-exactly."""
    checked, wrong = 0, []
    for set_name in ("Set5", "Set14", "B100"):
        for hr_path in sorted((shared_data / set_name / "HR").glob("*.png")):
            hr = np.asarray(Image.open(hr_path))
            hr = hr[: hr.shape[0] // 4 * 4, : hr.shape[1] // 4 * 4]
            expected = np.asarray(Image.open(shared_data / set_name / "LR_bicubic" / "X4" / hr_path.name))
            result = imresize(hr, 0.25)
            checked += 1
            if result.shape != expected.shape or not np.array_equal(result, expected):
                wrong.append(f"{set_name}/{hr_path.name}")
    assert checked == 119
    assert wrong == []


@pytest.mark.parametrize("shape, scale", [
    ((16, 16, 3), 0.25),
    ((17, 23, 3), 0.25),       # odd sizes: output ceil(17/4) x ceil(23/4)
    ((19, 13), 1 / 3),         # gray, non-integer taps
    ((16, 16, 3), 0.37),       # non-integer shrink
    ((9, 11, 3), 4),           # enlarge
    ((10, 7), 2.5),            # non-integer enlarge
    ((12, 12, 3), 1),          # identity scale
    ((16, 20, 3), (0.5, 2)),   # different factors: columns enlarge, rows shrink first
])
@pytest.mark.parametrize("dtype", [np.uint8, np.float64])
def test_matches_reference(shape, scale, dtype):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, shape).astype(dtype)
    if dtype == np.float64:
        img /= 255.0
    result = imresize(img, scale)
    expected = reference_imresize(img, scale)
    assert result.dtype == dtype
    assert result.shape == expected.shape
    if dtype == np.uint8:
        np.testing.assert_array_equal(result, expected)
    else:
        np.testing.assert_allclose(result, expected, rtol=0, atol=1e-12)


def test_output_shape_and_identity():
    rng = np.random.default_rng(1)
    img = rng.random((15, 21, 3))
    result = imresize(img, output_shape=(7, 30))
    assert result.shape == (7, 30, 3)
    np.testing.assert_allclose(result, reference_imresize(img, output_shape=(7, 30)), atol=1e-12)
    np.testing.assert_allclose(imresize(img, 1), img, atol=1e-12)


def test_float_is_not_rounded_or_clipped():
    img = np.zeros((8, 8))
    img[:, 4:] = 1.0
    result = imresize(img, 2)
    assert result.dtype == np.float64
    assert result.min() < 0 and result.max() > 1  # cubic overshoot survives


@pytest.mark.parametrize("scale", [0.25, 0.5, 4, 1 / 3])
def test_torch_path_matches_numpy(scale):
    rng = np.random.default_rng(2)
    imgs = rng.random((2, 3, 17, 22))
    result = imresize_torch(torch.from_numpy(imgs), scale).numpy()
    for n in range(2):
        expected = imresize(imgs[n].transpose(1, 2, 0), scale).transpose(2, 0, 1)
        np.testing.assert_allclose(result[n], expected, atol=1e-12)
    as_float32 = imresize_torch(torch.from_numpy(imgs).float(), scale)
    assert as_float32.dtype == torch.float32


@pytest.mark.parametrize("kwargs, message", [
    ({}, "exactly one"),
    ({"scale": 0.5, "output_shape": (4, 4)}, "exactly one"),
    ({"scale": 0}, "positive"),
    ({"scale": -2}, "positive"),
    ({"output_shape": (0, 4)}, "positive"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        imresize(np.zeros((8, 8), np.uint8), **kwargs)


def test_bad_image():
    with pytest.raises(ValueError, match="dtype"):
        imresize(np.zeros((8, 8), np.int32), 0.5)
    with pytest.raises(ValueError, match="shape"):
        imresize(np.zeros((2, 8, 8, 3), np.uint8), 0.5)
    with pytest.raises(ValueError, match="tensor"):
        imresize_torch(torch.zeros(8, 8), 0.5)
