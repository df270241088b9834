"""MATLAB-compatible bicubic resizing: ``imresize(img, 0.25)`` exactly as MATLAB computes it.

Every low-resolution image of the standard SR benchmarks (Set5, Set14, B100, Urban100, DIV2K) was
made by MATLAB's ``imresize(hr, 1/4, 'bicubic')``. To train and evaluate against them, the LR
images this project makes itself (``create_data_lists.py --sample``, ``datasets.py`` when no LR file
is listed) and the bicubic baselines of ``test.ipynb`` use the same resampling. MATLAB's semantics:

- Keys' cubic kernel with a = -0.5; when shrinking, the kernel is stretched by 1/scale
  (antialiasing), so a x4 shrink uses 16 taps per output sample;
- output size ``ceil(in * scale)``; output sample x (1-based) sits at
  ``u = x / scale + 0.5 * (1 - 1 / scale)`` in input coordinates;
- source indices outside the image are clamped to the edge (replicated), not mirrored;
- the weights of each output sample are normalised to sum to 1; taps that are zero for every
  output sample are dropped;
- the dimension with the smaller scale factor is resized first (rows first when equal);
- uint8 input: every 1-D pass is rounded half away from zero and clipped to [0, 255] before the
  next pass; float input: float64 arithmetic, no rounding or clipping.

Two entry points share the weights (:func:`resize_weights`):

- :func:`imresize` for numpy images (H, W) or (H, W, C); each pass is a sparse matrix product
  over cache-sized chunks (no per-pixel Python loop), the fast one on a CPU;
- :func:`imresize_torch` for batched float tensors (N, C, H, W) on CPU or GPU (data pipelines,
  GPU-side bicubic baselines), each pass a dense matrix product.
"""
import math

import numpy as np
import scipy.sparse
import torch

__all__ = ["cubic", "resize_weights", "output_size", "imresize", "imresize_torch"]


def cubic(x):
    """Keys' cubic convolution kernel with a = -0.5 (MATLAB's ``cubic``).

    Args:
        x (ndarray): float64 distances, any shape.

    Returns:
        ndarray: float64 kernel values, same shape; zero for ``|x| > 2``.
    """
    ax = np.abs(x)
    ax2, ax3 = ax * ax, ax * ax * ax
    near = (1.5 * ax3 - 2.5 * ax2 + 1.0) * (ax <= 1)
    far = (-0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0) * ((ax > 1) & (ax <= 2))
    return near + far


def resize_weights(in_length, out_length, scale):
    """Per-output-sample taps of a 1-D bicubic resize, as MATLAB's ``contributions``.

    Args:
        in_length (int): input length, >= 1.
        out_length (int): output length, >= 1.
        scale (float): out / in scale factor (> 0) that places the samples and, below 1,
            stretches the kernel (antialiasing).

    Returns:
        tuple: ``(weights, indices)``, both (out_length, P): float64 weights summing to 1 per
        row, and int64 0-based source indices clamped to ``[0, in_length - 1]``.
    """
    kernel_width = 4.0
    if scale < 1:  # antialiasing: a wider, flatter kernel low-passes before subsampling
        def kernel(x):
            return scale * cubic(scale * x)
        kernel_width /= scale
    else:
        kernel = cubic
    x = np.arange(1, out_length + 1, dtype=np.float64)  # 1-based, as in MATLAB
    u = x / scale + 0.5 * (1.0 - 1.0 / scale)
    left = np.floor(u - kernel_width / 2.0)
    taps = int(math.ceil(kernel_width)) + 2
    indices = left[:, None] + np.arange(taps, dtype=np.float64)[None, :]  # (out, P), 1-based
    weights = kernel(u[:, None] - indices)
    weights /= weights.sum(axis=1, keepdims=True)
    indices = np.clip(indices, 1, in_length).astype(np.int64) - 1  # clamp = replicate edges
    keep = np.any(weights != 0, axis=0)
    return weights[:, keep], indices[:, keep]


def output_size(in_shape, scale=None, output_shape=None):
    """Output (h, w) and per-dimension scale factors, as MATLAB derives them.

    Args:
        in_shape (tuple): (H, W) of the input.
        scale (float or tuple): one factor for both dimensions, or (scale_h, scale_w).
        output_shape (tuple): explicit (h, w); the scale factors become out / in.

    Returns:
        tuple: ``((out_h, out_w), (scale_h, scale_w))``.

    Raises:
        ValueError: if neither or both of ``scale`` and ``output_shape`` are given, or a value
            is not positive.
    """
    if (scale is None) == (output_shape is None):
        raise ValueError(f"give exactly one of scale and output_shape, got scale={scale!r}, "
                         f"output_shape={output_shape!r}")
    if min(in_shape) < 1:
        raise ValueError(f"cannot resize an empty image of shape {tuple(in_shape)}")
    if output_shape is not None:
        out = tuple(int(s) for s in output_shape)
        if len(out) != 2 or min(out) < 1:
            raise ValueError(f"output_shape must be two positive ints (h, w), got {output_shape!r}")
        return out, (out[0] / in_shape[0], out[1] / in_shape[1])
    scales = tuple(float(s) for s in (scale if np.ndim(scale) else (scale, scale)))
    if len(scales) != 2 or not all(s > 0 and math.isfinite(s) for s in scales):
        raise ValueError(f"scale must be a positive number or a pair of them, got {scale!r}")
    out = tuple(int(math.ceil(n * s)) for n, s in zip(in_shape, scales))
    return out, scales


def _pass_order(scales):
    """Dimensions (0 = rows, 1 = columns) in MATLAB's order: smaller scale first, rows on ties."""
    return (0, 1) if scales[0] <= scales[1] else (1, 0)


def _resize_matrix(in_length, out_length, scale):
    """The 1-D resize as a sparse (out_length, in_length) float64 matrix."""
    weights, indices = resize_weights(in_length, out_length, scale)
    rows = np.repeat(np.arange(out_length), weights.shape[1])
    # Clamped taps repeat an edge index; the COO -> CSR conversion sums them.
    matrix = scipy.sparse.coo_matrix((weights.ravel(), (rows, indices.ravel())),
                                     shape=(out_length, in_length))
    return matrix.tocsr()


def _resize_axis(img, axis, out_length, scale, is_uint8):
    """Resize ``img`` (H, W) or (H, W, C) along ``axis`` (0 or 1) with sparse products.

    The work goes in cache-sized chunks: chunks of output rows for the row pass, chunks of
    image rows for the column pass (each chunk transposed, multiplied and transposed back while
    it is in the CPU cache; transposing the whole image instead costs more than the products).
    uint8 passes round half away from zero, clip and store uint8 (exactly MATLAB's integer
    semantics); float passes keep float64.
    """
    matrix = _resize_matrix(img.shape[axis], out_length, scale)
    dtype = np.uint8 if is_uint8 else np.float64
    if axis == 0:
        flat = img.reshape(img.shape[0], -1)  # (H, W * C)
        out = np.empty((out_length, flat.shape[1]), dtype)
        chunk = max(8, (1 << 17) // flat.shape[1])
        for start in range(0, out_length, chunk):
            rows = matrix[start:start + chunk]
            lo, hi = rows.indices.min(), rows.indices.max() + 1  # the input rows this chunk reads
            out[start:start + chunk] = _finish(rows[:, lo:hi] @ flat[lo:hi].astype(np.float64),
                                               is_uint8)
        return out.reshape((out_length,) + img.shape[1:])
    height, width = img.shape[:2]
    cube = img.reshape(height, width, -1)  # (H, W, C)
    out = np.empty((height, out_length, cube.shape[2]), dtype)
    chunk = max(1, (1 << 17) // (out_length * cube.shape[2]))
    for start in range(0, height, chunk):
        block = cube[start:start + chunk].transpose(1, 0, 2).reshape(width, -1)  # (W, h * C)
        block = _finish(matrix @ block.astype(np.float64), is_uint8)  # (out_length, h * C)
        out[start:start + chunk] = block.reshape(out_length, -1, cube.shape[2]).transpose(1, 0, 2)
    return out.reshape((height, out_length) + img.shape[2:])


def _finish(block, is_uint8):
    """MATLAB saturates and rounds half away from zero after every uint8 pass (in place).

    Clipped to [0, 255] first, ``x + 0.5`` is non-negative, so the truncating cast to uint8
    when the block is stored is the floor: round half away from zero.
    """
    if is_uint8:
        np.clip(block, 0, 255, out=block)
        block += 0.5
    return block


def imresize(img, scale=None, output_shape=None):
    """Resize an image with MATLAB's ``imresize(img, scale, 'bicubic')``.

    Args:
        img (ndarray): (H, W) or (H, W, C); uint8 (MATLAB's integer semantics) or any float
            dtype (values not limited to a range).
        scale (float or tuple): factor for both dimensions, or (scale_h, scale_w); e.g. 0.25.
        output_shape (tuple): explicit (h, w) instead of ``scale``.

    Returns:
        ndarray: uint8 for uint8 input (each pass rounded half away from zero and clipped),
        float64 otherwise; (h, w) or (h, w, C) as the input.

    Raises:
        ValueError: for an unsupported dtype or shape, or bad ``scale``/``output_shape``.
    """
    img = np.asarray(img)
    if img.ndim not in (2, 3):
        raise ValueError(f"img must be (H, W) or (H, W, C), got shape {img.shape}")
    if img.dtype != np.uint8 and not np.issubdtype(img.dtype, np.floating):
        raise ValueError(f"img must be uint8 or float, got dtype {img.dtype}")
    is_uint8 = img.dtype == np.uint8
    out_lengths, scales = output_size(img.shape[:2], scale, output_shape)
    result = img if is_uint8 else img.astype(np.float64)
    for axis in _pass_order(scales):
        result = _resize_axis(result, axis, out_lengths[axis], scales[axis], is_uint8)
    return np.ascontiguousarray(result)


def imresize_torch(imgs, scale=None, output_shape=None):
    """Batched MATLAB-compatible bicubic resize of float tensors, on their own device.

    The same weights and pass order as :func:`imresize`, each pass one dense matrix product
    (cheap on a GPU; no rounding: use the numpy path for uint8 semantics).

    Args:
        imgs (Tensor): float (N, C, H, W), any range, CPU or CUDA.
        scale (float or tuple): factor for both dimensions, or (scale_h, scale_w).
        output_shape (tuple): explicit (h, w) instead of ``scale``.

    Returns:
        Tensor: (N, C, h, w), same dtype and device as ``imgs``.
    """
    if imgs.ndim != 4 or not imgs.is_floating_point():
        raise ValueError(f"imgs must be a float (N, C, H, W) tensor, got {imgs.dtype} "
                         f"of shape {tuple(imgs.shape)}")
    out_lengths, scales = output_size(tuple(imgs.shape[-2:]), scale, output_shape)
    result = imgs
    for axis in _pass_order(scales):
        matrix = _resize_matrix(result.shape[axis - 2], out_lengths[axis], scales[axis])
        matrix = torch.as_tensor(matrix.toarray(), dtype=imgs.dtype, device=imgs.device)
        if axis == 0:
            result = matrix @ result  # (out_h, H) @ (N, C, H, W) -> (N, C, out_h, W)
        else:
            result = result @ matrix.T  # (N, C, h, W) @ (W, out_w) -> (N, C, h, out_w)
    return result
