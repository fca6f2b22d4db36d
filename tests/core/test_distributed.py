"""The exported script under ``torchrun``: two CPU processes (gloo) train like one, only process 0 prints
and writes, and a process that fails ends the whole job with its message.

Tolerance. Each of the 2 processes takes every 2nd sample of the same seeded order in batches of
BATCH_SIZE // 2, so batch k of process 0 and batch k of process 1 together are exactly batch k of the
one-process run, and DistributedDataParallel averages their two mean gradients: the same update up to
the order of the float additions (measured: per-epoch losses within 1e-8 over 20 epochs of the digits MLP).
The test allows 1e-4 on each epoch's loss and 0.01 on the accuracies: far above the rounding, and below
what a mistake changes (checked by editing the script: without the shard the first epoch's loss moves by
0.34, with the metrics of process 0 alone instead of the sum of both by 0.002).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from core.code.script import generate_script
from tests.core.train_fixtures import example

pytestmark = pytest.mark.slow  # every test here takes seconds: left out of the quick tier

EPOCHS = 4
TIMEOUT = 120

# Test-only launcher, not part of the exported script: each process works in its own folder (so a file
# written by process 1 would show), and with CRASH_RANK set that process fails in its second epoch.
LAUNCHER = """
import importlib.util
import os
import sys
from pathlib import Path

script = Path(sys.argv[1]).resolve()
rank = os.environ["RANK"]
folder = Path(f"rank{rank}")
folder.mkdir()
os.chdir(folder)
spec = importlib.util.spec_from_file_location("train", script)
train = importlib.util.module_from_spec(spec)
spec.loader.exec_module(train)
if os.environ.get("CRASH_RANK") == rank:
    epochs = []
    original = train.train_one_epoch

    def train_one_epoch(*args):
        epochs.append(1)
        if len(epochs) == 2:
            raise RuntimeError(f"process {rank} fell over in epoch 2 (test)")
        return original(*args)

    train.train_one_epoch = train_one_epoch
train.main()
"""


def _torchrun() -> list[str]:
    """The venv's torchrun (the same launcher as ``python -m torch.distributed.run``)."""
    exe = Path(sys.executable).with_name("torchrun")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "torch.distributed.run"]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR")}
    return {**env, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1", **extra}


def _prepare(folder: Path) -> Path:
    folder.mkdir()
    script = folder / "train.py"
    script.write_text(generate_script(example("digits_mlp", epochs=EPOCHS, distributed=True)).source)
    (folder / "launch.py").write_text(LAUNCHER)
    return script


def _start_torchrun(folder: Path, **env: str) -> subprocess.Popen[str]:
    command = [*_torchrun(), "--standalone", "--nproc_per_node=2", "launch.py", "train.py"]
    return subprocess.Popen(
        command, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env(**env)
    )


def _test_accuracy(output: str) -> float:
    found = re.findall(r"test accuracy: ([0-9.]+)", output)
    assert len(found) == 1, output  # printed by process 0 only
    return float(found[0])


def test_two_processes_train_like_one_and_only_process_0_writes(tmp_path) -> None:
    script = _prepare(tmp_path / "job")
    job = _start_torchrun(tmp_path / "job")
    single_folder = tmp_path / "single"
    single_folder.mkdir()
    single = subprocess.run(
        [sys.executable, str(script)], cwd=single_folder, capture_output=True, text=True, timeout=TIMEOUT, env=_env()
    )
    output, _ = job.communicate(timeout=TIMEOUT)
    assert single.returncode == 0, single.stdout + single.stderr
    assert job.returncode == 0, output

    assert sorted(p.name for p in (tmp_path / "job" / "rank0").iterdir()) == ["history.json", "model_weights.pt"]
    assert list((tmp_path / "job" / "rank1").iterdir()) == []  # process 1 wrote nothing
    assert output.count(f"Epoch 1/{EPOCHS}") == 1 and output.count("Test loss") == 1

    one = json.loads((single_folder / "history.json").read_text())
    two = json.loads((tmp_path / "job" / "rank0" / "history.json").read_text())
    assert len(one) == len(two) == EPOCHS
    for a, b in zip(one, two, strict=True):
        assert abs(a["loss"] - b["loss"]) <= 1e-4, (a, b)
        assert abs(a["val_loss"] - b["val_loss"]) <= 1e-4, (a, b)
        assert abs(a["accuracy"] - b["accuracy"]) <= 0.01, (a, b)  # over all 1,258 samples, summed by both
    assert abs(_test_accuracy(output) - _test_accuracy(single.stdout)) <= 0.01
    assert _test_accuracy(output) > 0.9


def test_a_failing_process_ends_the_job_with_its_message(tmp_path) -> None:
    _prepare(tmp_path / "job")
    job = _start_torchrun(tmp_path / "job", CRASH_RANK="1")
    output, _ = job.communicate(timeout=TIMEOUT)  # process 0 waits in a collective: torchrun must end it
    assert job.returncode != 0
    assert "process 1 fell over in epoch 2 (test)" in output
    assert not (tmp_path / "job" / "rank0" / "model_weights.pt").exists()
    assert "Test loss" not in output
