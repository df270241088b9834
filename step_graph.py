"""Whole training steps captured in a CUDA graph and replayed: the GPU's pace instead of the
CPU's kernel launches.

``solver.train_epoch`` calls a :class:`StepRunner` once per iteration with the uint8 batches.
On the CPU, and wherever capture is refused, it runs the step eagerly. On CUDA its first
``warmup`` calls run the step eagerly on a side stream (real training steps: they count as
iterations; they create Adam's state and the gradient scalers' tensors, let cuDNN pick its
kernels and ``torch.compile`` compile), the next one captures the whole step (zero_grad,
forward, losses, backward, the fused Adam steps with their found-inf skips, the moving average)
into one ``torch.cuda.CUDAGraph`` on static input buffers, and every call from then on copies
its batch into those buffers and replays the graph: a few launches instead of hundreds.

What makes a step capturable (``solver`` provides it): no host synchronisation and no Python
branch on a tensor's value inside the step; Adam with ``capturable=True`` and its learning rate
a 0-d tensor on the device that the scheduler changes in place (a Python float would be baked
into the graph); autocast without its weight cache while capturing. The losses come back as
the graph's static output tensors, overwritten by the next replay: read or copy them before
the next call (``training_log.Meter.add`` does, on the device).

A resumed run builds a new runner, and so captures again, after ``checkpoints.restore``.
"""
import time
import warnings

import torch

import distributed


# the start of Adam's warning when a capturable optimizer steps outside a capture
UNCAPTURED = "This instance was constructed with capturable=True"


def capture_refusal(config, device):
    """Why the steps of ``config`` on ``device`` run eagerly, or None when they are captured."""
    if device.type != "cuda":
        return f"{device.type}: CUDA graphs are CUDA's"
    if not config.cuda_graphs:
        return "config.cuda_graphs is off"
    if distributed.world_size() > 1:
        return "under torchrun (DDP's gradient all-reduce runs outside a captured step here)"
    return None


def capturable_optimizer(optimizer, device):
    """``optimizer`` (this project's fused Adam) with its learning rates as 0-d float32 tensors
    on ``device`` and ``capturable`` set, in place: a graph replays Adam's kernels with the rate
    the scheduler last wrote into that tensor. Also after ``load_state_dict``, which puts back
    the saved groups (their rates a float or a CPU tensor; ``fused`` the saved run's)."""
    for group in optimizer.param_groups:
        group["lr"] = torch.tensor(float(group["lr"]), dtype=torch.float32, device=device)
        group["capturable"] = group["fused"] = True
    return optimizer


class StepRunner:
    """One training step per call, eager or replayed from a CUDA graph of the whole step.

    Args:
        step (callable): ``step(lr_u8, hr_u8) -> dict`` of 0-d loss tensors: one whole
            training step on uint8 batches (N, 3, h, w) and (N, 3, H, W) on the device.
        device (torch.device): the training device.
        refusal (str or None): :func:`capture_refusal`'s reason to run eagerly, None to capture.
        warmup (int): eager steps before the capture (PyTorch's recipe: 3; cuDNN's autotuning
            and ``torch.compile`` finish in them).
        log (callable): where the capture's one line goes (its time, or why it fell back).
        on_capture (callable): called with True before the capture and False after it (the
            solver turns autocast's weight cache off meanwhile).
        on_failure (callable): called after a failed capture, before the step runs eagerly:
            it repairs what the capture's Python side changed (the gradient scalers' per-step
            state); the kernels it recorded never ran.
    """

    def __init__(self, step, device, refusal=None, warmup=3, log=print, on_capture=None, on_failure=None):
        self.step, self.device, self.warmup, self.log = step, device, warmup, log
        self.on_capture = on_capture or (lambda capturing: None)
        self.on_failure = on_failure or (lambda: None)
        self.refusal = refusal
        self.calls, self.graph, self.inputs, self.outputs = 0, None, None, None
        self.started = None
        self.stream = torch.cuda.Stream(device) if refusal is None else None

    @property
    def captured(self):
        return self.graph is not None

    def __call__(self, lr_u8, hr_u8):
        if self.refusal is not None:
            with warnings.catch_warnings():  # Adam's notice that a capturable optimizer runs uncaptured
                warnings.filterwarnings("ignore", message=UNCAPTURED)
                return self.step(lr_u8, hr_u8)
        if self.graph is not None:
            if lr_u8.shape != self.inputs[0].shape or hr_u8.shape != self.inputs[1].shape:
                return self.step(lr_u8, hr_u8)  # another batch size (a last, partial batch)
            self.inputs[0].copy_(lr_u8, non_blocking=True)
            self.inputs[1].copy_(hr_u8, non_blocking=True)
            self.graph.replay()
            return self.outputs
        self.calls += 1
        if self.calls <= self.warmup:
            return self._warm_step(lr_u8, hr_u8)
        return self._capture(lr_u8, hr_u8)

    def _warm_step(self, lr_u8, hr_u8):
        """An eager step on the side stream (the stream a capture uses)."""
        if self.started is None:
            self.started = time.perf_counter()
        self.stream.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(self.stream), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=UNCAPTURED)  # these steps are meant to be
            losses = self.step(lr_u8, hr_u8)
        torch.cuda.current_stream(self.device).wait_stream(self.stream)
        return losses

    def _capture(self, lr_u8, hr_u8):
        """Capture the whole step on static copies of this batch, then replay it once (capture
        records kernels without running them): this call's training step."""
        torch.cuda.synchronize(self.device)
        warm = time.perf_counter() - (self.started or time.perf_counter())
        started = time.perf_counter()
        self.inputs = (lr_u8.clone(), hr_u8.clone())
        graph = torch.cuda.CUDAGraph()
        self.on_capture(True)
        try:
            with torch.cuda.graph(graph, stream=self.stream):
                self.outputs = self.step(*self.inputs)
        except Exception as err:  # a step that cannot be captured: eager from now on
            message = str(err).strip().splitlines()[0][:200] if str(err).strip() else ""
            self.refusal = f"capture failed ({type(err).__name__}: {message})"
            self.inputs = self.outputs = None
            torch.cuda.synchronize(self.device)
            self.log(f"CUDA graph: {self.refusal}; the steps run eagerly")
            self.on_capture(False)
            self.on_failure()
            return self.step(lr_u8, hr_u8)
        finally:
            self.on_capture(False)
        self.graph = graph
        self.graph.replay()
        torch.cuda.synchronize(self.device)
        self.log(f"CUDA graph: the whole step captured after {self.warmup} eager steps "
                 f"({warm:.1f} s, compilation and cuDNN autotuning included; capture "
                 f"{time.perf_counter() - started:.2f} s)")
        return self.outputs

