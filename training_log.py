"""The training logs: loss means per log window and per epoch (read from the device once per
window), the per-iteration and per-epoch CSVs, and TensorBoard.

``solver.train_epoch`` adds each step's losses to a :class:`Meter` and reads it every
``config.log_every`` steps into ``<stage>_iterations.csv``; ``solver.fit`` appends each epoch's
row to ``<stage>_history.csv``; with ``config.tensorboard`` both also go to
``<out_dir>/tensorboard/<stage>``. ``plots.training_curves`` draws the CSVs.
"""
import csv
import math
import time
from pathlib import Path

import torch

import distributed
from inference import super_resolve
from utils import signed_to_unit


def past(deadline):
    """Whether ``deadline`` has passed on any rank (rank-local clocks; every rank agrees)."""
    return deadline is not None and distributed.any_rank(time.monotonic() > deadline)


class Meter:
    """The step losses of a log window, summed on the device, or of an epoch, in Python.

    A window adds each step's losses without a host synchronisation, leaving out those of a
    step whose losses are not finite (its update was skipped), and counts such steps and the
    longest run of them in a row. :meth:`send` starts its sums on their way to the host (a
    non-blocking copy into pinned memory on CUDA, after which the GPU's queue goes on);
    :meth:`read` waits for that copy alone, so a window read one window later never waits for
    the GPU; :meth:`merge` adds a read window to an epoch meter."""

    def __init__(self, device, bad_run=None):
        self.device, self.keys, self.sums, self.count, self.images = device, None, None, 0, 0
        self.start = time.perf_counter()
        zero = torch.zeros((), device=device)
        self.bad_run = zero.clone() if bad_run is None else bad_run  # carried over windows
        self.good, self.bad, self.worst_run = zero.clone(), zero.clone(), zero.clone()
        self.values = {}  # read means (a read window, or an epoch), with good steps' weights
        self.sent = None  # (host copy, its CUDA event or None, iteration, seconds)
        self.lr = math.nan  # the learning rate of G at the last read

    def add(self, losses, images):
        values = torch.stack([v.detach().float() for v in losses.values()])  # (K,) on the device
        finite = values.isfinite().all()
        if self.sums is None:
            self.keys, self.sums = list(losses), torch.zeros_like(values)
        self.sums += torch.where(finite, values, 0.0)
        self.good += finite
        self.bad += ~finite
        self.bad_run = (self.bad_run + 1) * ~finite  # non-finite steps in a row, so far
        self.worst_run = torch.maximum(self.worst_run, self.bad_run)
        self.count += 1
        self.images += images

    def send(self, training, stage):
        """Start the window's sums, counts, learning rate and whether ``stage.max_bad_steps``
        steps in a row were not finite on their way to the host (under torchrun: their means
        over the ranks), at ``training``'s current iteration."""
        stage_lr = training.optimizer_g.param_groups[0]["lr"]
        lr = stage_lr.detach().float().reshape(1).to(self.device) if torch.is_tensor(stage_lr) else \
            torch.full((1,), float(stage_lr), device=self.device)
        stop = (self.worst_run >= stage.max_bad_steps).float()
        packed = torch.cat([self.sums, torch.stack([self.good, self.bad, stop]), lr])
        packed = distributed.mean(packed)
        event = None
        if packed.device.type == "cuda":
            host = torch.empty(packed.shape, dtype=packed.dtype, pin_memory=True)
            host.copy_(packed, non_blocking=True)
            event = torch.cuda.Event()
            event.record()
        else:
            host = packed.clone()
        self.sent = (host, event, training.iteration, time.perf_counter() - self.start)

    def read(self, training, stage, out_dir):
        """The sent window's means as a log record (under torchrun the means over the ranks).
        Adds its non-finite steps to ``training.skipped_steps``.

        Raises:
            FloatingPointError: when ``stage.max_bad_steps`` steps in a row were not finite.
        """
        host, event, iteration, seconds = self.sent
        if event is not None:
            event.synchronize()  # the copy alone: the GPU has long gone past it
        *sums, good, bad, stop, self.lr = host.tolist()
        training.skipped_steps += round(bad)
        if stop > 0:  # on any rank: all stop together
            last = Path(out_dir) / f"{stage.name}_last.pth"
            raise FloatingPointError(
                f"{stage.max_bad_steps} non-finite losses in a row by iteration "
                f"{iteration}; training stopped (those steps changed no weight). The last "
                f"good checkpoint is {last}: lower the learning rate or disable fp16 (config.amp) "
                f"and resume from it.")
        self.values = {k: (v / good if good else math.nan, good) for k, v in zip(self.keys, sums)}
        record = {key: mean for key, (mean, _) in self.values.items()}
        record.update(iteration=iteration, lr_g=self.lr, images_per_s=self.images / max(seconds, 1e-9))
        return record

    def merge(self, window):
        for key, (mean, weight) in window.values.items():
            if not weight:  # no finite step in the window
                continue
            total, count = self.values.get(key, (0.0, 0.0))
            self.values[key] = ((total * count + mean * weight) / max(count + weight, 1e-9),
                                count + weight)
        self.count += window.count
        self.images += window.images
        self.lr = window.lr

    def means(self, training):
        """An epoch meter's mean losses, with the current iteration, the last read learning
        rate and images/s."""
        record = {key: mean for key, (mean, _) in self.values.items()}
        record.update(iteration=training.iteration, lr_g=self.lr,
                      images_per_s=self.images / max(time.perf_counter() - self.start, 1e-9))
        return record


def tensorboard_writer(config, stage):
    """A ``torch.utils.tensorboard.SummaryWriter`` in ``<out_dir>/tensorboard/<stage>`` when
    ``config.tensorboard`` asks for one, else None.

    Raises:
        ImportError: naming the missing package and how to install it.
    """
    if not config.tensorboard:
        return None
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as err:  # torch's module needs the tensorboard package
        raise ImportError(f"config.tensorboard is on, but the tensorboard package is missing "
                          f"({err}): install it with `.venv/bin/pip install tensorboard`, or set "
                          f"config.tensorboard = False (the CSV logs do not need it)") from None
    return SummaryWriter(str(Path(config.out_dir) / "tensorboard" / stage.name))


def add_scalars(writer, prefix, record):
    """Every number of a log record (losses, D outputs, learning rate, validation scores) as a
    TensorBoard scalar at the record's iteration."""
    if writer is None:
        return
    for key, value in record.items():
        if key != "iteration" and isinstance(value, (int, float)) and math.isfinite(value):
            writer.add_scalar(f"{prefix}/{key}", value, record["iteration"])


def append_csv(path, record):
    """Append ``record`` as a row of the CSV at ``path`` (its header first, for a new file)."""
    new = not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=sorted(record))
        if new:
            writer.writeheader()
        writer.writerow(record)


def add_output_image(writer, generator, item, device, tile, step):
    """TensorBoard: the generator's output for a test item (``SRTestDataset``'s), in eval mode
    (its mode restored after)."""
    was_training = generator.training
    sr = super_resolve(generator.eval(), item["lr"].unsqueeze(0).to(device), tile)  # (1, 3, H, W) in [-1, 1]
    generator.train(was_training)
    writer.add_image(f"val/{item['name']}", signed_to_unit(sr[0].float().cpu()), step)
