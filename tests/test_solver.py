"""solver: losses go down, checkpoints round-trip, resuming equals not stopping, tiling is exact."""
import math
import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

import inference
import solver
from archs import build_discriminator
from archs.discriminators import D_INPUTS, TexturedRegions, conv_features
from models import SRResNet
from checkpoints import checkpoint_state, load_checkpoint, restore, save_checkpoint
from config import training_config
from utils import merge_config
from report.experiments import ablation_parts  # noqa: F401  (D's translate_1 view)
from weight_average import WeightAverage


def tiny_config(tmp_path, **overrides):
    """The paper preset with tiny networks on the CPU, files under ``tmp_path``; fp32 whatever
    the CPU (``amp_cpu=False``: bf16 is the subject of its own tests); a validation per pass of
    the loader (``eval_every=None``: the cadence is the subject of its own tests)."""
    return training_config("paper", dict(
        device="cpu", amp=None, amp_cpu=False, channels_last=False, vgg_weights=None,
        generator=dict(n_blocks=2, channels=8), discriminator=dict(channels=4, fc_size=16),
        out_dir=str(tmp_path / "run"), log_every=1, eval_every=None), overrides)


def stage(mode="pretrain", content="mse", loss=None, **overrides):
    """The paper preset's stage ``mode``, named after it, short-lived and fast-learning: MSE
    content loss, VGG22 for ``content="vgg"``, no initialisation from another stage; ``loss``:
    more loss terms."""
    content = dict(type="mse", weight=1.0) if content == "mse" else dict(type="vgg", weight=1.0, i=2, j=2)
    values = dict(name=mode, iterations=1000, lr_g=1e-3, milestones=[], loss=dict(content=content))
    if mode == "gan":
        values.update(lr_d=1e-3, init_from=None)
    return merge_config(training_config("paper").stages[mode], values, {"loss": loss or {}}, overrides)


def fixed_batches(n_batches=1, batch=4, seed=0):
    """uint8 (LR, HR) pairs of 4x4 / 16x16 images whose HR is a smooth upscale, as
    ``datasets.SRTrainDataset`` gives them."""
    g = torch.Generator().manual_seed(seed)
    lr_imgs = torch.rand(n_batches * batch, 3, 4, 4, generator=g)
    hr_imgs = torch.nn.functional.interpolate(lr_imgs, scale_factor=4, mode="bilinear")
    return TensorDataset((lr_imgs * 255).round().to(torch.uint8), (hr_imgs * 255).round().to(torch.uint8))


@pytest.mark.parametrize("mode, content", [("pretrain", "mse"), ("gan", "mse"), ("gan", "vgg")])
def test_steps_on_a_fixed_batch_lower_the_losses(tmp_path, mode, content):
    torch.manual_seed(0)
    config = tiny_config(tmp_path)
    st = stage(mode, content)
    training = solver.build_training(config, st, torch.device("cpu"))
    loader = DataLoader(fixed_batches(), batch_size=4)
    first = solver.train_epoch(training, loader, config, st)
    for _ in range(25):
        last = solver.train_epoch(training, loader, config, st)
    assert last["content_loss"] < first["content_loss"]
    if mode == "gan":
        assert last["d_loss_real"] + last["d_loss_fake"] < first["d_loss_real"] + first["d_loss_fake"]
        for key in ("adversarial_loss", "d_real", "d_fake", "g_loss"):
            assert np.isfinite(last[key])
        assert 0 <= last["d_fake"] <= 1
    assert training.iteration == 26


def test_discriminator_gets_no_gradient_from_the_generator_step(tmp_path):
    torch.manual_seed(0)
    config = tiny_config(tmp_path)
    st = stage("gan", lr_d=0.0)  # D updates are no-ops; only G's step could touch D's grads
    training = solver.build_training(config, st, torch.device("cpu"))
    before = [p.detach().clone() for p in training.discriminator.parameters()]
    solver.train_epoch(training, DataLoader(fixed_batches(), batch_size=4), config, st)
    for p, q in zip(training.discriminator.parameters(), before):
        torch.testing.assert_close(p.detach(), q)
        assert p.requires_grad  # unfrozen again after the G step


def test_checkpoint_round_trip_with_weights_only(tmp_path):
    config = tiny_config(tmp_path)
    st = stage("gan")
    training = solver.build_training(config, st, torch.device("cpu"))
    solver.train_epoch(training, DataLoader(fixed_batches(), batch_size=4), config, st)
    path = tmp_path / "ck" / "ck.pth"
    save_checkpoint(checkpoint_state(training, config, st), path)
    assert [p.name for p in path.parent.iterdir()] == ["ck.pth"]  # no temporary file left
    checkpoint = torch.load(path, weights_only=True)
    assert checkpoint["iteration"] == 1 and checkpoint["config"]["generator"]["channels"] == 8
    other = solver.build_training(config, st, torch.device("cpu"))
    restore(other, load_checkpoint(path))
    for a, b in zip(training.generator.state_dict().values(), other.generator.state_dict().values()):
        torch.testing.assert_close(a, b)
    assert other.optimizer_d.state_dict()["state"].keys() == training.optimizer_d.state_dict()["state"].keys()


@pytest.mark.parametrize("mode", ["pretrain", "gan"])
def test_resume_equals_uninterrupted(tmp_path, mode):
    """2 steps, save, load, 2 steps == 4 steps (same seed, CPU, shuffled data)."""
    def run(out_dir, stops):
        torch.manual_seed(0)
        config = tiny_config(tmp_path, out_dir=str(out_dir))
        data = fixed_batches(n_batches=2, batch=2)
        for iterations in stops:
            loader = DataLoader(data, batch_size=2, shuffle=True)
            training = solver.fit(config, stage(mode, iterations=iterations), loader, log=lambda m: None)
        return training

    resumed = run(tmp_path / "a", [2, 4])
    straight = run(tmp_path / "b", [4])
    assert resumed.iteration == straight.iteration == 4
    for a, b in zip(resumed.generator.state_dict().values(), straight.generator.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler")  # the fake step skips Adam
def test_iteration_log_holds_window_means_and_history_epoch_means(tmp_path, monkeypatch):
    """log_every=2 over losses 1..5: the CSV rows are the windows' means, not running means."""
    config = tiny_config(tmp_path, log_every=2)
    st = stage("pretrain")
    training = solver.build_training(config, st, torch.device("cpu"))
    values = iter([1.0, 2.0, 3.0, 4.0, 5.0])

    def fake_step(*args):
        value = torch.tensor(next(values))
        return {"content_loss": value, "g_loss": value}

    monkeypatch.setattr(solver, "_pretrain_step", fake_step)
    loader = DataLoader(fixed_batches(n_batches=5, batch=1), batch_size=1)
    means = solver.train_epoch(training, loader, config, st)
    rows = (tmp_path / "run" / "pretrain_iterations.csv").read_text().splitlines()
    header = rows[0].split(",")
    records = [dict(zip(header, map(float, row.split(",")))) for row in rows[1:]]
    assert [r["iteration"] for r in records] == [2, 4, 5]
    assert [r["content_loss"] for r in records] == [1.5, 3.5, 5.0]
    assert means["content_loss"] == 3.0 and means["iterations"] == 5


def test_compiled_training_steps_match_eager_and_keep_plain_checkpoints(tmp_path):
    """config.compile: the same losses over two GAN steps (D frozen and not), the same keys."""
    def two_steps(compile):
        torch.manual_seed(0)
        config = tiny_config(tmp_path, compile=compile)
        st = stage("gan", lr_g=1e-4, lr_d=1e-4)
        training = solver.build_training(config, st, torch.device("cpu"))
        means = solver.train_epoch(training, DataLoader(fixed_batches(n_batches=2, batch=2),
                                                        batch_size=2), config, st)
        return training, means, checkpoint_state(training, config, st)

    eager, compiled = two_steps(False), two_steps(True)
    assert hasattr(compiled[0].step_nets.generator, "_orig_mod")  # a torch.compile wrapper
    assert compiled[1]["iterations"] == 2
    for key in ("content_loss", "adversarial_loss", "d_loss_real", "d_loss_fake"):
        assert compiled[1][key] == pytest.approx(eager[1][key], rel=1e-4)
    for key in ("generator", "discriminator"):
        assert list(compiled[2][key]) == list(eager[2][key])  # no "_orig_mod." prefixes
        for name in eager[2][key]:  # Adam moves a weight by about lr per step, either way
            torch.testing.assert_close(compiled[2][key][name], eager[2][key][name], rtol=0,
                                       atol=2 * 2 * 1e-4 + 1e-6)


def test_fit_initialises_gan_from_pretrained_and_keeps_best(tmp_path):
    config = tiny_config(tmp_path)
    loader = DataLoader(fixed_batches(n_batches=2, batch=2), batch_size=2)
    val = [{"lr": torch.rand(3, 8, 8), "hr": np.zeros((32, 32, 3), np.uint8) + 128, "name": "x"}]
    pre = solver.fit(config, stage("pretrain", iterations=2), loader, val, log=lambda m: None)
    messages = []
    gan = solver.fit(config, stage("gan", iterations=1, init_from="pretrain"), loader, val,
                     log=messages.append)
    assert any("initialised from" in m for m in messages)
    assert (tmp_path / "run" / "pretrain_best.pth").exists()
    assert (tmp_path / "run" / "gan_history.csv").exists()
    assert len(pre.history) == 1 and "val_psnr" in gan.history[0]


@pytest.mark.parametrize("log_every", [1, 2])
def test_non_finite_losses_change_no_weight_then_stop(tmp_path, monkeypatch, log_every):
    """Non-finite losses are skipped on the device and found when the log window is read, one
    window later (log_every 1: the third bad step is read after the fourth; 2: the window of
    steps 3-4 after step 5, the pass's last)."""
    config = tiny_config(tmp_path, log_every=log_every)
    st = stage("pretrain", max_bad_steps=3)
    training = solver.build_training(config, st, torch.device("cpu"))
    before = [p.detach().clone() for p in training.generator.parameters()]
    monkeypatch.setattr(training.loss, "content_loss", lambda sr, hr: (sr - hr).pow(2).mean() * math.nan)
    loader = DataLoader(fixed_batches(n_batches=5, batch=1), batch_size=1)
    with pytest.raises(FloatingPointError, match="3 non-finite losses in a row.*pretrain_last.pth"):
        solver.train_epoch(training, loader, config, st)
    assert (training.skipped_steps, training.iteration) == ((3, 4) if log_every == 1 else (4, 5))
    for p, q in zip(training.generator.parameters(), before):
        assert torch.equal(p.detach(), q)  # NaN gradients: every step skipped


def test_an_isolated_non_finite_loss_is_skipped_and_left_out_of_the_means(tmp_path, monkeypatch):
    config = tiny_config(tmp_path, log_every=4)
    st = stage("pretrain")
    training = solver.build_training(config, st, torch.device("cpu"))
    mse, calls = training.loss.content_loss, []

    def second_is_nan(sr, hr):
        calls.append(None)
        return mse(sr, hr) * (math.nan if len(calls) == 2 else 1.0)

    monkeypatch.setattr(training.loss, "content_loss", second_is_nan)
    means = solver.train_epoch(training, DataLoader(fixed_batches(n_batches=4, batch=1), batch_size=1),
                               config, st)
    assert training.skipped_steps == 1 and training.iteration == 4
    assert math.isfinite(means["content_loss"])
    assert all(torch.isfinite(p).all() for p in training.generator.parameters())


def test_mismatched_checkpoint_lists_keys_and_shapes(tmp_path):
    config = tiny_config(tmp_path)
    training = solver.build_training(config, stage(), torch.device("cpu"))
    path = tmp_path / "ck.pth"
    save_checkpoint(checkpoint_state(training, config, stage()), path)
    with pytest.raises(ValueError, match=r"head\.0\.weight: checkpoint \(8, 3, 9, 9\) vs model \(16, 3, 9, 9\)"):
        inference.load_generator(path, arch="srresnet", n_blocks=2, channels=16)
    assert isinstance(inference.load_generator(path), SRResNet)


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_pickle_carrying_code_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("this must never run",))

    path = tmp_path / "evil.pth"
    path.write_bytes(pickle.dumps({"generator": Evil()}))
    with pytest.raises(ValueError, match="evil.pth: cannot be loaded as a safe checkpoint"):
        load_checkpoint(path)


def test_tiled_inference_equals_whole_image():
    torch.manual_seed(0)
    generator = SRResNet(n_blocks=2, channels=8).eval()
    lr_imgs = torch.rand(1, 3, 23, 37)
    whole = inference.super_resolve(generator, lr_imgs)
    tiled = inference.super_resolve(generator, lr_imgs, tile=8)
    torch.testing.assert_close(tiled, whole, rtol=0, atol=1e-5)


def test_cuda_asked_for_without_gpu_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        inference.resolve_device("cuda")
    assert inference.resolve_device("auto").type == "cpu"


def test_bad_amp_value_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="config.amp must be None, 'bf16' or 'fp16', got 'fp8'"):
        solver.build_training(tiny_config(tmp_path, amp="fp8"), stage(), torch.device("cpu"))


@pytest.mark.parametrize("mode", ["pretrain", "gan"])
def test_bf16_autocast_steps_on_the_cpu_follow_fp32(tmp_path, mode):
    """bf16 autocast changes rounding, not the method: the losses stay close to fp32's."""
    losses = {}
    for amp_cpu in (False, True):
        torch.manual_seed(0)
        config = tiny_config(tmp_path / str(amp_cpu), amp_cpu=amp_cpu)
        st = stage(mode, "vgg" if mode == "gan" else "mse")
        training = solver.build_training(config, st, torch.device("cpu"))
        loader = DataLoader(fixed_batches(), batch_size=4)
        losses[amp_cpu] = [solver.train_epoch(training, loader, config, st)["content_loss"]
                           for _ in range(5)]
    assert losses[True][-1] < losses[True][0]
    np.testing.assert_allclose(losses[True], losses[False], rtol=0.05)


def test_interrupt_during_validation_keeps_the_epoch(tmp_path, monkeypatch):
    """Ctrl-C while the epoch is being validated: its training is saved, not lost."""
    config = tiny_config(tmp_path)
    loader = DataLoader(fixed_batches(n_batches=3, batch=2), batch_size=2)
    val = [{"lr": torch.rand(3, 8, 8), "hr": np.zeros((32, 32, 3), np.uint8) + 128, "name": "x"}]

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(solver, "validate", interrupted)
    messages = []
    with pytest.raises(KeyboardInterrupt):
        solver.fit(config, stage("pretrain", iterations=10), loader, val, log=messages.append)
    assert messages[0] == "pretrain: precision: fp32 on cpu"  # amp_cpu=False: what it chose
    assert messages[1:] == [f"pretrain: interrupted at iteration 3; saved {tmp_path / 'run' / 'pretrain_last.pth'}. "
                            f"Run again to resume."]
    assert load_checkpoint(tmp_path / "run" / "pretrain_last.pth")["iteration"] == 3


# --- the adversarial stage's remedies --------------------------------------------------------
def test_frozen_restores_the_discriminator_after_an_exception():
    net = torch.nn.Linear(2, 2)
    net.bias.requires_grad_(False)
    with pytest.raises(RuntimeError):
        with solver.frozen(net):
            assert not net.weight.requires_grad
            raise RuntimeError("boom")
    assert net.weight.requires_grad and not net.bias.requires_grad


def ycbcr_chroma(rgb):
    """The Cb and Cr of full-range BT.601 (JPEG) of (N, 3, H, W) images."""
    m = torch.tensor([[-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])
    return torch.einsum("kc,nchw->nkhw", m, rgb)


@pytest.mark.parametrize("view, chroma_free", [("luma", False), ("gray", True), ("gray_highpass", True)])
def test_only_the_gray_views_give_a_chroma_free_gradient(view, chroma_free):
    # the generator moves its output along minus D's gradient: through the luma view that
    # gradient is along the BT.601 weights, which change Cb and Cr too; through the mean of the
    # channels it is along (1, 1, 1), which changes Y alone
    torch.manual_seed(0)
    x = torch.rand(2, 3, 16, 16, requires_grad=True)
    conv = torch.nn.Conv2d(3, 2, 3)
    conv(D_INPUTS[view](x)).tanh().sum().backward()
    chroma = ycbcr_chroma(x.grad).abs().max().item()
    assert (chroma < 1e-6) == chroma_free, chroma
    assert x.grad.abs().max() > 1e-3


def test_artifact_term_needs_the_moving_average(tmp_path):
    with pytest.raises(ValueError, match="stage.loss.artifacts compares with the moving average"):
        solver.build_training(tiny_config(tmp_path), stage("gan", loss=dict(artifacts=dict(weight=1.0))),
                              torch.device("cpu"))


def test_unknown_d_input_is_an_error_naming_it(tmp_path):
    with pytest.raises(ValueError, match=r"stage.d_input must be one of \[.*\], got .grey."):
        solver.build_training(tiny_config(tmp_path), stage("gan", d_input="grey"), torch.device("cpu"))


def test_textured_regions_mask_known_values():
    regions = TexturedRegions()  # Beby-GAN's 11 x 11 window and threshold 0.025
    flat = torch.zeros(2, 3, 4, 4)
    assert regions.mask(flat, (16, 16)).shape == (2, 1, 16, 16) and regions.mask(flat, (16, 16)).sum() == 0
    # a step of 0.1 in [0, 1]: textured within half a window of the step, not beyond
    step = torch.zeros(1, 3, 8, 16)
    step[..., 8:] = 0.1
    mask = regions.mask(step, (32, 64))[0, 0]
    assert mask[:, 28:36].all() and not mask[:, :16].any() and not mask[:, 48:].any()
    assert TexturedRegions(threshold=0.5).mask(step, (32, 64)).sum() == 0


@pytest.mark.parametrize("name, old_threshold", [("chelsea", 0.0125), ("coffee", 0.03), ("camera", 0.0125)])
def test_textured_regions_keep_the_masks_of_the_thresholds_before_their_range_fix(name, old_threshold):
    """The mask once mapped its [0, 1] LR with (x + 1) / 2, halving the standard deviation: a
    preset's threshold now is twice its value then, for the same masks."""
    import skimage.data

    from imresize import imresize
    hr = getattr(skimage.data, name)()
    hr = hr if hr.ndim == 3 else np.repeat(hr[..., None], 3, 2)
    hr = hr[:hr.shape[0] // 4 * 4, :hr.shape[1] // 4 * 4]
    lr = torch.from_numpy(imresize(hr, 0.25)).permute(2, 0, 1)[None].float() / 255  # (1, 3, h, w) in [0, 1]
    up = F.interpolate(lr, size=hr.shape[:2], mode="bicubic", align_corners=False)
    luma = (0.299 * up[:, :1] + 0.587 * up[:, 1:2] + 0.114 * up[:, 2:] + 1) / 2  # as it was
    padded = F.pad(luma, (5,) * 4, mode="reflect")
    mean = F.avg_pool2d(padded, 11, stride=1)
    old = ((F.avg_pool2d(padded ** 2, 11, stride=1) - mean ** 2).clamp_min(0) * 121 / 120).sqrt() >= old_threshold
    new = TexturedRegions(threshold=2 * old_threshold).mask(lr, hr.shape[:2]).bool()
    assert 0.05 < new.float().mean() < 0.95
    # the pixels at the threshold itself: the old +1 offset cost float32 digits in the variance
    assert (old != new).float().mean() <= 5e-4


def test_textured_regions_view_keeps_texture_and_blurs_the_flat_regions():
    regions = TexturedRegions()
    checker = (torch.arange(16)[:, None] + torch.arange(16)) % 2 * 0.4 - 0.1  # fine texture, mean 0.1
    imgs = checker.expand(1, 3, 16, 16).clone().requires_grad_()
    ones, zeros = torch.ones(1, 1, 16, 16), torch.zeros(1, 1, 16, 16)
    assert torch.allclose(regions.view(imgs, ones), imgs, atol=1e-6)
    flat = regions.view(imgs, zeros)  # the checkerboard is gone, its mean brightness stays
    assert flat[..., 4:12, 4:12].std() < 0.01 and flat.mean().item() == pytest.approx(0.1, abs=0.01)
    half = torch.cat([ones[..., :8], zeros[..., 8:]], dim=-1)
    regions.view(imgs, half).sum().backward()  # gradient reaches both regions
    assert imgs.grad[..., :8].abs().min() > 0 and imgs.grad[..., 8:].abs().max() > 0


def test_flat_term_needs_the_regions(tmp_path):
    with pytest.raises(ValueError, match="stage.loss.flat weighs the regions that stage.d_regions finds flat"):
        solver.build_training(tiny_config(tmp_path), stage("gan", loss=dict(flat=dict(weight=1.0))),
                              torch.device("cpu"))
    with pytest.raises(ValueError, match="stage.loss.flat belongs to a GAN stage"):
        solver.build_training(tiny_config(tmp_path), stage("pretrain", loss=dict(flat=dict(weight=1.0))),
                              torch.device("cpu"))


def test_bad_d_regions_key_is_an_error_naming_it(tmp_path):
    with pytest.raises(ValueError, match="stage.d_regions takes no 'std'; its keys: sigma, threshold, window"):
        solver.build_training(tiny_config(tmp_path), stage("gan", d_regions=dict(std=0.1)), torch.device("cpu"))


def test_conv_features_collects_every_conv_output_and_removes_its_hooks():
    d = build_discriminator("srgan", channels=4, fc_size=8, n_convs=4)
    x = torch.rand(2, 3, 16, 16)
    with conv_features(d) as maps:
        d(x)
    assert [m.shape[1] for m in maps] == [4, 4, 8, 8]
    d(x)
    assert len(maps) == 4  # hooks removed on exit


@pytest.mark.parametrize("disc, extra", [
    (dict(arch="vgg", channels=4, input_size=16),
     dict(loss=dict(adversarial=dict(type="relativistic", weight=5e-3)))),
    (dict(arch="srgan", channels=4, fc_size=16), dict(d_input="gray", ema_decay=0.9)),
    (dict(arch="srgan", channels=4, fc_size=16, spectral_norm=True, batch_norm=False),
     dict(loss=dict(feature_matching=dict(weight=0.1), grid=dict(weight=10.0)))),
    (dict(arch="vgg", channels=4, input_size=16),
     dict(loss=dict(feature_matching=dict(weight=0.1), artifacts=dict(weight=30.0)), ema_decay=0.9)),
    (dict(arch="srgan", channels=4, fc_size=16),
     dict(d_input="gray", d_regions=dict(threshold=0.01),
          loss=dict(gradient=dict(weight=0.1), flat=dict(weight=3.0)))),
])
def test_gan_variants_train_and_keep_d_frozen_in_g_step(tmp_path, disc, extra):
    torch.manual_seed(0)
    config = tiny_config(tmp_path, discriminator=disc)
    st = stage("gan", **extra)
    training = solver.build_training(config, st, torch.device("cpu"))
    loader = DataLoader(fixed_batches(batch=2), batch_size=2)
    means = solver.train_epoch(training, loader, config, st)
    assert all(np.isfinite(means[k]) for k in ("adversarial_loss", "d_real", "d_fake"))
    assert all(p.requires_grad for p in training.discriminator.parameters())


def test_ema_is_validated_saved_and_loaded(tmp_path):
    torch.manual_seed(0)
    config = tiny_config(tmp_path)
    loader = DataLoader(fixed_batches(n_batches=2, batch=2), batch_size=2)
    val = [{"lr": torch.rand(3, 8, 8), "hr": np.zeros((32, 32, 3), np.uint8) + 128, "name": "x"}]
    st = stage("gan", iterations=3, ema_decay=0.5)
    training = solver.fit(config, st, loader, val, log=lambda m: None)
    run = tmp_path / "run"
    assert (run / "gan_ema.pth").exists() and not (run / "gan_best.pth").exists()
    ema = solver.inference_generator(training)
    assert ema is training.generator_ema.module
    assert not torch.equal(ema.tail.weight, training.generator.tail.weight)
    for path in (run / "gan_last.pth", run / "gan_ema.pth"):
        assert torch.equal(inference.load_generator(path).tail.weight, ema.tail.weight)
    trained = inference.load_generator(run / "gan_last.pth", weights="trained")
    assert torch.equal(trained.tail.weight, training.generator.tail.weight)
    assert "val_niqe" in training.history[-1]  # NaN here: 32x32 is below NIQE's two blocks
    pre = solver.fit(config, stage("pretrain", iterations=1), loader, val, log=lambda m: None)
    with pytest.raises(ValueError, match="no moving average"):
        inference.load_generator(run / "pretrain_last.pth", weights="ema")
    assert pre.generator_ema is None


def test_resume_with_ema_equals_uninterrupted(tmp_path):
    def run(folder, stops):
        torch.manual_seed(0)
        config = tiny_config(folder)
        loader = DataLoader(fixed_batches(n_batches=2, batch=2), batch_size=2)
        for iterations in stops:
            # random translation of D's inputs draws from the global RNG: resuming must restore it
            training = solver.fit(config, stage("gan", iterations=iterations, ema_decay=0.8,
                                                d_input="translate_1"), loader, None, log=lambda m: None)
        return solver.inference_generator(training).tail.weight

    assert torch.equal(run(tmp_path / "a", [4]), run(tmp_path / "b", [2, 4]))


def test_resuming_with_other_networks_names_both_configs(tmp_path):
    config = tiny_config(tmp_path)
    loader = DataLoader(fixed_batches(n_batches=1, batch=2), batch_size=2)
    solver.fit(config, stage("pretrain", iterations=1), loader, None, log=lambda m: None)
    resized = tiny_config(tmp_path, generator=dict(n_blocks=2, channels=8, upsampler="resize"))
    with pytest.raises(ValueError, match=r"pretrain_last\.pth was trained with generator=.*upsampler.*out_dir"):
        solver.fit(resized, stage("pretrain", iterations=2), loader, None, log=lambda m: None)
    with pytest.raises(ValueError, match=r"pretrain_last\.pth holds generator=.*upsampler"):  # no val: no _best
        solver.fit(resized, stage("gan", iterations=1, init_from="pretrain"), loader, None, log=lambda m: None)


def test_arguments_at_their_default_value_are_the_same_network(tmp_path):
    config = tiny_config(tmp_path)
    loader = DataLoader(fixed_batches(n_batches=1, batch=2), batch_size=2)
    solver.fit(config, stage("pretrain", iterations=1), loader, None, log=lambda m: None)
    explicit = tiny_config(tmp_path, generator=dict(n_blocks=2, channels=8, upsampler="subpixel"),
                           discriminator=dict(arch="srgan", channels=4, fc_size=16, batch_norm=True))
    training = solver.fit(explicit, stage("gan", iterations=1, init_from="pretrain"), loader, None,
                          log=lambda m: None)
    assert training.iteration == 1


# --- installing for the user's GPU -------------------------------------------------------------
def test_unusable_gpu_is_said_loudly(monkeypatch):
    import warnings

    import inference

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(inference, "nvidia_gpu_present", lambda: False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no GPU at all: silence
        assert inference.resolve_device("auto").type == "cpu"

    def no_driver():
        raise RuntimeError("The NVIDIA driver on your system is too old (found version 11040)")

    monkeypatch.setattr(inference, "nvidia_gpu_present", lambda: True)
    monkeypatch.setattr(torch.cuda, "init", no_driver)
    monkeypatch.setattr(torch.version, "cuda", "13.0")
    with pytest.warns(UserWarning, match="AN NVIDIA GPU IS PRESENT BUT TORCH CANNOT USE IT.*"
                                         "driver on your system is too old"):
        assert inference.resolve_device("auto").type == "cpu"
    with pytest.raises(RuntimeError, match="Install the torch 2.13.0 build for your driver"):
        inference.resolve_device("cuda")


def test_requirements_keep_a_users_torch_build_but_never_the_local_cpu_one():
    from packaging.specifiers import SpecifierSet

    from conftest import ROOT

    line = next(row for row in (ROOT / "requirements.txt").read_text().splitlines() if row.startswith("torch"))
    spec = SpecifierSet(line.split("#")[0].strip()[len("torch"):])
    assert spec.contains("2.13.0") and spec.contains("2.13.0+cu126") and spec.contains("2.13.0+cu130")
    assert not spec.contains("2.13.0+cpu") and not spec.contains("2.12.0")


# --- what a GPU would hit, caught on the CPU ----------------------------------------------------
def test_resume_loads_the_checkpoint_to_the_cpu_whatever_the_training_device(tmp_path, monkeypatch):
    """A GPU run that resumed with map_location=<its device> got its saved CPU RNG state back on
    the GPU, and torch.set_rng_state raised. Here torch.load honours only an explicit request for
    the CPU and sends anything else (on a GPU machine: cuda:0) to the meta device."""
    config = tiny_config(tmp_path)
    loader = DataLoader(fixed_batches(n_batches=1, batch=2), batch_size=2)
    solver.fit(config, stage("gan", iterations=1), loader, None, log=lambda m: None)
    real_load, real_set_rng_state, restored = torch.load, torch.set_rng_state, []

    def load_as_on_a_gpu_machine(f, map_location=None, **kwargs):
        return real_load(f, map_location="cpu" if map_location == "cpu" else "meta", **kwargs)

    def set_rng_state(state):
        restored.append(state)
        real_set_rng_state(state)

    monkeypatch.setattr(torch, "load", load_as_on_a_gpu_machine)
    monkeypatch.setattr(torch, "set_rng_state", set_rng_state)
    training = solver.fit(config, stage("gan", iterations=2), loader, None, log=lambda m: None)
    assert training.iteration == 2
    assert restored[0].device.type == "cpu" and restored[0].dtype == torch.uint8
    for optimizer, net in ((training.optimizer_g, training.generator),
                           (training.optimizer_d, training.discriminator)):
        for param in net.parameters():  # Adam's step counter beside its parameter (fused)
            assert optimizer.state[param]["step"].device == param.device


def test_cuda_rng_state_is_the_current_gpus_alone(tmp_path, monkeypatch):
    """Saved on a machine with two GPUs, resumed on one: the state of the current GPU only."""
    config, st = tiny_config(tmp_path), stage()
    training = solver.build_training(config, st, torch.device("cpu"))
    state, restored = torch.arange(16, dtype=torch.uint8), []

    def fewer_gpus(states):
        raise IndexError("list index out of range")

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_rng_state", lambda device="cuda": state.clone())
    monkeypatch.setattr(torch.cuda, "get_rng_state_all", lambda: [state.clone(), state.clone()])
    monkeypatch.setattr(torch.cuda, "set_rng_state", lambda s, device="cuda": restored.append(s))
    monkeypatch.setattr(torch.cuda, "set_rng_state_all", fewer_gpus)
    save_checkpoint(checkpoint_state(training, config, st), tmp_path / "ck.pth")
    restore(training, load_checkpoint(tmp_path / "ck.pth"))
    assert len(restored) == 1 and torch.equal(restored[0], state) and restored[0].device.type == "cpu"


@pytest.mark.parametrize("mode", ["pretrain", "gan"])
def test_losses_stay_on_the_device_and_are_read_once_per_log_window(tmp_path, monkeypatch, mode):
    """No host synchronisation per step: 10 steps with log_every 5 read the losses twice, and
    without a time budget the ranks never vote on one."""
    config, st = tiny_config(tmp_path, log_every=5), stage(mode)
    training = solver.build_training(config, st, torch.device("cpu"))
    batches = list(DataLoader(fixed_batches(n_batches=10, batch=2), batch_size=2))
    reads = {"item": 0, "tolist": 0}
    for name in reads:
        real = getattr(torch.Tensor, name)

        def counted(self, *args, _real=real, _name=name):
            reads[_name] += 1
            return _real(self, *args)

        monkeypatch.setattr(torch.Tensor, name, counted)

    def vote(flag):
        raise AssertionError("the ranks voted on a time budget that is not set")

    monkeypatch.setattr(solver.distributed, "any_rank", vote)
    means = solver.train_epoch(training, batches, config, st)
    assert means["iterations"] == 10 and math.isfinite(means["content_loss"])
    assert reads == {"item": 0, "tolist": 2}


def test_generator_backward_runs_outside_autocast(tmp_path, monkeypatch):
    """PyTorch's AMP recipe: forward and loss under autocast, backward outside it."""
    config, st = tiny_config(tmp_path, amp_cpu=True), stage("gan")
    training = solver.build_training(config, st, torch.device("cpu"))
    real_backward, inside = torch.Tensor.backward, []

    def backward(self, *args, **kwargs):
        inside.append(torch.is_autocast_enabled("cpu"))
        return real_backward(self, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, "backward", backward)
    solver.train_epoch(training, DataLoader(fixed_batches(batch=2), batch_size=2), config, st)
    assert inside == [False, False]  # D's step, G's step


def test_weight_average_follows_polyak_and_saves_as_averaged_model(tmp_path):
    torch.manual_seed(0)
    net = SRResNet(n_blocks=1, channels=4)
    average = WeightAverage(net, decay=0.75)
    start = {k: v.clone() for k, v in net.state_dict().items()}
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)
    average.update(net)
    for key, value in average.module.state_dict().items():
        if value.is_floating_point():
            torch.testing.assert_close(value, 0.75 * start[key] + 0.25 * net.state_dict()[key])
    reference = torch.optim.swa_utils.AveragedModel(net, use_buffers=True).state_dict()
    assert list(average.state_dict()) == list(reference) and int(average.n_averaged) == 1
    assert not any(p.requires_grad for p in average.parameters())
    average.reset(net)
    for key, value in average.module.state_dict().items():
        torch.testing.assert_close(value, net.state_dict()[key])


# Every loss term and view of D the presets use, in the GAN stage: the steps that a CUDA graph
# captures (tests/test_cuda.py replays them against eager steps).
GAN_VARIANTS = {
    "srgan-vgg": (dict(arch="srgan", channels=4, fc_size=16), dict(), "vgg"),
    "esrgan": (dict(arch="vgg", channels=4, input_size=16),
               dict(loss=dict(content=dict(type="vgg", weight=1.0, i=2, j=2, distance="l1", before_activation=True),
                              pixel=dict(type="l1", weight=1e-2),
                              adversarial=dict(type="relativistic", weight=5e-3))), None),
    "detail": (dict(arch="srgan", channels=4, fc_size=16),
               dict(d_input="gray", d_regions=dict(threshold=0.01), ema_decay=0.9,
                    loss=dict(feature_matching=dict(weight=0.1), grid=dict(weight=10.0),
                              artifacts=dict(weight=30.0), gradient=dict(weight=0.1), flat=dict(weight=3.0))),
               "mse"),
}


def variant_stage(name):
    """The discriminator kwargs and the GAN stage of ``GAN_VARIANTS[name]``."""
    disc, extra, content = GAN_VARIANTS[name]
    if content is None:
        return disc, stage("gan", **extra)
    return disc, stage("gan", content, **extra)


class NoHostReads(torch.utils._python_dispatch.TorchDispatchMode):
    """Fails on a tensor's value read to the host (``aten._local_scalar_dense``: ``.item()``,
    ``float()``, ``bool()``, a Python ``if`` on a tensor)."""

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func is torch.ops.aten._local_scalar_dense.default:
            raise AssertionError("a training step read a tensor's value to the host")
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("name", ["pretrain", *GAN_VARIANTS])
def test_a_whole_step_reads_no_value_to_the_host(tmp_path, name):
    """What a CUDA graph needs of a step: no scalar read inside it (nor a Python branch on
    one), with every loss term; the learning rate stays the same tensor through a milestone."""
    torch.manual_seed(0)
    disc, st = variant_stage(name) if name != "pretrain" else (dict(channels=4, fc_size=16), stage())
    st = merge_config(st, dict(milestones=[2]))
    config = tiny_config(tmp_path, discriminator=disc)
    training = solver.build_training(config, st, torch.device("cpu"))
    runner = solver.step_runner(training, config, st)
    assert runner.refusal == "cpu: CUDA graphs are CUDA's"
    lr_imgs, hr_imgs = next(iter(DataLoader(fixed_batches(batch=2), batch_size=2)))
    rate = training.optimizer_g.param_groups[0]["lr"]
    for _ in range(3):
        with NoHostReads():
            losses = runner(lr_imgs, hr_imgs)
        training.scheduler_g.step()
    assert all(torch.isfinite(v) for v in losses.values())
    assert training.optimizer_g.param_groups[0]["lr"] is rate and float(rate) == pytest.approx(1e-4)


def test_the_optimizers_are_capturable_after_a_restore(tmp_path):
    """A checkpoint's param groups replace the live ones: restore puts back tensor rates on the
    device and capturable; an old checkpoint's float rates too."""
    config, st = tiny_config(tmp_path), stage("gan", milestones=[1])
    training = solver.build_training(config, st, torch.device("cpu"))
    solver.train_epoch(training, DataLoader(fixed_batches(n_batches=2, batch=2), batch_size=2), config, st)
    checkpoint = checkpoint_state(training, config, st)
    for key in ("optimizer_g", "optimizer_d"):  # as written before the rates were tensors
        for group in checkpoint[key]["param_groups"]:
            group.update(lr=float(group["lr"]), capturable=False, fused=None)
    other = solver.build_training(config, st, torch.device("cpu"))
    restore(other, checkpoint)
    for optimizer in (other.optimizer_g, other.optimizer_d):
        group = optimizer.param_groups[0]
        assert torch.is_tensor(group["lr"]) and group["lr"].dtype == torch.float32
        assert float(group["lr"]) == pytest.approx(1e-4) and group["capturable"] and group["fused"]
    other.scheduler_g.step()  # the scheduler writes into the restored tensor
    assert float(other.optimizer_g.param_groups[0]["lr"]) == pytest.approx(1e-4)


def test_validation_follows_the_configured_cadence(tmp_path):
    """eval_every 3 on passes of 2 iterations: validations (history rows, checkpoints) at 3, 6
    and the stage's end, 7; eval_every_s shorter than a step: one after every step."""
    loader = DataLoader(fixed_batches(n_batches=2, batch=2), batch_size=2, shuffle=True)
    val = [{"lr": torch.rand(3, 8, 8), "hr": np.zeros((32, 32, 3), np.uint8) + 128, "name": "x"}]
    config = tiny_config(tmp_path, eval_every=3)
    training = solver.fit(config, stage(iterations=7), loader, val, log=lambda m: None)
    assert [row["iteration"] for row in training.history] == [3, 6, 7]
    assert all("val_psnr" in row for row in training.history)
    config = tiny_config(tmp_path, eval_every=None, eval_every_s=1e-9, out_dir=str(tmp_path / "s"))
    training = solver.fit(config, stage(iterations=3), loader, val, log=lambda m: None)
    assert [row["iteration"] for row in training.history] == [1, 2, 3]
