"""Several processes with PyTorch's own engine: torchrun + DistributedDataParallel (DDP).

``torchrun --nproc_per_node=N train.py ...`` starts N processes with ``RANK``, ``WORLD_SIZE``
and ``LOCAL_RANK`` set; :func:`setup` joins them (NCCL on CUDA, one GPU per process; gloo on
the CPU). Then ``solver.build_training`` wraps the networks in DDP, which averages the
gradients of every step over the processes, ``train.make_data`` gives each rank its share of
the images (decoded and cached by that rank alone) and its own random patches, and only rank 0
(:func:`is_main`) validates and writes logs, CSVs and checkpoints. A single process (plain
``python train.py`` or the notebooks) goes through the same code with a world of one.

BatchNorm: each rank normalises its own share of the batch (DDP's default: rank 0's running
statistics are broadcast at every forward), as the paper's batch of 16 becomes N batches of
16 / N; ``config.sync_bn`` synchronises the statistics instead (``nn.SyncBatchNorm``, CUDA
only). The SRGAN generator of the ``sample`` and ``shared`` presets and ESRGAN's have no BN.
"""
import os

import torch
import torch.distributed as dist


def world_size():
    """Processes in the run (1 without torchrun)."""
    return dist.get_world_size() if dist.is_initialized() else 1


def rank():
    """This process's rank (0 without torchrun)."""
    return dist.get_rank() if dist.is_initialized() else 0


def is_main():
    """Whether this process writes logs, CSVs, checkpoints and validates (rank 0)."""
    return rank() == 0


def setup(device_name="auto"):
    """Join the process group when torchrun started this process; pick this rank's device.

    Args:
        device_name (str): ``config.device``; under torchrun on CUDA each rank takes the GPU
            ``LOCAL_RANK``.

    Returns:
        torch.device or None: the rank's device under torchrun, None for a single process
        (the caller resolves ``config.device`` itself).
    """
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return None
    if not (torch.cuda.is_available() and device_name != "cpu"):
        if not dist.is_initialized():
            dist.init_process_group(backend="gloo")
        return torch.device("cpu")
    # this rank's GPU first, then the group bound to it (NCCL creates its communicator there,
    # not on GPU 0 for every rank)
    device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl", device_id=device)
    return device


def silent(*args, **kwargs):
    """The log of the ranks other than 0: one log per run, rank 0's."""


def cleanup():
    """Leave the process group (end of a torchrun run)."""
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def barrier():
    """Wait for every rank (e.g. until rank 0 has written a checkpoint the others read)."""
    if dist.is_initialized():
        dist.barrier()


def mean(values):
    """The mean over ranks of a float tensor (in place, returned); itself for one process."""
    if dist.is_initialized():
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
        values /= dist.get_world_size()
    return values


def _collective_device():
    """Where a small tensor for a collective lives: this rank's GPU under NCCL, else the CPU."""
    return f"cuda:{torch.cuda.current_device()}" if dist.get_backend() == "nccl" else "cpu"


def minimum(value):
    """The smallest of an integer over the ranks; itself for one process."""
    if not dist.is_initialized():
        return value
    tensor = torch.tensor([value], dtype=torch.int64, device=_collective_device())
    dist.all_reduce(tensor, op=dist.ReduceOp.MIN)
    return int(tensor.item())


def any_rank(flag):
    """True on every rank when ``flag`` is true on at least one (stop together: a rank that
    stopped alone would leave the others waiting in the next all-reduce)."""
    if not dist.is_initialized():
        return bool(flag)
    value = torch.tensor([1.0 if flag else 0.0], device=_collective_device())
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def wrap(module, device):
    """``module`` in DDP when several processes run, else itself."""
    if not dist.is_initialized() or module is None:
        return module
    return torch.nn.parallel.DistributedDataParallel(
        module, device_ids=[device.index] if device.type == "cuda" else None)
