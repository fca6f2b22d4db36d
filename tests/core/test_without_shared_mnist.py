"""A fresh clone has no ../shared/data/mnist beside it: the tests that read the real MNIST files skip and say why
(six of them failed there). Run in a subprocess with the lookup pointed at an empty folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # every test here takes seconds: left out of the quick tier

ROOT = Path(__file__).resolve().parents[2]
READERS_OF_MNIST = [
    "tests/core/test_datasets.py::test_shared_mnist_npz_and_idx",
    "tests/core/test_dataset_info.py::test_idx_header_of_the_shared_mnist",
    "tests/core/test_train_command.py::test_train_with_a_data_spec",
    "tests/core/test_fx_import.py::test_mnist_example_file_imports_and_trains_on_mnist",
    "tests/core/test_script.py::test_exported_script_reproduces_the_app_run[npz_mnist]",
    "tests/core/test_training_examples.py::test_mnist_mlp_example_on_mnist_10k_reaches_94_percent",
]


def test_the_tests_that_read_the_shared_mnist_skip_without_it(tmp_path):
    env = {**os.environ, "TORCHCANVAS_TEST_MNIST": str(tmp_path / "no-mnist-here")}
    command = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *READERS_OF_MNIST]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-3000:]
    assert f"{len(READERS_OF_MNIST)} skipped" in done.stdout, done.stdout[-3000:]
    reasons = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(reasons) == len(READERS_OF_MNIST) and all("needs the shared MNIST files" in r for r in reasons)
    assert str(tmp_path / "no-mnist-here") in done.stdout
