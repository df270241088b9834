"""precision: the autocast dtype per device (bf16 falls back to fp16 on GPUs that only emulate
it), the log line, and scalers that skip non-finite steps without changing fp32/bf16 numerics."""
import pytest
import torch
from easydict import EasyDict

import precision

CPU, CUDA = torch.device("cpu"), torch.device("cuda")  # a device object needs no GPU


@pytest.mark.parametrize("amp, amp_cpu, expected", [
    (None, False, None), ("bf16", False, None), ("fp16", False, None), ("bf16", True, torch.bfloat16),
    (None, True, torch.bfloat16)])
def test_autocast_dtype_on_the_cpu(amp, amp_cpu, expected):
    assert precision.autocast_dtype(EasyDict(amp=amp, amp_cpu=amp_cpu), CPU) == expected


@pytest.mark.parametrize("native", [True, False])
def test_amp_cpu_auto_asks_torch_about_the_cpu(monkeypatch, native):
    assert isinstance(precision.cpu_has_native_bf16(), bool)  # torch's answer on this machine
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: native)
    config = EasyDict(amp="bf16", amp_cpu="auto")
    assert precision.autocast_dtype(config, CPU) == (torch.bfloat16 if native else None)
    assert precision.note(config, CPU) == (
        "precision: bfloat16 autocast (amp_cpu='auto': this CPU has native bf16)" if native
        else "precision: fp32 (amp_cpu='auto': this CPU has no native bf16)")
    with pytest.raises(ValueError, match="config.amp_cpu must be True, False or 'auto', got 'yes'"):
        precision.autocast_dtype(EasyDict(amp=None, amp_cpu="yes"), CPU)


@pytest.mark.parametrize("amp, native, expected, note", [
    ("bf16", True, torch.bfloat16, "precision: bfloat16 autocast on cuda"),
    ("bf16", False, torch.float16, "precision: float16 autocast with loss scaling on cuda (amp='bf16', "
                                   "but this GPU has no native bf16)"),
    ("fp16", False, torch.float16, "precision: float16 autocast on cuda"),
    (None, False, None, "precision: fp32 on cuda")])
def test_bf16_on_a_gpu_that_only_emulates_it_falls_back_to_fp16(monkeypatch, amp, native, expected, note):
    """sm_75 (T4, RTX 20xx): is_bf16_supported() says yes through emulation; only the native
    answer counts."""
    monkeypatch.setattr(torch.cuda, "is_bf16_supported",
                        lambda including_emulation=True: native or including_emulation)
    config = EasyDict(amp=amp, amp_cpu="auto")
    assert precision.autocast_dtype(config, CUDA) == expected
    assert precision.note(config, CUDA) == note


@pytest.mark.parametrize("dtype", [None, torch.bfloat16, torch.float16])
def test_scaler_skips_a_non_finite_step_and_keeps_fp32_and_bf16_at_scale_one(dtype):
    weight = torch.nn.Parameter(torch.ones(3))
    optimizer = torch.optim.Adam([weight], lr=0.1, fused=True)
    scaler = precision.grad_scaler(CPU, dtype)
    for factor, expected in ((2.0, 0.9), (float("nan"), 0.9), (2.0, 0.8)):
        optimizer.zero_grad()
        scaler.scale((weight * factor).sum()).backward()
        scaler.step(optimizer)
        precision.update(scaler, dtype)
        torch.testing.assert_close(weight.detach(), torch.full((3,), expected))
    assert scaler.get_scale() == (2.0 ** 15 if dtype == torch.float16 else 1.0)  # fp16 backed off
