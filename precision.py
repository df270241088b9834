"""Training precision: the autocast dtype for a device, its log line, and the gradient scaler.

``solver.build_training`` asks :func:`autocast_dtype` which dtype the training steps autocast to
and makes one :func:`grad_scaler` per optimizer; ``solver.fit`` logs :func:`note`. The config
keys read here are ``amp`` (CUDA: None, ``"bf16"`` or ``"fp16"``) and ``amp_cpu`` (the CPU:
True, False or ``"auto"``). Speed-ups: report/performance.md.
"""
import torch

AMP_DTYPES = {None: None, "bf16": torch.bfloat16, "fp16": torch.float16}


def cpu_has_native_bf16():
    """Whether this CPU computes bf16 natively (AVX-512 BF16 or AMX), as torch reports it."""
    return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()


def cuda_has_native_bf16():
    """Whether the GPU computes bf16 natively (sm_80 and later); sm_75 (T4, RTX 20xx) only
    emulates it, which ``torch.cuda.is_bf16_supported()`` counts as support."""
    return torch.cuda.is_bf16_supported(including_emulation=False)


def autocast_dtype(config, device):
    """The autocast dtype of the training steps on ``device``, or None for fp32.

    CUDA: ``config.amp``; ``"bf16"`` on a GPU without native bf16 becomes fp16 (with loss
    scaling). CPU: ``config.amp_cpu``: True for bf16, False for fp32, ``"auto"`` for bf16 where
    the CPU has native bf16 and fp32 elsewhere (emulated bf16 is slower than fp32).

    Raises:
        ValueError: for an unknown ``amp`` or ``amp_cpu`` value, naming it.
    """
    amp, amp_cpu = config.amp, config.amp_cpu
    if amp not in AMP_DTYPES:
        raise ValueError(f"config.amp must be None, 'bf16' or 'fp16', got {amp!r}")
    if amp_cpu not in (True, False, "auto"):
        raise ValueError(f"config.amp_cpu must be True, False or 'auto', got {amp_cpu!r}")
    if device.type == "cuda":
        if amp == "bf16" and not cuda_has_native_bf16():
            return torch.float16
        return AMP_DTYPES[amp]
    if device.type == "cpu" and (amp_cpu is True or (amp_cpu == "auto" and cpu_has_native_bf16())):
        return torch.bfloat16
    return None


def note(config, device):
    """One line for the log: the training precision and why it was chosen."""
    dtype = autocast_dtype(config, device)
    name = "fp32" if dtype is None else f"{str(dtype).split('.')[-1]} autocast"
    if device.type == "cpu" and config.amp_cpu == "auto":
        found = "has" if cpu_has_native_bf16() else "has no"
        return f"precision: {name} (amp_cpu='auto': this CPU {found} native bf16)"
    if device.type == "cuda" and config.amp == "bf16" and dtype == torch.float16:
        return (f"precision: {name} with loss scaling on cuda (amp='bf16', but this GPU has no "
                f"native bf16)")
    return f"precision: {name} on {device.type}"


def grad_scaler(device, dtype):
    """The gradient scaler of one optimizer: it skips, on the device, a step whose gradients are
    not finite (the fused Adam reads its flag: no host synchronisation).

    fp16 gets dynamic loss scaling (its narrow range needs it); the other precisions keep a
    scale of 1 (:func:`update`)."""
    return torch.amp.GradScaler(device.type, init_scale=2.0 ** 16 if dtype == torch.float16 else 1.0)


def update(scaler, dtype):
    """``scaler.update()`` after a step: fp16's dynamic scale moves; the others' stays 1."""
    scaler.update(None if dtype == torch.float16 else 1.0)
