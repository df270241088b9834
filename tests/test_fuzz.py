"""Property-based tests: imresize against the plain reference, readers against random bytes."""
import io

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from create_data_lists import check_pair
from imresize import imresize
from test_imresize import reference_imresize
from utils import ImageReadError, read_image

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(h=st.integers(1, 14), w=st.integers(1, 14), channels=st.sampled_from([None, 1, 3]),
       scale=st.one_of(st.sampled_from([0.25, 0.5, 2.0, 4.0]), st.floats(0.1, 5.0)),
       dtype=st.sampled_from([np.uint8, np.float32, np.float64]), seed=st.integers(0, 2 ** 16))
def test_imresize_matches_reference(h, w, channels, scale, dtype, seed):
    shape = (h, w) if channels is None else (h, w, channels)
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, shape).astype(dtype) if dtype == np.uint8 else rng.random(shape).astype(dtype)
    result = imresize(img, scale)
    expected = reference_imresize(img, scale)
    assert result.shape == expected.shape
    if dtype == np.uint8:
        assert result.dtype == np.uint8
        # Float64 summation order may differ at exact .5 ties: allow 1 level, rarely.
        diff = np.abs(result.astype(int) - expected.astype(int))
        assert diff.max(initial=0) <= 1 and (diff > 0).mean() < 0.01
    else:
        assert result.dtype == np.float64
        np.testing.assert_allclose(result, expected, atol=1e-9)


@FAST
@given(data=st.binary(max_size=300))
def test_random_bytes_give_a_named_error_or_an_image(tmp_path, data):
    path = tmp_path / "random.png"
    path.write_bytes(data)
    try:
        img = read_image(path)
    except ImageReadError as err:
        assert str(path) in str(err)
    else:
        assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
    reason, _ = check_pair(path, None, 4)
    assert reason is None or isinstance(reason, str)


@FAST
@given(h=st.integers(1, 40), w=st.integers(1, 40),
       mode=st.sampled_from(["1", "L", "P", "RGB", "RGBA", "LA", "I;16", "CMYK"]),
       cut=st.floats(0.1, 1.0), seed=st.integers(0, 1000))
def test_odd_and_truncated_images(tmp_path, h, w, mode, cut, seed):
    rgb = Image.fromarray(np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8))
    img = Image.fromarray(np.asarray(rgb.convert("L")).astype(np.uint16) * 257) if mode == "I;16" else rgb.convert(mode)
    buffer = io.BytesIO()
    img.save(buffer, format="TIFF" if mode == "CMYK" else "PNG")
    data = buffer.getvalue()
    path = tmp_path / "img.png"
    path.write_bytes(data[: max(1, int(len(data) * cut))])
    try:
        out = read_image(path)
    except ImageReadError as err:
        assert str(path) in str(err) and cut < 1.0
    else:
        assert out.shape == (h, w, 3) and out.dtype == np.uint8
