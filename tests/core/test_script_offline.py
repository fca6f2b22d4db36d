"""Review 5, R7: a script of torchvision data run offline, in a folder without the files. torchvision's download
raises RuntimeError ("Error downloading train-images-idx3-ubyte.gz"), which main's ``except (OSError, KeyError,
ValueError)`` missed: the reader got a 19-line traceback instead of words saying what to do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.code.keras_script import generate_keras_script
from core.code.script import generate_script
from tests.core.train_fixtures import example, mlp_project

pytestmark = pytest.mark.slow  # starts the scripts in Python processes of their own: seconds


def _run_offline(source: str, folder: Path) -> subprocess.CompletedProcess[str]:
    """The script run in an empty folder whose every download goes to a closed port (no internet)."""
    folder.mkdir()
    (folder / "train.py").write_text(source, encoding="utf-8")
    closed = "http://127.0.0.1:9"  # the discard port: the connection is refused at once
    env = {**os.environ, "http_proxy": closed, "https_proxy": closed, "HTTP_PROXY": closed, "HTTPS_PROXY": closed}
    env.pop("no_proxy", None), env.pop("NO_PROXY", None)
    return subprocess.run(
        [sys.executable, "train.py"], cwd=folder, env=env, capture_output=True, text=True, timeout=240, check=False
    )


def _says_what_to_do(result: subprocess.CompletedProcess[str], name: str, where: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    message = result.stderr.strip()
    assert f"torchvision could not download {name}" in message, message
    assert "connect to the internet" in message and where in message, message
    assert len(message.splitlines()) == 1, message


def test_an_mnist_script_offline_says_to_connect_or_place_the_files(tmp_path: Path) -> None:
    """The short loader of the MNIST family (mnist_mlp), the PyTorch and the Keras script."""
    project = example("mnist_mlp")
    _says_what_to_do(_run_offline(generate_script(project).source, tmp_path / "torch"), "MNIST", "data/MNIST/raw")
    if "keras" in sys.modules or _has_keras():
        _says_what_to_do(_run_offline(generate_keras_script(project), tmp_path / "keras"), "MNIST", "data/MNIST/raw")


def test_a_general_torchvision_script_offline_says_so_too(tmp_path: Path) -> None:
    """The general loader (resized images; the MNIST family's short one, a few-shot spec's too, is above):
    ``load_torchvision``."""
    spec = "fashion_mnist:classes=0-1,per_class=3"
    source = generate_script(mlp_project([1, 32, 32], 8, 2, dataset=spec, resize=[32, 32])).source
    assert "load_torchvision(" in source
    _says_what_to_do(_run_offline(source, tmp_path / "few"), "FashionMNIST", "data/FashionMNIST/raw")


def _has_keras() -> bool:
    import importlib.util

    return importlib.util.find_spec("keras") is not None
