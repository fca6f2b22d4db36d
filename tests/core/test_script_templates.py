"""Issue 24: the fixed text of the training script lives in real Python (``core/code/templates``), linted, typed
and tested as code, and the generator copies it word for word: no function written twice, none built line by
line in strings."""

from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

from core.code.script import generate_script
from core.code.templates import FOLDER, function_lines, picked, tags
from tests.core.test_export_lint import _frozen
from tests.core.train_fixtures import example

TEMPLATES = sorted(p.stem for p in FOLDER.glob("*.py") if p.stem not in ("__init__", "script_names"))


@pytest.mark.parametrize("module", TEMPLATES)
def test_each_template_function_is_read_as_python_has_it(module: str) -> None:
    """``function_lines`` reads the file with ast (no import); the text is what inspect gives the imported one."""
    imported = importlib.import_module(f"core.code.templates.{module}")
    functions = [
        n.name for n in ast.parse((FOLDER / f"{module}.py").read_text()).body if isinstance(n, ast.FunctionDef)
    ]
    assert functions, module
    for name in functions:
        assert function_lines(module, name) == inspect.getsource(getattr(imported, name)).rstrip("\n").splitlines()


def test_an_unknown_template_function_is_named() -> None:
    with pytest.raises(KeyError, match=r"no function .nothing. in core/code/templates/transfer\.py"):
        function_lines("transfer", "nothing")


def test_the_templates_pass_ruff_at_the_scripts_line_length() -> None:
    """The folder's ruff.toml holds them to 88 columns, the length the exported scripts are checked with."""
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", str(FOLDER)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "--no-cache", str(FOLDER)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_transfer_functions_of_a_script_are_the_templates(tmp_path) -> None:
    two_phases = {
        "epochs": 4,
        "freeze_epochs": 2,
        "unfreeze_lr_factor": 0.05,
        "initial_weights": str(tmp_path / "w.pt"),
    }
    source = generate_script(_frozen(example("resnet_small", **two_phases), "conv1", "bn1", "layer1")).source
    for name in ("start_from", "freeze", "keep_frozen_norms_in_eval", "unfreeze"):
        assert "\n".join(function_lines("transfer", name)) in source, name


def test_the_transfer_templates_do_what_their_docstrings_say() -> None:
    from core.code.templates import script_names, transfer

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    donor = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 5))  # another head
    loaded, new = transfer.start_from(model, donor.state_dict())
    assert new == ["2.weight", "2.bias"] and "0.weight" in loaded
    assert torch.equal(model[0].weight, donor[0].weight)
    script_names.FROZEN[:] = ["0", "1"]
    try:
        transfer.freeze(model)
    finally:
        script_names.FROZEN.clear()
    assert not model[0].weight.requires_grad and model[2].weight.requires_grad
    model.train()
    transfer.keep_frozen_norms_in_eval(model)
    assert not model[1].training and model.training
    optimizer = transfer.unfreeze(model)
    assert all(p.requires_grad for p in model.parameters())
    assert optimizer.param_groups[0]["lr"] == pytest.approx(
        script_names.LEARNING_RATE * script_names.UNFREEZE_LR_FACTOR
    )


def test_tags_keep_the_lines_whose_flags_hold_and_their_blocks() -> None:
    lines = [
        "def f(",
        "    a,",
        "    b,  # [amp]",
        "    c=None,",
        ") -> tuple:",
        "    x = 1  # [!amp]",
        "    if ready:  # [dist]",
        "        y = 2",
        "        z = 3  # [amp]",
        "    return x  # plain comment",
    ]
    assert picked(lines, {"amp": False, "dist": True}) == [
        "def f(a, c=None) -> tuple:",
        "    x = 1",
        "    if ready:",
        "        y = 2",
        "    return x  # plain comment",
    ]
    assert picked(lines, {"amp": True, "dist": False}) == [
        "def f(a, b, c=None) -> tuple:",
        "    return x  # plain comment",
    ]
    with pytest.raises(KeyError, match="no flag 'dist'"):
        picked(lines, {"amp": True})


def test_a_tag_alone_on_its_line_keeps_or_drops_the_next_statement_whole() -> None:
    lines = [
        "def f():",
        "    # [stops]",
        '    """Two lines',
        '    of docstring."""',
        '    """One line."""  # [!stops]',
        "    # [dist]",
        "    total = call(",
        "        first,",
        "        second,",
        "    )",
        "    return total",
    ]
    assert picked(lines, {"stops": False, "dist": False}) == ["def f():", '    """One line."""', "    return total"]
    assert picked(lines, {"stops": True, "dist": True}) == [lines[0], *lines[2:4], *lines[6:]]


def test_picked_parameters_are_wrapped_as_ruff_format_wraps_them() -> None:
    long = ["def train(", *[f"    argument_number_{i},  # [on]" for i in range(6)], ") -> None:", "    pass"]
    assert picked(long, {"on": True})[:2] == [
        "def train(",
        "    argument_number_0,",
    ]
    assert picked(long, {"on": False}) == ["def train() -> None:", "    pass"]


def test_the_training_step_follows_the_settings() -> None:
    """Mixed precision with clipping unscales before it clips; without it, plain steps; OneCycle steps per batch."""
    amp = generate_script(example("mnist_cnn", device="auto", amp=True, grad_clip=1.0)).source
    step = amp[amp.index("def train_one_epoch") :].split("\n\n\n")[0]
    signature = step[: step.index('"""')]  # wrapped as ruff format wraps it when it is long
    assert "scaler" in signature and "scheduler" not in signature
    order = ["scaler.scale(loss).backward()", "scaler.unscale_(optimizer)", "clip_grad_norm_", "scaler.step(optimizer)"]
    assert [step.index(piece) for piece in order] == sorted(step.index(piece) for piece in order)
    assert "loss.backward()" not in step and "optimizer.step()" not in step and "#  [" not in step
    plain = generate_script(example("digits_mlp", scheduler="OneCycleLR", loss="MSELoss")).source
    step = plain[plain.index("def train_one_epoch") :].split("\n\n\n")[0]
    assert "scheduler.step()" in step and "to_target(outputs, labels, LOSS)" in step and "autocast" not in step
    assert "classes_of(outputs, LOSS) == labels" in step and "# [" not in step


@pytest.mark.parametrize(
    "settings",
    [
        {"device": "auto", "distributed": True, "loss": "MSELoss", "early_stopping": 1, "scheduler": "StepLR"},
        {"device": "mps", "scheduler": "OneCycleLR", "augment_flip": True, "early_stopping": 2, "monitor": "accuracy"},
        {"device": "cuda", "grad_clip": 1.0, "initial_weights": "/tmp/resnet18-f37072fd.pth"},
    ],
)
def test_no_tag_or_placeholder_of_a_template_reaches_a_script(settings: dict) -> None:
    source = generate_script(example("mnist_cnn", **settings)).source
    compile(source, "train.py", "exec")
    assert not [line for line in source.splitlines() if tags(line) or tags("  " + line.strip())]
    for left in ("LOSS_FN", "TORCHVISION_WEIGHTS", "MONITOR", "EPOCH_WORD", "AUGMENT"):
        assert left not in source, left
    if settings.get("early_stopping"):
        word = "epoch" if settings["early_stopping"] == 1 else "epochs"
        assert f"no better {settings.get('monitor', 'val_loss')} for {{PATIENCE}} {word}." in source


@pytest.mark.parametrize(
    ("dataset", "form"),
    [("npz:{}", "npz_data"), ("mnist", "vision_data"), ("digits", "prepared_data")],
)
def test_load_data_is_its_template_picked_whole(dataset: str, form: str, tmp_path) -> None:
    """Each form of ``load_data`` lives once in templates/data.py (linted with the folder, above) and the script
    has it word for word but for its name and the placeholders the generator fills (DATASET, RAW)."""
    grey = tmp_path / "grey.npz"  # a grey .npz that is here takes the short split
    np.savez(grey, x_train=np.zeros((4, 28, 28), np.uint8), y_train=np.arange(4))
    source = generate_script(example("mnist_mlp", dataset=dataset.format(grey))).source
    written = source[source.index("def load_data()") :].split("\n\n\n")[0].splitlines()
    template = function_lines("data", form, {"tokens": False, "given_test": False})  # digits: normalised, no test split
    assert written[0] == template[0].replace(form, "load_data")
    assert len(written) >= len(template) - 1, written
    placeholders = ("DATASET", "RAW")
    for line in template[1:]:
        if not any(p in line for p in placeholders):
            assert line in written, line
    assert not [line for line in written if any(p in line.split("#")[0] for p in (*placeholders, "LOAD"))]


def test_the_resize_lines_are_the_template_with_or_without_the_weights_crop() -> None:
    plain = function_lines("data", "resized_raw", {"crop": False}, {"LOAD": 'load_sklearn("digits")'})
    crop = function_lines("data", "resized_raw", {"crop": True}, {"CROP_RESIZE": "256", "CROP_SIZE": "224"})
    assert "        x_test = resize_images(x_test, IMAGE_SIZE)" in plain and "resize_crop" not in "\n".join(plain)
    assert "    x = resize_crop(x, 256, 224)" in crop and "resize_images" not in "\n".join(crop)
