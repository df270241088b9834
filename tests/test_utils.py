"""utils: the benchmark metric reproduces published baselines; conversions are exact inverses."""
import numpy as np
import pytest
import torch
from PIL import Image

from imresize import imresize
from metrics import psnr_ssim
from utils import (ImageReadError, mod_crop, read_image, rgb_to_gray, rgb_to_y,
                   signed_to_uint8, signed_to_unit, uint8_to_signed, uint8_to_unit,
                   unit_to_imagenet, unit_to_signed, unit_to_uint8)

# Published x4 bicubic baselines (Y channel, 4 px border), e.g. Kim et al. (VDSR), Lim et al. (EDSR).
PUBLISHED_BICUBIC = {"Set5": (28.42, 0.8104), "Set14": (26.00, 0.7027), "B100": (25.96, 0.6675)}


@pytest.mark.parametrize("set_name", sorted(PUBLISHED_BICUBIC))
def test_bicubic_baseline_matches_published(shared_data, set_name):
    psnrs, ssims = [], []
    for hr_path in sorted((shared_data / set_name / "HR").glob("*.png")):
        hr = mod_crop(np.asarray(Image.open(hr_path)), 4)
        lr = np.asarray(Image.open(shared_data / set_name / "LR_bicubic" / "X4" / hr_path.name))
        psnr, ssim = psnr_ssim(imresize(lr, 4), hr, crop_border=4)
        psnrs.append(psnr)
        ssims.append(ssim)
    psnr_ref, ssim_ref = PUBLISHED_BICUBIC[set_name]
    assert abs(np.mean(psnrs) - psnr_ref) < 0.03
    assert abs(np.mean(ssims) - ssim_ref) < 0.002


def test_psnr_known_value():
    hr = np.full((16, 16), 100, np.uint8)  # 16x16: the smallest size SSIM's window allows
    sr = hr + np.uint8(1)  # mse = 1 -> 10 log10(255^2) = 48.1308 dB
    psnr, ssim = psnr_ssim(sr, hr, crop_border=0)
    assert psnr == pytest.approx(48.1308036, abs=1e-6)
    assert psnr_ssim(hr, hr, crop_border=2) == (float("inf"), 1.0)


def test_border_is_cropped_inside_the_metric():
    rng = np.random.default_rng(0)
    hr = rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)
    sr = hr.copy()
    sr[:4] = 0  # damage only the border
    assert psnr_ssim(sr, hr, crop_border=4)[0] == float("inf")
    assert psnr_ssim(sr, hr, crop_border=3)[0] < 40


def test_y_channel_is_matlab_rgb2ycbcr():
    img = np.array([[[0, 0, 0], [255, 255, 255], [255, 0, 0]]], np.uint8)
    np.testing.assert_allclose(rgb_to_y(img), [[16.0, 235.0, 16 + 65.481]])
    gray = np.full((2, 2, 3), 77, np.uint8)
    np.testing.assert_allclose(rgb_to_gray(gray), 77.0)


def test_gray_ground_truth_is_scored_on_gray_values():
    rng = np.random.default_rng(1)
    hr = rng.integers(0, 256, (20, 20), dtype=np.uint8)
    sr_rgb = np.repeat(hr[:, :, None], 3, axis=2)
    assert psnr_ssim(sr_rgb, hr, crop_border=4)[0] == float("inf")
    noisy = np.clip(hr.astype(int) + rng.integers(-3, 4, hr.shape), 0, 255).astype(np.uint8)
    gray_score = psnr_ssim(noisy, hr, crop_border=4)
    # Through the Y formula the same error would shrink by 219/255 and score higher.
    y_score = psnr_ssim(np.repeat(noisy[:, :, None], 3, 2), np.repeat(hr[:, :, None], 3, 2), 4)
    assert y_score[0] > gray_score[0]


@pytest.mark.parametrize("sr, hr, crop, message", [
    (np.zeros((8, 8, 3), np.float32), np.zeros((8, 8, 3), np.uint8), 0, "uint8"),
    (np.zeros((8, 8, 3), np.uint8), np.zeros((8, 9, 3), np.uint8), 0, "differ"),
    (np.zeros((8, 8, 4), np.uint8), np.zeros((8, 8, 4), np.uint8), 0, "uint8"),
    (np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8, 3), np.uint8), 4, "11x11 window"),
    (np.zeros((20, 20), np.uint8), np.zeros((20, 20), np.uint8), 5, "11x11 window"),
])
def test_metric_rejects_bad_input(sr, hr, crop, message):
    with pytest.raises(ValueError, match=message):
        psnr_ssim(sr, hr, crop)


def test_conversions_round_trip():
    rng = np.random.default_rng(2)
    img = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    unit = uint8_to_unit(img)
    assert unit.shape == (3, 16, 16) and unit.dtype == torch.float32
    assert 0 <= unit.min() and unit.max() <= 1
    signed = uint8_to_signed(img)
    assert -1 <= signed.min() and signed.max() <= 1
    np.testing.assert_array_equal(unit_to_uint8(unit), img)
    np.testing.assert_array_equal(signed_to_uint8(signed), img)
    torch.testing.assert_close(signed_to_unit(unit_to_signed(unit)), unit)
    # Out-of-range model outputs are clipped, not wrapped.
    assert unit_to_uint8(torch.full((3, 2, 2), 1.7)).max() == 255
    assert signed_to_uint8(torch.full((3, 2, 2), -1.5)).min() == 0


def test_imagenet_normalisation():
    x = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1).expand(2, 3, 4, 4)
    torch.testing.assert_close(unit_to_imagenet(x), torch.zeros(2, 3, 4, 4))


@pytest.mark.parametrize("mode", ["L", "LA", "RGBA", "P", "CMYK", "I;16", "1"])
def test_read_image_converts_modes(tmp_path, mode):
    rgb = Image.fromarray(np.random.default_rng(3).integers(0, 256, (16, 16, 3), dtype=np.uint8))
    img = rgb.convert(mode) if mode != "I;16" else Image.fromarray(
        (np.asarray(rgb.convert("L")).astype(np.uint16) * 257))
    path = tmp_path / ("img.tif" if mode == "CMYK" else "img.png")
    img.save(path)
    out = read_image(path)
    assert out.dtype == np.uint8 and out.shape == (16, 16, 3)
    if mode == "I;16":  # 16-bit values scaled back exactly to 8 bits
        np.testing.assert_array_equal(out[:, :, 0], np.asarray(rgb.convert("L")))
    if mode in ("L", "LA", "I;16", "1"):
        assert read_image(path, keep_gray=True).shape == (16, 16)


def test_read_image_names_file_and_reason(tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    good = tmp_path / "good.png"
    Image.fromarray(np.zeros((64, 64, 3), np.uint8) + 90).save(good)
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(good.read_bytes()[:60])
    for path, reason in [(empty, "empty file"), (text, "not an image"),
                         (truncated, "cannot decode"), (tmp_path / "missing.png", "not found")]:
        with pytest.raises(ImageReadError, match=reason) as info:
            read_image(path)
        assert str(path) in str(info.value)


def test_mod_crop():
    assert mod_crop(np.zeros((321, 481, 3)), 4).shape == (320, 480, 3)
    assert mod_crop(np.zeros((16, 18)), 4).shape == (16, 16)
