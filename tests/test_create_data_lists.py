"""create_data_lists: pairing, validation with named rejections, the standard layouts, the sample."""
import csv

import numpy as np
import pytest
from PIL import Image

import create_data_lists as cdl


def save(path, shape, value=128, mode=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.fromarray(np.full(shape, value, np.uint8))
    (img.convert(mode) if mode else img).save(path)
    return path


def test_list_validates_pairs_and_reports_rejections(tmp_path):
    hr, lr = tmp_path / "HR", tmp_path / "LR"
    save(hr / "good.png", (32, 48, 3))
    save(lr / "good.png", (8, 12, 3))
    save(hr / "suffix.png", (34, 50, 3))   # not a multiple of 4: LR is of the mod-cropped size
    save(lr / "suffixx4.png", (8, 12, 3))  # DIV2K naming
    save(hr / "wrong size.png", (32, 32, 3))
    save(lr / "wrong size.png", (9, 8, 3))
    save(hr / "no_lr_ü.png", (32, 32, 3))
    (hr / "empty.png").write_bytes(b"")
    (hr / "readme.txt").write_text("ignored: not an image extension")
    (hr / "text.jpg").write_text("not an image")
    messages = []
    csv_path = cdl.create_list(hr, lr, "demo", tmp_path / "lists", log=messages.append)

    pairs = cdl.read_list(csv_path)
    assert [(h.name, lr.name if lr else None) for h, lr in pairs] == [
        ("good.png", "good.png"), ("no_lr_ü.png", None), ("suffix.png", "suffixx4.png")]
    text = "\n".join(messages)
    assert f"{hr / 'empty.png'}: empty file" in text
    assert f"{hr / 'text.jpg'}: not an image" in text
    assert f"{hr / 'wrong size.png'}: LR wrong size.png is 9x8, expected 8x8" in text
    assert f"{hr / 'no_lr_ü.png'}: no LR file" in text
    assert "3 pairs written" in messages[-1] and "3 rejected" in messages[-1]


def test_list_without_lr_folder(tmp_path):
    save(tmp_path / "HR" / "a.png", (16, 16, 3))
    csv_path = cdl.create_list(tmp_path / "HR", None, "a", tmp_path, log=lambda m: None)
    with open(csv_path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["hr", "lr"] and rows[1][1] == ""


def test_no_usable_image_is_an_error(tmp_path):
    (tmp_path / "HR").mkdir()
    (tmp_path / "HR" / "broken.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(ValueError, match="no usable image"):
        cdl.create_list(tmp_path / "HR", None, "x", tmp_path, log=lambda m: None)
    assert not (tmp_path / "x.csv").exists()
    with pytest.raises(FileNotFoundError, match="not a directory"):
        cdl.create_list(tmp_path / "nowhere", None, "x", tmp_path)


def test_read_list_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="create_data_lists"):
        cdl.read_list(tmp_path / "missing.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="header"):
        cdl.read_list(bad)


def test_div2k_layout(tmp_path):
    for split, n in (("train", 2), ("valid", 1)):
        for i in range(1, n + 1):
            save(tmp_path / f"DIV2K_{split}_HR" / f"{i:04d}.png", (32, 40, 3))
            save(tmp_path / f"DIV2K_{split}_LR_bicubic" / "X4" / f"{i:04d}x4.png", (8, 10, 3))
    written = cdl.create_div2k_lists(tmp_path, tmp_path / "lists", log=lambda m: None)
    assert [p.name for p in written] == ["DIV2K_train.csv", "DIV2K_valid.csv"]
    assert all(lr is not None for _, lr in cdl.read_list(written[0]))


def test_benchmark_layout_and_cli(tmp_path, capsys):
    save(tmp_path / "Set2" / "HR" / "a.png", (16, 16, 3))
    save(tmp_path / "Set2" / "LR_bicubic" / "X4" / "a.png", (4, 4, 3))
    assert cdl.main(["--benchmark", str(tmp_path / "Set2"), "--out", str(tmp_path / "lists")]) == 0
    assert cdl.read_list(tmp_path / "lists" / "Set2.csv")[0][1].name == "a.png"
    assert cdl.main(["--hr", str(tmp_path / "nowhere"), "--name", "n", "--out", str(tmp_path)]) == 1
    assert "not a directory" in capsys.readouterr().err


def test_sample_dataset(tmp_path):
    train_csv, test_csv = cdl.build_sample_dataset(tmp_path, log=lambda m: None)
    train, test = cdl.read_list(train_csv), cdl.read_list(test_csv)
    assert len(train) == len(cdl.SAMPLE_TRAIN) and len(test) == len(cdl.SAMPLE_TEST)
    assert not {h.stem for h, _ in train} & {h.stem for h, _ in test}
    for hr_path, lr_path in test:
        hr, lr = Image.open(hr_path), Image.open(lr_path)
        assert hr.width % 4 == 0 and hr.height % 4 == 0
        assert (lr.width * 4, lr.height * 4) == hr.size
