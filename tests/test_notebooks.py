"""The three notebooks run headless, in order, with the sample preset (short stages).

They run as a user runs them (a Jupyter kernel, cell by cell, working directory = repository
root), with ``SRGAN_CONFIG`` shortening the stages and sending every file to a temporary folder.
"""
import json
import os

import nbformat
import pytest
import torch
from nbclient import NotebookClient

from archs import RRDBNet
from conftest import ROOT


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """Execute train, test and super_resolution once; return (notebooks, run folder)."""
    tmp = tmp_path_factory.mktemp("notebooks")
    run, data = tmp / "run", tmp / "data"
    release = tmp / "tiny_release.pth"  # a published generator's file layout (Real-ESRGAN's)
    torch.manual_seed(0)
    torch.save({"params_ema": RRDBNet(n_blocks=1, channels=8, growth=4).state_dict()}, release)
    overrides = {
        "train.ipynb": {
            "out_dir": str(run), "train_list": str(data / "sample_train.csv"),
            "val_list": str(data / "sample_test.csv"), "patches_per_image": 16,
            "stages": {"pretrain": {"iterations": 12, "time_budget": None},
                       "gan": {"iterations": 6, "time_budget": None}},
            "srcnn": {"iterations": 5}},
        # every method of config.METHODS found in the run folder
        "test.ipynb": {"out_dir": str(run), "test_lists": {"Sample": str(data / "sample_test.csv")},
                       "alphas": [0.0, 0.5, 1.0], "published": {"Tiny": str(release)}},
        "super_resolution.ipynb": {"out_dir": str(run), "rating_list": str(data / "sample_test.csv"),
                                   "alphas": [0.0, 0.5, 1.0]},
    }
    old_env = dict(os.environ)
    notebooks = {}
    try:
        os.environ.update(SRGAN_PRESET="sample", TQDM_DISABLE="1", MPLBACKEND="Agg")
        for name, override in overrides.items():
            os.environ["SRGAN_CONFIG"] = json.dumps(override)
            notebook = nbformat.read(ROOT / name, as_version=4)
            NotebookClient(notebook, timeout=900, kernel_name="python3",
                           resources={"metadata": {"path": str(ROOT)}}).execute()
            notebooks[name] = notebook
    finally:
        os.environ.clear()
        os.environ.update(old_env)
    return notebooks, run


def text_of(notebook):
    return "\n".join(output.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                     for output in cell.get("outputs", []))


def test_train_notebook(executed):
    notebooks, run = executed
    for name in ("srresnet_last.pth", "srresnet_best.pth", "srgan_last.pth",
                 "srresnet_history.csv", "srgan_iterations.csv", "training_curves.png",
                 "srcnn_best.pth"):
        assert (run / name).exists(), name
    text = text_of(notebooks["train.ipynb"])
    assert "srresnet: 12 iterations" in text and "SRCNN: 5 iterations" in text


def test_test_notebook_writes_the_results(executed):
    notebooks, run = executed
    results = json.loads((run / "test_results.json").read_text())
    assert set(results) == {"Sample"}
    assert set(results["Sample"]) == {"bicubic", "SRCNN", "SRResNet", "SRGAN", "Tiny (published)", "HR"}
    published = results["Sample"].pop("Tiny (published)")  # random weights: a flat image, no NIQE
    assert published["images"] == 4 and published["psnr"] > 0
    for method, scores in results["Sample"].items():
        assert scores["images"] == 4 and 0 < scores["ssim"] <= 1 and 2 < scores["niqe"] < 30
        assert scores["psnr"] is None if method == "HR" else scores["psnr"] > 10
    assert results["Sample"]["HR"]["ssim"] == 1.0
    assert (run / "test_results.csv").exists() and (run / "test_results.md").exists()
    assert (run / "perception_distortion.png").exists()
    text = text_of(notebooks["test.ipynb"])
    assert "| Sample (4) | SRGAN |" in text and "NIQE" in text
    # network interpolation: alpha 0 and 1 are the two models, exactly
    sweep = json.loads((run / "interpolation.json").read_text())["SRGAN"]["Sample"]
    assert [row["alpha"] for row in sweep] == [0.0, 0.5, 1.0]
    for row, method in ((sweep[0], "SRResNet"), (sweep[-1], "SRGAN")):
        assert row["psnr"] == pytest.approx(results["Sample"][method]["psnr"], abs=1e-9)
    assert (run / "interpolation_plane.png").exists()


def test_super_resolution_notebook_makes_outputs_and_kit(executed):
    notebooks, run = executed
    for method in ("bicubic", "SRCNN", "SRResNet", "SRGAN", "HR"):
        assert len(list((run / "set5_outputs" / method).glob("*.png"))) == 4
    assert len(list(run.glob("interpolation_SRGAN_*.png"))) == 1
    assert (run / "rating_kit" / "index.html").exists() and (run / "rating_kit_key.csv").exists()
    assert not (run / "rating_kit" / "key.csv").exists()
    assert len(list((run / "rating_kit" / "images").glob("*.png"))) == 20
    text = text_of(notebooks["super_resolution.ipynb"])
    assert "no scores yet" in text
    # PULSE without the authors' weights: which files, from where, to where
    assert "synthesis.pt: https://drive.google.com/" in text and "weights/pulse/" in text
