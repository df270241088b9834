"""report/experiments/detail_measures.py: the detail measures rank HR first and tell blur, noise,
colour speckle and a colour cast apart, on a synthetic image (flat but for a textured band);
report/experiments/quickstart_table.py names each bar that a GAN run misses against its
PSNR-oriented model; report/experiments/rim_colour.py's band colour."""
import numpy as np
import pytest

from report.experiments.detail_measures import DEGRADATIONS, detail_measures
from report.experiments.quickstart_table import misses
from report.experiments.rim_colour import band_colour


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


# a run of report/experiments/quickstart_seeds.py: the PSNR-oriented model, a GAN that meets every bar, HR
BASE = dict(psnr=31.0, niqe=8.0, grid=0.07, chroma=0.011, missing=0.70, false=0.0, placement=0.77)
GAN = dict(psnr=30.0, niqe=7.0, grid=0.12, chroma=0.016, missing=0.62, false=0.002, placement=0.79)
HR = dict(grid=0.13, chroma=0.036)


@pytest.mark.parametrize("change, missed", [
    ({}, []),
    ({"placement": 0.769}, ["placement"]),
    ({"chroma": 0.037}, ["chroma"]),
    ({"missing": 0.69, "false": 0.02}, ["blur"]),
    ({"niqe": 8.0}, ["NIQE"]),
    ({"psnr": 29.49}, ["PSNR"]),
    ({"grid": 0.19}, ["grid"]),
])
def test_quickstart_table_names_each_missed_bar(change, missed):
    assert misses(BASE, GAN | change, HR) == missed


def test_band_colour_is_the_mean_and_the_chroma_around_gray():
    img = np.zeros((2, 2, 3), np.uint8)
    img[0] = [60, 30, 0]  # gray 30, chroma sqrt((900 + 0 + 900) / 3)
    img[1] = [255, 255, 255]  # outside the band
    band = np.array([[True, True], [False, False]])
    row = band_colour(img, band)
    assert row["rgb"] == [60.0, 30.0, 0.0] and row["gray"] == 30.0
    assert row["chroma"] == pytest.approx(np.sqrt(600.0))
