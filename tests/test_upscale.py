"""upscale.py through ``main()``, on real files of every common kind: each kind comes out as
the same kind, nothing is overwritten or left half-written, bad options are one-line errors
with exit status 2, and a run says what it did."""
import io
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
from PIL import Image, ImageCms

import upscale
from archs import RRDBNet
from conftest import ROOT
from imresize import imresize

TINY = dict(n_blocks=1, channels=8, growth=4)


@pytest.fixture
def model(tmp_path):
    """A tiny RRDBNet as a release file (BasicSR's {"params_ema": state dict})."""
    torch.manual_seed(0)
    path = tmp_path / "tiny.pth"
    torch.save({"params_ema": RRDBNet(**TINY).state_dict()}, path)
    return path


def network(model, rgb):
    """The tiny network's output for float RGB (H, W, 3) in [0, 1], in [0, 1]."""
    torch.manual_seed(0)
    net = RRDBNet(**TINY).eval()
    net.load_state_dict(torch.load(model, weights_only=True)["params_ema"])
    with torch.no_grad():
        sr = net(torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1))).float().unsqueeze(0))[0]
    return ((sr.clamp(-1, 1) + 1) / 2).permute(1, 2, 0).numpy()


def photo(h=12, w=10, seed=0):
    """A smooth random uint8 RGB image (H, W, 3)."""
    rng = np.random.default_rng(seed)
    return imresize(rng.integers(0, 256, (h // 2, w // 2, 3), dtype=np.uint8), output_shape=(h, w))


def call(*argv, capsys=None):
    status = upscale.main([str(a) for a in argv])
    out = capsys.readouterr() if capsys else None
    return status, out


def test_rgb_png_is_the_network_s_output(tmp_path, model, capsys):
    img = photo()
    Image.fromarray(img).save(tmp_path / "a.png")
    status, out = call("-m", model, "-o", tmp_path / "out", "-d", "cpu", tmp_path / "a.png", capsys=capsys)
    assert status == 0, out.err
    result = np.asarray(Image.open(tmp_path / "out" / "a.png"))
    expected = np.floor(network(model, img / 255) * 255 + 0.5)
    assert result.shape == (48, 40, 3) and np.abs(result - expected).max() <= 1
    assert "a.png: 10x12 -> 40x48 RGB 8-bit" in out.out
    assert "1 written" in out.out and "images/s" in out.out and "output Mpix/s" in out.out


@pytest.mark.parametrize("kind", ["L", "LA", "RGBA", "P", "PA", "1"])
def test_gray_alpha_and_palette_images_come_out_as_their_kind(tmp_path, model, kind):
    img = photo()
    rng = np.random.default_rng(1)
    alpha = rng.integers(0, 256, img.shape[:2], dtype=np.uint8)
    if kind in ("L", "LA", "1"):
        gray = Image.fromarray(img).convert("L")
        pil = {"L": gray, "1": gray.convert("1"), "LA": Image.merge("LA", [gray, Image.fromarray(alpha)])}[kind]
    elif kind == "RGBA":
        pil = Image.fromarray(np.dstack([img, alpha]))
    else:  # a palette image, with one transparent colour for "PA"
        pil = Image.fromarray(img).quantize(16)
        if kind == "PA":
            pil.info["transparency"] = 0
    pil.save(tmp_path / "in.png")
    assert upscale.main(["-m", str(model), "-o", str(tmp_path / "out"), "-d", "cpu", "--alpha", "bicubic",
                         str(tmp_path / "in.png")]) == 0
    out = Image.open(tmp_path / "out" / "in.png")
    assert out.size == (40, 48)
    assert out.mode == {"L": "L", "1": "L", "LA": "RGBA", "RGBA": "RGBA", "P": "RGB", "PA": "RGBA"}[kind]
    if kind in ("L", "1"):  # gray through RGB and back: the mean of the network's three channels
        source = np.asarray(pil.convert("L"), dtype=np.float32) / 255
        expected = np.floor(network(model, np.repeat(source[..., None], 3, 2)).mean(2) * 255 + 0.5)
        assert np.abs(np.asarray(out).astype(int) - expected).max() <= 1
    if kind in ("LA", "RGBA"):  # alpha by MATLAB's bicubic
        expected = np.clip(np.floor(imresize(alpha / 255.0, 4) * 255 + 0.5), 0, 255)
        assert np.abs(np.asarray(out)[..., 3].astype(int) - expected).max() <= 1


def test_alpha_through_the_network_by_default(tmp_path, model):
    img, alpha = photo(), photo(seed=2)[..., 0]
    Image.fromarray(np.dstack([img, alpha])).save(tmp_path / "a.png")
    assert upscale.main(["-m", str(model), "-o", str(tmp_path / "out"), "-d", "cpu", str(tmp_path / "a.png")]) == 0
    out = np.asarray(Image.open(tmp_path / "out" / "a.png")).astype(int)
    expected = np.floor(network(model, np.repeat(alpha[..., None] / 255, 3, 2)).mean(2) * 255 + 0.5)
    assert np.abs(out[..., 3] - expected).max() <= 1


@pytest.mark.parametrize("channels", [1, 3])
def test_sixteen_bit_images_are_processed_in_float_and_written_16_bit(tmp_path, model, channels):
    rng = np.random.default_rng(3)
    data = imresize(rng.random((6, 5, channels)) * 65535, output_shape=(12, 10)).clip(0, 65535).astype(np.uint16)
    if channels == 1:
        data = data[..., 0]
        Image.fromarray(data).save(tmp_path / "deep.png")
    else:
        cv2.imwrite(str(tmp_path / "deep.png"), data[..., ::-1])
    assert upscale.main(["-m", str(model), "-o", str(tmp_path / "out"), "-d", "cpu", str(tmp_path / "deep.png")]) == 0
    out = cv2.imread(str(tmp_path / "out" / "deep.png"), cv2.IMREAD_UNCHANGED)
    assert out.dtype == np.uint16 and out.shape[:2] == (48, 40) and out.ndim == (2 if channels == 1 else 3)
    rgb = np.repeat(data[..., None], 3, 2) if channels == 1 else data
    expected = network(model, rgb.astype(np.float32) / 65535)
    expected = expected.mean(2) if channels == 1 else expected[..., ::-1]
    assert np.abs(out - np.floor(expected * 65535 + 0.5)).max() <= 2  # float32 against float32
    # every bit read, the low byte too (PIL alone reads 16-bit colour as its high byte)
    read = upscale.read_picture(tmp_path / "deep.png")
    assert read.bits == 16 and np.array_equal(np.round(read.rgb * 65535), rgb)


def test_cmyk_is_converted_and_said_so(tmp_path, model, capsys):
    Image.fromarray(photo()).convert("CMYK").save(tmp_path / "print.jpg")
    status, out = call("-m", model, "-o", tmp_path / "out", "-d", "cpu", tmp_path / "print.jpg", capsys=capsys)
    assert status == 0 and "CMYK converted to sRGB" in out.out
    assert Image.open(tmp_path / "out" / "print.jpg").mode == "RGB"


def test_exif_orientation_is_applied_and_the_metadata_carried(tmp_path, model, capsys):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to show
    exif[0x010F] = "a phone"  # Make
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.fromarray(photo(12, 6)).save(tmp_path / "phone.jpg", exif=exif, icc_profile=icc, quality=95)
    status, out = call("-m", model, "-o", tmp_path / "out", "-d", "cpu", tmp_path / "phone.jpg", capsys=capsys)
    assert status == 0 and "EXIF orientation 6 applied" in out.out
    with Image.open(tmp_path / "out" / "phone.jpg") as result:
        assert result.size == (48, 24)  # stored 6x12, shown 12x6
        assert result.info.get("icc_profile") == icc
        assert result.getexif().get(0x010F) == "a phone" and 0x0112 not in result.getexif()


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientations_are_pil_s(orientation):
    from PIL import ImageOps
    img = Image.fromarray(photo(6, 4))
    exif = img.getexif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    img.save(buffer, format="PNG", exif=exif)
    shown = np.asarray(ImageOps.exif_transpose(Image.open(buffer)))
    assert np.array_equal(upscale.orient(np.asarray(img), orientation), shown)


def test_outscale_suffix_and_ext(tmp_path, model, capsys):
    Image.fromarray(photo()).save(tmp_path / "a.png")
    status, out = call("-m", model, "-o", tmp_path / "out", "-d", "cpu", "-s", "2.5", "--suffix", "_x2.5",
                       "--ext", "jpg", tmp_path / "a.png", capsys=capsys)
    assert status == 0, out.err
    assert Image.open(tmp_path / "out" / "a_x2.5.jpg").size == (25, 30)
    assert "output x2.5 (MATLAB-bicubic resize" in out.out


def test_an_output_that_would_replace_an_input_is_refused_before_the_model_loads(tmp_path, model, capsys):
    Image.fromarray(photo()).save(tmp_path / "a.png")
    before = (tmp_path / "a.png").read_bytes()
    status, out = call("-m", tmp_path / "no_model_needed.pth", "-o", tmp_path, tmp_path / "a.png", capsys=capsys)
    assert status == 2 and "no_model_needed" in out.err  # the model is checked first...
    status, out = call("-m", model, "-o", tmp_path, "-d", "cpu", tmp_path / "a.png", capsys=capsys)
    assert status == 2 and "would replace an input" in out.err and "nothing written" in out.err
    assert (tmp_path / "a.png").read_bytes() == before
    status, out = call("-m", model, "-o", tmp_path, "-d", "cpu", "--overwrite", tmp_path / "a.png", capsys=capsys)
    assert status == 2 and (tmp_path / "a.png").read_bytes() == before  # never an input
    assert call("-m", model, "-o", tmp_path, "-d", "cpu", "--suffix", "_up", tmp_path / "a.png")[0] == 0
    assert (tmp_path / "a_up.png").exists()


def test_existing_files_and_clashing_names_are_refused(tmp_path, model, capsys):
    (tmp_path / "one").mkdir(), (tmp_path / "two").mkdir(), (tmp_path / "out").mkdir()
    for folder in ("one", "two"):
        Image.fromarray(photo()).save(tmp_path / folder / "a.png")
    status, out = call("-m", model, "-o", tmp_path / "out", "-d", "cpu", tmp_path / "one", tmp_path / "two",
                       capsys=capsys)
    assert status == 2 and "would be written for both" in out.err
    (tmp_path / "out" / "a.png").write_bytes(b"mine")
    status, out = call("-m", model, "-o", tmp_path / "out", "-d", "cpu", tmp_path / "one", capsys=capsys)
    assert status == 2 and "exists (--overwrite" in out.err and (tmp_path / "out" / "a.png").read_bytes() == b"mine"
    assert call("-m", model, "-o", tmp_path / "out", "-d", "cpu", "--overwrite", tmp_path / "one")[0] == 0
    assert Image.open(tmp_path / "out" / "a.png").size == (40, 48)
    (tmp_path / "file").write_text("x")
    status, out = call("-m", model, "-o", tmp_path / "file", "-d", "cpu", tmp_path / "one", capsys=capsys)
    assert status == 2 and "a file, not a folder" in out.err


@pytest.mark.parametrize("option, value, message", [
    ("--tile", "-8", "--tile -8"), ("--margin", "-3", "--margin -3"), ("-s", "0", "--outscale 0.0"),
    ("-s", "nan", "--outscale nan"), ("-d", "gpu", "--device 'gpu'"), ("--suffix", "a/b", "path separator")])
def test_bad_options_are_one_line_errors(tmp_path, model, capsys, option, value, message):
    Image.fromarray(photo()).save(tmp_path / "a.png")
    status, out = call("-m", model, "-o", tmp_path / "out", option, value, tmp_path / "a.png", capsys=capsys)
    assert status == 2 and message in out.err and len(out.err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_tile_zero_is_whole_images(tmp_path, model):
    Image.fromarray(photo()).save(tmp_path / "a.png")
    assert upscale.main(["-m", str(model), "-o", str(tmp_path / "whole"), "-d", "cpu", str(tmp_path / "a.png")]) == 0
    for folder, options in (("zero", ["-t", "0"]), ("tiles", ["-t", "4", "--margin", "exact"])):
        assert upscale.main(["-m", str(model), "-o", str(tmp_path / folder), "-d", "cpu", *options,
                             str(tmp_path / "a.png")]) == 0
    whole, zero, tiles = (np.asarray(Image.open(tmp_path / folder / "a.png")).astype(int)
                          for folder in ("whole", "zero", "tiles"))
    assert np.array_equal(whole, zero) and np.abs(whole - tiles).max() <= 1


def test_bad_inputs_are_named_on_stderr_and_the_others_written(tmp_path, model, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    Image.fromarray(photo()).save(folder / "good.png")
    (folder / "notes.png").write_text("not an image")
    png = (folder / "good.png").read_bytes()
    (folder / "truncated.png").write_bytes(png[:len(png) // 2])
    status, out = call("-m", model, "-o", tmp_path / "out", "-d", "cpu", folder, "nowhere/*.png", capsys=capsys)
    assert status == 1
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["good.png"]
    assert f"skipped {folder / 'notes.png'}" in out.err and "truncated" in out.err
    assert "nowhere/*.png: no such file" in out.err and "skipped" not in out.out


def test_a_run_that_writes_nothing_leaves_no_folder(tmp_path, model, capsys):
    (tmp_path / "bad.png").write_text("not an image")
    status, _ = call("-m", model, "-o", tmp_path / "out", "-d", "cpu", tmp_path / "bad.png", capsys=capsys)
    assert status == 1 and not (tmp_path / "out").exists()


def test_an_unexpected_error_is_a_message_and_exit_status_2(tmp_path, model, capsys, monkeypatch):
    Image.fromarray(photo()).save(tmp_path / "a.png")
    monkeypatch.setattr(upscale, "upscale_picture", lambda *a, **k: 1 / 0)
    status, out = call("-m", model, "-o", tmp_path / "out", "-d", "cpu", tmp_path / "a.png", capsys=capsys)
    assert status == 2 and "ZeroDivisionError" in out.err and "Traceback" not in out.err


@pytest.mark.parametrize("name, device, expected", [
    ("auto", "cpu", None), ("auto", "cuda", torch.float16), ("fp32", "cuda", None), ("bf16", "cpu", torch.bfloat16)])
def test_precision_auto_is_fp16_on_cuda_and_fp32_on_the_cpu(name, device, expected):
    assert upscale.autocast_dtype(name, torch.device(device)) == expected
    with pytest.raises(ValueError, match="fp16 needs a CUDA device"):
        upscale.autocast_dtype("fp16", torch.device("cpu"))


def test_the_command_line_and_its_help(tmp_path, model):
    Image.fromarray(photo()).save(tmp_path / "a.png")
    done = subprocess.run([sys.executable, str(ROOT / "upscale.py"), "-m", str(model), "-o", str(tmp_path / "out"),
                           "-d", "cpu", str(tmp_path / "a.png")], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "1 written" in done.stdout
    help_text = upscale.parser().format_help()
    for words in ("exit status", "16-bit", "--outscale", "--suffix", "--ext", "fp16 autocast on CUDA", "--overwrite"):
        assert words in help_text
