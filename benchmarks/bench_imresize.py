"""Benchmark: MATLAB-compatible bicubic, the project's paths against a plain vectorised baseline.

Cases: x4 shrink of a 2040x1404 RGB uint8 image (a DIV2K HR image -> its LR) and x4 enlarge of a
510x351 one (a bicubic baseline at DIV2K size). The baseline is the straightforward vectorised
numpy implementation of the same math: per pass, a gather of all taps, (out, taps, rest), then
one weighted sum. Runs on one CPU core; checks that uint8 outputs are bit-identical.

    python -m benchmarks.bench_imresize [--repeat 5] [--device cuda] [--out F.json]

``--out`` also writes the rows as JSON (seconds), with the machine and the command.
"""
import argparse
from pathlib import Path

from benchmarks.common import command, machine, median_time, print_table, single_core, write_json

single_core()

import numpy as np  # noqa: E402 (after single_core)
import torch  # noqa: E402 (after single_core)

from imresize import _pass_order, imresize, imresize_torch, output_size, resize_weights  # noqa: E402 (after single_core)


def baseline_imresize(img, scale):
    """Plain vectorised MATLAB bicubic: gather every tap, then one weighted sum per pass."""
    (out_h, out_w), scales = output_size(img.shape[:2], scale)
    is_uint8 = img.dtype == np.uint8
    x = img.astype(np.float64)
    for axis in _pass_order(scales):
        weights, indices = resize_weights(x.shape[axis], (out_h, out_w)[axis], scales[axis])
        moved = np.moveaxis(x, axis, 0)
        gathered = moved[indices]  # (out, taps, ...)
        x = np.moveaxis(np.einsum("ok,ok...->o...", weights, gathered), 0, axis)
        if is_uint8:
            x = np.clip(np.floor(x + 0.5), 0, 255)
    return x.astype(np.uint8) if is_uint8 else x


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--device", default="cpu", help="device of the torch path")
    parser.add_argument("--batch", type=int, default=16, help="batch of the torch path (1: skip that row)")
    parser.add_argument("--out", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    print(f"numpy {np.__version__}, torch {torch.__version__}, 1 CPU thread, "
          f"{args.repeat} repetitions (median)")
    results = []

    for title, shape, scale in (("x4 shrink, 2040x1404 RGB uint8", (1404, 2040, 3), 0.25),
                                ("x4 enlarge, 510x351 RGB uint8", (351, 510, 3), 4)):
        img = rng.integers(0, 256, shape, dtype=np.uint8)
        ours, base = imresize(img, scale), baseline_imresize(img, scale)
        assert np.array_equal(ours, base), "uint8 outputs differ"
        imgs = torch.from_numpy(img.transpose(2, 0, 1)[None].astype(np.float32)).to(args.device)
        rows = [
            ("baseline numpy: gather all taps + weighted sum",
             median_time(lambda: baseline_imresize(img, scale), args.repeat), None),
            ("imresize (numpy, sparse passes)",
             median_time(lambda: imresize(img, scale), args.repeat), None),
            (f"imresize_torch float32 ({args.device}, batch 1)",
             median_time(lambda: _sync(imresize_torch(imgs, scale), args.device), args.repeat),
             None),
        ]
        print_table(f"{title}: uint8 output bit-identical to the baseline", rows,
                    rows[0][0])
        if args.batch > 1:  # a batch through the torch path against a loop of numpy calls
            batch = imgs.expand(args.batch, -1, -1, -1).contiguous()
            sec = median_time(lambda: _sync(imresize_torch(batch, scale), args.device), args.repeat)
            numpy_sec = rows[1][1] * args.batch
            print(f"  imresize_torch float32 ({args.device}, batch {args.batch}): "
                  f"{sec * 1000:.1f} ms, {args.batch / sec:.1f} images/s; {args.batch} numpy "
                  f"imresize calls: {numpy_sec * 1000:.1f} ms; ratio {numpy_sec / sec:.2f}x")
        results.append(dict(case=title.replace(" uint8", ""), baseline_s=rows[0][1], imresize_s=rows[1][1],
                            torch_s=rows[2][1], torch_batch=args.batch if args.batch > 1 else None,
                            torch_batch_s=sec if args.batch > 1 else None))
    if args.out:
        write_json(args.out, dict(machine=machine(), command=command(), device=args.device,
                                  repeat=args.repeat, rows=results))


def _sync(result, device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return result


if __name__ == "__main__":
    main()
