"""What is checked before a run starts, the one check behind ``torchcanvas train`` and the window's Train: the
network against its dataset and loss (``core.model.analysis``, with ``core.model.task_check``), a dataset that
cannot be named or several Outputs (``core.code.script.setup_problems``, what export refuses too) and initial
weights that do not read. Its errors refuse the run in check's words; its warnings (images resized or turned
grey, scores that can never be right) are said before the first epoch.

The window runs it on the GUI thread when Train is pressed, before torch may have been imported (seconds on a
small machine): the modules that import torch are imported only when the cheap look says they have something
to say, so a project that is fine costs no torch here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core.datasets.spec import parse_spec
from core.errors import DataError
from core.model.analysis import analyze

if TYPE_CHECKING:
    from core.files.project import Project


@dataclass(frozen=True)
class Precheck:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def refusal(self) -> str:
        """The errors as ``torchcanvas train`` says them after ``torchcanvas: error:`` ('' when there are none)."""
        if len(self.errors) == 1:
            return self.errors[0]
        if not self.errors:
            return ""
        listing = "".join(f"\n- {message}" for message in self.errors)
        return f"{len(self.errors)} problems to fix before training:{listing}"


def _setup_problems(project: Project) -> list[str]:
    """``setup_problems``' words, asked only when it has something to say (its module imports torch)."""
    try:
        parse_spec(project.training.dataset)
        named = True
    except DataError:
        named = False
    if named and len(project.graph.nodes_of_type("Output")) <= 1:
        return []
    from core.code.script import setup_problems  # deferred for start-up: it imports torch (see above)

    return setup_problems(project)


def check_before_training(project: Project) -> Precheck:
    """What keeps ``project`` from training now, and what training will change without asking."""
    analysis = analyze(project.graph, project.training)
    errors = [p.message for p in analysis.errors] + _setup_problems(project)
    if project.training.initial_weights:  # its module imports torch: a project without them needs none
        from core.training.setup import initial_weights_problems  # deferred for start-up, as above

        errors += initial_weights_problems(project.training.initial_weights)  # check says it too
    warnings = [p.message for p in analysis.problems if p.severity != "error"]
    return Precheck(errors, warnings)
