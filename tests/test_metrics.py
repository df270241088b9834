"""metrics: NIQE reproduces MATLAB's published value, LPIPS plumbing, the grid-pattern measure."""
import numpy as np
import pytest
import torch

import metrics
from metrics import grid_pattern, lpips_distance, lpips_model, niqe
from utils import read_image, rgb_to_y

MATLAB_NIQE_BABOON = 5.72957338  # MATLAB R2021a niqe on Set14 baboon.png (BasicSR's niqe.py)


def natural_like(size=256, seed=0):
    """A smooth random image with texture: low-pass noise plus fine noise, uint8 RGB."""
    rng = np.random.default_rng(seed)
    coarse = rng.normal(size=(size // 8, size // 8))
    smooth = np.kron(coarse, np.ones((8, 8)))
    img = 128 + 40 * smooth + rng.normal(scale=12, size=(size, size))
    return np.repeat(np.clip(img, 0, 255).astype(np.uint8)[:, :, None], 3, axis=2)


def test_niqe_matches_matlab_on_baboon(shared_data):
    img = read_image(shared_data / "Set14" / "HR" / "baboon.png")
    assert niqe(img) == pytest.approx(MATLAB_NIQE_BABOON, abs=1e-3)


def test_niqe_shipped_parameters_are_the_published_ones():
    mu, cov, window = metrics._niqe_params()
    assert mu.shape == (36,) and cov.shape == (36, 36) and window.shape == (7, 7)
    assert window.sum() == pytest.approx(1.0) and np.allclose(cov, cov.T)


def test_niqe_of_a_photograph_rises_with_blur_and_takes_gray_images():
    from skimage import data

    from imresize import imresize

    photo = data.astronaut()  # 512x512, bundled with scikit-image
    blurred = imresize(imresize(photo, 0.25), 4.0)
    assert 2 < niqe(photo) < 5 < niqe(blurred)  # 3.10 and 6.97
    gray = np.round(rgb_to_y(photo)).astype(np.uint8)
    assert niqe(gray) == pytest.approx(niqe(photo), abs=1e-9)  # RGB is scored on its rounded Y


@pytest.mark.parametrize("shape, crop, message", [
    ((96, 150, 3), 0, "at least two 96x96 blocks"),
    ((200, 200, 3), 5, "after crop_border=5"),
])
def test_niqe_names_too_small_images(shape, crop, message):
    with pytest.raises(ValueError, match=message):
        niqe(np.zeros(shape, np.uint8) + 100, crop)


def test_niqe_refuses_flat_images_and_bad_dtypes():
    with pytest.raises(ValueError, match="flat"):
        niqe(np.full((192, 192, 3), 77, np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        niqe(np.zeros((192, 192, 3), np.float32))


@pytest.mark.parametrize("step", [2, 6])
def test_grid_pattern_measures_a_pattern_locked_to_the_grid(step):
    img = natural_like(seed=1)
    checkerboard = step * (1 - 2 * ((np.arange(256)[:, None] + np.arange(256)[None, :]) % 2))
    patterned = np.clip(img.astype(int) + checkerboard[:, :, None], 0, 255).astype(np.uint8)
    assert grid_pattern(img) < 0.3
    # +-step in R, G and B is +-step x 219/255 in Y (MATLAB's rgb2ycbcr): the pattern's RMS
    assert grid_pattern(patterned) == pytest.approx(step * 219 / 255, rel=0.05)


def test_grid_pattern_of_a_shifted_copy_is_the_same_texture_score():
    img = natural_like(seed=2)
    assert abs(grid_pattern(img) - grid_pattern(np.roll(img, 1, axis=1))) < 0.2


def test_lpips_plumbing_with_random_backbone():
    torch.manual_seed(0)
    model = lpips_model("alex", pretrained_backbone=False)
    img = natural_like(128)
    assert lpips_distance(model, img, img) == pytest.approx(0.0, abs=1e-6)
    noisy = np.clip(img.astype(int) + np.random.default_rng(0).integers(-40, 40, img.shape), 0, 255)
    assert lpips_distance(model, noisy.astype(np.uint8), img) > 0
    assert lpips_distance(model, img, img[:, :, 0], crop_border=4) >= 0  # gray ground truth


def test_lpips_offline_names_the_backbone_file(monkeypatch):
    import lpips

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(lpips, "LPIPS", offline)
    with pytest.raises(FileNotFoundError, match=r"alexnet-owt-7be5be79\.pth.*download"):
        lpips_model("alex")
