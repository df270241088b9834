"""The losses of the two training stages, composed from a stage's config.

``solver`` builds one :class:`GeneratorLoss` per stage and calls :func:`discriminator_loss` in
the GAN stage; ``train.ipynb`` chooses them through the stage keys below. Adding a loss is
adding an entry to ``PIXEL_LOSSES`` or ``ADVERSARIAL_LOSSES``.

Generator loss (Ledig et al., 2017, Sec. 2.2, and its successors)::

    content_weight x content  +  pixel_weight x pixel  +  adversarial_weight x adversarial

- ``content_loss``: ``"mse"`` (pixel MSE, the SRResNet's and SRGAN-MSE's), ``"l1"`` (pixel L1,
  ESRGAN's pixel term), ``"vgg"`` (``vgg_loss_scale`` x MSE between VGG19 phi_{i,j} feature
  maps; 1 / 12.75 in the paper, to bring it to the scale of the pixel MSE; ESRGAN's: L1
  distance, ``vgg_distance="l1"``, between maps taken before the ReLU) or ``"lr_mse"``
  (MSE between the output and HR both downscaled by MATLAB's bicubic, ``imresize_torch``: it
  pins what the LR image determines and leaves the detail above its frequencies to the
  adversarial loss, as the consistency constraints of PULSE (Menon et al., 2020) and of
  Bahat and Michaeli (2020); a pixel loss at full resolution penalises every texture that is
  not the ground truth's, pixel for pixel);
- ``pixel_loss``: an extra pixel term beside a perceptual content loss, ``None`` (SRGAN) or
  ``"l1"`` (ESRGAN's 1e-2 x L1);
- ``grid_weight``: this project's remedy against a pattern locked to the 4x4 output grid
  (:func:`grid_loss`; 0, off, in the papers' recipes);
- ``adversarial_loss``: ``"vanilla"`` (the paper's -log D(G(LR)), non-saturating) or
  ``"relativistic"`` (ESRGAN's relativistic average GAN, Jolicoeur-Martineau 2018: D judges
  whether a real image is more realistic than the average fake one, and the generator gets
  gradients from real images too).

Every function takes logits (the sigmoid is fused into binary cross-entropy, stable in fp16),
of any shape: one per image (SRGAN's D), or a map (PatchGAN, U-Net D).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from imresize import imresize_torch

PIXEL_LOSSES = {"mse": F.mse_loss, "l1": F.l1_loss}


def _bce(logits, target):
    """Mean binary cross-entropy of ``logits`` against a constant ``target`` in [0, 1]."""
    return F.binary_cross_entropy_with_logits(logits, logits.new_full(logits.shape, target))


def _vanilla_d(real_logits, fake_logits):
    return _bce(real_logits, 1.0), _bce(fake_logits, 0.0)


def _vanilla_g(fake_logits, real_logits=None):
    return _bce(fake_logits, 1.0)  # -log D(G(LR)): BCE against the "real" label


def _relativistic_d(real_logits, fake_logits):
    # D_Ra(x_r, x_f) = sigmoid(C(x_r) - E[C(x_f)]); halved as in ESRGAN's release, so that
    # its adversarial weights (5e-3) carry over.
    return (_bce(real_logits - fake_logits.mean(), 1.0) / 2,
            _bce(fake_logits - real_logits.mean(), 0.0) / 2)


def _relativistic_g(fake_logits, real_logits):
    # Symmetric to D's: real images "less realistic than the fakes", fakes "more realistic".
    # real_logits come from D on the HR batch, detached (D is frozen in the generator step).
    return (_bce(real_logits - fake_logits.mean(), 0.0) + _bce(fake_logits - real_logits.mean(), 1.0)) / 2


# name: (discriminator loss -> (real term, fake term), generator loss, needs D(HR) in the G step)
ADVERSARIAL_LOSSES = {
    "vanilla": (_vanilla_d, _vanilla_g, False),
    "relativistic": (_relativistic_d, _relativistic_g, True),
}


def _lr_mse(sr, hr, scale):
    """MSE of the two images downscaled by 1 / ``scale`` (MATLAB bicubic, antialiased)."""
    return F.mse_loss(imresize_torch(sr, 1 / scale), imresize_torch(hr, 1 / scale))


def grid_phase_means(imgs, period=4):
    """The part of each image locked to the ``period`` x ``period`` output grid: each pixel
    minus the mean of its grid block, averaged over the blocks per phase.

    Args:
        imgs (Tensor): (N, C, H, W), H and W multiples of ``period`` (the HR patches are).

    Returns:
        Tensor: (N, C, period, period); a pattern repeated on the grid comes out whole, texture
        that is not locked to the grid averages towards 0.
    """
    n, c, h, w = imgs.shape
    blocks = imgs.reshape(n, c, h // period, period, w // period, period)
    residual = blocks - blocks.mean(dim=(3, 5), keepdim=True)  # block means removed
    return residual.mean(dim=(2, 4))


def grid_loss(sr, hr, period=4):
    """Mean squared difference of the grid-locked parts (:func:`grid_phase_means`) of the output
    and of HR: what ``metrics.grid_pattern`` measures, as a loss. A pattern on the 4x4 output
    grid costs the generator directly, however little it adds to the pixel loss."""
    return F.mse_loss(grid_phase_means(sr, period), grid_phase_means(hr, period))


def feature_matching_loss(fake_maps, real_maps):
    """pix2pixHD's feature matching (Wang et al., CVPR 2018): the mean over D's layers of the
    L1 distance between its features of the output and of HR (detached), each layer's distance
    a mean over its elements. The generator is asked for HR's statistics in the space D has
    learned to tell real from fake, pixel-aligned with its own HR patch."""
    if len(fake_maps) != len(real_maps):
        raise ValueError(f"{len(fake_maps)} feature maps of the output, {len(real_maps)} of HR")
    return sum(F.l1_loss(fake.float(), real.float()) for fake, real in zip(fake_maps, real_maps)) / len(fake_maps)


def _check(name, value, choices):
    if value not in choices:
        raise ValueError(f"stage.{name} must be one of {sorted(choices)}, got {value!r}")


def discriminator_loss(kind, real_logits, fake_logits):
    """The discriminator's loss terms.

    Args:
        kind (str): a key of ``ADVERSARIAL_LOSSES``.
        real_logits (Tensor): D(HR), any shape.
        fake_logits (Tensor): D(G(LR)) on detached generator outputs, the same shape.

    Returns:
        tuple: (loss on real images, loss on fakes), scalar tensors; D minimises their sum.
    """
    _check("adversarial_loss", kind, ADVERSARIAL_LOSSES)
    return ADVERSARIAL_LOSSES[kind][0](real_logits, fake_logits)


def discriminator_outputs(kind, real_logits, fake_logits):
    """Mean probabilities "real" that D gives real and fake images, as its loss sees them:
    sigmoid(C(x)) for the vanilla loss, sigmoid(C(x) - E[C(other)]) (D_Ra) for the
    relativistic one, whose raw logits may drift together without meaning anything.

    Returns:
        tuple: (D(HR), D(G(LR))) as scalar tensors, each in [0, 1].
    """
    _check("adversarial_loss", kind, ADVERSARIAL_LOSSES)
    if ADVERSARIAL_LOSSES[kind][2]:  # relativistic
        real_logits, fake_logits = real_logits - fake_logits.mean(), fake_logits - real_logits.mean()
    return torch.sigmoid(real_logits).mean(), torch.sigmoid(fake_logits).mean()


def needs_real_logits(kind):
    """Whether the generator's adversarial loss ``kind`` also needs D(HR)."""
    _check("adversarial_loss", kind, ADVERSARIAL_LOSSES)
    return ADVERSARIAL_LOSSES[kind][2]


class GeneratorLoss(nn.Module):
    """``content_weight`` x content + ``pixel_weight`` x pixel + ``adversarial_weight`` x
    adversarial, from a stage config.

    Args:
        stage (dict): ``content_loss`` ('mse' | 'l1' | 'vgg' | 'lr_mse'), ``content_weight``
            (1.0), ``vgg_loss_scale`` (1 / 12.75), ``vgg_distance`` ('mse' | 'l1'),
            ``pixel_loss`` (None | 'mse' | 'l1') and ``pixel_weight``, and in the GAN stage
            ``adversarial_loss`` ('vanilla' | 'relativistic') and ``adversarial_weight`` (1e-3).
        feature_net (callable): phi_{i,j} (a ``models.TruncatedVGG19``, or its compiled
            wrapper) when ``content_loss == 'vgg'``.
        scale (int): the SR factor (for ``content_loss == 'lr_mse'``).

    Call: ``loss(sr, hr, fake_logits=None, real_logits=None)`` with images in [-1, 1] and,
    in the GAN stage, D's logits on ``sr`` (with gradient) and on ``hr`` (detached, for the
    relativistic loss). Returns ``(total, terms)``: the scalar to minimise and a dict of the
    unweighted ``content_loss`` (``pixel_loss``, ``adversarial_loss``) tensors.
    """

    def __init__(self, stage, feature_net=None, scale=4):
        super().__init__()
        self.content = stage.get("content_loss", "mse")
        _check("content_loss", self.content, {*PIXEL_LOSSES, "vgg", "lr_mse"})
        self.scale = scale
        if self.content == "vgg" and feature_net is None:
            raise ValueError("content_loss 'vgg' needs the VGG19 feature network")
        self.adversarial = stage.get("adversarial_loss", "vanilla")
        _check("adversarial_loss", self.adversarial, ADVERSARIAL_LOSSES)
        self.content_weight = stage.get("content_weight", 1.0)
        self.adversarial_weight = stage.get("adversarial_weight", 1e-3)
        self.vgg_loss_scale = stage.get("vgg_loss_scale", 1 / 12.75)
        self.vgg_distance = stage.get("vgg_distance", "mse")
        _check("vgg_distance", self.vgg_distance, PIXEL_LOSSES)
        self.pixel = stage.get("pixel_loss")
        if self.pixel is not None:
            _check("pixel_loss", self.pixel, PIXEL_LOSSES)
        self.pixel_weight = stage.get("pixel_weight", 0.0)
        self.grid_weight = stage.get("grid_weight", 0.0)
        self.feature_matching_weight = stage.get("feature_matching_weight", 0.0)
        self.feature_net = feature_net

    def content_loss(self, sr, hr):
        """The content term, unweighted (no gradient flows into the HR side)."""
        if self.content == "lr_mse":
            return _lr_mse(sr, hr, self.scale)
        if self.content != "vgg":
            return PIXEL_LOSSES[self.content](sr, hr)
        with torch.no_grad():
            hr_features = self.feature_net(hr)  # the target: no graph needed
        return self.vgg_loss_scale * PIXEL_LOSSES[self.vgg_distance](self.feature_net(sr), hr_features)

    def forward(self, sr, hr, fake_logits=None, real_logits=None, fake_maps=(), real_maps=()):
        terms = {"content_loss": self.content_loss(sr, hr)}
        total = self.content_weight * terms["content_loss"]
        if self.pixel is not None:
            terms["pixel_loss"] = PIXEL_LOSSES[self.pixel](sr, hr)
            total = total + self.pixel_weight * terms["pixel_loss"]
        if self.grid_weight:
            terms["grid_loss"] = grid_loss(sr, hr, self.scale)
            total = total + self.grid_weight * terms["grid_loss"]
        if self.feature_matching_weight and fake_maps:
            terms["feature_matching_loss"] = feature_matching_loss(fake_maps, real_maps)
            total = total + self.feature_matching_weight * terms["feature_matching_loss"]
        if fake_logits is not None:
            terms["adversarial_loss"] = ADVERSARIAL_LOSSES[self.adversarial][1](fake_logits, real_logits)
            total = total + self.adversarial_weight * terms["adversarial_loss"]
        return total, terms
