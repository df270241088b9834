"""The losses of the two training stages, built from a stage's nested loss spec.

``solver`` builds one :class:`GeneratorLoss` per stage from ``stage.loss`` and calls
:func:`discriminator_loss` in the GAN stage; ``train.ipynb`` chooses them through that spec
(``config.py`` holds its defaults and the presets'). Adding a loss is adding an entry to
``CONTENT_LOSSES``, ``PIXEL_LOSSES`` or ``ADVERSARIAL_LOSSES``.

A spec has one entry per term, ``None`` when the stage does without it; the generator minimises
the sum of each term times its ``weight`` (Ledig et al., 2017, Sec. 2.2, and its successors)::

    loss = dict(content=dict(type="vgg", weight=1.0),           # + VGGContent's parameters
                pixel=None,                                   # or dict(type="l1", weight=1e-2)
                adversarial=dict(type="vanilla", weight=1e-3),
                grid=None, feature_matching=None,             # or dict(weight=...)
                artifacts=None, gradient=None, flat=None)

- ``content``: ``"mse"`` (pixel MSE, the SRResNet's and SRGAN-MSE's), ``"l1"`` (pixel L1) or
  ``"vgg"`` (a distance between VGG19 phi_{i,j} feature maps, :class:`VGGContent`: SRGAN's
  VGG54, or ESRGAN's L1 before the activation);
- ``pixel``: an extra pixel term beside a perceptual content loss (ESRGAN's 1e-2 x L1);
- ``adversarial``: ``"vanilla"`` (the paper's -log D(G(LR)), non-saturating) or
  ``"relativistic"`` (ESRGAN's relativistic average GAN, Jolicoeur-Martineau 2018: D judges
  whether a real image is more realistic than the average fake one, and the generator gets
  gradients from real images too);
- ``grid``: this project's remedy against a pattern locked to the 4x4 output grid
  (:func:`grid_loss`);
- ``feature_matching``: pix2pixHD's feature matching on the discriminator's features
  (:func:`feature_matching_loss`);
- ``artifacts``: LDL's locally discriminative loss against artifacts (:func:`artifact_loss`;
  it compares with the moving average of G, so the stage needs ``ema_decay``);
- ``gradient``: SPSR's gradient-map loss (:func:`gradient_loss`): the output's local gradient
  magnitude against HR's, pixel by pixel;
- ``flat``: the pixel MSE again, on the regions where the LR image is flat alone (where a stage
  with ``d_regions`` shows D no detail), so that G adds no texture there.

Every function takes logits (the sigmoid is fused into binary cross-entropy, stable in fp16),
of any shape: one per image (SRGAN's D), or a map.
"""
import dataclasses

import torch
import torch.nn as nn
import torch.nn.functional as F

PIXEL_LOSSES = {"mse": F.mse_loss, "l1": F.l1_loss}
# content terms of the pixel kind: (sr, hr) -> loss; "vgg" is VGGContent
CONTENT_LOSSES = dict(PIXEL_LOSSES)
TERMS = ("content", "pixel", "adversarial", "grid", "feature_matching", "artifacts", "gradient", "flat")


@dataclasses.dataclass(frozen=True)
class VGGContent:
    """The parameters of a ``"vgg"`` content term, with SRGAN's VGG54 as defaults.

    Attributes:
        i, j (int): phi_{i,j}, the j-th conv of the i-th block of VGG19 (5, 4).
        scale (float): factor on the distance (1 / 12.75 in the paper, to bring it to the
            scale of the pixel MSE; ESRGAN: 1).
        distance (str): ``"mse"`` (SRGAN) or ``"l1"`` (ESRGAN).
        before_activation (bool): the conv's output before its ReLU (ESRGAN) instead of after.
    """
    i: int = 5
    j: int = 4
    scale: float = 1 / 12.75
    distance: str = "mse"
    before_activation: bool = False


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


def artifact_map(sr, hr, sr_ema, ksize=7):
    """LDL's map of the pixels likely to be artifacts (Liang, Zeng and Zhang, "Details or
    Artifacts", CVPR 2022, Eq. 6-8): the local variance (``ksize`` x ``ksize``) of the
    residual |HR - output| summed over channels, times the patch's residual variance ** (1/5),
    and zero wherever the output is closer to HR than the moving average of the generator is.
    Detail that G draws consistently survives in the average; flickering noise does not.

    Args:
        sr, hr, sr_ema (Tensor): (N, 3, H, W) in [0, 1]: the output, HR, the average's output.

    Returns:
        Tensor: (N, 1, H, W), without gradient.
    """
    with torch.no_grad():
        residual = (hr - sr).abs().sum(1, keepdim=True)  # (N, 1, H, W)
        residual_ema = (hr - sr_ema).abs().sum(1, keepdim=True)
        patch = residual.var(dim=(1, 2, 3), keepdim=True) ** (1 / 5)
        pad = ksize // 2
        windows = F.pad(residual, (pad,) * 4, mode="reflect").unfold(2, ksize, 1).unfold(3, ksize, 1)
        local = windows.var(dim=(-1, -2))  # (N, 1, H, W), unbiased as LDL's
        return torch.where(residual < residual_ema, 0.0, patch * local)


def artifact_loss(sr, hr, sr_ema):
    """LDL's artifact term: L1 between output and HR weighted by :func:`artifact_map`, on
    [0, 1] images as in LDL (its weight 1 carries over). Inputs in [-1, 1]."""
    sr, hr, sr_ema = ((x.float() + 1) / 2 for x in (sr, hr, sr_ema))
    weight = artifact_map(sr, hr, sr_ema)
    return F.l1_loss(weight * sr, weight * hr)


def gradient_map(imgs):
    """SPSR's gradient map (Ma et al., "Structure-Preserving Super Resolution with Gradient
    Guidance", CVPR 2020, Eq. 1): per channel, the magnitude of the central differences,
    sqrt(dx^2 + dy^2 + 1e-6), on the interior pixels (no padding, so no false edge at the border).

    Args:
        imgs (Tensor): (N, C, H, W).

    Returns:
        Tensor: (N, C, H - 2, W - 2), >= 1e-3.
    """
    dx = imgs[..., 1:-1, 2:] - imgs[..., 1:-1, :-2]
    dy = imgs[..., 2:, 1:-1] - imgs[..., :-2, 1:-1]
    return torch.sqrt(dx ** 2 + dy ** 2 + 1e-6)


def gradient_loss(sr, hr):
    """SPSR's gradient-map loss: L1 between the gradient maps (:func:`gradient_map`) of the
    output and of HR. It asks for HR's edge and texture strength at each pixel but not for its
    sign or exact phase: texture where HR has texture, nothing where HR is flat."""
    return F.l1_loss(gradient_map(sr.float()), gradient_map(hr.float()))


def _check(name, value, choices):
    if value not in choices:
        raise ValueError(f"stage.loss.{name} must be one of {sorted(choices)}, got {value!r}")


def check_spec(spec, mode):
    """Raise ``ValueError`` naming the first wrong entry of a stage's loss spec: an unknown term,
    a term without ``weight``, an unknown ``type``, a parameter its type does not take; a GAN
    stage without an adversarial term.

    Returns:
        dict: ``{term: spec or None}`` for every term of ``TERMS``.
    """
    unknown = sorted(set(spec) - set(TERMS))
    if unknown:
        raise ValueError(f"stage.loss.{unknown[0]} is not a loss term; the terms: {', '.join(TERMS)}")
    spec = {term: spec.get(term) for term in TERMS}
    types = {"content": {*CONTENT_LOSSES, "vgg"}, "pixel": PIXEL_LOSSES, "adversarial": ADVERSARIAL_LOSSES}
    for term, value in spec.items():
        if value is None:
            continue
        if "weight" not in value:
            raise ValueError(f"stage.loss.{term} needs a weight, got {dict(value)}")
        params = set(value) - {"weight", "type"}
        if term in types:
            _check(f"{term}.type", value.get("type"), types[term])
            if value["type"] == "vgg":
                params -= {f.name for f in dataclasses.fields(VGGContent)}
                _check("content.distance", value.get("distance", VGGContent.distance), PIXEL_LOSSES)
        if params:
            raise ValueError(f"stage.loss.{term} takes no {sorted(params)[0]!r} "
                             f"(type {value.get('type', term)!r})")
    if mode == "gan" and spec["adversarial"] is None:
        raise ValueError("a GAN stage needs stage.loss.adversarial")
    for term in ("artifacts", "flat"):
        if mode != "gan" and spec[term] is not None:
            raise ValueError(f"stage.loss.{term} belongs to a GAN stage")
    return spec


def vgg_content(spec):
    """The :class:`VGGContent` of a spec whose content term is ``"vgg"``, else None."""
    content = spec["content"]
    if content is None or content["type"] != "vgg":
        return None
    return VGGContent(**{k: v for k, v in content.items() if k not in ("type", "weight")})


def discriminator_loss(kind, real_logits, fake_logits):
    """The discriminator's loss terms.

    Args:
        kind (str): a key of ``ADVERSARIAL_LOSSES``.
        real_logits (Tensor): D(HR), any shape.
        fake_logits (Tensor): D(G(LR)) on detached generator outputs, the same shape.

    Returns:
        tuple: (loss on real images, loss on fakes), scalar tensors; D minimises their sum.
    """
    _check("adversarial.type", kind, ADVERSARIAL_LOSSES)
    return ADVERSARIAL_LOSSES[kind][0](real_logits, fake_logits)


def discriminator_outputs(kind, real_logits, fake_logits):
    """Mean probabilities "real" that D gives real and fake images, as its loss sees them:
    sigmoid(C(x)) for the vanilla loss, sigmoid(C(x) - E[C(other)]) (D_Ra) for the
    relativistic one, whose raw logits may drift together without meaning anything.

    Returns:
        tuple: (D(HR), D(G(LR))) as scalar tensors, each in [0, 1].
    """
    _check("adversarial.type", kind, ADVERSARIAL_LOSSES)
    if ADVERSARIAL_LOSSES[kind][2]:  # relativistic
        real_logits, fake_logits = real_logits - fake_logits.mean(), fake_logits - real_logits.mean()
    return torch.sigmoid(real_logits).mean(), torch.sigmoid(fake_logits).mean()


def needs_real_logits(kind):
    """Whether the generator's adversarial loss ``kind`` also needs D(HR)."""
    _check("adversarial.type", kind, ADVERSARIAL_LOSSES)
    return ADVERSARIAL_LOSSES[kind][2]


class GeneratorLoss(nn.Module):
    """The weighted sum of the terms of a stage's loss spec (module docstring).

    Args:
        spec (dict): ``stage.loss`` (:func:`check_spec`).
        feature_net (callable): phi_{i,j} (a ``models.TruncatedVGG19``, or its compiled
            wrapper) for a ``"vgg"`` content term.
        scale (int): the SR factor: the period of the ``grid`` term.
        mode (str): the stage's mode (``"gan"`` needs an adversarial term).

    Call: ``loss(sr, hr, fake_logits=None, real_logits=None, fake_maps=(), real_maps=(),
    sr_ema=None, flat=None)`` with images in [-1, 1] and, in the GAN stage, D's logits on ``sr``
    (with gradient) and on ``hr`` (detached, for the relativistic loss), D's feature maps of both
    (feature matching), the moving-average generator's output (artifacts) and the (N, 1, H, W)
    map of the flat regions, 1 where flat (the ``flat`` term).
    Returns ``(total, terms)``: the scalar to minimise and a dict of the unweighted
    ``<term>_loss`` tensors.
    """

    def __init__(self, spec, feature_net=None, scale=4, mode="gan"):
        super().__init__()
        self.spec = check_spec(spec, mode)
        self.vgg = vgg_content(self.spec)
        if self.vgg is not None and feature_net is None:
            raise ValueError("a 'vgg' content loss needs the VGG19 feature network")
        self.weights = {f"{term}_loss": value["weight"] for term, value in self.spec.items() if value}
        self.feature_net, self.scale = feature_net, scale

    def content_loss(self, sr, hr):
        """The content term, unweighted (no gradient flows into the HR side)."""
        if self.vgg is None:
            return CONTENT_LOSSES[self.spec["content"]["type"]](sr, hr)
        with torch.no_grad():
            hr_features = self.feature_net(hr)  # the target: no graph needed
        return self.vgg.scale * PIXEL_LOSSES[self.vgg.distance](self.feature_net(sr), hr_features)

    def forward(self, sr, hr, fake_logits=None, real_logits=None, fake_maps=(), real_maps=(),
                sr_ema=None, flat=None):
        spec = self.spec
        terms = {"content_loss": self.content_loss(sr, hr)}
        if spec["pixel"]:
            terms["pixel_loss"] = PIXEL_LOSSES[spec["pixel"]["type"]](sr, hr)
        if spec["grid"]:
            terms["grid_loss"] = grid_loss(sr, hr, self.scale)
        if spec["feature_matching"] and fake_maps:
            terms["feature_matching_loss"] = feature_matching_loss(fake_maps, real_maps)
        if spec["artifacts"] and sr_ema is not None:
            terms["artifacts_loss"] = artifact_loss(sr, hr, sr_ema)
        if spec["gradient"]:
            terms["gradient_loss"] = gradient_loss(sr, hr)
        if spec["flat"] and flat is not None:
            terms["flat_loss"] = F.mse_loss(flat * sr, flat * hr)
        if spec["adversarial"] and fake_logits is not None:
            generator_loss = ADVERSARIAL_LOSSES[spec["adversarial"]["type"]][1]
            terms["adversarial_loss"] = generator_loss(fake_logits, real_logits)
        total = sum(self.weights[name] * value for name, value in terms.items())
        return total, terms
