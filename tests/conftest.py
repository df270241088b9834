"""Shared fixtures: the real benchmark data of ``../shared/data``, when it is there.

Tests that use it skip where the folder is absent (a user's clone), but fail instead of skipping
when ``CI=true``, so that CI can never pass by silently skipping the ground-truth tests.
"""
import os
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]

SHARED_DATA = ROOT.parent / "shared" / "data"
SHARED_WEIGHTS = ROOT.parent / "shared" / "weights"

# The tests use tiny tensors: one thread avoids oversubscribing a small machine's cores.
torch.set_num_threads(1)


def _shared(path, what):
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing, and CI must not skip the tests that use {what}")
        pytest.skip(f"{path} not present")
    return path


@pytest.fixture(scope="session")
def shared_weights():
    """Path of ``../shared/weights`` (Real-ESRGAN release files and an independent runtime's
    outputs on Set5 crops); never committed, never skipped under ``CI=true``."""
    return _shared(SHARED_WEIGHTS / "RealESRGAN_x4plus.pth", "the release files").parent


@pytest.fixture(scope="session")
def shared_data():
    """Path of ``../shared/data`` (Set5, Set14, B100 with MATLAB-made x4 LR; T91; BSD200)."""
    return _shared(SHARED_DATA / "Set5" / "HR", "it").parents[1]
