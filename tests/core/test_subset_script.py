"""Review 6, S13: a few-shot subset of an ``.npz`` file (``npz:FILE:classes=5-9,per_class=20``) switched the
exported script from the short ``np.load`` loader (148 lines for the MNIST MLP) to the general one (436 lines:
NHWC and byte-order branches, token ids, zip magic numbers, an unreachable regression check) and named the app's spec
text in its errors. Now the subset is the app's own ``few_shot`` (core.portable.subsets), pasted word for word and
applied to the short loader's tensors; its errors name CLASSES and PER_CLASS, ``main`` the file."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from core.code.script import generate_script
from core.datasets import load_dataset
from core.portable import subsets
from core.training import Trainer
from core.training.setup import run_as_module
from tests.core.train_fixtures import assert_script_history_is_the_apps, mlp_project, run_script, write_idx

MNIST = Path("/work/shared/data/mnist/mnist_10k.npz")  # real data, never copied into the repo
SUBSETS = (":classes=5-9,per_class=20", ":per_class=20", ":classes=3+1")
GENERAL = ("images_to_tensor", "tokens_to_tensor", "read_npz", "check_npz_member", "def prepare(", "keep_classes")
SPLITS = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")
needs_mnist = pytest.mark.skipif(not MNIST.exists(), reason="real MNIST is not on this computer")


def _project(subset: str, **training) -> object:
    outputs = {":classes=5-9,per_class=20": 5, ":classes=3+1": 2}.get(subset, 10)
    return mlp_project([1, 28, 28], 16, outputs, dataset=f"npz:{MNIST}{subset}", **training)


@needs_mnist
@pytest.mark.parametrize("subset", SUBSETS)
def test_a_few_shot_npz_script_keeps_the_short_loader(subset: str) -> None:
    """Fails before: the subset took the general loader and quoted the spec in ``keep_classes(raw, ..., "npz:...")``."""
    plain = generate_script(_project("")).source
    source = generate_script(_project(subset)).source
    assert "np.load(DATA_FILE, allow_pickle=False)" in source
    assert inspect.getsource(subsets.few_shot) in source  # the app's code, word for word
    assert 'raw = few_shot(*raw, CLASSES, PER_CLASS, SEED, "CLASSES, PER_CLASS")' in source
    assert [name for name in GENERAL if name in source] == []
    assert f"npz:{MNIST}" not in source  # no spec text: the constants say it
    added = len(source.splitlines()) - len(plain.splitlines())
    assert added <= 45, added  # few_shot, its call and two constants (was 288)


@needs_mnist
@pytest.mark.parametrize("subset", SUBSETS)
def test_the_script_keeps_the_apps_samples_of_real_mnist(subset: str) -> None:
    """The same samples, in the same order and numbering, as the app's loader (``keep_classes`` then ``prepare``)."""
    project = _project(subset)
    module, _ = run_as_module(generate_script(project).source)
    s = project.training
    data = load_dataset(
        f"npz:{MNIST}{subset}", val_fraction=s.val_fraction, test_fraction=s.test_fraction, input_shape=(1, 28, 28)
    )
    app = (data.x_train, data.y_train, data.x_val, data.y_val, data.x_test, data.y_test)
    for name, mine, theirs in zip(SPLITS, module.load_data(), app, strict=True):
        assert mine.shape == theirs.shape and torch.allclose(mine, theirs, atol=1e-6), (subset, name)
        if name.startswith("y"):
            assert torch.equal(mine, theirs), (subset, name)


def _mnist_files(root: Path) -> Path:
    """torchvision's MNIST files placed by hand (unpacked: torchvision then downloads nothing)."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    write_idx(raw / "train-images-idx3-ubyte", rng.integers(0, 255, (200, 28, 28)))
    write_idx(raw / "train-labels-idx1-ubyte", np.arange(200) % 10)
    write_idx(raw / "t10k-images-idx3-ubyte", rng.integers(0, 255, (50, 28, 28)))
    write_idx(raw / "t10k-labels-idx1-ubyte", np.arange(50) % 10)
    return root


def test_torchvision_mnist_with_a_subset_keeps_the_short_loader(tmp_path: Path) -> None:
    """The same step for torchvision's MNIST family: the short loader, few_shot on its tensors, the app's samples.
    Fails before (the general loader: images_to_tensor, keep_classes with the spec text)."""
    root = _mnist_files(tmp_path / "data")
    spec = "mnist:classes=7+2+4,per_class=8"
    project = mlp_project([1, 28, 28], 16, 3, dataset=spec)
    source = generate_script(project).source
    assert "datasets.MNIST(DATA_DIR, train=True, download=True)" in source and "few_shot(*raw" in source
    assert [name for name in GENERAL if name in source] == [] and spec not in source
    module, _ = run_as_module(source)
    module.DATA_DIR = str(root)
    s = project.training
    data = load_dataset(spec, data_dir=root, val_fraction=s.val_fraction, test_fraction=s.test_fraction)
    assert data.class_names[0].startswith("2") and data.count("test") == 15  # 2, 4, 7: five test samples each
    for name, mine in zip(SPLITS, module.load_data(), strict=True):
        theirs = getattr(data, name)
        assert mine.shape == theirs.shape and torch.allclose(mine.float(), theirs.float(), atol=1e-6), name
        assert mine.dtype == theirs.dtype, name


def test_few_shot_is_what_keep_classes_did() -> None:
    """The app's ``keep_classes`` now calls ``few_shot``: the same samples as the code it replaced, on labels with a
    missing class number and a test split (the former body, run here on the same tensors)."""
    y = torch.tensor([0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 3, 3, 4] * 4)
    x = torch.arange(len(y)).float()[:, None]
    y_test = torch.tensor([4, 3, 2, 1, 0, 2, 2])
    raw = (x, y, x_test := torch.arange(7).float()[:, None], y_test, [str(c) for c in range(5)])
    for classes, per_class, seed in (([4, 1, 3], 5, 0), ([], 6, 3), ([2, 0], 0, 1)):
        got = subsets.keep_classes(raw, classes, per_class, seed, "here")
        wanted = classes or list(range(5))
        generator = torch.Generator().manual_seed(seed)
        rows = []
        for c in wanted:
            found = (y == c).nonzero().flatten()
            if per_class:
                found = found[torch.randperm(len(found), generator=generator)[:per_class]]
            rows.append(found)
        keep = torch.cat(rows).sort().values
        test = torch.cat([(y_test == c).nonzero().flatten() for c in wanted]).sort().values
        renumber = {c: k for k, c in enumerate(wanted)}
        assert torch.equal(got[0], x[keep]) and got[1].tolist() == [renumber[int(c)] for c in y[keep]]
        assert torch.equal(got[2], x_test[test]) and got[3].tolist() == [renumber[int(c)] for c in y_test[test]]
        assert got[4] == [str(c) for c in wanted]


def test_the_apps_subset_errors_stay_one_line() -> None:
    y = torch.tensor([0, 1, 1, 2, 2, 2])
    raw = (torch.zeros(6, 1), y, None, None, ["a", "b", "c"])
    with pytest.raises(ValueError, match=r"^spec: there is no class 3; the classes are numbered 0 to 2$"):
        subsets.keep_classes(raw, [1, 3], 0, 0, "spec")
    with pytest.raises(ValueError, match=r"^spec: class 0 has 1 samples, fewer than the 2 to keep of each class$"):
        subsets.keep_classes(raw, [], 2, 0, "spec")


@needs_mnist
@pytest.mark.slow  # trains in a subprocess
def test_the_few_shot_npz_script_gives_the_app_numbers(tmp_path: Path) -> None:
    """Run as its own process (CPU), the script's per-epoch losses are the app's within 1e-6."""
    project = _project(SUBSETS[0], epochs=2, batch_size=16, val_fraction=0.2)
    done = run_script(tmp_path / "run", generate_script(project).source)
    assert done.returncode == 0, done.stdout + done.stderr
    app = Trainer(project, save=False).run()
    assert app.status == "finished", app.message
    assert_script_history_is_the_apps(tmp_path / "run", app.history, 2)


@needs_mnist
@pytest.mark.slow  # runs the script in a subprocess
def test_an_edited_subset_is_refused_in_words(tmp_path: Path) -> None:
    """A user who edits CLASSES or PER_CLASS past the file reads one sentence naming the file and the constants."""
    source = generate_script(_project(SUBSETS[0])).source
    for i, (old, new, words) in enumerate(
        (
            ("CLASSES = [5, 6, 7, 8, 9]", "CLASSES = [5, 12]", "CLASSES, PER_CLASS: there is no class 12; the classes"),
            ("PER_CLASS = 20", "PER_CLASS = 5000", "CLASSES, PER_CLASS: class 5 has"),
        )
    ):
        done = run_script(tmp_path / f"run{i}", source.replace(old, new, 1))
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        assert f"Cannot load {MNIST}: {words}" in done.stderr, done.stderr
        assert f"npz:{MNIST}" not in done.stderr


@needs_mnist
@pytest.mark.slow  # runs ruff
def test_every_few_shot_npz_script_passes_ruff(tmp_path: Path) -> None:
    for i, subset in enumerate(SUBSETS):
        (tmp_path / f"few_shot{i}.py").write_text(generate_script(_project(subset)).source)
    for args in (("check",), ("format", "--check", "--diff")):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *args, "--isolated", "--no-cache", str(tmp_path)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
