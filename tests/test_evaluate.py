"""evaluate and plots: the test tables, files and figures from known results."""
import json
import math

import pytest

import evaluate
import plots


def results():
    def row(psnr, ssim, niqe):
        return {"psnr": psnr, "ssim": ssim, "niqe": niqe, "images": 2}

    return {"Set5": {"bicubic": row(28.4312, 0.81111, 8.4549), "SRGAN": row(29.0, 0.8, 6.0),
                     "HR": row(math.inf, 1.0, 5.51)},
            "Set14": {"bicubic": row(26.0, 0.7, 7.6), "SRGAN": row(25.9, 0.7012, 5.3),
                      "HR": row(math.inf, 1.0, 4.94)}}


def test_results_table_long_and_wide():
    table = evaluate.results_table(results()).splitlines()
    assert table[:3] == ["| set | method | PSNR / SSIM / NIQE |", "|---|---|---|",
                         "| Set5 (2) | bicubic | 28.43 / 0.8111 / 8.45 |"]
    assert "| Set5 (2) | HR | - / 1.0000 / 5.51 |" in table
    wide = evaluate.results_table(results(), wide=True).splitlines()
    assert wide[0] == "| set (images) | bicubic | SRGAN | HR |"
    assert wide[3] == "| Set14 (2) | 26.00 / 0.7000 / 7.60 | 25.90 / 0.7012 / 5.30 | - / 1.0000 / 4.94 |"


def test_write_results_keeps_infinity_out_of_json(tmp_path):
    paths = evaluate.write_results(results(), tmp_path)
    assert [p.name for p in paths] == ["test_results.json", "test_results.csv", "test_results.md"]
    summary = json.loads(paths[0].read_text())
    assert summary["Set5"]["HR"]["psnr"] is None and summary["Set5"]["SRGAN"]["niqe"] == 6.0
    assert paths[1].read_text().splitlines()[:2] == ["set,method,psnr,ssim,niqe,images",
                                                     "Set5,bicubic,28.43120,0.81111,8.45490,2"]
    # the report's scripts read the JSON back into the same table
    assert evaluate.results_table(summary) == evaluate.results_table(results())


def test_interpolation_table_and_files(tmp_path):
    scores = [{"psnr": 30.0 - a, "ssim": 0.8, "niqe": 8.0 - 2 * a} for a in (0.0, 1.0)]
    sweeps = {"SRGAN": {"Set5": scores}}
    table = evaluate.interpolation_table(sweeps, [0.0, 1.0]).splitlines()
    assert table[2] == "| SRResNet -> SRGAN | Set5 | 30.00 / 0.8000 / 8.00 | 29.00 / 0.8000 / 6.00 |"
    evaluate.write_interpolation(sweeps, [0.0, 1.0], tmp_path)
    assert json.loads((tmp_path / "interpolation.json").read_text())["SRGAN"]["Set5"][1] == {
        "alpha": 1.0, "psnr": 29.0, "ssim": 0.8, "niqe": 6.0}
    fig = plots.interpolation_plane(sweeps, results(), [0.0, 1.0], {"SRGAN": ("SRResNet", "SRGAN")},
                                    tmp_path / "plane.png")
    assert (tmp_path / "plane.png").stat().st_size > 0 and len(fig.axes) == 1


def test_figures_from_results_and_logs(tmp_path):
    plots.perception_distortion(results(), tmp_path / "pd.png")
    (tmp_path / "pre_iterations.csv").write_text("iteration,content_loss\n1,0.5\n2,0.25\n")
    (tmp_path / "pre_history.csv").write_text("iteration,val_psnr\n2,28.0\n")
    fig = plots.training_curves(tmp_path, "pre", "gan", tmp_path / "curves.png")  # no GAN stage yet
    assert len(fig.axes) == 5 and (tmp_path / "curves.png").exists() and (tmp_path / "pd.png").exists()
    assert plots.read_csv(tmp_path / "gan_history.csv") == []


@pytest.mark.parametrize("data", ["sample", "shared", "lists"])
def test_every_data_source_has_its_test_sets(data):
    from config import TEST_DATA, evaluation_config

    preset = {"sample": "sample", "shared": "shared", "lists": "paper"}[data]
    config = evaluation_config(preset)
    assert config.data == data and config.test_lists == TEST_DATA[data]["test_lists"]
