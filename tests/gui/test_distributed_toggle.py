"""The "Run on several processes (torchrun)" box: the training setting ``distributed`` (issue 24: the torchrun
lines are in the exported script only when it is on) from the window, one undoable edit named in words, and the
script the window exports follows it."""

from __future__ import annotations

from PySide6.QtGui import QUndoStack

from core.code.script import generate_script
from core.files.project import load
from core.resources import resource_dir
from gui.training.panel import TrainingPanel


def test_the_box_turns_the_torchrun_lines_on_and_undo_turns_them_off(qtbot) -> None:
    project = load(resource_dir("examples") / "digits_mlp.json")
    panel, stack = TrainingPanel(), QUndoStack()
    qtbot.addWidget(panel)
    panel.set_project(project, stack, None)
    panel.show()
    assert panel.distributed.isVisible() and not panel.distributed.isChecked()
    assert "DistributedDataParallel" not in generate_script(project).source

    panel.distributed.click()
    assert project.training.distributed is True
    assert stack.count() == 1 and stack.undoText() == "Change training several-process setting"
    assert "DistributedDataParallel" in generate_script(project).source
    stack.undo()
    assert project.training.distributed is False and not panel.distributed.isChecked()
    assert "DistributedDataParallel" not in generate_script(project).source
