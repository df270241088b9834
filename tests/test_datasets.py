"""datasets: aligned random patches with the paper's ranges, skipping, conversion, test items."""
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from create_data_lists import write_list
from datasets import DevicePatches, SRTestDataset, SRTrainDataset
from utils import batch_to_signed, batch_to_unit, signed_to_uint8, unit_to_uint8


def blocky_pair(tmp_path, name, lr_shape, seed=0):
    """An LR image of random pixels and its HR: every LR pixel as a 4x4 block."""
    lr = np.random.default_rng(seed).integers(0, 256, lr_shape + (3,), dtype=np.uint8)
    hr = np.kron(lr, np.ones((4, 4, 1), np.uint8))
    Image.fromarray(hr).save(tmp_path / f"{name}_hr.png")
    Image.fromarray(lr).save(tmp_path / f"{name}_lr.png")
    return tmp_path / f"{name}_hr.png", tmp_path / f"{name}_lr.png"


@pytest.mark.parametrize("cache", [True, False])
def test_patches_are_aligned_in_range_and_augmented(tmp_path, cache):
    pairs = [blocky_pair(tmp_path, "a", (10, 12)), blocky_pair(tmp_path, "b", (9, 9), seed=1)]
    data = SRTrainDataset(pairs, scale=4, hr_patch=16, patches_per_image=5, cache=cache)
    assert len(data) == 10
    torch.manual_seed(0)
    seen = set()
    for i in range(len(data)):
        lr, hr = data[i]
        assert lr.shape == (3, 4, 4) and hr.shape == (3, 16, 16)
        assert lr.dtype == hr.dtype == torch.uint8  # mapped to the networks' ranges on the device
        lr8, hr8 = lr.permute(1, 2, 0).numpy(), hr.permute(1, 2, 0).numpy()
        np.testing.assert_array_equal(hr8[::4, ::4], lr8)  # same content, same orientation
        seen.add(lr8.tobytes())
    assert len(seen) > 5  # random positions / symmetries


def random_pairs(tmp_path):
    """Three pairs of random-pixel images of different sizes (an LR unrelated to its HR, so a
    misaligned LR crop shows)."""
    rng = np.random.default_rng(0)
    pairs = []
    for k, (h, w) in enumerate([(10, 12), (9, 9), (7, 13)]):
        hr = rng.integers(0, 256, (4 * h, 4 * w, 3), dtype=np.uint8)
        lr = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        Image.fromarray(hr).save(tmp_path / f"{k}_hr.png")
        Image.fromarray(lr).save(tmp_path / f"{k}_lr.png")
        pairs.append((tmp_path / f"{k}_hr.png", tmp_path / f"{k}_lr.png"))
    return pairs


def test_device_patches_equal_the_datasets_for_the_same_corners_and_flips(tmp_path):
    """Every corner of every image with each of the 8 symmetries: the GPU sampler's gathers cut
    exactly SRTrainDataset.crop's patches (run here on the CPU)."""
    data = SRTrainDataset(random_pairs(tmp_path), scale=4, hr_patch=16, patches_per_image=2)
    sampler = DevicePatches(data, batch_size=4, device="cpu")
    cases = [(i, y, x, (fh, fv, t)) for i, (hr, lr) in enumerate(data.images)
             for y in range(lr.shape[0] - 3) for x in range(lr.shape[1] - 3)
             for fh in (0, 1) for fv in (0, 1) for t in (0, 1)]
    images, y, x, flips = (torch.tensor(column) for column in zip(*cases))
    lr, hr = sampler.cut(images, y, x, flips)
    assert lr.shape == (len(cases), 3, 4, 4) and hr.shape == (len(cases), 3, 16, 16) and lr.dtype == torch.uint8
    for k, (i, yy, xx, f) in enumerate(cases):
        want_lr, want_hr = data.crop(*data.images[i], yy, xx, f)
        assert torch.equal(lr[k], want_lr) and torch.equal(hr[k], want_hr), cases[k]


def test_device_patches_follow_the_datasets_distribution(tmp_path):
    """Each pass draws every image patches_per_image times (drop_last as the DataLoader), the
    corners uniform over every valid position, each flip half of the time."""
    data = SRTrainDataset(random_pairs(tmp_path), scale=4, hr_patch=16, patches_per_image=50)
    sampler = DevicePatches(data, batch_size=10, device="cpu")
    assert len(sampler) == 15
    torch.manual_seed(0)
    drawn, cut = [], sampler.cut
    sampler.cut = lambda images, *rest: drawn.append(images) or cut(images, *rest)
    for lr, hr in sampler:
        assert lr.shape == (10, 3, 4, 4) and hr.shape == (10, 3, 16, 16)
    assert torch.bincount(torch.cat(drawn), minlength=3).tolist() == [50, 50, 50]
    first = torch.cat(drawn)
    drawn.clear()
    list(sampler)
    assert not torch.equal(torch.cat(drawn), first)  # another order each pass
    many = torch.arange(3).repeat(4000)
    images, y, x, flips = sampler.draw(many)
    for i, (hr, lr) in enumerate(data.images):
        ys, xs = y[images == i], x[images == i]
        h, w = lr.shape[0] - 3, lr.shape[1] - 3  # positions per axis
        assert ys.min() == 0 and ys.max() == h - 1 and xs.min() == 0 and xs.max() == w - 1
        for values, n in ((ys, h), (xs, w)):  # each position within 20 % of its share
            share = torch.bincount(values, minlength=n).float() / len(values)
            assert (share - 1 / n).abs().max() < 0.2 / n
    assert ((flips.float().mean(0) - 0.5).abs() < 0.02).all()


def test_batches_map_to_the_networks_ranges_and_back():
    x = torch.arange(256, dtype=torch.uint8).reshape(1, 1, 16, 16).expand(2, 3, 16, 16)
    unit, signed = batch_to_unit(x), batch_to_signed(x)
    assert unit.min() == 0 and unit.max() == 1 and signed.min() == -1 and signed.max() == 1
    assert np.array_equal(unit_to_uint8(unit[0]), x[0].permute(1, 2, 0).numpy())
    assert np.array_equal(signed_to_uint8(signed[0]), x[0].permute(1, 2, 0).numpy())
    assert batch_to_unit(x.contiguous(memory_format=torch.channels_last)).is_contiguous(
        memory_format=torch.channels_last)


def test_lr_made_by_imresize_when_not_listed(tmp_path):
    hr_path, _ = blocky_pair(tmp_path, "a", (8, 8))
    data = SRTrainDataset([(hr_path, None)], hr_patch=16, patches_per_image=2, augment=False)
    lr, hr = data[0]
    assert lr.shape == (3, 4, 4) and hr.shape == (3, 16, 16)


def test_small_and_broken_images_are_skipped_with_a_message(tmp_path):
    good, _ = blocky_pair(tmp_path, "good", (8, 8))
    small, _ = blocky_pair(tmp_path, "small", (3, 8))
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n")
    messages = []
    data = SRTrainDataset([(good, None), (small, None), (broken, None)], hr_patch=16,
                          patches_per_image=1, log=messages.append)
    assert len(data) == 1 and len(data.skipped) == 2
    assert any(str(small) in m and "smaller than a 16 px patch" in m for m in messages)
    assert any(str(broken) in m for m in messages)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        SRTrainDataset([(good, None), (small, None)], hr_patch=16, patches_per_image=1)
    assert any(str(small) in str(w.message) for w in caught)
    with pytest.raises(ValueError, match="no usable training image"):
        SRTrainDataset([(small, None)], hr_patch=16, log=messages.append)


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "I;16"])
def test_other_modes_become_rgb(tmp_path, mode):
    rgb = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    img = Image.fromarray(rgb)
    img = Image.fromarray(np.asarray(img.convert("L")).astype(np.uint16) * 257) \
        if mode == "I;16" else img.convert(mode)
    img.save(tmp_path / "x.png")
    lr, hr = SRTrainDataset([(tmp_path / "x.png", None)], hr_patch=16, patches_per_image=1)[0]
    assert lr.shape == (3, 4, 4) and hr.shape == (3, 16, 16)


@pytest.mark.parametrize("kwargs, message", [
    ({"scale": 5}, "scale must be"), ({"hr_patch": 18}, "multiple of scale"),
    ({"patches_per_image": 0}, "patches_per_image")])
def test_bad_arguments(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        SRTrainDataset([], **kwargs)


def test_test_dataset_items(tmp_path):
    hr_path, lr_path = blocky_pair(tmp_path, "rgb", (5, 6))
    gray = tmp_path / "gray.png"
    Image.fromarray(np.zeros((18, 22), np.uint8)).save(gray)  # mod-cropped to 16x20
    csv_path = write_list([(hr_path, lr_path), (gray, None)], tmp_path / "t.csv")
    data = SRTestDataset(csv_path)
    item = data[0]
    assert item["name"] == "rgb_hr" and item["lr"].shape == (3, 5, 6)
    assert item["hr"].shape == (20, 24, 3) and item["hr"].dtype == np.uint8
    item = data[1]
    assert item["hr"].shape == (16, 20) and item["lr"].shape == (3, 4, 5)


def test_test_dataset_rejects_wrong_lr_size(tmp_path):
    hr_path, _ = blocky_pair(tmp_path, "a", (5, 6))
    _, other_lr = blocky_pair(tmp_path, "b", (4, 4))
    with pytest.raises(ValueError, match="expected 6x5"):
        SRTestDataset([(hr_path, other_lr)])[0]
