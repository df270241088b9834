"""Bad inputs, interruptions and faults end in clear messages, and no work is lost."""
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from PIL import Image

import create_data_lists as cdl
import inference
from conftest import ROOT
from datasets import SRTrainDataset
from models import SRResNet
from checkpoints import load_checkpoint



def test_a_folder_of_bad_files(tmp_path, capsys):
    """Each bad file is converted or skipped with its name and reason; the summary counts them."""
    hr, lr = tmp_path / "HR", tmp_path / "LR"
    hr.mkdir()
    lr.mkdir()
    rng = np.random.default_rng(0)
    rgb = Image.fromarray(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8))

    def pair(name, hr_img, lr_size=(12, 10), fmt=None):
        hr_img.save(hr / name, format=fmt)
        rgb.resize(lr_size).save(lr / (os.path.splitext(name)[0] + ".png"))

    pair("good.png", rgb)
    pair("with space ü.png", rgb)                                   # spaces, non-ASCII
    pair("cmyk.jpg", rgb.convert("CMYK"), fmt="JPEG")               # CMYK JPEG
    pair("deep.png", Image.fromarray((np.asarray(rgb.convert("L")).astype(np.uint16) * 257)))
    pair("rgba.png", rgb.convert("RGBA"))
    pair("palette.png", rgb.convert("P"))
    pair("gray.png", rgb.convert("L"))
    pair("wrong_lr.png", rgb, lr_size=(11, 10))                     # LR of the wrong size
    pair("small.png", rgb.resize((16, 16)), lr_size=(4, 4))         # smaller than a patch
    rgb.save(hr / "no_lr.png")                                      # HR without its LR
    (hr / "zero.png").write_bytes(b"")                              # zero-byte file
    (hr / "notes.png").write_text("a text file")                    # not an image
    good_bytes = (hr / "good.png").read_bytes()
    (hr / "truncated.png").write_bytes(good_bytes[: len(good_bytes) // 2])

    assert cdl.main(["--hr", str(hr), "--lr", str(lr), "--name", "bad", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    expected = {
        "zero.png": "empty file", "notes.png": "not an image", "truncated.png": "cannot decode",
        "wrong_lr.png": "expected 10x12", "cmyk.jpg": "converted from mode CMYK",
        "deep.png": "converted from mode I;16", "rgba.png": "converted from mode RGBA",
        "palette.png": "converted from mode P", "gray.png": "converted from mode L",
        "no_lr.png": "no LR file",
    }
    for name, reason in expected.items():
        assert any(line.startswith(str(hr / name)) and reason in line for line in out.splitlines()), name
    assert "bad: 9 pairs written" in out and "(4 rejected, 5 converted, 1 without LR file, 13 HR files found)" in out

    messages = []
    data = SRTrainDataset(tmp_path / "bad.csv", hr_patch=32, patches_per_image=1, log=messages.append)
    assert len(data.pairs) == 8 and [p.name for p, _ in data.skipped] == ["small.png"]
    assert any("small.png" in m and "smaller than a 32 px patch" in m for m in messages)
    for i in range(len(data)):
        lr_patch, hr_patch = data[i]
        assert lr_patch.shape == (3, 8, 8) and hr_patch.shape == (3, 32, 32)


def run_worker(out_dir, iterations, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "tests.train_worker", str(out_dir), str(iterations)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)


def wait_for(path, timeout=60):
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def test_sigkill_at_random_moments_loses_at_most_an_epoch(tmp_path):
    """Killed at random points, several times: the last checkpoint is whole, and resuming ends
    the run at the target iteration."""
    out, target, rng = tmp_path / "run", 400, random.Random(0)
    last = out / "srgan_last.pth"
    reached = 0
    for attempt in range(3):
        process = run_worker(out, target)
        if attempt == 0:
            wait_for(last)
        time.sleep(rng.uniform(0.3, 1.5))
        process.kill()  # SIGKILL: no handler runs
        process.wait()
        checkpoint = load_checkpoint(last)  # never half-written
        assert checkpoint["iteration"] >= reached
        reached = checkpoint["iteration"]
    process = run_worker(out, target)
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0, output
    assert f"resumed from {last} at iteration {reached}" in output
    assert f"finished at iteration {target}" in output
    assert load_checkpoint(last)["iteration"] == target


def test_sigint_saves_and_stops_cleanly(tmp_path):
    out = tmp_path / "run"
    process = run_worker(out, 10 ** 6)
    wait_for(out / "srgan_last.pth")
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=120)
    assert process.returncode != 0
    line = next(line for line in output.splitlines() if "interrupted at iteration" in line)
    iteration = int(line.split("interrupted at iteration ")[1].split(";")[0])
    assert load_checkpoint(out / "srgan_last.pth")["iteration"] == iteration > 0


def test_out_of_memory_falls_back_to_tiles(monkeypatch):
    torch.manual_seed(0)
    generator = SRResNet(n_blocks=1, channels=8).eval()
    lr_imgs = torch.rand(1, 3, 200, 180)
    whole = inference.super_resolve(generator, lr_imgs)

    class Limited(torch.nn.Module):
        scale, input_multiple = 4, 1
        receptive_radius = tile_margin = generator.receptive_radius

        def forward(self, x):
            if x.shape[-1] * x.shape[-2] > 120 * 120:  # a 32 px tile + its context fits
                raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
            return generator(x)

    monkeypatch.setattr(inference, "OOM_TILE", 32)
    with pytest.warns(UserWarning, match="out of memory on a 200x180 LR image: falling back to tiles"):
        tiled = inference.super_resolve(Limited(), lr_imgs)
    torch.testing.assert_close(tiled, whole, rtol=0, atol=1e-5)
