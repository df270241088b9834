"""Dataset folders -> CSV lists of (HR path, LR path) pairs, validated; the embedded sample data.

Step 1 of the assignment: point this script at the downloaded datasets; it writes one CSV per
dataset that ``datasets.py`` reads and ``train.ipynb`` / ``test.ipynb`` name in their config.
Every pair is checked (both images decode, LR size == HR size / scale after a mod-scale crop);
rejected files are printed as ``path: reason`` and counted, and the rest is kept.

Command line::

    # any folder of HR images, optionally with an LR folder (same stem, or stem + "x4")
    python create_data_lists.py --hr HR_DIR [--lr LR_DIR] --name NAME --out OUT_DIR [--scale 4]
    # DIV2K's layout: DIV2K_{train,valid}_HR/0001.png + DIV2K_{train,valid}_LR_bicubic/X4/0001x4.png
    python create_data_lists.py --div2k DIV2K_ROOT --out OUT_DIR
    # benchmark folders: <Set>/HR + <Set>/LR_bicubic/X4, one CSV per set (Set5.csv, ...)
    python create_data_lists.py --benchmark ROOT/Set5 ROOT/Set14 ROOT/B100 --out OUT_DIR
    # the embedded default data (scikit-image's bundled photos): no download needed
    python create_data_lists.py --sample --out data/sample

CSV format: a header ``hr,lr`` then one row per image; absolute paths; ``lr`` empty when the LR
image is to be made from the HR image by ``imresize`` (MATLAB's bicubic).
"""
import argparse
import csv
import os
import sys
from pathlib import Path

from PIL import Image

from imresize import imresize
from utils import SCALES, ImageReadError, check_scale, image_mode, mod_crop, read_image

IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}

# The embedded sample dataset: scikit-image's bundled photographs (no download). Gray ones are
# stored as single-channel PNGs, as some benchmark images are (Set14's bridge).
SAMPLE_TRAIN = ("astronaut", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry",
                "motorcycle_left", "camera", "brick", "grass", "gravel", "moon")
SAMPLE_TEST = ("chelsea", "motorcycle_right", "coins", "clock")


# ----------------------------------------------------------------------------------------------
# Finding and pairing files
# ----------------------------------------------------------------------------------------------
def find_images(folder):
    """Image files directly inside ``folder`` (by extension, case-insensitive), sorted by name.

    Raises:
        FileNotFoundError: if ``folder`` is not a directory.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: not a directory")
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)


def match_lr_files(hr_paths, lr_dir, scale):
    """Find each HR image's LR file: same stem, or the stem + ``x{scale}`` (DIV2K's naming).

    Args:
        hr_paths (list of Path): HR images.
        lr_dir (Path or None): folder of LR images; None matches nothing.
        scale (int): the SR factor.

    Returns:
        dict: HR path -> LR path, or None where no LR file exists.
    """
    by_stem = {}
    if lr_dir is not None:
        for lr in find_images(lr_dir):
            by_stem.setdefault(lr.stem, lr)
    suffix = f"x{scale}"
    return {hr: by_stem.get(hr.stem + suffix, by_stem.get(hr.stem)) for hr in hr_paths}


def check_pair(hr_path, lr_path, scale):
    """Check one HR/LR pair.

    Both files are decoded completely, so truncated files are caught here and not in the
    middle of training. ``lr_path`` may be None (the LR will be made by ``imresize``).

    Returns:
        tuple: ``(reason, note)``: ``reason`` is None if the pair is usable, else why not;
        ``note`` says how a non-RGB file will be converted (gray, palette, RGBA, CMYK,
        16-bit...), else None.
    """
    try:
        hr = read_image(hr_path)
        mode = image_mode(hr_path)
    except ImageReadError as err:
        return err.reason, None
    note = None if mode == "RGB" else f"converted from mode {mode} to 8-bit RGB"
    h, w = hr.shape[:2]
    if h < scale or w < scale:
        return f"HR image of {h}x{w} is smaller than the scale {scale}", note
    if lr_path is None:
        return None, note
    try:
        lr = read_image(lr_path)
    except ImageReadError as err:
        return f"LR {err}", note
    expected = (h // scale, w // scale)
    if lr.shape[:2] != expected:
        return (f"LR {lr_path.name} is {lr.shape[0]}x{lr.shape[1]}, expected {expected[0]}x"
                f"{expected[1]} (HR {h}x{w} / {scale})"), note
    return None, note


# ----------------------------------------------------------------------------------------------
# Lists
# ----------------------------------------------------------------------------------------------
def write_list(pairs, csv_path):
    """Write (hr, lr or None) pairs to ``csv_path`` (header ``hr,lr``, absolute paths)."""
    csv_path = Path(csv_path)
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = csv_path.with_name(f"{csv_path.name}.{os.getpid()}.tmp")  # two runs may write it at once
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["hr", "lr"])
        for hr, lr in pairs:
            writer.writerow([str(Path(hr).resolve()), "" if lr is None else str(Path(lr).resolve())])
    tmp.replace(csv_path)  # never leave a half-written list behind
    return csv_path


def read_list(csv_path):
    """Read a list written by :func:`write_list`.

    Relative paths are taken relative to the CSV's folder.

    Returns:
        list of tuple: ``(hr_path, lr_path or None)`` as Paths.

    Raises:
        FileNotFoundError: if the list does not exist (with the command that makes it).
        ValueError: if the file is not such a list, or lists no image.
    """
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise FileNotFoundError(f"{csv_path}: data list not found; make it with "
                                f"create_data_lists.py (see README)")
    with open(csv_path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows or [c.strip().lower() for c in rows[0][:2]] != ["hr", "lr"]:
        raise ValueError(f"{csv_path}: not a data list (expected the header 'hr,lr')")
    pairs = []
    for line, row in enumerate(rows[1:], start=2):
        if not row or not row[0].strip():
            continue
        hr = Path(row[0])
        lr = Path(row[1]) if len(row) > 1 and row[1].strip() else None
        pairs.append((csv_path.parent / hr if not hr.is_absolute() else hr,
                      None if lr is None else (csv_path.parent / lr if not lr.is_absolute() else lr)))
    if not pairs:
        raise ValueError(f"{csv_path}: the list holds no image")
    return pairs


def create_list(hr_dir, lr_dir, name, out_dir, scale=4, log=print):
    """Validate a folder of HR images (and their LR images) and write ``out_dir/name.csv``.

    Prints one line per rejected file (``path: reason``), one per HR image without an LR file
    when ``lr_dir`` is given (its LR will be made by imresize), and a summary.

    Args:
        hr_dir (str or Path): folder of HR images.
        lr_dir (str or Path or None): folder of LR images, or None to make every LR by imresize.
        name (str): list name; the file is ``out_dir/name.csv``.
        out_dir (str or Path): where the list goes.
        scale (int): the SR factor.
        log (callable): where messages go.

    Returns:
        Path: the CSV written.

    Raises:
        ValueError: if no usable image is found (nothing is written then).
    """
    check_scale(scale)
    hr_paths = find_images(hr_dir)
    matches = match_lr_files(hr_paths, Path(lr_dir) if lr_dir else None, scale)
    pairs, rejected, no_lr, converted = [], 0, 0, 0
    for hr in hr_paths:
        lr = matches[hr]
        reason, note = check_pair(hr, lr, scale)
        if reason is not None:
            rejected += 1
            log(f"{hr}: {reason}")
            continue
        if note is not None:
            converted += 1
            log(f"{hr}: {note}")
        if lr_dir is not None and lr is None:
            no_lr += 1
            log(f"{hr}: no LR file in {lr_dir}; its LR will be made by imresize")
        pairs.append((hr, lr))
    if not pairs:
        raise ValueError(f"{hr_dir}: no usable image ({len(hr_paths)} image files found, "
                         f"{rejected} rejected)")
    csv_path = write_list(pairs, Path(out_dir) / f"{name}.csv")
    log(f"{name}: {len(pairs)} pairs written to {csv_path} ({rejected} rejected, "
        f"{converted} converted, {no_lr} without LR file, {len(hr_paths)} HR files found)")
    return csv_path


def create_div2k_lists(root, out_dir, scale=4, log=print):
    """Lists for DIV2K's layout: ``DIV2K_train.csv`` and ``DIV2K_valid.csv`` where present.

    Returns:
        list of Path: the CSVs written.
    """
    root = Path(root)
    written = []
    for split in ("train", "valid"):
        hr_dir = root / f"DIV2K_{split}_HR"
        if not hr_dir.is_dir():
            log(f"{hr_dir}: not found, skipping DIV2K {split}")
            continue
        lr_dir = root / f"DIV2K_{split}_LR_bicubic" / f"X{scale}"
        written.append(create_list(hr_dir, lr_dir if lr_dir.is_dir() else None,
                                   f"DIV2K_{split}", out_dir, scale, log))
    if not written:
        raise ValueError(f"{root}: holds neither DIV2K_train_HR nor DIV2K_valid_HR")
    return written


def create_benchmark_lists(set_dirs, out_dir, scale=4, log=print):
    """Lists for benchmark folders ``<Set>/HR`` + ``<Set>/LR_bicubic/X{scale}``: ``<Set>.csv``.

    Returns:
        list of Path: the CSVs written.
    """
    written = []
    for set_dir in map(Path, set_dirs):
        lr_dir = set_dir / "LR_bicubic" / f"X{scale}"
        written.append(create_list(set_dir / "HR", lr_dir if lr_dir.is_dir() else None,
                                   set_dir.name, out_dir, scale, log))
    return written


# ----------------------------------------------------------------------------------------------
# The embedded sample dataset
# ----------------------------------------------------------------------------------------------
def _sample_image(name):
    """One of scikit-image's bundled images by name, as uint8 (H, W, 3) or (H, W)."""
    import skimage.data

    if name.startswith("motorcycle_"):
        left, right, _ = skimage.data.stereo_motorcycle()
        return left if name == "motorcycle_left" else right
    return getattr(skimage.data, name)()


def build_sample_dataset(out_dir, scale=4, log=print):
    """Write the embedded sample dataset and its lists under ``out_dir``.

    Train images go to ``out_dir/train/HR`` (their LR is made on the fly by the dataset);
    test images to ``out_dir/test/HR`` (mod-cropped) with ``out_dir/test/LR_bicubic/X{scale}``
    made by this project's MATLAB-compatible ``imresize``, as the benchmarks were made.

    Returns:
        tuple: ``(train_csv, test_csv)`` paths: ``out_dir/sample_train.csv``,
        ``out_dir/sample_test.csv``.
    """
    out_dir = Path(out_dir)
    train_hr = out_dir / "train" / "HR"
    test_hr = out_dir / "test" / "HR"
    test_lr = out_dir / "test" / "LR_bicubic" / f"X{scale}"
    for folder in (train_hr, test_hr, test_lr):
        folder.mkdir(parents=True, exist_ok=True)
    for name in SAMPLE_TRAIN:
        Image.fromarray(_sample_image(name)).save(train_hr / f"{name}.png")
    for name in SAMPLE_TEST:
        hr = mod_crop(_sample_image(name), scale)
        Image.fromarray(hr).save(test_hr / f"{name}.png")
        Image.fromarray(imresize(hr, 1.0 / scale)).save(test_lr / f"{name}.png")
    log(f"sample data: {len(SAMPLE_TRAIN)} train and {len(SAMPLE_TEST)} test images in {out_dir}")
    train_csv = create_list(train_hr, None, "sample_train", out_dir, scale, log)
    test_csv = create_list(test_hr, test_lr, "sample_test", out_dir, scale, log)
    return train_csv, test_csv


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--hr", help="folder of HR images (with --name)")
    mode.add_argument("--div2k", metavar="ROOT", help="DIV2K root folder")
    mode.add_argument("--benchmark", nargs="+", metavar="SET_DIR",
                      help="benchmark folders holding HR/ and LR_bicubic/X<scale>/")
    mode.add_argument("--sample", action="store_true",
                      help="build the embedded sample dataset (no download) into --out")
    parser.add_argument("--lr", help="folder of LR images, with --hr (default: made by imresize)")
    parser.add_argument("--name", help="list name, with --hr: writes OUT/NAME.csv")
    parser.add_argument("--out", required=True, help="output folder for the lists")
    parser.add_argument("--scale", type=int, default=4, choices=SCALES, help="SR factor")
    args = parser.parse_args(argv)

    try:
        if args.hr:
            if not args.name:
                parser.error("--hr needs --name")
            create_list(args.hr, args.lr, args.name, args.out, args.scale)
        elif args.div2k:
            create_div2k_lists(args.div2k, args.out, args.scale)
        elif args.benchmark:
            create_benchmark_lists(args.benchmark, args.out, args.scale)
        else:
            build_sample_dataset(args.out, args.scale)
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
