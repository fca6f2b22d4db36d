"""Issue 24 for the Keras script: its fixed text lives in ``core/code/templates/keras_main.py`` (linted with the
folder, read as the PyTorch templates are), and it holds only what the project uses: its data half is the PyTorch
script's, specialised the same way (a table carries no image steps, a grey ``.npz`` file the short loader)."""

from __future__ import annotations

import ast
import importlib.util
import itertools
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.code.keras_code import KerasExportError, generate_keras_model
from core.code.keras_script import compile_fit_lines, generate_keras_script
from core.code.script import generate_script
from core.code.templates import function_lines, picked, tags
from core.files.project import Project
from tests.core.train_fixtures import EXAMPLES, example, mlp_project, write_csv

KERAS_OWN = ("build_model", "make_optimizer", "targets", "learning_rate", "main")
PLACEHOLDERS = (
    "OPTIMIZER",
    "RHO",
    "EPSILON",
    "METRIC",
    "MONITOR",
    "PLATEAU",
    "SCHEDULER",
    "STEP_SIZE",
    "GAMMA",
    "VALIDATION",
    "TRAINING_SAMPLES",
)


def _functions(source: str) -> dict[str, str]:
    """name -> text of each top-level function of a script."""
    tree = ast.parse(source)
    return {n.name: ast.get_source_segment(source, n) or "" for n in tree.body if isinstance(n, ast.FunctionDef)}


class _Every(dict):
    """Flags that all hold, or all fail: what a template keeps either way is its fixed text."""

    def __init__(self, value: bool) -> None:
        super().__init__()
        self.value = value

    def __getitem__(self, key: str) -> bool:
        return self.value


def _grey_npz(tmp_path: Path) -> Path:
    path = tmp_path / "grey.npz"
    np.savez(path, x_train=np.zeros((20, 8, 8), np.uint8), y_train=np.arange(20) % 10)
    return path


def _table(tmp_path: Path) -> Project:
    return mlp_project([3], 8, 3, dataset=f"table:{write_csv(tmp_path / 'data.csv')}?label=species")


def _projects(tmp_path: Path) -> dict[str, Project]:
    return {
        "digits": example("digits_mlp"),
        "table": _table(tmp_path),
        "grey npz": example("digits_mlp", dataset=f"npz:{_grey_npz(tmp_path)}"),
        "mnist": example("mnist_cnn"),
        "tokens": example("sequence_lstm"),
    }


@pytest.mark.parametrize("name", ["digits", "table", "grey npz", "mnist", "tokens"])
def test_the_data_half_is_the_pytorch_scripts_word_for_word(name: str, tmp_path: Path) -> None:
    """Same loaders, same ``prepare`` with the same steps, same ``load_data``: both scripts read the same split."""
    project = _projects(tmp_path)[name]
    keras = _functions(generate_keras_script(project))
    torch = _functions(generate_script(project).source)
    data = [f for f in keras if f not in KERAS_OWN]
    assert "load_data" in data
    for function in data:
        assert keras[function] == torch.get(function), function


def test_a_tables_keras_script_has_no_image_steps(tmp_path: Path) -> None:
    source = generate_keras_script(_table(tmp_path))
    for image_only in ("GREY", "fit_channels", "grey", "colour", "weights_statistics"):
        assert image_only not in source, image_only
    assert "def statistics(" in source  # a table's features are normalised


def test_token_ids_get_no_normalisation_in_the_keras_script() -> None:
    source = generate_keras_script(example("sequence_lstm"))
    assert "def prepare(" in source and "def statistics(" not in source and "GREY" not in source


def test_a_grey_npz_keras_script_reads_the_file_with_np_load_in_under_150_lines(tmp_path: Path) -> None:
    source = generate_keras_script(example("mnist_mlp", dataset=f"npz:{_grey_npz(tmp_path)}"))
    print(f"Keras script of the MNIST MLP on an .npz file: {len(source.splitlines())} lines")
    assert len(source.splitlines()) <= 150
    assert "np.load(DATA_FILE, allow_pickle=False)" in source and "def read_npz(" not in source  # no zip parsing
    assert 'raise SystemExit(f"Cannot load {DATA_FILE}: {error}")' in source  # a bad file is named, no traceback


SETTINGS = [
    {"optimizer": optimizer, "scheduler": scheduler, **extra}
    for (optimizer, scheduler), extra in zip(
        itertools.product(
            ("SGD", "Adam", "AdamW", "RMSprop", "Adadelta", "Adagrad"),
            ("none", "StepLR", "CosineAnnealingLR", "ReduceLROnPlateau", "OneCycleLR"),
        ),
        itertools.cycle(
            [
                {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01, "loss": "MSELoss"},
                {"grad_clip": 1.0, "early_stopping": 2, "loss": "BCEWithLogitsLoss", "augment_flip": True},
                {"early_stopping": 1, "monitor": "accuracy", "loss": "NLLLoss"},
            ]
        ),
        strict=False,
    )
]


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: f"{s['optimizer']}-{s['scheduler']}")
def test_the_keras_functions_are_the_template_with_no_tag_or_placeholder_left(settings: dict) -> None:
    source = generate_keras_script(example("digits_mlp", **settings))
    compile(source, "keras_train.py", "exec")
    assert not [line for line in source.splitlines() if tags(line) or tags("  " + line.strip())]
    written = _functions(source)
    for placeholder in PLACEHOLDERS:  # each a whole name: STEP_SIZE's number, not the word
        whole = re.compile(rf"(?<!\w){placeholder}(?!\w)")  # PLATEAU, not the constant PLATEAU_PATIENCE
        assert not [f for f in KERAS_OWN[1:] if f in written and whole.search(ast.unparse(ast.parse(written[f])))]
    for name in KERAS_OWN[1:]:
        if name not in written:
            continue
        template = function_lines("keras_main", name)
        always = set(picked(template, _Every(True))) & set(picked(template, _Every(False)))  # whatever the flags
        fixed = [line.strip().removesuffix(",") for line in template if line in always]
        fixed = [line for line in fixed if not any(p in line for p in PLACEHOLDERS)]
        missing = [line for line in fixed if line not in written[name]]  # items in brackets are wrapped again
        assert not missing, (name, missing)


def _unparsed(function: str) -> str:
    return ast.unparse(ast.parse(function))


def test_the_optimizer_keeps_pytorchs_defaults_where_keras_differs() -> None:
    written = _functions(generate_keras_script(example("digits_mlp", optimizer="RMSprop", momentum=0.5)))
    assert "keras.optimizers.RMSprop(learning_rate=LEARNING_RATE, rho=0.99, epsilon=1e-08, momentum=0.5)" in (
        _unparsed(written["make_optimizer"])
    )
    adagrad = _functions(generate_keras_script(example("digits_mlp", optimizer="Adagrad", weight_decay=0.1)))
    assert "initial_accumulator_value=0.0, epsilon=1e-10, weight_decay=0.1)" in _unparsed(adagrad["make_optimizer"])
    assert "PyTorch's weight_decay adds an L2 gradient term" in adagrad["make_optimizer"]


def test_the_code_views_optimizer_is_the_scripts_with_numbers_for_constants() -> None:
    project = example("digits_mlp", optimizer="SGD", momentum=0.9, grad_clip=0.5, lr=0.01)
    view = _functions("\n".join(compile_fit_lines(project.training)))
    script = _functions(generate_keras_script(project))["make_optimizer"]
    numbers = script.replace("LEARNING_RATE", "0.01").replace("GRAD_CLIP", "0.5")
    assert _unparsed(view["make_optimizer"]) == _unparsed(numbers)
    assert "optimizer=make_optimizer()" in view["compile_model"]


@pytest.mark.slow  # runs ruff on the Keras tab's text of every example: a second or two
def test_the_keras_tabs_code_passes_ruff_for_every_example(tmp_path: Path) -> None:
    """What the code view's Keras tab shows (and Copy copies): the model, then ``make_optimizer`` and
    ``compile_model``; a reader pastes it into a file, so it is held to the exports' check."""
    written = 0
    for path in sorted(EXAMPLES.glob("*.json")):
        project = example(path.stem)
        try:
            model = generate_keras_model(project.graph).source
        except KerasExportError:
            continue
        text = model + "\n\n" + "\n".join(compile_fit_lines(project.training)) + "\n"
        (tmp_path / f"{path.stem}_keras_tab.py").write_text(text, encoding="utf-8")
        written += 1
    assert written >= 5
    for check in (["check"], ["format", "--check", "--diff"]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *check, "--isolated", "--no-cache", str(tmp_path)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow  # imports keras and trains in a child process: seconds
def test_a_keras_script_with_targets_a_schedule_and_early_stopping_runs(tmp_path: Path) -> None:
    """The lines a class loss leaves out (``targets``), ``learning_rate`` and the callbacks, run for real."""
    if importlib.util.find_spec("keras") is None:  # not imported here: the child chooses its backend
        pytest.skip("keras is not installed (pip install -e '.[keras]')")
    from core.training.keras_compare import run_keras

    settings = {"loss": "MSELoss", "scheduler": "StepLR", "step_size": 1, "early_stopping": 3, "epochs": 2}
    result = run_keras(example("digits_mlp", **settings), tmp_path, timeout=300)
    assert [row["epoch"] for row in result.history] == [1, 2]
    assert result.history[1]["learning_rate"] == pytest.approx(0.0001)  # StepLR's gamma 0.1 after one epoch
    assert result.test_loss is not None and np.isfinite(result.test_loss)


def _main_of(source: str) -> str:
    return _functions(source)["main"]


def test_main_has_no_empty_callbacks_and_no_empty_split_test_it_cannot_need() -> None:
    """Review 5 R18: every example's ``main`` had ``callbacks = []`` passed to ``fit`` and ``(x_val, y_val) if
    len(x_val) else None`` though its VAL_FRACTION makes a validation split."""
    plain = _main_of(generate_keras_script(example("digits_mlp")))
    assert "callbacks" not in plain and "len(x_val)" not in plain
    assert "validation_data=(x_val, y_val)," in plain
    stopping = _main_of(generate_keras_script(example("digits_mlp", early_stopping=2)))
    assert "keras.callbacks.EarlyStopping(" in stopping and "callbacks=callbacks," in stopping
    without = _main_of(generate_keras_script(example("digits_mlp", val_fraction=0.0)))
    assert "validation_data=(x_val, y_val) if len(x_val) else None," in without


def test_the_keras_script_uses_the_pytorch_scripts_thread_rule_and_words() -> None:
    """It set ``torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))`` "Keras feeds the batches from a
    thread of its own: leave it a core": Keras 3 on the torch backend feeds numpy arrays from the fitting
    thread itself (one Python thread during fit, measured). Now it takes the PyTorch script's line, where that
    script has it, so the two train on as many threads."""
    for name, one in (("digits_mlp", True), ("mnist_cnn", False)):
        keras_source = generate_keras_script(example(name))
        torch_lines = [line.strip() for line in generate_script(example(name)).source.splitlines()]
        assert "cpu_count" not in keras_source
        threads = [line.strip() for line in keras_source.splitlines() if "set_num_threads" in line]
        assert threads == ([line for line in torch_lines if "set_num_threads" in line] if one else []), name
        assert bool(threads) == one, name


def test_the_keras_loss_of_log_softmax_outputs_says_why_from_logits_is_right() -> None:
    source = generate_keras_script(example("mnist_cnn"))  # LogSoftmax, then NLLLoss
    lines = source.splitlines()
    at = lines.index("LOSS = keras.losses.SparseCategoricalCrossentropy(from_logits=True)")
    assert lines[at - 1].startswith("# PyTorch: NLLLoss of log_softmax") and "from_logits=True" in lines[at - 1]
    view = "\n".join(compile_fit_lines(example("mnist_cnn").training))
    assert lines[at - 1].removeprefix("# ") in view


def test_the_keras_docstring_claims_no_same_numbers_and_main_says_whose_split() -> None:
    source = generate_keras_script(example("digits_mlp"))
    docstring = ast.get_docstring(ast.parse(source)) or ""
    assert "The same network" not in docstring and "its own initial weights" in docstring
    assert "the same split as the PyTorch script" in _main_of(source)
