"""Training: one epoch of a stage, the stage loop with its checkpoints, resumably.

``train.ipynb`` (and ``train.py``) make the config (``config.py``: every key, with its default)
and call :func:`fit` once per stage: ``config.stages.pretrain`` (the generator alone on a pixel
loss: SRResNet, ESRGAN's RRDBNet or SRCNN), then ``config.stages.gan`` (initialised from the
pretrained generator, trained against the discriminator, with ``losses.GeneratorLoss``: SRGAN's
content + 1e-3 adversarial loss, or ESRGAN's). The generator family is
``config.generator.arch`` (``archs.GENERATORS``). Precision: ``precision.py``; checkpoints:
``checkpoints.py``; logs: ``training_log.py``; inference and evaluation: ``inference.py``. The
GAN stage's remedies (a moving average of G, a D that sees the mean of the channels, the
feature matching and grid terms of ``losses``) are measured in report/README.md, "Attempts and
improvements"; ``report/experiments/gan_ablation.py`` adds the views of D's input it measured to
``D_INPUTS``.
"""
import contextlib
import math
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import SimpleNamespace

import torch
import torch.nn as nn
from easydict import EasyDict

import checkpoints
import distributed
import precision
import training_log
from step_graph import StepRunner, capturable_optimizer, capture_refusal
from archs import TruncatedVGG19, build_discriminator, build_generator, load_weights
from archs.discriminators import D_INPUTS, TexturedRegions, conv_features
from inference import initial_weights, resolve_device, validate
from losses import (GeneratorLoss, check_spec, discriminator_loss, discriminator_outputs,
                    needs_real_logits, vgg_content)
from utils import batch_to_signed, batch_to_unit, progress_bar
from weight_average import WeightAverage


# ----------------------------------------------------------------------------------------------
# Set-up
# ----------------------------------------------------------------------------------------------
@dataclass
class Training:
    """One stage's training state: what :func:`train_epoch` updates and the checkpoints hold.

    ``step_nets`` are the networks as the training steps call them (generator, discriminator,
    discriminator_g, content_net): in DDP under torchrun, compiled with ``config.compile``;
    the plain modules are the fields, which checkpoints and validation use.
    """
    generator: nn.Module
    optimizer_g: torch.optim.Optimizer
    scheduler_g: torch.optim.lr_scheduler.LRScheduler
    scaler_g: torch.amp.GradScaler
    scaler_d: torch.amp.GradScaler
    loss: GeneratorLoss
    step_nets: SimpleNamespace
    device: torch.device
    amp_dtype: torch.dtype = None  # the autocast dtype, None for fp32 (precision.py)
    generator_ema: "WeightAverage" = None  # with stage.ema_decay
    discriminator: nn.Module = None  # the GAN stage's
    optimizer_d: torch.optim.Optimizer = None
    scheduler_d: torch.optim.lr_scheduler.LRScheduler = None
    content_net: nn.Module = None  # the VGG of a "vgg" content loss
    d_regions: TexturedRegions = None  # with stage.d_regions: where D looks
    epoch: int = 0
    iteration: int = 0
    best_psnr: float = -math.inf
    history: list = field(default_factory=list)  # one row per epoch
    skipped_steps: int = 0  # steps whose loss was not finite
    writer: object = None  # a TensorBoard SummaryWriter (training_log.tensorboard_writer)
    runner: StepRunner = None  # the stage's steps, eager or CUDA-graphed (train_epoch makes it)
    capturing: bool = False  # while a CUDA graph records a step: autocast keeps no weight cache


def build_training(config, stage, device):
    """Models, optimizers and schedulers of one stage, with its counters at zero.

    Schedulers step once per iteration: ``stage.milestones`` are iteration counts (the paper's
    SRGAN drops the learning rate from 1e-4 to 1e-5 after 10^5 iterations).

    With ``config.compile`` the training steps call ``torch.compile`` wrappers of the networks
    (``training.step_nets``); the wrappers share the modules' parameters, so checkpoints and
    validation use the plain modules (no recompilation for each validation image size). Where
    the whole step is captured in a CUDA graph (``step_graph``), the networks are compiled
    without the compiler's own CUDA graphs (``max-autotune-no-cudagraphs``): the graph of the
    step holds them.

    With ``stage.ema_decay`` (0.999 in BasicSR and Real-ESRGAN) ``training.generator_ema`` keeps
    an exponential moving average of the generator's weights (:class:`WeightAverage`), updated
    after every generator step; validation and the ``_ema`` checkpoint use it.

    Returns:
        Training: the stage's state.
    """
    if stage.mode not in ("pretrain", "gan"):
        raise ValueError(f"stage.mode must be 'pretrain' or 'gan', got {stage.mode!r}")
    if stage.mode == "gan" and stage.d_input not in D_INPUTS:
        raise ValueError(f"stage.d_input must be one of {sorted(D_INPUTS)}, got {stage.d_input!r}")
    ema_decay = stage.ema_decay
    if ema_decay is not None and not 0 < ema_decay < 1:
        raise ValueError(f"stage.ema_decay must be None or in (0, 1), got {ema_decay!r}")
    if stage.loss.artifacts and ema_decay is None:
        raise ValueError("stage.loss.artifacts compares with the moving average of G: set stage.ema_decay")
    if stage.mode == "gan" and stage.loss.get("flat") and stage.d_regions is None:
        raise ValueError("stage.loss.flat weighs the regions that stage.d_regions finds flat: set stage.d_regions")
    d_regions = None
    if stage.mode == "gan" and stage.d_regions is not None:
        keys = sorted(f.name for f in fields(TexturedRegions))
        unknown = sorted(set(stage.d_regions) - set(keys))
        if unknown:
            raise ValueError(f"stage.d_regions takes no {unknown[0]!r}; its keys: {', '.join(keys)}")
        d_regions = TexturedRegions(**stage.d_regions)
    amp_dtype = precision.autocast_dtype(config, device)
    memory_format = _memory_format(config, device)
    generator = build_generator(scale=config.scale, **config.generator).to(
        device, memory_format=memory_format)
    optimizer_g = _adam(generator, stage.lr_g, config, device)
    discriminator = optimizer_d = scheduler_d = content_net = None
    if stage.mode == "gan":
        discriminator = build_discriminator(**config.discriminator).to(device, memory_format=memory_format)
        optimizer_d = _adam(discriminator, stage.lr_d, config, device)
        scheduler_d = torch.optim.lr_scheduler.MultiStepLR(
            optimizer_d, [int(m) for m in stage.milestones], stage.gamma)
    vgg = vgg_content(check_spec(stage.loss, stage.mode))
    if vgg is not None:
        content_net = TruncatedVGG19(vgg.i, vgg.j, weights=config.vgg_weights,
                                     before_activation=vgg.before_activation
                                     ).to(device, memory_format=memory_format)
    # The networks as the training steps call them: in DDP under torchrun (gradients averaged
    # over the ranks; rank 0's initial weights everywhere), compiled with config.compile. The
    # generator step calls D's own module, not its DDP wrapper: D is frozen there, and a DDP
    # forward whose parameters get no gradient would leave DDP waiting for them.
    nets = dict(generator=_ddp(generator, config, device), discriminator=_ddp(discriminator, config, device),
                discriminator_g=discriminator, content_net=content_net)
    compile_mode = "max-autotune-no-cudagraphs" if capture_refusal(config, device) is None else None
    step_nets = SimpleNamespace(**{name: torch.compile(net, mode=compile_mode) if config.compile and net is not None
                                   else net for name, net in nets.items()})
    return Training(
        generator=generator, optimizer_g=optimizer_g,
        scheduler_g=torch.optim.lr_scheduler.MultiStepLR(
            optimizer_g, [int(m) for m in stage.milestones], stage.gamma),
        # one scaler per optimizer, each updated once per step (precision.grad_scaler)
        scaler_g=precision.grad_scaler(device, amp_dtype), scaler_d=precision.grad_scaler(device, amp_dtype),
        loss=GeneratorLoss(stage.loss, step_nets.content_net, config.scale, stage.mode),
        step_nets=step_nets,
        device=device, amp_dtype=amp_dtype,
        generator_ema=None if ema_decay is None else WeightAverage(generator, ema_decay),
        discriminator=discriminator, optimizer_d=optimizer_d, scheduler_d=scheduler_d,
        content_net=content_net, d_regions=d_regions)


def _adam(module, lr, config, device):
    """Adam, fused: one kernel per step, and it reads the gradient scaler's found-inf flag on
    the device, so a skipped step costs no host synchronisation. Capturable, with its learning
    rate a 0-d tensor on the device, which the scheduler changes in place: a CUDA graph of the
    step reads the current rate at every replay (:func:`capturable_optimizer`)."""
    optimizer = torch.optim.Adam(module.parameters(), lr=lr, betas=tuple(config.betas), fused=True)
    return capturable_optimizer(optimizer, device)



def _ddp(module, config, device):
    """``module`` in DistributedDataParallel under torchrun (BN synchronised with
    ``config.sync_bn``, CUDA only), else itself (None too)."""
    if distributed.world_size() == 1 or module is None:
        return module
    if config.sync_bn:
        if device.type != "cuda":
            raise ValueError("config.sync_bn needs CUDA (nn.SyncBatchNorm); on the CPU each rank "
                             "normalises its own share of the batch (set sync_bn false)")
        module = nn.SyncBatchNorm.convert_sync_batchnorm(module)
    return distributed.wrap(module, device)


def inference_generator(training):
    """The generator that validation, tests and the ``_ema`` checkpoint use: the moving
    average of the weights when the stage keeps one, else the trained weights."""
    return training.generator if training.generator_ema is None else training.generator_ema.module


def _memory_format(config, device):
    return torch.channels_last if config.channels_last else torch.contiguous_format


# ----------------------------------------------------------------------------------------------
# One epoch
# ----------------------------------------------------------------------------------------------
def train_epoch(training, loader, config, stage, deadline=None, until=None, log=print):
    """Train one pass of ``loader`` of ``stage``, or until ``stage.iterations``, iteration
    ``until`` or ``deadline`` is reached.

    Each iteration is one call of ``training.runner`` (:func:`step_runner`): the whole step,
    eager or replayed from a CUDA graph. The steps leave their losses on the device; every
    ``config.log_every`` steps the window's sums start on their way to the host (one
    non-blocking copy, and under torchrun one all-reduce) and the window before it is read
    into the per-iteration CSV: one window late, so that the host never waits for the GPU. A
    step whose loss or gradients are not finite changes no weight (the gradient scalers skip it
    on the device); such steps are counted when read, and ``stage.max_bad_steps`` of them in a
    row stop the run (a window later than they happened: those steps changed nothing).

    Args:
        training (Training): from :func:`build_training` (updated in place: models, optimizers,
            ``iteration``, ``skipped_steps``, ``runner``).
        loader (iterable): batches ``(lr_imgs, hr_imgs)`` of uint8 patches, (N, 3, h, w) and
            (N, 3, H, W) (a DataLoader of ``datasets.SRTrainDataset``, or
            ``datasets.DevicePatches``); with ``until``, an endless iterator of them.
        config (EasyDict): the run's config.
        stage (EasyDict): the stage's config.
        deadline (float): ``time.monotonic()`` value after which to stop early (checked, and
            agreed between the ranks, once per ``log_every`` steps).
        until (int): the iteration at which to stop (the next validation, ``fit``'s cadence).
        log (callable): where the runner's line about the CUDA graph goes.

    Returns:
        dict: the pass's means of content_loss, adversarial_loss, g_loss, d_loss_real,
        d_loss_fake, d_real (mean D(HR)), d_fake (mean D(G(LR))), and lr_g, images_per_s,
        iterations, skipped_steps.

    Raises:
        FloatingPointError: after ``stage.max_bad_steps`` non-finite losses in a row.
    """
    device = training.device
    training.generator.train()
    if training.discriminator is not None:
        training.discriminator.train()
    if training.runner is None:
        training.runner = step_runner(training, config, stage, log)
    stop = min(stage.iterations, until if until is not None else stage.iterations)
    # the pass's means, the current log window's (summed on the device), the window on its way
    epoch, window, sent = training_log.Meter(device), training_log.Meter(device), None
    log_path = Path(config.out_dir) / f"{stage.name}_iterations.csv"
    total = len(loader) if until is None else stop - training.iteration
    bar = progress_bar(loader, desc=f"{stage.name} {training.iteration}", leave=False, total=total,
                       dynamic_ncols=True, disable=not distributed.is_main())

    def read(window):
        record = window.read(training, stage, config.out_dir)  # waits for its copy only
        epoch.merge(window)
        if distributed.is_main():
            training_log.append_csv(log_path, record)
            training_log.add_scalars(training.writer, "train", record)
        return record

    batches = iter(bar)
    # every rank stops at the same step; the stop is checked before the next batch is drawn, so
    # that a stage that ends mid-pass draws nothing more (a resumed run draws what it would have)
    first = training.iteration  # the deadline stops a call after its first step, not before
    while training.iteration < stop and not (
            window.count == 0 and training.iteration > first and training_log.past(deadline)):
        lr_imgs, hr_imgs = next(batches, (None, None))
        if lr_imgs is None:
            break
        # uint8 patches to the device (a no-op for DevicePatches'); the step maps their ranges
        lr_imgs = lr_imgs.to(device, non_blocking=True)  # (N, 3, 24, 24) uint8
        hr_imgs = hr_imgs.to(device, non_blocking=True)  # (N, 3, 96, 96) uint8
        losses = training.runner(lr_imgs, hr_imgs)
        training.iteration += 1
        for scheduler in (training.scheduler_g, training.scheduler_d):
            if scheduler is not None:  # in place on the tensor rate: the graph reads it
                scheduler.step()
        window.add(losses, lr_imgs.shape[0])
        if window.count == config.log_every:
            window.send(training, stage)
            if sent is not None:
                record = read(sent)
                bar.set_postfix({k: f"{record[k]:.4g}" for k in ("g_loss", "d_fake", "images_per_s")
                                 if k in record})
            sent, window = window, training_log.Meter(device, window.bad_run)
    bar.close()
    if window.count:  # the pass's last, partial window
        window.send(training, stage)
    for pending in (sent, window if window.count else None):
        if pending is not None:
            read(pending)
    means = epoch.means(training)
    means.update(iterations=epoch.count, skipped_steps=training.skipped_steps)
    return means


def step_runner(training, config, stage, log=print):
    """The stage's whole training step as one function of the uint8 batches (their ranges and
    memory format, the stage's step, the moving average of G), in a ``step_graph.StepRunner``:
    captured in a CUDA graph on CUDA unless ``step_graph.capture_refusal`` gives a reason, whose
    line goes to ``log``."""
    memory_format = _memory_format(config, training.device)

    def step(lr_u8, hr_u8):
        lr_imgs = batch_to_unit(lr_u8.contiguous(memory_format=memory_format))  # (N, 3, 24, 24) in [0, 1]
        hr_imgs = batch_to_signed(hr_u8.contiguous(memory_format=memory_format))  # (N, 3, 96, 96) in [-1, 1]
        if stage.mode == "pretrain":
            losses = _pretrain_step(training, lr_imgs, hr_imgs)
        else:
            losses = _gan_step(training, lr_imgs, hr_imgs, stage)
        if training.generator_ema is not None:
            training.generator_ema.update(training.generator)
        return losses

    def capturing(flag):
        training.capturing = flag

    def repair():  # a failed capture left the scalers mid-step: fresh ones with their state
        for key in ("scaler_g", "scaler_d"):
            state = getattr(training, key).state_dict()
            setattr(training, key, precision.grad_scaler(training.device, training.amp_dtype))
            getattr(training, key).load_state_dict(state)

    refusal = capture_refusal(config, training.device)
    if refusal is not None and training.device.type == "cuda":
        log(f"{stage.name}: eager steps ({refusal})")
    return StepRunner(step, training.device, refusal, log=lambda line: log(f"{stage.name}: {line}"),
                      on_capture=capturing, on_failure=repair)


def _autocast(training, device_type):
    """The steps' autocast: ``training.amp_dtype``, without the weight-cast cache while a CUDA
    graph captures (PyTorch's advice: the cache would hold casts of a single replay)."""
    amp_dtype = training.amp_dtype
    return torch.autocast(device_type, dtype=amp_dtype, enabled=amp_dtype is not None,
                          cache_enabled=not training.capturing)


def _optimizer_step(loss, optimizer, scaler, amp_dtype):
    """Backward (outside autocast, as PyTorch advises), then the optimizer step: skipped on the
    device when a gradient is not finite (the scaler's check; fp16 also scales the loss)."""
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    precision.update(scaler, amp_dtype)


def _pretrain_step(training, lr_imgs, hr_imgs):
    """Stage 1: one Adam step of the generator on its pixel loss (MSE in [-1, 1] by default).

    Returns:
        dict: the step's losses, detached 0-d tensors on the device (not read here).
    """
    amp_dtype = training.amp_dtype
    with _autocast(training, lr_imgs.device.type):
        sr_imgs = training.step_nets.generator(lr_imgs)  # (N, 3, 96, 96) in [-1, 1]
        g_loss, _ = training.loss(sr_imgs, hr_imgs)
    _optimizer_step(g_loss, training.optimizer_g, training.scaler_g, amp_dtype)
    return {"content_loss": g_loss.detach(), "g_loss": g_loss.detach()}


@contextlib.contextmanager
def frozen(module):
    """Within the block, ``module``'s parameters get no gradient; restored on exit, also when
    the block raises (the discriminator during the generator step)."""
    flags = [p.requires_grad for p in module.parameters()]
    module.requires_grad_(False)
    try:
        yield module
    finally:
        for param, flag in zip(module.parameters(), flags):
            param.requires_grad_(flag)


def _gan_step(training, lr_imgs, hr_imgs, stage):
    """SRGAN: one discriminator step, then one generator step.

    Returns:
        dict: the step's losses and D's mean outputs, detached 0-d tensors on the device.
    """
    # The networks as the steps call them: the modules, or their torch.compile wrappers.
    generator, discriminator = training.step_nets.generator, training.step_nets.discriminator
    discriminator_g = training.step_nets.discriminator_g  # D's own module (no DDP): frozen
    amp_dtype = training.amp_dtype
    autocast = _autocast(training, lr_imgs.device.type)
    kind, view = stage.loss.adversarial.type, D_INPUTS[stage.d_input]  # every input of D: its view
    d_view, flat = view, None
    if training.d_regions is not None:  # Beby-GAN: D sees fine detail only where the LR has texture
        mask = training.d_regions.mask(lr_imgs, hr_imgs.shape[-2:])  # (N, 1, 96, 96) in {0, 1}
        d_view, flat = (lambda imgs: view(training.d_regions.view(imgs, mask))), 1 - mask  # noqa: E731

    with autocast:
        sr_imgs = generator(lr_imgs)  # (N, 3, 96, 96) in [-1, 1]

    # ---------------------------------------- DISCRIMINATOR ----------------------------------
    # sr_imgs.detach(): the D loss must not send gradients into the generator.
    with autocast:
        real_logits = discriminator(d_view(hr_imgs))  # (N,) or (N, 1, h, w)
        fake_logits = discriminator(d_view(sr_imgs.detach()))
        d_loss_real, d_loss_fake = discriminator_loss(kind, real_logits, fake_logits)
    _optimizer_step(d_loss_real + d_loss_fake, training.optimizer_d, training.scaler_d, amp_dtype)

    # ---------------------------------------- GENERATOR --------------------------------------
    # D frozen: the generator's loss flows through D to G, but D's weights get no gradient.
    with frozen(training.discriminator):
        with autocast:
            matching = stage.loss.feature_matching is not None
            with conv_features(discriminator_g) if matching else contextlib.nullcontext([]) as fake_maps:
                fake_logits_g = discriminator_g(d_view(sr_imgs))
            # The relativistic loss compares with D(HR), and feature matching with D's features
            # of HR: constants for the generator, no graph.
            real_logits_g, real_maps = None, []
            if needs_real_logits(kind) or matching:
                with torch.no_grad(), (conv_features(discriminator_g) if matching
                                       else contextlib.nullcontext([])) as real_maps:
                    real_logits_g = discriminator_g(d_view(hr_imgs))
            with torch.no_grad():  # LDL's artifact term: where G is worse than its own average
                sr_ema = training.generator_ema.module(lr_imgs) if stage.loss.artifacts else None
            g_loss, terms = training.loss(sr_imgs, hr_imgs, fake_logits_g, real_logits_g,
                                          fake_maps, real_maps, sr_ema, flat)
        _optimizer_step(g_loss, training.optimizer_g, training.scaler_g, amp_dtype)

    d_real, d_fake = discriminator_outputs(kind, real_logits.float(), fake_logits.float())
    logged = dict(terms, g_loss=g_loss, d_loss_real=d_loss_real, d_loss_fake=d_loss_fake,
                  d_real=d_real, d_fake=d_fake)
    return {key: value.detach() for key, value in logged.items()}


# ----------------------------------------------------------------------------------------------
# A whole stage
# ----------------------------------------------------------------------------------------------
def fit(config, stage, train_loader, val_dataset=None, log=print):
    """Run a stage to ``stage.iterations`` (or ``stage.epochs``, or ``stage.time_budget``
    seconds, whichever comes first), resumably.

    Each epoch (a pass of ``train_loader``; with ``config.eval_every`` iterations or
    ``config.eval_every_s`` seconds, whichever comes first, the steps between two validations,
    whatever the length of a pass): :func:`train_epoch`, :func:`validate` on ``val_dataset``,
    then checkpoints in
    ``config.out_dir``: ``<stage>_last.pth`` always; in pretraining ``<stage>_best.pth`` when
    the validation PSNR improves (the GAN stage keeps its last weights: PSNR ranks its least
    adversarial epoch first); ``<stage>_ema.pth`` (the moving-average generator alone) with
    ``stage.ema_decay``. The GAN stage also logs the validation NIQE. The epoch history also
    goes to ``<stage>_history.csv``. If ``<stage>_last.pth`` exists, training resumes from it;
    otherwise a stage with
    ``init_from`` starts its generator from ``<init_from>_best.pth`` (or ``_last.pth``), or from
    a generator file when it names one (``.pth``: a release file of ESRGAN or Real-ESRGAN too).
    An interrupt (Ctrl-C, a notebook's stop button) anywhere in an epoch (training, validation,
    saving) saves ``<stage>_last.pth``, then stops; a killed process loses at most the epoch in
    progress (checkpoints are written atomically, so the last one is always whole).

    Returns:
        Training: the stage's state (models, history, counters).
    """
    device = distributed.setup(config.device) or resolve_device(config.device)
    if not distributed.is_main():
        log = distributed.silent  # one log for the run: rank 0's
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed patch sizes: let cuDNN pick its fastest kernels
    out_dir = Path(config.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    training = build_training(config, stage, device)
    training.writer = training_log.tensorboard_writer(config, stage) if distributed.is_main() else None
    log(f"{stage.name}: {precision.note(config, device)}")
    if distributed.world_size() > 1:
        log(f"{stage.name}: {distributed.world_size()} processes (DDP), global batch "
            f"{config.batch_size} = {distributed.world_size()} x "
            f"{config.batch_size // distributed.world_size()}")
    last = out_dir / f"{stage.name}_last.pth"
    if last.exists():
        checkpoint = checkpoints.load_checkpoint(last)  # to the CPU; load_state_dict copies to the device
        checkpoints.check_same_networks(checkpoint, config, last,
                             ("generator", "discriminator") if stage.mode == "gan" else ("generator",))
        checkpoints.restore(training, checkpoint)
        log(f"{stage.name}: resumed from {last} at iteration {training.iteration}")
    elif stage.init_from:
        source, state = initial_weights(config, stage.init_from)
        load_weights(training.generator, state, what=f"generator of {source}")
        if training.generator_ema is not None:  # the average starts from the loaded weights
            training.generator_ema.reset(training.generator)
        log(f"{stage.name}: generator initialised from {source}")

    if stage.epochs:  # the assignment's unit: every training image x its patches
        stage = EasyDict(stage, iterations=stage.epochs * len(train_loader))
    deadline = time.monotonic() + stage.time_budget if stage.time_budget else None
    # validation and checkpoints after each pass of the loader, or on config's cadence
    for key in ("eval_every", "eval_every_s"):
        if config[key] is not None and not config[key] > 0:
            raise ValueError(f"config.{key} must be None or positive, got {config[key]!r}")
    cadence = bool(config.eval_every or config.eval_every_s)
    batches = _endless(train_loader) if cadence else train_loader
    try:
        while training.iteration < stage.iterations:
            if training_log.past(deadline):
                log(f"{stage.name}: time budget of {stage.time_budget} s reached")
                break
            started = time.perf_counter()
            until = stop = None
            if cadence:
                until = training.iteration + config.eval_every if config.eval_every else stage.iterations
                stop = time.monotonic() + config.eval_every_s if config.eval_every_s else None
                stop = min(t for t in (stop, deadline) if t is not None) if stop or deadline else None
            try:
                means = train_epoch(training, batches, config, stage, stop if cadence else deadline,
                                    until=until, log=log)
                record = _end_epoch(training, config, stage, means, started, val_dataset, device)
                log(f"{stage.name} epoch {training.epoch}: iteration {training.iteration}, "
                    + ", ".join(f"{k} {record[k]:.4g}" for k in
                                ("content_loss", "adversarial_loss", "d_real", "d_fake", "val_psnr",
                                 "val_ssim", "val_niqe", "images_per_s") if k in record))
            except KeyboardInterrupt:  # Ctrl-C or a notebook interrupt, in training, validation or
                # saving: keep the work done so far (the epoch's history row may be missing)
                if distributed.is_main():
                    checkpoints.save_checkpoint(checkpoints.checkpoint_state(training, config, stage), last)
                log(f"{stage.name}: interrupted at iteration {training.iteration}; saved {last}. "
                    f"Run again to resume.")
                raise
    finally:  # the TensorBoard files complete, however the stage ends
        if training.writer is not None:
            training.writer.close()
    distributed.barrier()  # the next stage starts from the checkpoints rank 0 has written
    return training


def _endless(loader):
    """``loader``'s batches, pass after pass (a DataLoader reshuffles at each)."""
    while True:
        yield from loader


def _end_epoch(training, config, stage, means, started, val_dataset, device):
    """An epoch's validation, history row and checkpoints (``_last``, and ``_best`` when the
    validation PSNR improves). Returns the history row."""
    out_dir = Path(config.out_dir)
    training.epoch += 1
    record = {"epoch": training.epoch, "iteration": training.iteration, **means,
              "seconds": time.perf_counter() - started}
    gan = stage.mode == "gan"
    if not distributed.is_main():  # rank 0 validates and writes; the others only count epochs
        training.history.append(record)
        return record
    if val_dataset is not None:
        scores = validate(inference_generator(training), val_dataset, device,
                          max_images=config.val_max_images, tile=config.tile,
                          with_niqe=gan)
        record.update({f"val_{k}": scores[k] for k in ("psnr", "ssim", "niqe") if k in scores})
    training.history.append(record)
    training_log.append_csv(out_dir / f"{stage.name}_history.csv", record)
    writer = training.writer
    if writer is not None:
        training_log.add_scalars(writer, "epoch", record)
        if val_dataset is not None:  # one validation output per epoch, to watch it change
            training_log.add_output_image(writer, inference_generator(training), val_dataset[0],
                                          device, config.tile, training.iteration)
        writer.flush()
    # Pretraining keeps its best epoch by PSNR. The GAN stage does not: PSNR would pick its
    # least adversarial epoch; it keeps its last weights (their moving average with ema_decay).
    improved = not gan and record.get("val_psnr", -math.inf) > training.best_psnr
    if improved:
        training.best_psnr = record["val_psnr"]
    checkpoint = checkpoints.checkpoint_state(training, config, stage)
    checkpoints.save_checkpoint(checkpoint, out_dir / f"{stage.name}_last.pth")
    if improved:
        checkpoints.save_checkpoint(checkpoint, out_dir / f"{stage.name}_best.pth")
    if training.generator_ema is not None:  # the weights to use, alone: a small file to share
        checkpoints.save_checkpoint({"stage": stage.name, "config": checkpoint["config"],
                         "iteration": training.iteration,
                         "generator": training.generator_ema.module.state_dict()},
                        out_dir / f"{stage.name}_ema.pth")
    return record


