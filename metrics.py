"""Image-quality measures: distortion (PSNR, SSIM), naturalness (NIQE), perceptual distance
(LPIPS), and a detector of patterns locked to the output grid. Pure functions, float64.

PSNR and SSIM reward the blurriest plausible output; a GAN trades them for detail
(Blau and Michaeli, "The perception-distortion tradeoff", CVPR 2018). ``test.ipynb`` reports
all of them for every method, and plots PSNR against NIQE (the perception-distortion plane);
``inference.validate`` scores NIQE (``solver.fit`` logs it per GAN epoch).

- :func:`psnr_ssim`: the SR benchmark protocol (Y channel of MATLAB's rgb2ycbcr, border crop,
  MATLAB's SSIM): the published bicubic baselines are reproduced with it.
- :func:`niqe`: Mittal et al. (2013), no reference, lower is more natural, with MATLAB's
  semantics and the authors' pristine parameters (``assets/niqe_pris_params.npz``).
- :func:`lpips_model` / :func:`lpips_distance`: Zhang et al. (2018) through the ``lpips``
  package, lower is closer to the ground truth; its backbone needs torchvision's ImageNet
  weights (downloaded on first use).
- :func:`grid_pattern`: this project's diagnostic of the checkerboard a sub-pixel generator
  draws: the strength of the component with the output grid's period.
"""
import functools
import warnings
from pathlib import Path

import numpy as np
import scipy.ndimage
import scipy.special
import torch
from skimage.metrics import structural_similarity

from imresize import imresize
from utils import gray_to_rgb, rgb_to_gray, rgb_to_y, uint8_to_signed

NIQE_PARAMS = Path(__file__).resolve().parent / "assets" / "niqe_pris_params.npz"
NIQE_BLOCK = 96  # block side of the pristine model (the authors' recommended value)


def _check_uint8_image(name, img):
    if img.dtype != np.uint8 or img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] != 3):
        raise ValueError(f"{name} must be uint8 (H, W, 3) or (H, W), got {img.dtype} {img.shape}")


def _crop(img, border):
    return img[border:-border, border:-border] if border else img


# ----------------------------------------------------------------------------------------------
# PSNR and SSIM: the benchmark protocol
# ----------------------------------------------------------------------------------------------
def psnr_ssim(sr, hr, crop_border, y_channel=True):
    """PSNR and SSIM with the SR benchmark protocol, in float64.

    Args:
        sr (ndarray): uint8, (H, W, 3) RGB or (H, W) gray: the estimate.
        hr (ndarray): uint8, (H, W, 3) RGB or (H, W) gray: the ground truth, same H and W.
        crop_border (int): pixels removed from each side before scoring (the scale, 4, by
            convention).
        y_channel (bool): score RGB images on the Y channel of MATLAB's rgb2ycbcr (the
            benchmark convention); if False, on all three RGB channels.

    A gray ``hr`` is scored on its gray values directly (as MATLAB scripts do: the Y conversion
    applies to RGB only), with an RGB ``sr`` reduced by :func:`utils.rgb_to_gray`. SSIM follows
    Wang et al.'s MATLAB code: 11x11 Gaussian window with sigma 1.5, K1 = 0.01, K2 = 0.03,
    L = 255, population covariance.

    Returns:
        tuple: ``(psnr, ssim)`` as floats; PSNR in dB (``inf`` for identical images).

    Raises:
        ValueError: for other dtypes, mismatched shapes or a crop that leaves nothing.
    """
    _check_uint8_image("sr", sr)
    _check_uint8_image("hr", hr)
    if sr.shape[:2] != hr.shape[:2]:
        raise ValueError(f"sr and hr sizes differ: {sr.shape[:2]} vs {hr.shape[:2]}")
    if crop_border < 0 or min(hr.shape[:2]) - 2 * crop_border < 11:
        raise ValueError(f"a {hr.shape[0]}x{hr.shape[1]} image with crop_border {crop_border} "
                         f"leaves less than SSIM's 11x11 window")

    if hr.ndim == 2:
        sr_f = rgb_to_gray(sr) if sr.ndim == 3 else sr.astype(np.float64)
        hr_f = hr.astype(np.float64)
    elif y_channel:
        sr_f = rgb_to_y(sr) if sr.ndim == 3 else sr.astype(np.float64)
        hr_f = rgb_to_y(hr)
    else:
        if sr.ndim != 3:
            raise ValueError("y_channel=False needs an RGB sr for an RGB hr")
        sr_f, hr_f = sr.astype(np.float64), hr.astype(np.float64)
    sr_f, hr_f = _crop(sr_f, crop_border), _crop(hr_f, crop_border)

    mse = np.mean((sr_f - hr_f) ** 2)
    psnr = float("inf") if mse == 0 else float(10.0 * np.log10(255.0 ** 2 / mse))
    ssim = structural_similarity(
        sr_f, hr_f, data_range=255.0, gaussian_weights=True, sigma=1.5,
        use_sample_covariance=False, K1=0.01, K2=0.03,
        channel_axis=2 if sr_f.ndim == 3 else None)
    return psnr, float(ssim)


# ----------------------------------------------------------------------------------------------
# NIQE (Mittal, Soundararajan and Bovik, IEEE SPL 2013), MATLAB's semantics
# ----------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _niqe_params():
    """(mu (36,), cov (36, 36), window (7, 7)) of the authors' pristine model."""
    if not NIQE_PARAMS.is_file():
        raise FileNotFoundError(f"{NIQE_PARAMS}: NIQE's pristine parameters are missing; the "
                                f"file ships with the project (see assets/README.md)")
    with np.load(NIQE_PARAMS) as params:
        return (params["mu_pris_param"].reshape(36).astype(np.float64),
                params["cov_pris_param"].astype(np.float64),
                params["gaussian_window"].astype(np.float64))


@functools.lru_cache(maxsize=1)
def _aggd_table():
    """The shape parameters alpha = 0.2, 0.201, ..., 10 and r(alpha) = G(2/a)^2 / (G(1/a) G(3/a))."""
    alpha = np.arange(0.2, 10.001, 0.001)
    gamma = scipy.special.gamma
    return alpha, gamma(2 / alpha) ** 2 / (gamma(1 / alpha) * gamma(3 / alpha))


def _aggd(values):
    """Moment-matching fit of an asymmetric generalised Gaussian (the authors' ``estimateaggdparam``).

    Returns:
        tuple: (alpha, beta_left, beta_right); NaN for a block without both signs.
    """
    values = values.ravel()
    negative, positive = values[values < 0], values[values > 0]
    if not negative.size or not positive.size:
        return np.nan, np.nan, np.nan
    left_std, right_std = np.sqrt(np.mean(negative ** 2)), np.sqrt(np.mean(positive ** 2))
    gamma_hat = left_std / right_std
    r_hat = np.mean(np.abs(values)) ** 2 / np.mean(values ** 2)
    r_hat_norm = r_hat * (gamma_hat ** 3 + 1) * (gamma_hat + 1) / (gamma_hat ** 2 + 1) ** 2
    alphas, r_alpha = _aggd_table()
    alpha = alphas[np.argmin((r_alpha - r_hat_norm) ** 2)]
    ratio = np.sqrt(scipy.special.gamma(1 / alpha) / scipy.special.gamma(3 / alpha))
    return alpha, left_std * ratio, right_std * ratio


def _niqe_features(block):
    """The 18 features of one block of MSCN coefficients (the authors' ``computefeature``):
    AGGD shape and mean scale of the coefficients, then shape, mean, left and right scale of
    the products of neighbours along four orientations."""
    alpha, beta_l, beta_r = _aggd(block)
    features = [alpha, (beta_l + beta_r) / 2]
    for shift in ((0, 1), (1, 0), (1, 1), (1, -1)):  # MATLAB's circshift
        alpha, beta_l, beta_r = _aggd(block * np.roll(block, shift, axis=(0, 1)))
        mean = (beta_r - beta_l) * scipy.special.gamma(2 / alpha) / scipy.special.gamma(1 / alpha)
        features += [alpha, mean, beta_l, beta_r]
    return features


def _halve_mirrored(gray):
    """MATLAB-bicubic x0.5 with antialiasing, in float, with mirrored borders.

    ``imresize.imresize`` clamps out-of-range taps to the edge, which reproduces the benchmark
    LR files bit-exactly; MATLAB's reference NIQE value is reproduced only with mirrored
    borders (``imresize.m``'s ``aux = [1:n, n:-1:1]``): on Set14 ``baboon.png`` mirrored
    gives 5.72996 against MATLAB's 5.72957, clamped 5.71951. A symmetric pad of 8 pixels
    (more than the 4-pixel reach of the x0.5 kernel) then a crop of 4 output pixels gives
    the mirrored result exactly.
    """
    pad = 8
    halved = imresize(np.pad(gray, pad, mode="symmetric") / 255.0, 0.5) * 255.0
    return halved[pad // 2:-(pad // 2), pad // 2:-(pad // 2)]


def niqe(img, crop_border=0):
    """NIQE of an image: lower is more natural (pristine photographs score about 3-6).

    MATLAB's semantics (LIVE's ``niqe_release``, and MATLAB's ``niqe``): the Y channel of
    rgb2ycbcr (rounded, as MATLAB's uint8 result), cropped to whole 96x96 blocks without
    overlap; at two scales, the second made by MATLAB-bicubic x0.5 with antialiasing
    (in float, mirrored borders: :func:`_halve_mirrored`), the MSCN coefficients (local mean and deviation
    with the 7x7 Gaussian window, replicated borders) give 18 features per block; the score
    is the Mahalanobis-like distance between the Gaussian fitted to the blocks' 36 features and
    the authors' pristine model. Reproduces MATLAB R2021a on Set14 ``baboon.png``
    (5.72957) within 4e-4.

    Args:
        img (ndarray): uint8, (H, W, 3) RGB or (H, W) gray.
        crop_border (int): pixels removed from each side first (the scale, as for PSNR, when
            scoring SR outputs; 0 for MATLAB's plain ``niqe``).

    Returns:
        float: the NIQE score.

    Raises:
        ValueError: for another dtype or shape, an image with fewer than two 96x96 blocks,
            or one whose blocks are all flat.
    """
    _check_uint8_image("img", img)
    gray = np.round(rgb_to_y(img)) if img.ndim == 3 else img.astype(np.float64)
    gray = _crop(gray, crop_border)
    rows, cols = gray.shape[0] // NIQE_BLOCK, gray.shape[1] // NIQE_BLOCK
    if rows * cols < 2:
        raise ValueError(f"NIQE needs at least two {NIQE_BLOCK}x{NIQE_BLOCK} blocks, got a "
                         f"{gray.shape[0]}x{gray.shape[1]} image (after crop_border={crop_border})")
    mu_pristine, cov_pristine, window = _niqe_params()
    gray = gray[:rows * NIQE_BLOCK, :cols * NIQE_BLOCK]

    per_scale = []
    for scale in (1, 2):
        mu = scipy.ndimage.correlate(gray, window, mode="nearest")  # local mean
        sigma = np.sqrt(np.abs(scipy.ndimage.correlate(gray * gray, window, mode="nearest") - mu * mu))
        mscn = (gray - mu) / (sigma + 1)  # mean-subtracted contrast-normalised coefficients
        side = NIQE_BLOCK // scale
        per_scale.append([_niqe_features(mscn[r * side:(r + 1) * side, c * side:(c + 1) * side])
                          for r in range(rows) for c in range(cols)])
        if scale == 1:
            gray = _halve_mirrored(gray)
    features = np.concatenate([np.asarray(f, dtype=np.float64) for f in per_scale], axis=1)  # (blocks, 36)

    valid = features[~np.isnan(features).any(axis=1)]
    if len(valid) < 2:
        raise ValueError(f"NIQE needs at least two textured {NIQE_BLOCK}x{NIQE_BLOCK} blocks; "
                         f"{len(features) - len(valid)} of the image's {len(features)} are flat")
    mu_image = np.nanmean(features, axis=0)
    cov_image = np.cov(valid, rowvar=False)
    difference = mu_pristine - mu_image
    distance = difference @ np.linalg.pinv((cov_pristine + cov_image) / 2) @ difference
    return float(np.sqrt(distance))


# ----------------------------------------------------------------------------------------------
# LPIPS (Zhang et al., CVPR 2018) through the lpips package
# ----------------------------------------------------------------------------------------------
LPIPS_BACKBONES = {"alex": "AlexNet_Weights", "vgg": "VGG16_Weights", "squeeze": "SqueezeNet1_1_Weights"}


def lpips_model(net="alex", device="cpu", pretrained_backbone=True):
    """The LPIPS network (``lpips.LPIPS``, version 0.1), frozen, in eval mode.

    Its linear calibration layers ship with the ``lpips`` package; its backbone is
    torchvision's ImageNet network, which torchvision downloads into its cache on first use.

    Args:
        net (str): backbone, ``"alex"`` (the authors' recommended metric), ``"vgg"`` or
            ``"squeeze"``.
        device: where to put it.
        pretrained_backbone (bool): False gives random backbone weights (tests of the plumbing
            only: the distances are then meaningless).

    Raises:
        ImportError: if the ``lpips`` package is not installed (``pip install lpips``).
        FileNotFoundError: offline without the backbone's weights, naming the file and where
            it goes.
    """
    import torchvision

    if net not in LPIPS_BACKBONES:
        raise ValueError(f"LPIPS net must be one of {sorted(LPIPS_BACKBONES)}, got {net!r}")
    try:
        import lpips
    except ImportError:
        raise ImportError("LPIPS needs the lpips package: pip install lpips") from None
    url = getattr(torchvision.models, LPIPS_BACKBONES[net]).IMAGENET1K_V1.url
    cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(url).name
    try:
        with warnings.catch_warnings():  # lpips 0.1.4 calls torchvision's deprecated pretrained=
            warnings.simplefilter("ignore", UserWarning)
            model = lpips.LPIPS(net=net, pnet_rand=not pretrained_backbone, verbose=False)
    except Exception as err:  # offline: URLError, socket errors, ...
        raise FileNotFoundError(
            f"LPIPS ({net}) needs torchvision's ImageNet weights {cached.name}, which are not in "
            f"torchvision's cache ({cached}) and could not be downloaded ({type(err).__name__}: "
            f"{err}). On a machine with internet, download {url} and put it at {cached}. "
            f"PSNR, SSIM and NIQE need no download.") from None
    return model.to(device).eval().requires_grad_(False)


@torch.inference_mode()
def lpips_distance(model, sr, hr, crop_border=0):
    """LPIPS distance between two uint8 RGB images (lower is closer), in float64.

    Args:
        model: from :func:`lpips_model`.
        sr (ndarray): uint8 RGB (H, W, 3), the estimate.
        hr (ndarray): uint8 RGB (H, W, 3) or gray (H, W), the ground truth.
        crop_border (int): pixels removed from each side first.
    """
    _check_uint8_image("sr", sr)
    _check_uint8_image("hr", hr)
    if sr.shape[:2] != hr.shape[:2]:
        raise ValueError(f"sr and hr sizes differ: {sr.shape[:2]} vs {hr.shape[:2]}")
    images = [gray_to_rgb(x) for x in (sr, hr)]
    device = next(model.parameters()).device
    sr_t, hr_t = (uint8_to_signed(np.ascontiguousarray(_crop(x, crop_border)))[None].to(device)
                  for x in images)  # (1, 3, H, W) in [-1, 1], LPIPS's input range
    return float(model(sr_t, hr_t).double().mean())


# ----------------------------------------------------------------------------------------------
# Patterns locked to the output grid
# ----------------------------------------------------------------------------------------------
def grid_pattern(img, period=4, crop_border=0):
    """Strength of the component of an image that repeats with the output grid's period.

    A x4 sub-pixel generator can draw a pattern that repeats every ``period`` pixels (the
    checkerboard of Odena et al., 2016). The Y channel minus its ``period`` x ``period`` box
    mean keeps such a pattern whole and removes smooth content; averaging that residual over
    all pixels of each of the ``period``**2 grid phases keeps what is locked to the grid and
    averages natural texture away. The score is the RMS of those phase means, in gray levels
    (Y in 16..235): about 0.1-0.3 for photographs and bicubic upsampling, the pattern's RMS
    amplitude for an image with a grid pattern added. This project's diagnostic, not a metric
    from the literature.

    Args:
        img (ndarray): uint8, (H, W, 3) RGB or (H, W) gray; H, W >= 2 x period.
        period (int): the grid period in pixels (the scale, 4).
        crop_border (int): pixels removed from each side first.

    Returns:
        float: RMS of the per-phase means of the high-passed Y channel (gray levels).
    """
    _check_uint8_image("img", img)
    gray = _crop(rgb_to_y(img) if img.ndim == 3 else img.astype(np.float64), crop_border)
    h, w = (gray.shape[0] // period) * period, (gray.shape[1] // period) * period
    if h < 2 * period or w < 2 * period:
        raise ValueError(f"grid_pattern needs at least {2 * period}x{2 * period} pixels, "
                         f"got {gray.shape[0]}x{gray.shape[1]}")
    residual = gray - scipy.ndimage.uniform_filter(gray, size=period, mode="reflect")
    phases = residual[:h, :w].reshape(h // period, period, w // period, period).mean(axis=(0, 2))
    return float(np.sqrt(np.mean(phases ** 2)))
