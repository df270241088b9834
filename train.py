"""Command-line training: the stages of ``train.ipynb``, from the same config and code.

``train.ipynb`` (the assignment's entry point) and this script call the same functions below,
cell by cell or all at once, so a long run can go under ``nohup`` or a scheduler:

    .venv/bin/python train.py --preset sample
    .venv/bin/python train.py --preset shared --config '{"stages": {"gan": {"time_budget": 600}}}'
    SRGAN_PRESET=paper SRGAN_CONFIG=overrides.json nohup .venv/bin/python train.py > train.log &

``--preset`` and ``--config`` (a JSON string or the path of a JSON file) default to the
``SRGAN_PRESET`` and ``SRGAN_CONFIG`` environment variables, as in the notebooks. Stage 1,
stage 2 (unless it has 0 iterations) and the preset's SRCNN baseline run in turn, each
resuming from its last checkpoint in ``out_dir``. With ``"tensorboard": true`` the losses, D
outputs, learning rates, validation scores and one validation image per epoch also go to
``<out_dir>/tensorboard`` (``tensorboard --logdir runs/sample/tensorboard``).

Several processes (:mod:`distributed`: DistributedDataParallel, NCCL on GPUs, gloo on CPUs):

    torchrun --nproc_per_node=4 train.py --preset paper          # one node, 4 GPUs
    torchrun --nnodes=2 --nproc_per_node=8 --rdzv_backend=c10d \
        --rdzv_endpoint=node0.example:29500 --rdzv_id=srgan train.py --preset paper  # 2 nodes

``batch_size`` stays the global batch (16 in the paper: 4 GPUs x 4); resuming works the same.
"""
import argparse
import json
import os
import sys
from pathlib import Path

import torch
from easydict import EasyDict
from torch.utils.data import DataLoader, RandomSampler

import create_data_lists as cdl
import distributed
import inference
import solver
from archs import fetch_vgg19_weights
from config import SHARED_ROOT, from_env, srcnn_config
from datasets import DevicePatches, SRTestDataset, SRTrainDataset, as_pairs
from losses import vgg_content
from utils import seed_everything


def prepare(config, log=print):
    """Everything a run needs before its first iteration: the data lists of the ``sample`` and
    ``shared`` data sources (:func:`make_lists`), and every pretrained file a stage of it will load (the VGG19 of the
    content loss), downloaded now rather than when the GAN stage starts, a day later. Under
    torchrun rank 0 calls it and the others wait (:func:`run`).

    Raises:
        FileNotFoundError: naming a pretrained file that is missing and cannot be downloaded.
    """
    make_lists(config, log)
    for stage in config.stages.values():
        if stage.iterations and vgg_content(stage.loss) is not None:
            log(f"{stage.name}: VGG19 weights {fetch_vgg19_weights(config.vgg_weights)}")


def make_lists(config, log=print):
    """The data lists of the ``sample`` and ``shared`` data sources (``config.data``), made
    once; those of ``lists`` come from ``create_data_lists.py``."""
    if Path(config.train_list).exists() or config.data == "lists":
        return
    if config.data == "sample":
        cdl.build_sample_dataset(Path(config.train_list).parent, config.scale, log=log)
    else:  # shared: T91 + BSD200 to train, Set5 to validate
        lists = Path(config.train_list).parent
        pairs = [pair for name in ("T91", "BSD200") for pair in cdl.read_list(
            cdl.create_list(SHARED_ROOT / name / "HR", None, name, lists, log=log))]
        cdl.write_list(pairs, config.train_list)
        cdl.create_benchmark_lists([SHARED_ROOT / "Set5"], lists, config.scale, log=log)


def make_data(config, device, log=print):
    """The training loader (random patches) and the validation images of ``config``.

    Under torchrun each rank decodes and caches only its share of the training images (every
    ``world``-th image), draws its own random patches from them, and takes ``batch_size /
    world`` of the global batch; every rank runs the same number of iterations per epoch. On a GPU the
    patches are cut there (:func:`device_patches`).

    Returns:
        EasyDict: ``train_loader`` (uint8 batches of (N, 3, h, w) LR and (N, 3, H, W) HR: a
        DataLoader, or a ``DevicePatches``) and ``val_set`` (an ``SRTestDataset``).
    """
    world, rank = distributed.world_size(), distributed.rank()
    if config.batch_size % world:
        raise ValueError(f"batch_size {config.batch_size} (the global batch) must be divisible "
                         f"by the {world} processes")
    pairs = as_pairs(config.train_list)
    if len(pairs) < world:
        raise ValueError(f"{config.train_list}: {len(pairs)} training images for {world} processes")
    train_set = SRTrainDataset(pairs[rank::world], config.scale, config.hr_patch,
                               config.patches_per_image, log=log)
    # the same epoch length on every rank (shares differ by an image, or by skipped images)
    patches = distributed.minimum(len(train_set))
    sampler = RandomSampler(train_set, num_samples=patches) if world > 1 else None
    train_loader = device_patches(config, train_set, device, patches, log)
    if train_loader is None:
        train_loader = DataLoader(train_set, batch_size=config.batch_size // world, shuffle=sampler is None,
                                  sampler=sampler, drop_last=True, num_workers=config.num_workers,
                                  pin_memory=device.type == "cuda", persistent_workers=config.num_workers > 0)
    val_set = SRTestDataset(config.val_list, config.scale)
    share = f" (rank 0's share of {len(pairs)}, of {world})" if world > 1 else ""
    log(f"{len(train_set.pairs)} training images{share} ({len(train_set.skipped)} skipped), "
        f"{len(train_loader)} iterations per epoch; {len(val_set)} validation images")
    return EasyDict(train_loader=train_loader, val_set=val_set)


def device_patches(config, train_set, device, patches, log=print):
    """A ``DevicePatches`` of ``train_set`` (the patches cut on the GPU from its images cached
    there) when ``config.gpu_patches`` asks for one on a CUDA device: True, or ``"auto"`` where
    the images take at most a quarter of the GPU's free memory (DIV2K's 800 training images,
    HR and x4 LR: about 7 GB); else None, with the reason logged, and the DataLoader cuts them.

    Raises:
        ValueError: for a ``gpu_patches`` other than ``"auto"``, True or False.
    """
    if config.gpu_patches not in ("auto", True, False):
        raise ValueError(f"config.gpu_patches must be 'auto', True or False, got {config.gpu_patches!r}")
    if device.type != "cuda" or config.gpu_patches is False:
        return None
    needed = DevicePatches.bytes_needed(train_set)
    free = torch.cuda.mem_get_info(device)[0]
    if config.gpu_patches == "auto" and needed > free / 4:
        log(f"training images: {needed / 2**30:.2f} GiB, more than a quarter of the GPU's "
            f"{free / 2**30:.1f} GiB free: patches cut on the CPU (DataLoader)")
        return None
    log(f"training images cached on {device} ({needed / 2**30:.2f} GiB of {free / 2**30:.1f} GiB "
        f"free): patches cut there")
    return DevicePatches(train_set, config.batch_size // distributed.world_size(), device, num_samples=patches)


def run_stage(config, key, data, log=print):
    """Train ``config.stages[key]`` (``"pretrain"`` or ``"gan"``) with :func:`solver.fit`;
    None for a stage of 0 iterations (SRCNN has no GAN stage)."""
    stage = config.stages[key]
    if not stage.iterations:
        return None
    return solver.fit(config, stage, data.train_loader, data.val_set, log=log)


def run_baseline(config, data, log=print):
    """Train the SRCNN baseline of ``config`` (``config.srcnn``) on the same data into the same
    folder; None when the preset has none. It starts from the run's seed, so that it does not
    change with what the stages before it trained."""
    baseline = srcnn_config(config)
    if baseline is None:
        return None
    seed_everything(baseline.seed + distributed.rank())
    return solver.fit(baseline, baseline.stages.pretrain, data.train_loader, data.val_set, log=log)


def run(config, log=print):
    """Everything ``train.ipynb`` trains, in its order. Returns {stage name: training state}.

    Under ``torchrun`` every rank runs this; :mod:`distributed` makes them one run (rank 0
    logs, makes the lists and writes)."""
    device = distributed.setup(config.device) or inference.resolve_device(config.device)
    seed_everything(config.seed + distributed.rank())  # DDP copies rank 0's initial weights
    if not distributed.is_main():
        log = distributed.silent
    log(f"torch {torch.__version__}, device {device}, preset {config.preset}, out_dir {config.out_dir}"
        + (f", {distributed.world_size()} processes" if distributed.world_size() > 1 else ""))
    if distributed.is_main():
        prepare(config, log)  # rank 0 downloads what is missing; the others wait
    distributed.barrier()
    data = make_data(config, device, log)
    results = {}
    for key in ("pretrain", "gan"):
        training = run_stage(config, key, data, log)
        if training is not None:
            results[config.stages[key].name] = training
            log(f"{config.stages[key].name}: {training.iteration} iterations")
    baseline = run_baseline(config, data, log)
    if baseline is not None:
        results["srcnn"] = baseline
        log(f"srcnn: {baseline.iteration} iterations, best validation PSNR {baseline.best_psnr:.2f} dB")
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default=os.environ.get("SRGAN_PRESET", "sample"),
                        help="a preset of config.py (default: $SRGAN_PRESET or sample)")
    parser.add_argument("--config", default=os.environ.get("SRGAN_CONFIG", ""),
                        help="JSON overrides, or a JSON file (default: $SRGAN_CONFIG)")
    args = parser.parse_args(argv)
    config = from_env("training", args.preset, args.config)
    if int(os.environ.get("RANK", "0")) == 0:
        print(json.dumps(config, indent=1, default=str))
    try:
        run(config)
    finally:
        distributed.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
