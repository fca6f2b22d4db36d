"""Review 7 (issue 24, "only what this project uses is in the file"): lines pasted into an exported script that
its project never runs. T4: the streamed image-folder script's ``evaluate`` kept ``to_target``'s one-hot branch,
``classes_of`` and a ``LOSS`` string for a class loss (the in-memory one takes ``outputs.argmax(1)`` and
``loss_fn(outputs, labels)``). T12: ``model(inputs).float()`` in evaluate functions, which never autocast."""

from __future__ import annotations

import pytest

import core.datasets.folder as folder_module
from core.code.script import generate_script
from tests.core.train_fixtures import example, mlp_project, write_images


def _function(source: str, name: str) -> str:
    """The text of the script's top-level function ``name``, up to the next top-level line."""
    lines = source.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"def {name}("))
    end = next((i for i in range(start + 1, len(lines)) if lines[i][:1] not in ("", " ", ")")), len(lines))
    return "\n".join(lines[start:end])


def test_the_resnet18_example_evaluates_a_class_loss_without_a_loss_name() -> None:
    """T4, fails before: resnet18/train.py had LOSS, to_target's one-hot branch and classes_of."""
    source = generate_script(example("resnet18")).source
    evaluate = _function(source, "evaluate")
    assert "outputs.argmax(1)" in evaluate and "loss_fn(outputs, labels)" in evaluate
    for unused in ("LOSS", "to_target", "classes_of", "one_hot", "import torch.nn.functional as F", "kept"):
        assert unused not in source, unused
    assert "evaluate(model, val_loader, loss_fn, device)" in source
    assert "evaluate(model, test_loader, loss_fn, device)" in source


def test_a_streamed_folder_under_another_loss_keeps_its_targets(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The other side of T4: MSELoss on a big folder's classes still compares one-hot rows and names its loss."""
    monkeypatch.setattr(folder_module, "MAX_IN_MEMORY_BYTES", 100)
    pictures = write_images(tmp_path / "pictures", {"dark": 6, "light": 6})
    project = mlp_project([3, 6, 6], 8, 2, dataset=f"folder:{pictures}", loss="MSELoss")
    source = generate_script(project).source
    assert "class ImageFiles(Dataset):" in source  # streamed
    evaluate = _function(source, "evaluate")
    assert "to_target(outputs, labels, loss_name)" in evaluate and "classes_of(outputs, loss_name)" in evaluate
    assert 'LOSS = "MSELoss"' in source and "evaluate(model, val_loader, loss_fn, LOSS, device)" in source


@pytest.mark.parametrize("name", ["mnist_mlp", "spirals", "resnet18"])
def test_evaluate_never_casts_what_it_never_autocast(name: str) -> None:
    """T12, fails before: every evaluate had ``outputs = model(inputs).float()``."""
    evaluate = _function(generate_script(example(name)).source, "evaluate")
    assert "outputs = model(inputs)\n" in evaluate + "\n" and ".float()" not in evaluate, evaluate


def test_a_regression_evaluate_never_casts_either(tmp_path) -> None:
    """T12 in the loop's own evaluate and regression_figures (numbers to predict)."""
    table = tmp_path / "houses.csv"
    table.write_text("a,b,price\n" + "".join(f"{i},{i % 3},{i * 1.5}\n" for i in range(30)), encoding="utf-8")
    project = mlp_project([2], 4, 1, dataset=f"table:{table}?label=price", loss="MSELoss")
    source = generate_script(project).source
    for name in ("evaluate", "regression_figures"):
        assert ".float()" not in _function(source, name), name


IMAGENET = {"normalize": True, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}


def _run(source: str, name: str, *args: object) -> object:
    """Call the script's function ``name`` as pasted, with the script's imports."""
    namespace: dict[str, object] = {}
    imports = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    exec("\n".join([*imports, _function(source, name)]), namespace)
    return namespace[name](*args)  # type: ignore[operator]


def test_a_streamed_pretrained_script_normalises_only_as_its_lines_say(tmp_path, monkeypatch) -> None:
    """T6, fails before: the docstring offered the training pictures' statistics (normalize True), whose lines
    were not pasted: ``NORMALIZE = True`` gave NameError: name 'mean' is not defined."""
    monkeypatch.setattr(folder_module, "MAX_IN_MEMORY_BYTES", 100)
    pictures = write_images(tmp_path / "pictures", {"dark": 6, "light": 6})
    source = generate_script(mlp_project([3, 6, 6], 8, 2, dataset=f"folder:{pictures}", **IMAGENET)).source
    assert "class ImageFiles(Dataset):" in source
    normalize = _function(source, "normalize_splits")
    assert "of the training" not in normalize and "picks" not in normalize, normalize
    assert "pretrained network's own (mean, std)" in normalize
    _run(source, "normalize_splits", [], True)  # a NameError before


def test_a_streamed_script_of_its_own_statistics_has_no_pretrained_lines(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(folder_module, "MAX_IN_MEMORY_BYTES", 100)
    pictures = write_images(tmp_path / "pictures", {"dark": 6, "light": 6})
    source = generate_script(mlp_project([3, 6, 6], 8, 2, dataset=f"folder:{pictures}", normalize=True)).source
    normalize = _function(source, "normalize_splits")
    assert "per channel of the training" in normalize
    assert "pretrained" not in normalize and "isinstance" not in normalize


def test_an_in_memory_pretrained_script_says_whose_statistics_it_takes(tmp_path) -> None:
    """T6, fails before: ``statistics`` said "from the training split" and returned ImageNet's values first."""
    pictures = write_images(tmp_path / "pictures", {"dark": 6, "light": 6})
    source = generate_script(mlp_project([3, 6, 6], 8, 2, dataset=f"folder:{pictures}", **IMAGENET)).source
    statistics = _function(source, "statistics")
    assert "training split" in statistics and "not those of the training split" in statistics
    assert "x_train.mean(" not in statistics and "isinstance" not in statistics, statistics
    own = generate_script(mlp_project([3, 6, 6], 8, 2, dataset=f"folder:{pictures}", normalize=True)).source
    assert "from the training split" in _function(own, "statistics") and "weights_statistics" not in own
