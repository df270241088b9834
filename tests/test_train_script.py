"""train.py: the notebook's stages from the command line, resumable; TensorBoard logging."""
import json
import sys

import pytest
import torch
from easydict import EasyDict

import config
from config import training_config
import create_data_lists as cdl
import inference
import train
import training_log


class Recorder:
    """A stand-in for TensorBoard's SummaryWriter (the package is optional)."""

    def __init__(self):
        self.scalars, self.images, self.closed = {}, [], False

    def add_scalar(self, tag, value, step):
        self.scalars.setdefault(tag, []).append((step, value))

    def add_image(self, tag, img, step):
        self.images.append((tag, tuple(img.shape), step))

    def flush(self):
        pass

    def close(self):
        self.closed = True


@pytest.fixture(scope="module")
def sample_data(tmp_path_factory):
    data = tmp_path_factory.mktemp("data")
    cdl.build_sample_dataset(data, log=lambda *a: None)
    return data


def overrides(tmp_path, data, **extra):
    return {"out_dir": str(tmp_path / "run"), "train_list": str(data / "sample_train.csv"),
            "val_list": str(data / "sample_test.csv"), "patches_per_image": 2, "log_every": 1,
            "device": "cpu", "stages": {"pretrain": {"iterations": 3}, "gan": {"iterations": 2}},
            "srcnn": {"iterations": 2}, **extra}


def test_script_runs_every_stage_then_resumes(tmp_path, sample_data, capsys, monkeypatch):
    config_file = tmp_path / "overrides.json"
    config_file.write_text(json.dumps(overrides(tmp_path, sample_data)))
    monkeypatch.setenv("SRGAN_CONFIG", str(config_file))  # the environment, as the notebooks
    assert train.main(["--preset", "sample"]) == 0
    run = tmp_path / "run"
    for name in ("srresnet_last.pth", "srgan_last.pth", "srcnn_best.pth", "srgan_history.csv"):
        assert (run / name).exists(), name
    out = capsys.readouterr().out
    assert "srresnet: 3 iterations" in out and "srgan: 2 iterations" in out and "srcnn: 2 iterations" in out
    assert "precision: " in out  # which precision amp_cpu chose
    train.main(["--preset", "sample", "--config", str(config_file)])  # nothing left to train
    out = capsys.readouterr().out
    assert "srresnet: resumed from" in out and "srgan: resumed from" in out


def test_the_baseline_does_not_depend_on_the_stages_before_it(tmp_path, sample_data):
    weights = []
    for pretrain in (2, 4):
        run = tmp_path / f"pretrain{pretrain}"
        config = training_config("sample", overrides(tmp_path, sample_data, amp_cpu=False, out_dir=str(run)),
                                 {"stages": {"pretrain": {"iterations": pretrain}, "gan": {"iterations": 0}}})
        train.run(config, log=lambda *a: None)
        weights.append(torch.load(run / "srcnn_last.pth", map_location="cpu", weights_only=True)["generator"])
    assert weights[0].keys() == weights[1].keys()
    for key in weights[0]:
        assert torch.equal(weights[0][key], weights[1][key]), key


def test_tensorboard_gets_losses_d_outputs_scores_and_images(tmp_path, sample_data, monkeypatch):
    writers = {}

    def fake_writer(config, stage):
        if not config.get("tensorboard"):
            return None
        return writers.setdefault(stage.name, Recorder())

    monkeypatch.setattr(training_log, "tensorboard_writer", fake_writer)
    config = training_config("sample", overrides(tmp_path, sample_data, tensorboard=True))
    train.run(config, log=lambda *a: None)
    assert set(writers) == {"srresnet", "srgan", "srcnn"}  # the baseline inherits the flag
    gan = writers["srgan"]
    for tag in ("train/g_loss", "train/d_real", "train/d_fake", "train/lr_g", "epoch/val_psnr",
                "epoch/val_niqe"):
        assert tag in gan.scalars, tag
    assert gan.images and gan.images[0][1][0] == 3 and gan.closed


def test_tensorboard_missing_is_a_clear_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # as if not installed
    with pytest.raises(ImportError, match="pip install tensorboard"):
        training_log.tensorboard_writer(EasyDict(tensorboard=True, out_dir="unused"), EasyDict(name="s"))
    assert training_log.tensorboard_writer(EasyDict(tensorboard=False), EasyDict(name="s")) is None


def test_bad_overrides_name_the_problem(tmp_path):
    with pytest.raises(ValueError, match="JSON object or a JSON file"):
        config.read_overrides("{not json")
    with pytest.raises(ValueError, match="must be a JSON object, got list"):
        config.read_overrides("[1, 2]")
    with pytest.raises(KeyError, match="config.stages.gan.iteration "):
        train.main(["--config", '{"stages": {"gan": {"iteration": 5}}}'])


def test_missing_vgg_weights_stop_the_run_before_its_first_iteration(tmp_path, sample_data):
    """The GAN stage's VGG19 is fetched at start-up, not after the pretraining (a day later)."""
    missing = tmp_path / "nowhere" / "vgg19-dcbb9e9d.pth"
    config = training_config("sample", overrides(tmp_path, sample_data, vgg_weights=str(missing)),
                                   {"stages": {"gan": {"loss": {"content": {"type": "vgg", "weight": 1.0}}}}})
    with pytest.raises(FileNotFoundError, match=str(missing)):
        train.run(config, log=lambda *a: None)
    assert not (tmp_path / "run" / "srresnet_last.pth").exists()
    weights = tmp_path / "vgg19.pth"
    weights.write_bytes(b"")  # there: its name is logged (the GAN stage loads it)
    messages = []
    vgg_gan = {"stages": {"gan": {"loss": {"content": {"type": "vgg", "weight": 1.0}}}}}
    train.prepare(training_config("sample", overrides(tmp_path, sample_data, vgg_weights=str(weights)), vgg_gan),
                  messages.append)
    assert messages == [f"srgan: VGG19 weights {weights}"]


@pytest.mark.parametrize("rank", [0, 1])
def test_each_rank_caches_only_its_share_of_the_training_images(tmp_path, sample_data, monkeypatch, rank):
    monkeypatch.setattr(train.distributed, "world_size", lambda: 2)
    monkeypatch.setattr(train.distributed, "rank", lambda: rank)
    monkeypatch.setattr(train.distributed, "minimum", lambda n: n - 1)  # another rank has fewer
    config = training_config("sample", overrides(tmp_path, sample_data, batch_size=4))
    data = train.make_data(config, inference.resolve_device("cpu"), log=lambda *a: None)
    pairs = cdl.read_list(sample_data / "sample_train.csv")
    train_set = data.train_loader.dataset
    assert train_set.pairs == pairs[rank::2] and len(train_set.images) == len(pairs[rank::2])
    assert data.train_loader.batch_size == 2
    assert len(data.train_loader.sampler) == len(train_set) - 1  # the ranks' common length


@pytest.mark.parametrize("setting, free, cut_there", [("auto", 10 ** 12, True), ("auto", 10 ** 5, False),
                                                      (True, 10 ** 5, True), (False, 10 ** 12, False)])
def test_patches_are_cut_on_the_gpu_when_the_images_fit(tmp_path, sample_data, monkeypatch, setting, free, cut_there):
    """gpu_patches "auto": on the GPU where the images take at most a quarter of its free
    memory, else the DataLoader, with a line saying why; True and False force it. (The GPU is
    faked: DevicePatches is built on the CPU.)"""
    from datasets import DevicePatches, SRTrainDataset

    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (free, 2 * free))
    class OnTheCPU(DevicePatches):
        def __init__(self, data, batch, device, num_samples):
            super().__init__(data, batch, "cpu", num_samples)

    monkeypatch.setattr(train, "DevicePatches", OnTheCPU)
    config = training_config("sample", overrides(tmp_path, sample_data, gpu_patches=setting))
    train_set = SRTrainDataset(sample_data / "sample_train.csv", hr_patch=48, log=lambda *a: None)
    messages = []
    loader = train.device_patches(config, train_set, torch.device("cuda"), len(train_set), messages.append)
    assert isinstance(loader, DevicePatches) == cut_there
    assert (loader is None) == (setting is False or "cut on the CPU" in " ".join(messages))
    assert train.device_patches(config, train_set, torch.device("cpu"), len(train_set)) is None
    with pytest.raises(ValueError, match="gpu_patches must be 'auto', True or False, got 'yes'"):
        train.device_patches(EasyDict(config, gpu_patches="yes"), train_set, torch.device("cuda"), 1)


README_SHORTER_RUN = '{"stages": {"pretrain": {"epochs": 20}, "gan": {"epochs": 4, "milestones": [10000]}}}'


@pytest.mark.parametrize("as_file", [False, True])
def test_the_readmes_overrides_reach_every_entry_point(tmp_path, as_file, monkeypatch):
    """The README's "shorter variation" (SRGAN_PRESET=paper, training keys in SRGAN_CONFIG) for
    the three notebooks and train.py, as JSON or as a JSON file: one path, config.from_env."""
    text = README_SHORTER_RUN
    if as_file:
        (tmp_path / "shorter.json").write_text(text)
        text = str(tmp_path / "shorter.json")
    environ = {"SRGAN_PRESET": "paper", "SRGAN_CONFIG": text}
    training = config.from_env("training", environ=environ)
    assert training.stages.pretrain.epochs == 20 and training.stages.gan.milestones == [10000]
    evaluation = config.from_env("evaluation", environ=environ)  # test.ipynb, super_resolution.ipynb
    assert evaluation.out_dir == training.out_dir == "runs/paper" and "Set5" in evaluation.test_lists
    with_test_keys = config.from_env("evaluation", environ=dict(
        environ, SRGAN_CONFIG='{"out_dir": "runs/other", "alphas": [0, 1], "stages": {"gan": {"epochs": 1}}}'))
    assert with_test_keys.out_dir == "runs/other" and with_test_keys.alphas == [0, 1]
    assert with_test_keys.checkpoints["SRGAN"] == "runs/other/srgan_last.pth"
    monkeypatch.setattr(train, "run", lambda cfg: seen.append(cfg))  # train.py, without training
    seen = []
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    assert train.main([]) == 0 and seen[0] == training
    with pytest.raises(KeyError, match="config.stage is not a config key; known keys of the test config"):
        config.from_env("evaluation", environ={"SRGAN_CONFIG": '{"stage": {}}'})
    with pytest.raises(KeyError, match="config.stages.gan.epoch "):
        config.from_env("evaluation", environ={"SRGAN_CONFIG": '{"stages": {"gan": {"epoch": 1}}}'})
