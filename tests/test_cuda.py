"""The CUDA path: what only a GPU runs, checked on one (skipped without; the CPU runs the same
checks where they mean something there). ``benchmarks/gpu_check.py`` runs this file first.

    .venv/bin/python -m pytest -q -m cuda      # on a GPU machine: these tests alone
"""
import random
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

import solver
from utils import merge_config
from conftest import ROOT
from imresize import imresize, imresize_torch
from inference import load_generator, super_resolve
from models import RRDBNet, SRResNet
from test_solver import GAN_VARIANTS, fixed_batches, stage, tiny_config, variant_stage
from checkpoints import load_checkpoint
from training_log import Meter
from utils import batch_to_signed, batch_to_unit

GPU = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
DEVICES = ["cpu", pytest.param("cuda", marks=[pytest.mark.cuda, GPU])]


def cuda_only(test):
    """A test of the GPU alone: marked ``cuda`` and skipped without one."""
    return pytest.mark.cuda(GPU(test))


def batches(device, n=2, batch=4):
    """Fixed uint8 (LR, HR) batches on ``device``, channels_last, as train_epoch takes them."""
    data = fixed_batches(n_batches=n, batch=batch)
    return [(lr.to(device, memory_format=torch.channels_last), hr.to(device, memory_format=torch.channels_last))
            for lr, hr in DataLoader(data, batch_size=batch)]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("amp", [None, "bf16", "fp16"])
@pytest.mark.parametrize("mode", ["pretrain", "gan"])
def test_training_steps_in_each_precision_lower_the_loss(tmp_path, device, amp, mode):
    """bf16 and fp16 autocast (fp16 with its dynamic loss scale), channels_last, the moving
    average of G: the loss goes down, nothing becomes non-finite."""
    if device == "cpu" and amp == "fp16":
        pytest.skip("fp16 is CUDA's (config.amp); the CPU has bf16 (config.amp_cpu)")
    torch.manual_seed(0)
    config = tiny_config(tmp_path, device=device, amp=amp, amp_cpu=amp == "bf16", channels_last=True)
    st = stage(mode, ema_decay=0.9)
    training = solver.build_training(config, st, torch.device(device))
    assert training.amp_dtype == {None: None, "bf16": torch.bfloat16, "fp16": torch.float16}[amp]
    data = batches(device)
    first = solver.train_epoch(training, data, config, st)
    for _ in range(15):
        last = solver.train_epoch(training, data, config, st)
    assert last["content_loss"] < first["content_loss"] and training.skipped_steps == 0
    assert all(torch.isfinite(p).all() for p in training.generator_ema.module.parameters())
    assert int(training.generator_ema.n_averaged) == training.iteration == 32
    assert training.scaler_g.get_scale() == (2.0 ** 16 if amp == "fp16" else 1.0)


@pytest.mark.parametrize("amp", [None, "bf16", "fp16"])
@pytest.mark.parametrize("mode", ["pretrain", "gan"])
@cuda_only
def test_training_steps_never_wait_for_the_gpu(tmp_path, amp, mode):
    """No host synchronisation in a step, its optimizer updates and the moving average
    (torch's sync debug mode raises on one); the loss is read once per log window."""
    config = tiny_config(tmp_path, device="cuda", amp=amp, channels_last=True, log_every=10 ** 6)
    st = stage(mode, ema_decay=0.9)
    training = solver.build_training(config, st, torch.device("cuda"))
    lr_imgs, hr_imgs = batches("cuda", n=1)[0]
    data = [(batch_to_unit(lr_imgs), batch_to_signed(hr_imgs))]  # what train_epoch passes on
    step = solver._pretrain_step if mode == "pretrain" else (
        lambda t, lr, hr: solver._gan_step(t, lr, hr, st))
    step(training, *data[0])  # first step: lazy initialisations (scaler, cuDNN plans)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for _ in range(3):
            losses = step(training, *data[0])
            training.generator_ema.update(training.generator)
            meter = Meter(torch.device("cuda"))
            meter.add(losses, 4)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert all(torch.isfinite(v) for v in losses.values())


@cuda_only
def test_compiled_steps_follow_eager_on_the_gpu(tmp_path):
    def two_steps(compile):
        torch.manual_seed(0)
        config = tiny_config(tmp_path, device="cuda", compile=compile, channels_last=True)
        st = stage("gan", lr_g=1e-4, lr_d=1e-4)
        training = solver.build_training(config, st, torch.device("cuda"))
        return solver.train_epoch(training, batches("cuda", n=2, batch=2), config, st)

    eager, compiled = two_steps(False), two_steps(True)
    for key in ("content_loss", "adversarial_loss", "d_loss_real", "d_loss_fake"):
        assert compiled[key] == pytest.approx(eager[key], rel=1e-2)  # TF32 convolutions in both


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("net", [SRResNet(n_blocks=2, channels=8), RRDBNet(n_blocks=1, channels=8, growth=4)],
                         ids=["srresnet", "rrdbnet"])
def test_tiled_inference_equals_whole_image(device, net):
    """Exact up to float rounding without TF32 (cuDNN picks other kernels per tile size); at
    uint8, within one level with torch's defaults."""
    torch.manual_seed(0)
    generator = net.to(device).eval()
    lr_imgs = torch.rand(1, 3, 29, 41, device=device)
    with torch.backends.cudnn.flags(enabled=True, allow_tf32=False):
        whole = super_resolve(generator, lr_imgs)
        tiled = super_resolve(generator, lr_imgs, tile=8)
    torch.testing.assert_close(tiled, whole, rtol=0, atol=1e-4)
    levels = (super_resolve(generator, lr_imgs, tile=8) - super_resolve(generator, lr_imgs)).abs() * 127.5
    assert levels.max() <= 1.0


@pytest.mark.parametrize("device", DEVICES)
def test_imresize_torch_on_the_device_matches_the_numpy_one(device):
    rng = np.random.default_rng(0)
    imgs = rng.random((2, 3, 17, 23))
    result = imresize_torch(torch.from_numpy(imgs).to(device), 1 / 4).cpu().numpy()
    for n in range(2):
        expected = imresize(imgs[n].transpose(1, 2, 0), 1 / 4).transpose(2, 0, 1)
        np.testing.assert_allclose(result[n], expected, atol=1e-10)


@pytest.mark.parametrize("written_on", ["cpu", "cuda"])
@cuda_only
def test_gpu_run_resumes_from_a_checkpoint_written_on_either_device(tmp_path, written_on):
    loader = DataLoader(fixed_batches(n_batches=2, batch=2), batch_size=2, shuffle=True)
    quiet = dict(log=lambda m: None)
    solver.fit(tiny_config(tmp_path, device=written_on), stage("gan", iterations=2, ema_decay=0.9),
               loader, None, **quiet)
    messages = []
    training = solver.fit(tiny_config(tmp_path, device="cuda", amp="bf16"),
                          stage("gan", iterations=4, ema_decay=0.9), loader, None, log=messages.append)
    assert any("resumed from" in m and "at iteration 2" in m for m in messages)
    assert training.iteration == 4 and training.generator.tail.weight.is_cuda
    for optimizer in (training.optimizer_g, training.optimizer_d):
        assert all(state["step"].is_cuda for state in optimizer.state.values())  # fused: no .item()
    checkpoint = tiny_config(tmp_path).out_dir + "/gan_last.pth"
    assert load_checkpoint(checkpoint)["rng"]["cuda"].device.type == "cpu"
    assert load_generator(checkpoint, device="cuda").tail.weight.is_cuda
    assert load_generator(checkpoint).tail.weight.device.type == "cpu"  # and back on a CPU machine
    back = solver.fit(tiny_config(tmp_path, device="cpu"), stage("gan", iterations=5, ema_decay=0.9),
                      loader, None, **quiet)
    assert back.iteration == 5


@cuda_only
def test_gpu_run_killed_mid_stage_resumes(tmp_path):
    out, target = tmp_path / "run", 300
    last = out / "srgan_last.pth"
    command = [sys.executable, "-m", "tests.train_worker", str(out), str(target), "cuda"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    while not last.exists():
        assert time.monotonic() < deadline and process.poll() is None, "no checkpoint before the kill"
        time.sleep(0.05)
    time.sleep(random.Random(0).uniform(0.2, 0.8))
    process.kill()
    process.wait()
    reached = load_checkpoint(last)["iteration"]
    output = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300).stdout
    assert f"resumed from {last} at iteration {reached}" in output
    assert f"finished at iteration {target}" in output


def captured_or_eager(tmp_path, name, captured, steps=6, compile=False, amp=None):
    """``steps`` iterations of stage ``name`` (pretrain, or a GAN_VARIANTS entry) through
    train_epoch on fixed batches on the GPU, its learning rates dropping after iteration 4
    (the graph's first replay reads the dropped rate), with the CUDA graph or without."""
    torch.manual_seed(0)
    disc, st = variant_stage(name) if name != "pretrain" else (dict(channels=4, fc_size=16), stage())
    st = merge_config(st, dict(milestones=[4], gamma=0.1, ema_decay=st.ema_decay or 0.9))
    config = tiny_config(tmp_path / f"{name}{captured}{compile}", device="cuda", discriminator=disc,
                         cuda_graphs=captured, compile=compile, amp=amp)
    training = solver.build_training(config, st, torch.device("cuda"))
    messages = []
    means = solver.train_epoch(training, batches("cuda", n=steps, batch=2), config, st, log=messages.append)
    torch.cuda.synchronize()
    return training, means, messages


def state_of(training):
    """Every tensor a step changes: weights, BN statistics, Adam's moments and steps, the
    moving average."""
    nets = {k: getattr(training, k) for k in ("generator", "discriminator") if getattr(training, k) is not None}
    tensors = {f"{k}.{n}": t for k, net in nets.items() for n, t in net.state_dict().items()}
    tensors.update({f"ema.{n}": t for n, t in training.generator_ema.state_dict().items()})
    for key in ("optimizer_g", "optimizer_d"):
        optimizer = getattr(training, key)
        for i, state in enumerate(optimizer.state.values() if optimizer is not None else ()):
            tensors.update({f"{key}.{i}.{n}": t for n, t in state.items()})
    return tensors


@pytest.mark.parametrize("name", ["pretrain", *GAN_VARIANTS])
@cuda_only
def test_a_captured_step_equals_the_eager_step(tmp_path, name):
    """3 eager warm-up steps, the capture, 3 replays across a learning-rate milestone: the same
    weights, BN statistics, Adam state, moving average and losses as 6 eager steps (fp32,
    without TF32)."""
    matmul_tf32 = torch.backends.cuda.matmul.allow_tf32
    try:
        torch.backends.cuda.matmul.allow_tf32 = False
        with torch.backends.cudnn.flags(enabled=True, deterministic=True, allow_tf32=False):
            eager, eager_means, _ = captured_or_eager(tmp_path, name, captured=False)
            graphed, graphed_means, messages = captured_or_eager(tmp_path, name, captured=True)
    finally:
        torch.backends.cuda.matmul.allow_tf32 = matmul_tf32
    assert graphed.runner.captured and not eager.runner.captured
    assert any("whole step captured" in m for m in messages)
    assert graphed.iteration == eager.iteration == 6
    assert float(graphed.optimizer_g.param_groups[0]["lr"]) == pytest.approx(1e-4)  # 1e-3 x 0.1
    mine, theirs = state_of(graphed), state_of(eager)
    assert mine.keys() == theirs.keys()
    for key in mine:
        torch.testing.assert_close(mine[key].float(), theirs[key].float(), rtol=1e-4, atol=1e-6, msg=key)
    for key, value in eager_means.items():
        if isinstance(value, float) and key not in ("images_per_s",):
            assert graphed_means[key] == pytest.approx(value, rel=1e-4, abs=1e-7), key


@cuda_only
def test_a_run_resumed_mid_stage_captures_again(tmp_path):
    """A stage stopped at iteration 5 (captured since 4) and resumed to 10 captures again after
    the restore, and ends where the uninterrupted captured run ends."""
    loader = batches("cuda", n=2, batch=2)

    def run(out, stops):
        torch.manual_seed(0)
        messages = []
        for iterations in stops:
            training = solver.fit(tiny_config(tmp_path, device="cuda", out_dir=str(out)),
                                  stage("gan", iterations=iterations, ema_decay=0.9, milestones=[7]),
                                  loader, None, log=messages.append)
        return training, messages

    with torch.backends.cudnn.flags(enabled=True, deterministic=True, allow_tf32=False):
        resumed, messages = run(tmp_path / "a", [5, 10])
        straight, _ = run(tmp_path / "b", [10])
    assert sum("whole step captured" in m for m in messages) == 2
    assert any("resumed from" in m and "at iteration 5" in m for m in messages)
    mine, theirs = state_of(resumed), state_of(straight)
    for key in mine:
        torch.testing.assert_close(mine[key].float(), theirs[key].float(), rtol=1e-4, atol=1e-6, msg=key)


@cuda_only
def test_a_non_finite_step_is_skipped_under_capture(tmp_path):
    """fp16 with its dynamic loss scale, captured: an inf injected into the loss after the
    capture (through a tensor the graph reads) changes no weight, halves the scale and is
    counted when its window is read."""
    torch.manual_seed(0)
    config = tiny_config(tmp_path, device="cuda", amp="fp16", log_every=1)
    st = stage("pretrain")
    training = solver.build_training(config, st, torch.device("cuda"))
    poison = torch.ones((), device="cuda")
    content = training.loss.content_loss
    training.loss.content_loss = lambda sr, hr: content(sr, hr) * poison
    solver.train_epoch(training, batches("cuda", n=5, batch=2), config, st)
    assert training.runner.captured and training.skipped_steps == 0
    scale, before = training.scaler_g.get_scale(), [p.detach().clone() for p in training.generator.parameters()]
    poison.fill_(float("inf"))
    solver.train_epoch(training, batches("cuda", n=1, batch=2), config, st)
    assert training.skipped_steps == 1 and training.scaler_g.get_scale() == scale / 2
    assert all(torch.equal(p.detach(), q) for p, q in zip(training.generator.parameters(), before))
    poison.fill_(1.0)
    solver.train_epoch(training, batches("cuda", n=1, batch=2), config, st)
    assert not all(torch.equal(p.detach(), q) for p, q in zip(training.generator.parameters(), before))


@cuda_only
def test_compiled_and_captured_steps_follow_eager(tmp_path):
    """The networks compiled (max-autotune without the compiler's CUDA graphs) inside the
    captured step: the losses of eager steps, within TF32's rounding."""
    _, eager, _ = captured_or_eager(tmp_path, "detail", captured=False)
    training, compiled, messages = captured_or_eager(tmp_path, "detail", captured=True, compile=True)
    assert training.runner.captured, messages
    for key in ("content_loss", "adversarial_loss", "d_loss_real", "d_loss_fake"):
        assert compiled[key] == pytest.approx(eager[key], rel=2e-2)


@cuda_only
def test_patches_cut_on_the_gpu_train(tmp_path):
    """train.make_data caches the training images on the GPU (gpu_patches "auto") and the
    stage trains from them, captured."""
    import train
    from create_data_lists import build_sample_dataset

    train_csv, val_csv = build_sample_dataset(tmp_path / "data", log=lambda *a: None)
    config = tiny_config(tmp_path, device="cuda", train_list=str(train_csv), val_list=str(val_csv),
                         hr_patch=32, patches_per_image=8, batch_size=4)
    messages = []
    data = train.make_data(config, torch.device("cuda"), log=messages.append)
    assert type(data.train_loader).__name__ == "DevicePatches", messages
    lr_imgs, hr_imgs = next(iter(data.train_loader))
    assert lr_imgs.is_cuda and lr_imgs.shape == (4, 3, 8, 8) and hr_imgs.shape == (4, 3, 32, 32)
    training = solver.fit(config, stage(iterations=8), data.train_loader, None, log=messages.append)
    assert training.iteration == 8 and training.runner.captured, messages
