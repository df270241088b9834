"""Checkpoints: writing and reading them safely, a stage's whole state, and resuming it.

``solver.fit`` saves :func:`checkpoint_state` after every epoch (``<stage>_last.pth``, and
``_best`` / ``_ema``), and on resuming checks the saved networks against the config
(:func:`check_same_networks`) and :func:`restore` restores them; ``inference.load_generator`` reads the
generator out of any of them. Checkpoints hold state_dicts, counters, the config and RNG states
(plain Python values and tensors), load with ``weights_only=True`` and always to the CPU.
"""
import os
from pathlib import Path

import torch
import torch.nn as nn

import distributed
from archs import full_kwargs, load_weights
from step_graph import capturable_optimizer
from utils import to_plain


def save_checkpoint(checkpoint, path):
    """Write a checkpoint atomically: to a temporary file beside ``path``, then rename.

    A process killed mid-write leaves the previous checkpoint intact, never a truncated one.

    Args:
        checkpoint (dict): state_dicts, tensors and plain Python values only (loadable with
            ``weights_only=True``).
        path (str or Path): destination.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            torch.save(checkpoint, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def load_checkpoint(path):
    """Load a checkpoint to the CPU with ``weights_only=True`` (no code from the file is run).

    Always to the CPU, whatever device it was written on or will train on: RNG states must be
    CPU ByteTensors, and ``load_state_dict`` copies weights and optimizer state to the device of
    the network or optimizer that takes them.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: if the file is not a checkpoint this project can load safely (corrupt,
            truncated, or a pickle that carries code), naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: checkpoint not found")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # UnpicklingError for unsafe pickles, RuntimeError for corrupt zips
        raise ValueError(f"{path}: cannot be loaded as a safe checkpoint "
                         f"({type(err).__name__}: {str(err).splitlines()[0]})") from None


def checkpoint_state(training, config, stage):
    """Everything needed to resume a stage: state_dicts, counters, config, RNG states (the
    CPU's, and the current GPU's: a run may resume on a machine with fewer GPUs)."""
    def state(obj):
        return None if obj is None else obj.state_dict()

    return {
        "stage": stage.name, "config": to_plain(config), "epoch": training.epoch,
        "iteration": training.iteration, "best_psnr": training.best_psnr,
        "history": to_plain(training.history), "skipped_steps": training.skipped_steps,
        "generator": state(training.generator), "discriminator": state(training.discriminator),
        "generator_ema": state(training.generator_ema),
        "optimizer_g": state(training.optimizer_g), "optimizer_d": state(training.optimizer_d),
        "scheduler_g": state(training.scheduler_g), "scheduler_d": state(training.scheduler_d),
        "scaler_g": training.scaler_g.state_dict(), "scaler_d": training.scaler_d.state_dict(),
        "rng": {"torch": torch.get_rng_state(),  # CPU ByteTensors, both
                "cuda": torch.cuda.get_rng_state() if torch.cuda.is_available() else None},
    }


def restore(training, checkpoint):
    """Load a :func:`checkpoint_state` dict, loaded to the CPU (:func:`load_checkpoint`), into
    ``training`` (in place), RNG states included; ``load_state_dict`` copies every tensor to the
    device of the network or optimizer that takes it.

    Raises:
        ValueError: if the checkpoint's networks do not match (lists mismatched keys/shapes).
    """
    for key in ("generator", "generator_ema", "discriminator", "optimizer_g", "optimizer_d",
                "scheduler_g", "scheduler_d"):
        part = getattr(training, key)
        if part is not None and checkpoint.get(key) is not None:
            if isinstance(part, nn.Module):
                load_weights(part, checkpoint[key], what=f"the checkpoint's {key}")
            else:
                part.load_state_dict(checkpoint[key])
    for optimizer in (training.optimizer_g, training.optimizer_d):
        if optimizer is not None:  # this run's Adam (solver's), not the saved run's settings
            capturable_optimizer(optimizer, training.device)
    for key in ("scaler_g", "scaler_d"):
        if checkpoint.get(key):
            getattr(training, key).load_state_dict(checkpoint[key])
    for key in ("epoch", "iteration", "best_psnr", "history", "skipped_steps"):
        setattr(training, key, checkpoint[key])
    torch.set_rng_state(checkpoint["rng"]["torch"])
    if torch.is_tensor(checkpoint["rng"].get("cuda")) and torch.cuda.is_available():
        torch.cuda.set_rng_state(checkpoint["rng"]["cuda"])  # the current GPU's
    if distributed.world_size() > 1:  # rank 0's saved state, then a stream of its own per rank
        torch.manual_seed(int(torch.randint(2 ** 62, (1,))) + distributed.rank())


def check_same_networks(checkpoint, config, path, keys):
    """Raise ``ValueError`` when ``path`` was trained with other ``config.generator`` (or
    ``discriminator``) arguments than this run's: e.g. a ``runs/sample`` folder of an older
    version of the sample preset. Checkpoints without a config pass (their weights are still
    checked key by key when loaded)."""
    saved = checkpoint.get("config") or {}
    for key in keys:
        if key in saved and full_kwargs(key, saved[key]) != full_kwargs(key, config[key]):
            raise ValueError(
                f"{path} was trained with {key}={dict(saved[key])}, but this run's config has "
                f"{key}={dict(config[key])}. Use another out_dir for the new networks (or move "
                f"{Path(path).parent} away), or set config.{key} back to the checkpoint's.")
