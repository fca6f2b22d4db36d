"""The notebook's words say what its cells hold (issue 24, review 5): the "Training loop" markdown names the
lines of the cell below it, mixed precision or not, and a network the Keras export refuses is told in one
sentence naming its layers."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from core.code.notebook import Step, steps
from core.code.script import generate_script
from core.files.project import Project
from tests.core.train_fixtures import EXAMPLES, example

NAMES = sorted(path.stem for path in EXAMPLES.glob("*.json"))


def _step(found: list[Step], title: str) -> Step:
    return next(step for step in found if step.title == title)


def _loop_spans(text: str) -> list[str]:
    """The code the markdown says the loop runs for each batch: the spans between "for each batch," and ";"."""
    said = re.search(r"for each batch, (.*?); after each epoch", text)
    assert said, text
    return re.findall(r"`([^`]+)`", said[1])


@pytest.mark.parametrize(
    "settings",
    [
        {"device": "auto"},  # mixed precision on (the examples' default): the scaler's lines
        {"device": "auto", "amp": False},
        {"device": "cpu"},  # no GPU possible: the plain lines
        {"device": "auto", "grad_clip": 1.0},
        {"device": "cpu", "grad_clip": 1.0, "scheduler": "OneCycleLR"},
    ],
)
@pytest.mark.parametrize("name", ["digits_mlp", "sequence_lstm"])
def test_the_training_loop_words_name_the_lines_of_its_cell(name: str, settings: dict) -> None:
    loop = _step(steps(example(name, **settings)), "Training loop")
    code = "\n".join(loop.code)
    spans = _loop_spans(loop.text)
    assert spans, loop.text
    for span in spans:  # each call the words promise is in the cell, as written
        assert span in code, (span, settings)
    scaler = "scaler.step(optimizer)" in code
    assert ("loss.backward()" in spans) is not scaler and ("optimizer.step()" in spans) is not scaler
    assert ("GradScaler" in loop.text) is scaler  # one sentence says what the scaler does, only when it is there


@pytest.mark.parametrize("name", NAMES)
def test_every_examples_loop_words_match_its_cell(name: str) -> None:
    project = example(name, device="auto")  # as the examples ship: a GPU may run them
    loop = _step(steps(project), "Training loop")
    code = "\n".join(loop.code)
    for span in _loop_spans(loop.text):
        assert span in code, (name, span)


@pytest.mark.parametrize(
    ("name", "sentence"),
    [
        ("resnet_small", "it has no Keras translation for `layer1` and `layer2` (Block)."),
        ("sequence_transformer", "for `positions` (PositionalEmbedding) and `encoder` (TransformerEncoder)."),
    ],
)
def test_a_network_keras_lacks_is_told_in_one_sentence_naming_its_layers(name: str, sentence: str) -> None:
    text = _step(steps(example(name)), "Model").text
    words = text.split("```")[-1].strip()  # after the summary table
    assert words.startswith("TorchCanvas cannot write this network in Keras yet:"), words
    assert words.endswith(sentence), words
    assert words.count("Keras") == 2 and not words.endswith(":")  # no repeated clause, no list-less colon


def _top_level_exits(code: str) -> list[str]:
    """``raise SystemExit`` run by the cell itself (not inside a function it defines)."""
    found = []
    for statement in ast.parse(code).body:
        if isinstance(statement, (ast.FunctionDef, ast.ClassDef)):
            continue
        found += [
            ast.unparse(n) for n in ast.walk(statement) if isinstance(n, ast.Raise) and "SystemExit" in ast.unparse(n)
        ]
    return found


@pytest.mark.parametrize("name", ["mnist_mlp", "digits_mlp", "sequence_lstm", "resnet_small"])
def test_no_cell_ends_the_kernel_and_the_curves_import_matplotlib_plainly(name: str) -> None:
    """In Jupyter a SystemExit reads as a crashed kernel ("An exception has occurred, use %tb"): the data cell lets
    the loader's own error show; the curves cell imports matplotlib as every tutorial does, no second path."""
    found = steps(example(name))
    for step in found:
        for code in step.code:
            assert not _top_level_exits(code), (step.title, code)
    data = "\n".join(_step(found, "Data").code)
    assert "data = load_data()" in data
    curves = "\n".join(_step(found, "Curves").code)
    assert curves.startswith("import matplotlib.pyplot as plt\n") and "plt is None" not in curves
    assert "%pip install matplotlib" in _step(found, "Curves").text


def _frozen(project: Project, *names: str) -> Project:
    for name in names:
        project.graph.set_trainable(project.graph.by_name(name).id, False)
    return project


DISTRIBUTED = re.compile(r"\b(dist|DDP|WORLD_SIZE|world|rank|main_process|distributed|torchrun)\b")


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"scheduler": "OneCycleLR", "epochs": 4, "freeze_epochs": 2},  # phase two rebuilds DDP in the script
    ],
)
def test_a_distributed_projects_notebook_is_the_one_process_code_and_points_to_torchrun(settings: dict) -> None:
    """S14 (review 6): a Jupyter kernel is never started by torchrun, so the DDP lines could never run there."""
    found = steps(_frozen(example("mnist_cnn", distributed=True, **settings), "conv1"))
    alone = steps(_frozen(example("mnist_cnn", distributed=False, **settings), "conv1"))
    code = "\n".join(part for step in found for part in step.code)
    assert not DISTRIBUTED.findall(code), sorted(set(DISTRIBUTED.findall(code)))
    assert [step.code for step in found] == [step.code for step in alone]  # the very cells of one process
    loop = _step(found, "Training loop").text
    assert "export the script and run it with torchrun" in loop and "the README's torchrun section" in loop
    assert "torchrun" not in _step(alone, "Training loop").text


def _transfer(tmp_path: Path, **settings: object) -> Project:
    """Transfer learning as the lint matrix has it: initial weights, a frozen start, two phases."""
    training = {"epochs": 4, "freeze_epochs": 2, "unfreeze_lr_factor": 0.05, "initial_weights": str(tmp_path / "w.pt")}
    return _frozen(example("resnet_small", **{**training, **settings}), "conv1", "bn1", "layer1")


def _defined(code: list[str]) -> set[str]:
    return {n.name for part in code for n in ast.parse(part).body if isinstance(n, ast.FunctionDef)}


def _run_here(code: list[str]) -> list[str]:
    """The statements a cell runs itself (not the functions it defines)."""
    return [ast.unparse(n) for part in code for n in ast.parse(part).body if not isinstance(n, ast.FunctionDef)]


def test_the_transfer_notebook_starts_and_freezes_in_a_cell_of_its_own_beside_keras(tmp_path: Path) -> None:
    """S15 (review 6): the loading, freezing and unfreezing were 5 functions inside a 126-line "Training loop" cell
    whose markdown never said freeze; now a cell of their own, the Keras guide's pair beside it, and the loop's
    markdown says what happens after FREEZE_EPOCHS."""
    found = steps(_transfer(tmp_path))
    titles = [step.title for step in found]
    title = "Start from pretrained weights and freeze some layers"
    assert titles.index("Model") + 1 == titles.index(title) < titles.index("Training loop"), titles
    start, loop = _step(found, title), _step(found, "Training loop")
    transfer = {"start_from", "start_from_file", "freeze", "keep_frozen_norms_in_eval", "unfreeze"}
    assert _defined(start.code) == transfer
    assert _run_here(start.code) == ["start_from_file(model)", "model = model.to(device)", "freeze(model)"]
    assert not _defined(loop.code) & transfer and "freeze(model)" not in _run_here(loop.code)
    assert "unfreeze(model)" in "\n".join(loop.code)  # phase two stays in the loop, where it happens
    for name in re.findall(r"`(\w+)`", start.text):  # each function the words name is the cell's
        assert name in transfer | {"make_optimizer", "train_one_epoch", "FROZEN", "INITIAL_WEIGHTS", "FREEZE_EPOCHS"}
    keras = start.text.split("```python\n")[1]
    lines = [line.split("  #")[0] for line in keras.splitlines() if not line.startswith("#")]
    assert lines[0] == "base_model.trainable = False" and lines[3] == "base_model.trainable = True", lines
    assert [line.split("(")[0] for line in lines[1:3] + lines[4:6]] == ["model.compile", "model.fit"] * 2
    assert "LEARNING_RATE * UNFREEZE_LR_FACTOR" in lines[4] and "EPOCHS - FREEZE_EPOCHS" in lines[5]
    assert "`freeze`" in start.text and "`unfreeze`" in start.text and "`keep_frozen_norms_in_eval`" in start.text
    assert "After `FREEZE_EPOCHS` (2) epochs, phase two: `unfreeze(model)`" in loop.text
    assert "`LEARNING_RATE * UNFREEZE_LR_FACTOR` (0.0001)" in loop.text and "base_model.trainable = True" in loop.text


@pytest.mark.parametrize(
    ("settings", "title", "runs"),
    [
        (  # torchvision's weights: the print of what was loaded goes with the loading
            {"initial_weights": "/tmp/resnet18-f37072fd.pth"},
            "Start from pretrained weights",
            ["weights = ResNet18_Weights.IMAGENET1K_V1", "loaded, new = start_from(", "print(f'From {weights}"],
        ),
        ({"freeze_epochs": 0, "initial_weights": ""}, "Freeze some layers", ["freeze(model)"]),
    ],
)
def test_the_transfer_cell_says_only_what_it_holds(settings: dict, title: str, runs: list[str]) -> None:
    if settings.get("initial_weights"):
        pytest.importorskip("torchvision", reason="the script names torchvision's weights enum")
        project = example("resnet18", **settings)
    else:
        project = _frozen(example("resnet_small", **settings), "conv1")
    found = steps(project)
    start = _step(found, title)
    ran = _run_here(start.code)
    assert [line[: len(want)] for line, want in zip(ran, runs, strict=False)] == runs, ran
    assert ("base_model.trainable = False" in start.text) is ("freeze" in _defined(start.code))
    assert "unfreeze" not in start.text and "FREEZE_EPOCHS" not in _step(found, "Training loop").text


def _run_before_defined(found: list[Step]) -> list[tuple[str, str]]:
    """(step, name): a function or class that a cell's own statements reach, directly or through the functions
    they call, but that only a later cell defines: running the notebook top to bottom stops there (NameError)."""
    where: dict[str, int] = {}
    bodies: dict[str, ast.stmt] = {}
    for i, step in enumerate(found):
        for node in (n for part in step.code for n in ast.parse(part).body):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                where[node.name], bodies[node.name] = i, node
    late = []
    for i, step in enumerate(found):
        run = [n for part in step.code for n in ast.parse(part).body if not isinstance(n, ast.FunctionDef)]
        todo = [n.id for node in run for n in ast.walk(node) if isinstance(n, ast.Name)]
        seen: set[str] = set()
        while todo:
            name = todo.pop()
            if name in seen or name not in where:
                continue
            seen.add(name)
            if where[name] > i:
                late.append((step.title, name))
            todo += [n.id for n in ast.walk(bodies[name]) if isinstance(n, ast.Name)]
    return late


@pytest.mark.parametrize("name", NAMES)
def test_no_cell_runs_what_a_later_cell_defines(name: str) -> None:
    """The resnet18 example reads its folder batch by batch (streamed: imagenet/train is not here): load_data, in
    the Data cell, made an ImageFiles, a class the Model cell defined, whose read_image the Training loop cell
    defined. A Dataset class and what it reads now go to the Data cell."""
    assert _run_before_defined(steps(example(name))) == []


def test_a_streamed_folders_notebook_reads_its_pictures_in_the_kernel() -> None:
    """DataLoader workers started by spawn (macOS, Windows) cannot load ImageFiles, a class defined in a cell: the
    resnet18 example's notebook failed there at its first batch. The script keeps its workers."""
    settings = steps(example("resnet18"))[0].code[0]
    assert "WORKERS = 0" in settings and "os.cpu_count" not in settings
    assert "WORKERS = min(4, (os.cpu_count() or 1) - 1)" in generate_script(example("resnet18")).source
