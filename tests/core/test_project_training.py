"""``Project.set_training`` replaces the training settings and announces them (``training_changed``), which the
training form, the dataset preview and the editor's analysis follow instead of the undo stack."""

from __future__ import annotations

from core.files.project import Project
from core.settings import TrainingSettings


def test_set_training_replaces_the_settings_and_says_so() -> None:
    project, heard = Project(), []
    project.training_changed.connect(heard.append)
    settings = TrainingSettings.from_dict({**project.training.to_dict(), "epochs": 9})
    project.set_training(settings)
    assert project.training is settings and heard == [settings]
    assert project == Project(project.graph, training=settings)  # the signal is not part of a project's value
