"""torchrun / DistributedDataParallel on the CPU (gloo, 2 processes, tiny networks): the ranks
agree, 2 ranks x 8 images equal 1 process x 16, and a killed run resumes under torchrun."""
import json
import os
import signal
import subprocess
import sys
import time

import torch

from conftest import ROOT

TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
ENV = dict(os.environ, OMP_NUM_THREADS="1", TQDM_DISABLE="1")


def torchrun(*args, timeout=300):
    result = subprocess.run([*TORCHRUN, *map(str, args)], cwd=ROOT, env=ENV, capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def test_both_ranks_end_with_identical_weights(tmp_path):
    torchrun("-m", "tests.ddp_worker", "gan", tmp_path)
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1)]
    for net in ("generator", "discriminator"):
        for key, value in ranks[0][net].items():
            if value.is_floating_point() and "running" not in key:  # BN statistics are per rank
                assert torch.equal(value, ranks[1][net][key]), (net, key)


def test_two_ranks_of_eight_match_one_process_of_sixteen(tmp_path):
    torchrun("-m", "tests.ddp_worker", "match", tmp_path)
    subprocess.run([sys.executable, "-m", "tests.ddp_worker", "match", str(tmp_path)],
                   cwd=ROOT, env=ENV, check=True, timeout=300)
    two = torch.load(tmp_path / "match_world2.pt", weights_only=True)
    one = torch.load(tmp_path / "match_world1.pt", weights_only=True)
    for key in one:
        torch.testing.assert_close(two[key], one[key], rtol=1e-4, atol=1e-6)


def test_run_killed_under_torchrun_resumes_from_its_checkpoint(tmp_path):
    data = tmp_path / "data"
    overrides = {"out_dir": str(tmp_path / "run"), "train_list": str(data / "sample_train.csv"),
                 "val_list": str(data / "sample_test.csv"), "patches_per_image": 2, "log_every": 1,
                 "device": "cpu", "batch_size": 4, "srcnn": {"preset": None},
                 "generator": {"n_blocks": 1, "channels": 8},
                 "stages": {"pretrain": {"iterations": 10 ** 6}, "gan": {"iterations": 0}}}
    command = [*TORCHRUN, "train.py", "--preset", "sample", "--config", json.dumps(overrides)]
    process = subprocess.Popen(command, cwd=ROOT, env=ENV, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    last = tmp_path / "run" / "srresnet_last.pth"
    try:
        deadline = time.time() + 240
        while not last.exists() and time.time() < deadline and process.poll() is None:
            time.sleep(0.5)
        assert last.exists(), "no checkpoint before the kill"
        time.sleep(1.0)
    finally:
        # SIGTERM to torchrun, as a scheduler's kill: it stops its workers (torchrun starts
        # them in sessions of their own, so a SIGKILL of its group would leave them running)
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
    saved = torch.load(last, weights_only=True)["iteration"]
    time.sleep(2.0)
    assert saved > 0 and torch.load(last, weights_only=True)["iteration"] == saved  # all stopped
    overrides["stages"]["pretrain"]["iterations"] = saved + 3
    result = torchrun("train.py", "--preset", "sample", "--config", json.dumps(overrides))
    assert f"srresnet: resumed from {last} at iteration {saved}" in result.stdout
    assert "2 processes (DDP), global batch 4 = 2 x 2" in result.stdout
    assert torch.load(last, weights_only=True)["iteration"] == saved + 3
