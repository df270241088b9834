"""report/detail_measures.py: the detail measures rank HR first and tell blur, noise, colour
speckle and a colour cast apart, on a synthetic image (flat but for a textured band)."""
import numpy as np
import pytest

from report.detail_measures import DEGRADATIONS, detail_measures


@pytest.fixture(scope="module")
def hr():
    rng = np.random.default_rng(0)
    img = np.full((100, 100, 3), 120.0)
    # texture, slightly coloured, in the last column of the 16x16 windows (x 68-83 after the
    # 4-px border): a fifth of the windows
    img[:, 68:84] += rng.normal(0, 10, (100, 16, 1)) * [1.0, 0.9, 0.7]
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def test_hr_scores_as_itself(hr):
    m = detail_measures(hr, hr)
    assert (m["luma"], m["chroma_error"], m["missing"], m["false"], m["spectral"], m["colour_shift"]) == (
        1.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    assert m["placement"] > 0.99  # the fine energy is in the textured windows (the blur leaks a little)


@pytest.mark.parametrize("name, rises, stays", [
    ("blur 1.5", ["missing", "spectral"], ["false", "chroma_error", "colour_shift"]),
    ("luma noise 5", ["false", "spectral"], ["missing", "chroma_error"]),
    ("chroma noise 5", ["chroma", "chroma_error"], ["missing", "false"]),
    ("colour cast 2", ["colour_shift"], ["missing", "false", "chroma_error", "spectral"]),
])
def test_each_degradation_moves_its_own_measures(hr, name, rises, stays):
    base, m = detail_measures(hr, hr), detail_measures(DEGRADATIONS[name](hr, np.random.default_rng(1)), hr)
    assert all(m[k] > base[k] + 0.05 for k in rises), m
    assert all(abs(m[k] - base[k]) < 0.05 for k in stays), m
    if name == "luma noise 5":
        assert m["placement"] < base["placement"] - 0.05  # noise lands in the flat half too


def test_sizes_must_match(hr):
    with pytest.raises(ValueError, match="differ in size"):
        detail_measures(hr[:32], hr)
